"""The Python client against the real banditd: route -> reward -> status round
trips, batches, fire-and-forget rewards, tensors, and error codes."""

import time
import unittest

import banditd_fixture
from banditd_fixture import features

from banditd_client import BanditdError, BanditdTimeout, Client


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = banditd_fixture.Daemon()
        cls.client = Client(cls.daemon.api, rewards=cls.daemon.rewards, admin=cls.daemon.admin,
                            timeout_ms=5000)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.daemon.stop_and_cleanup()

    def test_route_reward_status_round_trip(self):
        before = {a["name"]: a["n"] for a in self.client.status("ctr")["arms"]}
        rewarded = {"champion": 0, "challenger": 0}
        for i in range(40):
            r = self.client.route("ctr", unit="rt-%d" % i, input=features(i))
            self.assertIn(r["arm"], ("champion", "challenger"))
            self.assertIsInstance(r["decision"], str)
            self.assertGreater(r["p"], 0.0)
            self.assertLessEqual(r["p"], 1.0)
            self.assertEqual(len(r["output"]), 1)
            self.assertTrue(0.0 <= r["output"][0] <= 1.0, r["output"])
            self.assertIsNone(r["served_by"])
            self.client.reward(r["decision"], i % 2)
            rewarded[r["arm"]] += 1
        report = self.client.status("ctr")
        self.assertEqual(report["name"], "ctr")
        after = {a["name"]: a["n"] for a in report["arms"]}
        for arm, k in rewarded.items():
            self.assertEqual(after[arm] - before[arm], k, arm)
        shares = sum(a["allocation"] for a in report["arms"])
        self.assertAlmostEqual(shares, 1.0, places=6)

    def test_several_api_endpoints_share_the_requests(self):
        # The daemon has an extra api I/O thread: a client connected to both
        # endpoints gets every reply, unique decisions, and acked rewards.
        c = Client([self.daemon.api] + self.daemon.api_extra, timeout_ms=5000)
        try:
            before = sum(a["n"] for a in c.status("split")["arms"])
            decisions = set()
            for i in range(50):
                r = c.route("split", unit="multi-%d" % i)
                self.assertIn(r["arm"], ("blue", "green"))
                decisions.add(r["decision"])
                c.reward(r["decision"], 1)
            self.assertEqual(len(decisions), 50)
            after = sum(a["n"] for a in c.status("split")["arms"])
            self.assertEqual(after - before, 50)
        finally:
            c.close()

    def test_sticky_unit_keeps_its_arm(self):
        arms = {self.client.route("split", unit="sticky-unit")["arm"] for _ in range(20)}
        self.assertEqual(len(arms), 1)

    def test_numpy_tensor_input_matches_list_input(self):
        try:
            import numpy
        except ImportError:
            self.fail("numpy is part of the test environment (python3-numpy)")
        x = features(3)
        as_list = self.client.route("ctr", input=x, arm="challenger")
        as_tensor = self.client.route("ctr", input=numpy.array(x, dtype=numpy.float64),
                                      arm="challenger")
        self.assertEqual(as_list["p"], 1.0)  # a forced arm has propensity 1
        self.assertEqual(as_tensor["arm"], "challenger")
        self.assertAlmostEqual(as_list["output"][0], as_tensor["output"][0], places=6)

    def test_batch_rewards_report_rejections(self):
        d1 = self.client.route("split")["decision"]
        d2 = self.client.route("split")["decision"]
        result = self.client.rewards([(d1, 1), (d2, 0), ("nonsense", 1)])
        self.assertEqual(result["accepted"], 2)
        self.assertEqual(result["rejected"], [{"decision": "nonsense",
                                               "code": "unknown_decision"}])
        with self.assertRaises(BanditdError) as e:
            self.client.reward(d1, 1)
        self.assertEqual(e.exception.code, "duplicate_reward")

    def test_reward_nowait_is_applied(self):
        before = sum(a["n"] for a in self.client.status("split")["arms"])
        decisions = [self.client.route("split")["decision"] for _ in range(5)]
        for d in decisions[:3]:
            self.client.reward_nowait(d, 1)
        self.client.rewards_nowait([(d, 0) for d in decisions[3:]])
        deadline = time.monotonic() + 5
        n = before
        while time.monotonic() < deadline and n < before + 5:
            time.sleep(0.05)
            n = sum(a["n"] for a in self.client.status("split")["arms"])
        self.assertEqual(n, before + 5)

    def test_error_codes_surface_as_banditd_error(self):
        cases = [
            (lambda: self.client.route("no-such-exp"), "unknown_experiment"),
            (lambda: self.client.route("ctr", input=[0.5] * 3), "invalid_input"),
            (lambda: self.client.reward("00000000deadbeef", 1), "unknown_decision"),
            (lambda: self.client.reward(self.client.route("split")["decision"], float("nan")),
             "invalid_value"),
            (lambda: self.client.status("no-such-exp"), "unknown_experiment"),
            (lambda: self.client.promote("ctr", "no-such-arm"), "bad_request"),
            # No alarm raised: the op reaches the daemon and is refused.
            (lambda: self.client.ack_srm("split"), "bad_request"),
            (lambda: self.client.ack_srm("no-such-exp"), "unknown_experiment"),
        ]
        for call, code in cases:
            with self.subTest(code=code):
                with self.assertRaises(BanditdError) as e:
                    call()
                self.assertEqual(e.exception.code, code)
                self.assertTrue(e.exception.message)

    def test_oversized_frame_gets_bad_request(self):
        # 300,000 numbers (2.7 MB of msgpack float64) exceed the 1 MiB frame
        # limit: the daemon refuses the frame without reading its id, and the
        # client still gets the error rather than a timeout.
        with self.assertRaises(BanditdError) as e:
            self.client.route("ctr", input=[0.5] * 300000)
        self.assertEqual(e.exception.code, "bad_request")
        self.assertIn(self.client.route("split")["arm"], ("blue", "green"))

    def test_admin_op_on_api_socket_is_unauthorized(self):
        with self.assertRaises(BanditdError) as e:
            self.client._call(self.client._api, {"op": "snapshot"})
        self.assertEqual(e.exception.code, "unauthorized")

    def test_status_lists_every_experiment(self):
        reports = self.client.status()
        self.assertEqual(sorted(r["name"] for r in reports), ["ctr", "ops", "split"])
        for key in ("name", "mode", "policy", "epoch", "state", "winner", "reason", "arms",
                    "test", "srm_p_value"):
            self.assertIn(key, reports[0])

    def test_timeout_raises(self):
        dead = Client("ipc://%s/nobody-listens" % self.daemon.dir, timeout_ms=200)
        try:
            start = time.monotonic()
            with self.assertRaises(BanditdTimeout) as e:
                dead.status()
            self.assertEqual(e.exception.code, "timeout")
            self.assertLess(time.monotonic() - start, 3.0)
        finally:
            dead.close()


if __name__ == "__main__":
    unittest.main()
