"""CURVE end to end with the tools: `banditctl keygen` writes the keys the
daemon loads; banditctl and the Python client connect with their key pair;
a client without CURVE or with a key of the wrong list gets nothing."""

import os
import stat
import subprocess
import sys
import unittest

import banditd_fixture

from banditd_client import BanditdTimeout, Client, load_key  # noqa: E402 (fixture sets sys.path)

BANDITCTL = os.path.join(banditd_fixture.BIN_DIR, "banditctl")


def ctl(*args, timeout=30):
    p = subprocess.run([BANDITCTL, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def security_yaml(d):
    """Keys for the daemon in <d>/keys, written with banditctl keygen."""
    keys = os.path.join(d, "keys")
    for sub in ("api", "admin", "clients"):
        os.makedirs(os.path.join(keys, sub))
    for out, name in ((keys, "server"), (os.path.join(keys, "clients"), "app"),
                      (os.path.join(keys, "clients"), "ops")):
        rc, _, err = ctl("keygen", "--out", out, "--name", name)
        if rc != 0:
            raise RuntimeError("keygen failed: " + err)
    with open(os.path.join(keys, "clients", "app.pub"), "rb") as src, \
            open(os.path.join(keys, "api", "app.pub"), "wb") as dst:
        dst.write(src.read())
    with open(os.path.join(keys, "clients", "ops.pub"), "rb") as src, \
            open(os.path.join(keys, "admin", "ops.pub"), "wb") as dst:
        dst.write(src.read())
    return ("security:\n  server_secret_key_file: {k}/server.key\n"
            "  api_client_keys_dir: {k}/api\n  admin_client_keys_dir: {k}/admin\n").format(k=keys)


class CurveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = banditd_fixture.Daemon(extra_yaml=security_yaml)
        keys = os.path.join(cls.daemon.dir, "keys")
        cls.server_pub = os.path.join(keys, "server.pub")
        cls.app_key = os.path.join(keys, "clients", "app.key")
        cls.ops_key = os.path.join(keys, "clients", "ops.key")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop_and_cleanup()

    def ctl(self, key, *args, timeout_ms=5000):
        return ctl("--state-dir", self.daemon.state_dir, "--timeout-ms", str(timeout_ms),
                   "--curve-server-key", self.server_pub, "--curve-key", key, *args)

    def test_keygen_writes_z85_files_with_private_secret(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.app_key).st_mode), 0o600)
        pub = load_key(self.app_key[:-4] + ".pub")
        self.assertEqual(len(pub), 40)
        rc, _, err = ctl("keygen", "--out", os.path.dirname(self.app_key), "--name", "app")
        self.assertEqual(rc, 2)
        self.assertIn("not overwriting", err)

    def test_banditctl_with_its_keys(self):
        rc, out, err = self.ctl(self.app_key, "route", "split")
        self.assertEqual(rc, 0, err)
        decision = out.split()[1]
        rc, out, err = self.ctl(self.app_key, "reward", decision, "1")
        self.assertEqual((rc, out), (0, "ok\n"), err)
        rc, out, err = self.ctl(self.ops_key, "snapshot")
        self.assertEqual(rc, 0, err)

    def test_banditctl_with_the_api_key_on_admin_is_refused(self):
        rc, _, err = self.ctl(self.app_key, "pause", "ops", timeout_ms=3000)
        self.assertEqual(rc, 3)
        self.assertIn("refused this client's CURVE key", err)
        rc, out, err = self.ctl(self.app_key, "status", "ops", "--json")
        self.assertEqual(rc, 0, err)
        self.assertIn('"state":"running"', out.replace(" ", ""))

    def test_banditctl_without_curve_gets_no_reply(self):
        rc, _, err = ctl("--state-dir", self.daemon.state_dir, "--timeout-ms", "1000",
                         "route", "split")
        self.assertEqual(rc, 3, err)

    def test_python_client_with_keys(self):
        with Client(self.daemon.api, rewards=self.daemon.rewards, admin=self.daemon.admin,
                    server_key=self.server_pub, client_key=self.app_key) as c:
            r = c.route("split", unit="u1")
            c.reward(r["decision"], 0)
        with Client(self.daemon.api, admin=self.daemon.admin, server_key=self.server_pub,
                    client_key=self.ops_key) as c:
            c.snapshot()

    def test_python_client_without_keys_times_out(self):
        with Client(self.daemon.api, timeout_ms=1000) as c:
            with self.assertRaises(BanditdTimeout):
                c.route("split")
        with self.assertRaises(ValueError):
            Client(self.daemon.api, server_key=self.server_pub)


if __name__ == "__main__":
    unittest.main()
