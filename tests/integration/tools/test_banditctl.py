"""banditctl against the real banditd: status (table and --json), route and
reward, the admin ops, watch, and the exit codes."""

import json
import os
import subprocess
import time
import unittest

import banditd_fixture

BANDITCTL = os.path.join(banditd_fixture.BIN_DIR, "banditctl")


def strict_json(text):
    """json.loads that refuses NaN/Infinity: the output must be valid JSON."""

    def refuse(token):
        raise ValueError("not JSON: " + token)

    return json.loads(text, parse_constant=refuse)


class BanditctlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = banditd_fixture.Daemon()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop_and_cleanup()

    def ctl(self, *args, endpoints="state_dir", timeout_ms=5000):
        """Runs banditctl; returns (exit code, stdout, stderr)."""
        if endpoints == "state_dir":
            where = ["--state-dir", self.daemon.state_dir]
        elif endpoints == "config":
            where = ["--config", self.daemon.config_path]
        else:
            where = []
        p = subprocess.run([BANDITCTL, *where, "--timeout-ms", str(timeout_ms), *args],
                           capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def status_json(self, exp):
        rc, out, err = self.ctl("status", exp, "--json")
        self.assertEqual(rc, 0, err)
        return strict_json(out)["experiments"][0]

    def test_status_json_has_the_report_keys(self):
        rc, out, err = self.ctl("status", "--json")
        self.assertEqual(rc, 0, err)
        reports = strict_json(out)["experiments"]
        self.assertEqual(sorted(r["name"] for r in reports), ["ctr", "ops", "split"])
        for r in reports:
            for key in ("name", "mode", "policy", "epoch", "state", "winner", "reason", "arms",
                        "test", "srm_p_value"):
                self.assertIn(key, r)
            for arm in r["arms"]:
                for key in ("name", "n", "reward_sum", "mean", "ci95", "allocation", "p_best",
                            "model_p99_ms", "errors"):
                    self.assertIn(key, arm)
        ctr = next(r for r in reports if r["name"] == "ctr")
        self.assertEqual([a["name"] for a in ctr["arms"]], ["champion", "challenger"])
        self.assertEqual(ctr["mode"], "bandit")
        self.assertEqual(ctr["policy"], "thompson")
        self.assertEqual(ctr["test"]["method"], "bernoulli_cs")
        for key in ("rule_p_value", "p_kind", "always_valid", "looks", "stop", "compared_arm",
                    "difference_kind", "difference", "ci", "lift"):
            self.assertIn(key, ctr["test"])
        self.assertTrue(ctr["test"]["always_valid"])
        # Bernoulli arms have a Wilson interval and P(best) from n = 0.
        for arm in ctr["arms"]:
            self.assertIsNotNone(arm["ci95"][0], arm)
            self.assertIsNotNone(arm["p_best"], arm)
        split = next(r for r in reports if r["name"] == "split")
        for key in ("p_value", "chi2", "df", "periods", "requests", "alarm", "alarm_p", "alarms",
                    "acknowledged", "threshold"):
            self.assertIn(key, split["srm"])
        self.assertFalse(split["srm"]["alarm"])
        self.assertAlmostEqual(sum(a["allocation"] for a in ctr["arms"]), 1.0, places=6)

    def test_status_table_shows_the_arms(self):
        rc, out, err = self.ctl("status", "split", "--ascii", endpoints="config")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("experiment split  mode ab"), out)
        blue = next(l for l in lines if l.strip().startswith("blue "))
        green = next(l for l in lines if l.strip().startswith("green "))
        # A/B at 50/50: half of each bar is filled.
        self.assertIn("50.0%", blue)
        self.assertIn("#" * 12 + "." * 12, green)
        self.assertTrue(any(l.strip().startswith("state running") for l in lines), out)
        self.assertTrue(any(l.strip().startswith("rule fixed_horizon  fixed-horizon p ")
                            for l in lines), out)
        # The reason says what the rule still needs, never "-".
        state = next(l for l in lines if l.strip().startswith("state running"))
        self.assertNotIn("reason: -", state)
        self.assertRegex(state, r"reason: \S")
        self.assertTrue(any(l.strip().startswith("srm p ") for l in lines), out)
        # No data yet: undefined numbers print as "-", not "nan".
        self.assertNotIn("nan", out.lower())

    def test_route_then_reward(self):
        rc, out, err = self.ctl("route", "ctr", "--unit", "u-1", "--input",
                                ",".join(str(x) for x in banditd_fixture.features(1)), "--json")
        self.assertEqual(rc, 0, err)
        reply = strict_json(out)
        self.assertTrue(reply["ok"])
        self.assertIn(reply["arm"], ("champion", "challenger"))
        self.assertEqual(len(reply["output"]), 1)
        n_before = {a["name"]: a["n"] for a in self.status_json("ctr")["arms"]}[reply["arm"]]
        rc, out, err = self.ctl("reward", reply["decision"], "1")
        self.assertEqual((rc, out.strip()), (0, "ok"), err)
        n_after = {a["name"]: a["n"] for a in self.status_json("ctr")["arms"]}[reply["arm"]]
        self.assertEqual(n_after, n_before + 1)
        # The second reward for the decision is refused: code printed, exit 1.
        rc, out, err = self.ctl("reward", reply["decision"], "1")
        self.assertEqual(rc, 1)
        self.assertIn("duplicate_reward", err)

    def test_route_human_output(self):
        rc, out, err = self.ctl("route", "split", "--arm", "green")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^decision \S+  arm green  p 1  epoch \d+\n$")

    def test_pause_resume_promote_change_the_state(self):
        self.assertEqual(self.status_json("ops")["state"], "running")
        rc, _, err = self.ctl("pause", "ops")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.status_json("ops")["state"], "paused")
        rc, _, err = self.ctl("resume", "ops")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.status_json("ops")["state"], "running")
        rc, out, err = self.ctl("promote", "ops", "new")
        self.assertEqual(rc, 0, err)
        self.assertIn("promote ops -> new", out)
        report = self.status_json("ops")
        self.assertEqual(report["state"], "promoted")
        self.assertEqual(report["winner"], "new")
        alloc = {a["name"]: a["allocation"] for a in report["arms"]}
        self.assertEqual(alloc, {"old": 0.0, "new": 1.0})

    def test_ack_srm_without_an_alarm_is_refused(self):
        rc, _, err = self.ctl("ack-srm", "split")
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"^error: bad_request: .*no sample-ratio-mismatch alarm")
        rc, _, err = self.ctl("ack-srm", "no-such-exp")
        self.assertEqual(rc, 1)
        self.assertIn("error: unknown_experiment", err)

    def test_error_replies_exit_1_with_the_code(self):
        rc, _, err = self.ctl("promote", "ctr", "no-such-arm")
        self.assertEqual(rc, 1)
        self.assertIn("error: bad_request", err)
        rc, _, err = self.ctl("status", "no-such-exp")
        self.assertEqual(rc, 1)
        self.assertIn("error: unknown_experiment", err)
        # The code is printed as the daemon spelled it, even one the reply
        # decoder does not know (which it would report as `internal`).
        rc, _, err = self.ctl("resume", "split")
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"^error: [a-z_]+: cannot resume an experiment that is running\n$")
        self.assertNotIn("error: internal", err)

    def test_snapshot_writes_the_snapshot_file(self):
        rc, out, err = self.ctl("snapshot")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "ok: snapshot")
        self.assertTrue(any(f.startswith("snapshot") for f in os.listdir(self.daemon.state_dir)),
                        os.listdir(self.daemon.state_dir))

    def test_watch_prints_bars_count_times(self):
        rc, out, err = self.ctl("watch", "ctr", "--count", "2", "--interval-ms", "100", "--ascii")
        self.assertEqual(rc, 0, err)
        frames = [f for f in out.split("\n\n") if f.strip()]
        self.assertEqual(len(frames), 2, out)
        for frame in frames:
            lines = frame.splitlines()
            self.assertTrue(lines[0].startswith("ctr  bandit/"), frame)
            self.assertEqual(len(lines), 3, frame)
            for line, arm in zip(lines[1:], ("champion", "challenger")):
                self.assertRegex(line, r"^  %s +[#.]{40} +\d+\.\d%%  n \d+" % arm)

    def test_unreachable_endpoint_exits_3_within_the_timeout(self):
        start = time.monotonic()
        # Only the endpoint the command uses is needed (no config is read:
        # there is no config/demo.yaml in this test's working directory).
        p = subprocess.run([BANDITCTL, "--api", "ipc://%s/nobody" % self.daemon.dir,
                            "--timeout-ms", "300", "status"],
                           capture_output=True, text=True, timeout=30)
        elapsed = time.monotonic() - start
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("no reply from ipc://", p.stderr)
        self.assertIn("within 300 ms", p.stderr)
        self.assertLess(elapsed, 3.0)

    def test_usage_and_config_errors_exit_2(self):
        p = subprocess.run([BANDITCTL, "frobnicate"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        p = subprocess.run([BANDITCTL, "--config", "/nonexistent.yaml", "status"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("/nonexistent.yaml", p.stderr)
        rc, _, err = self.ctl("route", "ctr", "--input", "0.1,abc")
        self.assertEqual(rc, 2)
        self.assertIn("'abc' is not a number", err)


if __name__ == "__main__":
    unittest.main()
