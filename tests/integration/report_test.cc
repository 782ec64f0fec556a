// What `status` reports, against the real daemon: the deciding rule's own
// figures survive a restart unchanged (they read p = 1 after one), a SIGKILL
// between snapshots included, the SRM
// check raises no alarm when the weights change by promote / pause, and the
// ack_srm op's refusals carry their codes.
#include <chrono>
#include <cmath>
#include <csignal>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "banditd/rng.h"
#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {

// Two route-only A/B experiments under the sequential rule (hold on
// decision, no time guard): `strong` (challenger far better: decides within
// the test) and `flat` (a small difference: keeps running, its running p
// between 0 and 1).
std::string Experiments() {
  auto ab = [](const std::string& name) {
    return "  - name: " + name +
           "\n    mode: ab\n    weights: [0.5, 0.5]\n"
           "    arms:\n      - name: a\n        champion: true\n      - name: b\n"
           "    stopping:\n      rule: sequential\n      min_duration: 0\n"
           "      params: {alpha: 0.05, min_samples: 50, tau2: 0.01}\n"
           "    on_decision: hold\n"
           "    refresh:\n      interval: 20ms\n      every_rewards: 50\n";
  };
  return ab("strong") + ab("flat");
}

// Routes and rewards `n` requests of `exp` with Bernoulli rewards of means
// mu_a, mu_b. One unit per request: the arms follow from the units' hashes,
// so with the seeded rewards the data (and the rule's figures) are the same
// in every run.
void Drive(Client& api, Rng& rng, const std::string& exp, int n, double mu_a, double mu_b) {
  for (int i = 0; i < n; ++i) {
    auto r = api.Route({exp, "unit-" + std::to_string(i)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const double mu = r->arm == "a" ? mu_a : mu_b;
    ASSERT_TRUE(api.Reward(r->decision, rng.Uniform() < mu ? 1.0 : 0.0).ok());
  }
}

// Waits (up to 5 s) until `done` holds for the experiment's report.
template <typename Pred>
wire::ExperimentReport WaitFor(Client& api, const std::string& exp, Pred done) {
  wire::ExperimentReport last;
  for (int i = 0; i < 250; ++i) {
    auto st = api.GetStatus(exp);
    if (st.ok()) {
      last = *FindReport(*st, exp);
      if (done(last)) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return last;
}

void ExpectSameRuleReport(const wire::ExperimentReport& before,
                          const wire::ExperimentReport& after) {
  ASSERT_TRUE(before.test.has_value());
  ASSERT_TRUE(after.test.has_value());
  const wire::TestReport& b = *before.test;
  const wire::TestReport& a = *after.test;
  EXPECT_EQ(after.state, before.state);
  EXPECT_EQ(after.reason, before.reason);
  EXPECT_EQ(a.rule_p_value, b.rule_p_value) << before.name;
  EXPECT_EQ(a.stop, b.stop);
  EXPECT_EQ(a.compared_arm, b.compared_arm);
  EXPECT_EQ(a.difference, b.difference);
  EXPECT_EQ(a.ci[0], b.ci[0]);
  EXPECT_EQ(a.ci[1], b.ci[1]);
  EXPECT_EQ(a.lift, b.lift);
  EXPECT_GE(a.looks, b.looks);  // a running rule may look again (at the same data)
  ASSERT_TRUE(before.srm && after.srm);
  EXPECT_EQ(after.srm->requests, before.srm->requests);
  EXPECT_EQ(after.srm->alarm, before.srm->alarm);
  EXPECT_EQ(after.srm->alarms, before.srm->alarms);
  for (size_t i = 0; i < before.arms.size(); ++i) {
    EXPECT_EQ(after.arms[i].n, before.arms[i].n);
    EXPECT_EQ(after.arms[i].ci95, before.arms[i].ci95);
    EXPECT_EQ(after.arms[i].p_best, before.arms[i].p_best);
  }
}

TEST(ReportTest, TheRulesReportSurvivesRestarts) {
  TempDir dir;
  const std::string config = WriteConfig(dir.path(), Experiments());
  zmq::context_t ctx;
  Rng rng(2024);
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path()));
  wire::ExperimentReport strong, flat;
  {
    Client api(ctx, d.endpoints().api);
    Drive(api, rng, "strong", 600, 0.1, 0.6);
    Drive(api, rng, "flat", 600, 0.3, 0.38);
    strong = WaitFor(api, "strong",
                     [](const auto& r) { return r.state == ExperimentState::kDecided; });
    // Until the rule has looked at every reward: its difference is then the
    // arms' (a look after the restart sees the same data). Where the looks
    // fell depends on timing, and so whether the running p has left 1 yet:
    // more of the same data until it has.
    for (int round = 0; round < 6; ++round) {
      flat = WaitFor(api, "flat", [](const auto& r) {
        return r.test && r.test->looks > 1 &&
               std::fabs(r.test->difference - (r.arms[1].mean - r.arms[0].mean)) < 1e-12;
      });
      if (flat.test && flat.test->rule_p_value < 1.0) break;
      Drive(api, rng, "flat", 300, 0.3, 0.38);
    }
  }
  ASSERT_EQ(strong.state, ExperimentState::kDecided) << d.LogTail();
  ASSERT_LT(strong.test->rule_p_value, 0.05);
  ASSERT_TRUE(std::isfinite(strong.test->ci[0]));
  ASSERT_EQ(flat.state, ExperimentState::kRunning);
  ASSERT_LT(flat.test->rule_p_value, 1.0) << "flat: no look with data yet";
  EXPECT_EQ(flat.test->p_kind, "always-valid p (sequential, mSPRT)");

  // Graceful: the snapshot at shutdown.
  ASSERT_EQ(d.Stop(), 0) << d.LogTail();
  ASSERT_TRUE(d.Start(config, dir.path()));
  {
    Client api(ctx, d.endpoints().api);
    auto st = api.GetStatus();
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    ExpectSameRuleReport(strong, *FindReport(*st, "strong"));
    ExpectSameRuleReport(flat, *FindReport(*st, "flat"));
  }
  // A crash right after an explicit snapshot: the same again.
  {
    Client admin(ctx, d.endpoints().admin);
    ASSERT_TRUE(admin.Admin(wire::Op::kSnapshot).ok());
  }
  d.Signal(SIGKILL);
  d.Wait(std::chrono::seconds(10));
  ASSERT_TRUE(d.Start(config, dir.path()));
  Client api(ctx, d.endpoints().api);
  auto st = api.GetStatus();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ExpectSameRuleReport(strong, *FindReport(*st, "strong"));
  ExpectSameRuleReport(flat, *FindReport(*st, "flat"));
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

// Between snapshots (here: none but at shutdown), a SIGKILL keeps what is
// not a reward too: the rule's looks, running p and interval, the SRM
// tallies, a decision and an operator's promote and pause — each experiment's
// checkpoints in the WAL carry them.
TEST(ReportTest, TheRulesReportAndOpsSurviveAKillBetweenSnapshots) {
  TempDir dir;
  const std::string config = WriteConfig(
      dir.path(), Experiments() + AbRouteOnly("ops", 0.5, 0.5) + AbRouteOnly("held", 0.5, 0.5));
  const std::vector<std::string> no_snapshots = {"--snapshot-interval-ms", "0"};
  zmq::context_t ctx;
  Rng rng(2025);
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path(), no_snapshots));
  wire::ExperimentReport strong, flat, ops, held;
  {
    Client api(ctx, d.endpoints().api);
    Client admin(ctx, d.endpoints().admin);
    Drive(api, rng, "strong", 600, 0.1, 0.6);
    Drive(api, rng, "flat", 600, 0.3, 0.38);
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(api.Route({"ops"}).ok());
      ASSERT_TRUE(api.Route({"held"}).ok());
    }
    // Acknowledged: durable before the reply.
    ASSERT_TRUE(admin.Admin(wire::Op::kPromote, "ops", "b").ok());
    ASSERT_TRUE(admin.Admin(wire::Op::kPause, "held").ok());
    strong = WaitFor(api, "strong",
                     [](const auto& r) { return r.state == ExperimentState::kDecided; });
    flat = WaitFor(api, "flat", [](const auto& r) {
      return r.test && r.test->looks > 1 &&
             std::fabs(r.test->difference - (r.arms[1].mean - r.arms[0].mean)) < 1e-12;
    });
    // The periodic checkpoints (a second apart) catch up with the last looks.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    auto st = api.GetStatus();
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    strong = *FindReport(*st, "strong");
    flat = *FindReport(*st, "flat");
    ops = *FindReport(*st, "ops");
    held = *FindReport(*st, "held");
  }
  ASSERT_EQ(strong.state, ExperimentState::kDecided) << d.LogTail();
  ASSERT_GT(flat.test->looks, 3u);
  ASSERT_EQ(ops.state, ExperimentState::kPromoted);
  ASSERT_EQ(held.state, ExperimentState::kPaused);
  d.Signal(SIGKILL);
  d.Wait(std::chrono::seconds(10));
  ASSERT_TRUE(d.Start(config, dir.path(), no_snapshots));
  Client api(ctx, d.endpoints().api);
  auto st = api.GetStatus();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ExpectSameRuleReport(strong, *FindReport(*st, "strong"));
  ExpectSameRuleReport(flat, *FindReport(*st, "flat"));
  for (const auto* before : {&ops, &held}) {
    const auto* after = FindReport(*st, before->name);
    EXPECT_EQ(after->state, before->state) << before->name;
    EXPECT_EQ(after->reason, before->reason) << before->name;
    ASSERT_TRUE(after->srm && before->srm);
    EXPECT_EQ(after->srm->requests, before->srm->requests) << before->name;
    EXPECT_EQ(after->srm->periods, before->srm->periods) << before->name;
  }
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

// The old check compared every request ever routed with the current
// weights: after a promotion of `b` it read p = 0. Per period, the weights in
// force during each, it does not.
TEST(ReportTest, NoSrmAlarmAfterPauseResumeAndPromote) {
  TempDir dir;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5)), dir.path()));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  Client admin(ctx, d.endpoints().admin);
  auto route = [&](int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(api.Route({"ab"}).ok());
  };
  route(2000);
  ASSERT_TRUE(admin.Admin(wire::Op::kPause, "ab").ok());
  route(1000);
  ASSERT_TRUE(admin.Admin(wire::Op::kResume, "ab").ok());
  route(2000);
  ASSERT_TRUE(admin.Admin(wire::Op::kPromote, "ab", "b").ok());
  route(3000);
  // The alarm is evaluated on the refresh cadence (1 s by default).
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  auto st = api.GetStatus("ab");
  ASSERT_TRUE(st.ok());
  const auto* rep = FindReport(*st, "ab");
  ASSERT_TRUE(rep->srm.has_value());
  EXPECT_EQ(rep->srm->requests, 8000u);
  EXPECT_GE(rep->srm->periods, 4u);
  EXPECT_GT(rep->srm->p_value, 0.001);
  EXPECT_FALSE(rep->srm->alarm);
  EXPECT_EQ(rep->srm->alarms, 0u);
  EXPECT_EQ(rep->srm_p_value, rep->srm->p_value);
  auto metrics = HttpGet(d.endpoints().metrics, "/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_EQ(MetricValue(*metrics, "banditd_srm_alarm{experiment=\"ab\"}"), 0);
  EXPECT_EQ(MetricValue(*metrics, "banditd_srm_alarms_total{experiment=\"ab\"}"), 0);
  EXPECT_GT(MetricValue(*metrics, "banditd_srm_p_value{experiment=\"ab\"}"), 0.001);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(ReportTest, AckSrmRefusalsCarryTheirCodes) {
  TempDir dir;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5)), dir.path()));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  Client admin(ctx, d.endpoints().admin);
  EXPECT_EQ(ReplyCode(api.Call(AdminFrame(wire::Op::kAckSrm, "ab"))), Code::kUnauthorized);
  EXPECT_EQ(admin.Admin(wire::Op::kAckSrm, "nope").code(), Code::kUnknownExperiment);
  const Status none = admin.Admin(wire::Op::kAckSrm, "ab");
  EXPECT_EQ(none.code(), Code::kBadRequest);
  EXPECT_NE(none.message().find("no sample-ratio-mismatch alarm"), std::string::npos)
      << none.message();
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

}  // namespace
}  // namespace banditd::itest
