// What `status` reports about an experiment: the per-arm figures
// (status_stats.h), the sample-ratio-mismatch test (srm.h) and the stopping
// rule's state as the experiment keeps it across a snapshot.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "src/experiment/experiment.h"
#include "src/experiment/srm.h"
#include "src/experiment/status_stats.h"
#include "src/stats/hypothesis.h"
#include "tests/unit/experiment/engine_fixture.h"

namespace banditd::experiment {
namespace {

std::unique_ptr<Experiment> Make(const ExperimentOptions& o) {
  return fixture::CreatedOr(Experiment::Create(o),
                            [](const Status& s) { ADD_FAILURE() << s.ToString(); });
}

ExperimentOptions Ab(std::optional<StoppingSpec> rule = std::nullopt) {
  ExperimentOptions o;
  o.name = "ab";
  o.mode = Mode::kAb;
  o.arms = {{"a", false}, {"b", false}};
  o.policy.name = "static";
  o.stopping = std::move(rule);
  o.refresh_interval_ns = 0;
  o.refresh_every_rewards = 1;
  return o;
}

StoppingSpec Sequential() {
  StoppingSpec s;
  s.name = "sequential";
  s.params.Set("alpha", 0.05);
  s.params.Set("min_samples", 50.0);
  s.params.Set("tau2", 0.01);
  return s;
}

DecisionRef RefFor(const Experiment& e, size_t arm, double propensity) {
  DecisionRef r;
  r.tag = e.tag();
  r.epoch = e.epoch();
  r.arm = static_cast<uint8_t>(arm);
  r.propensity = static_cast<float>(propensity);
  return r;
}

// --- per-arm figures ---------------------------------------------------------

TEST(StatusStatsTest, WilsonIntervalIsDefinedFromNoData) {
  const auto none = MeanInterval95(Metric::kBernoulli, {0, 0, 0});
  EXPECT_EQ(none[0], 0.0);  // exactly: not 5.55e-17
  EXPECT_EQ(none[1], 1.0);
  const auto no_success = MeanInterval95(Metric::kBernoulli, {50, 0, 0});
  EXPECT_EQ(no_success[0], 0.0);
  EXPECT_GT(no_success[1], 0.0);
  // n > 0: the same interval as the statistics library's Wilson (statsmodels'
  // proportion_confint(method="wilson")), to rounding.
  for (const auto& [x, n] : {std::pair{0.0, 3.0}, {12.0, 40.0}, {40.0, 40.0}, {3.0, 5000.0}}) {
    const auto ours = MeanInterval95(Metric::kBernoulli, {n, x, x});
    const auto ref = stats::WilsonInterval({x, n}, 0.95);
    EXPECT_NEAR(ours[0], std::max(0.0, ref.lo), 1e-12) << x << "/" << n;
    EXPECT_NEAR(ours[1], std::min(1.0, ref.hi), 1e-12) << x << "/" << n;
  }
}

TEST(StatusStatsTest, GaussianIntervalUsesStudentsT) {
  // Rewards 1, 2, 3, 4, 5: mean 3, s^2 = 2.5, t(0.975, 4) = 2.7764451051977987
  // (scipy.stats.t.ppf(0.975, 4)), half-width t * sqrt(2.5 / 5).
  const auto ci = MeanInterval95(Metric::kGaussian, {5, 15, 55});
  const double half = 2.7764451051977987 * std::sqrt(0.5);
  EXPECT_NEAR(ci[0], 3 - half, 1e-9);
  EXPECT_NEAR(ci[1], 3 + half, 1e-9);
  // No variance below n = 2.
  EXPECT_TRUE(std::isnan(MeanInterval95(Metric::kGaussian, {1, 3, 9})[0]));
  EXPECT_TRUE(std::isnan(MeanInterval95(Metric::kGaussian, {0, 0, 0})[1]));
}

TEST(StatusStatsTest, ProbBestIsDefinedFromNoDataForBernoulli) {
  const ArmSums none[] = {{0, 0, 0}, {0, 0, 0}};
  const auto two = ProbBest(Metric::kBernoulli, none);
  EXPECT_NEAR(two[0], 0.5, 1e-9);
  EXPECT_NEAR(two[1], 0.5, 1e-9);
  const ArmSums three_none[] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
  const auto three = ProbBest(Metric::kBernoulli, three_none);
  for (double p : three) EXPECT_NEAR(p, 1.0 / 3, 0.015);  // 20,000 draws: se <= 0.0034
  // A clear leader after a few units.
  const ArmSums some[] = {{10, 1, 1}, {10, 9, 9}};
  EXPECT_GT(ProbBest(Metric::kBernoulli, some)[1], 0.99);
  // Gaussian: undefined until every arm has two rewards.
  const ArmSums gauss[] = {{5, 15, 55}, {1, 4, 16}};
  for (double p : ProbBest(Metric::kGaussian, gauss)) EXPECT_TRUE(std::isnan(p));
}

TEST(StatusStatsTest, LiftHasTheSignOfTheDifferenceForNegativeMeans) {
  // The treatment's mean -9.07 is below the control's -6.32: worse, -43.5%
  // (treatment / control - 1 would read +43.5%).
  EXPECT_NEAR(Lift(-9.07, -6.32), -(9.07 - 6.32) / 6.32, 1e-12);
  EXPECT_LT(Lift(-9.07, -6.32), 0);
  EXPECT_NEAR(Lift(-6.32, -9.07), (9.07 - 6.32) / 9.07, 1e-12);
  EXPECT_NEAR(Lift(0.055, 0.05), 0.1, 1e-12);
  EXPECT_TRUE(std::isnan(Lift(1, 0)));
  EXPECT_TRUE(std::isnan(Lift(std::nan(""), 1)));
}

// --- SRM tracker ---------------------------------------------------------------

TEST(SrmTrackerTest, PeriodsAgainstTheirOwnWeightsGiveNoFalseAlarm) {
  const double half[] = {0.5, 0.5}, only_b[] = {0.0, 1.0};
  SrmTracker t(2);
  for (int i = 0; i < 1000; ++i) t.Count(i % 2, half);
  t.NewPeriod(1);  // promote b
  for (int i = 0; i < 3000; ++i) t.Count(1, only_b);
  const auto r = t.Evaluate();
  EXPECT_NEAR(r.p_value, 1.0, 1e-9);  // balanced, then exactly as intended
  EXPECT_EQ(t.periods().size(), 2u);
  // The check the old report made: all requests against the current weights.
  const double all[] = {500, 3500};
  EXPECT_LT(stats::SrmChiSquare(all, half).p_value, 1e-100);
}

TEST(SrmTrackerTest, AnImbalanceIsFound) {
  const double half[] = {0.5, 0.5};
  SrmTracker t(2);
  for (int i = 0; i < 1000; ++i) t.Count(i % 5 == 0 ? 0 : 1, half);  // 20/80 against 50/50
  EXPECT_LT(t.Evaluate().p_value, 1e-50);
}

TEST(SrmTrackerTest, BatchesGoToThePeriodOfTheirVersionAndPeriodsStayBounded) {
  const double half[] = {0.5, 0.5}, only_a[] = {1.0, 0.0};
  SrmTracker t(2);
  for (int i = 0; i < 100; ++i) t.Count(i % 2, half);
  t.NewPeriod(7);  // paused: only the champion
  // Counted from a view published before the pause (version 3): they belong
  // to the 50/50 period, not to the champion-only one (that would be
  // "requests where none were intended").
  const uint64_t late[] = {50, 50};
  t.CountBatch(late, half, 3);
  const uint64_t now[] = {40, 0};
  t.CountBatch(now, only_a, 7);
  EXPECT_EQ(t.periods()[0].observed[1], 100.0);
  EXPECT_EQ(t.periods()[1].observed[0], 40.0);
  EXPECT_NEAR(t.Evaluate().p_value, 1.0, 1e-9);
  for (uint64_t v = 8; v < 100; ++v) {
    for (int i = 0; i < 20; ++i) t.Count(i % 2, half);
    t.NewPeriod(v);
  }
  EXPECT_LE(t.periods().size(), SrmTracker::kMaxPeriods);
  EXPECT_EQ(t.counted(), 100 + 100 + 40 + 92 * 20);
}

TEST(SrmTrackerTest, SmallPeriodsAreLeftOutUntilLargeEnough) {
  const double skewed[] = {0.999, 0.001};
  SrmTracker t(2);
  t.Count(1, skewed);  // one request on the 0.1% arm: expected 0.001
  EXPECT_TRUE(std::isnan(t.Evaluate().p_value));
  t.NewPeriod(1);  // too small: carried into the next period, not dropped
  EXPECT_EQ(t.periods().size(), 1u);
}

// --- the experiment: SRM alarm, held decision, acknowledgement -------------------

// Drives an A/B experiment whose challenger is far better, so the sequential
// rule decides at one of the first looks.
void FeedStrongEffect(Experiment& e, Rng& rng, int n) {
  for (int i = 0; i < n; ++i) {
    const size_t arm = i % 2;
    ASSERT_TRUE(e.ApplyReward(RefFor(e, arm, 0.5), rng.Bernoulli(arm == 0 ? 0.1 : 0.6)).ok());
  }
}

TEST(ExperimentSrmTest, PromoteAndPauseDoNotRaiseTheAlarm) {
  auto e = Make(Ab());
  Rng rng(5);
  int64_t t = 0;
  auto route = [&](int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(e->Route(std::nullopt, std::nullopt, rng).ok());
    e->Tick(rng, ++t);
  };
  route(2000);
  ASSERT_TRUE(e->Pause().ok());
  route(2000);
  ASSERT_TRUE(e->Resume().ok());
  route(2000);
  ASSERT_TRUE(e->Promote(1, "by an operator").ok());
  route(4000);
  EXPECT_FALSE(e->srm_alarm());
  EXPECT_EQ(e->srm_alarms(), 0u);
  EXPECT_GT(e->SrmTest().p_value, 0.001);
  EXPECT_EQ(e->srm().counted(), 10000);
  EXPECT_GE(e->srm().periods().size(), 4u);
}

// srm.rewards: applications that report every decision's reward (0 or 1)
// but lose 30% of one arm's — which fools a rule conditioning on successes —
// raise the alarm; without the loss the same rewards do not. Rates 5% on both
// arms, 50/50 draws, 20,000 rewards, fixed seeds.
TEST(ExperimentSrmTest, RewardsLostOnOneArmRaiseTheRewardsAlarm) {
  for (const bool lossy : {false, true}) {
    ExperimentOptions o = Ab(Sequential());
    o.srm_rewards = true;
    auto e = Make(o);
    Rng rng(9);
    for (int i = 0; i < 20000; ++i) {
      const size_t arm = rng.Uniform() < 0.5 ? 1 : 0;
      const double value = rng.Bernoulli(0.05) ? 1.0 : 0.0;
      if (lossy && arm == 1 && rng.Uniform() < 0.3) continue;  // never arrives
      ASSERT_TRUE(e->ApplyReward(RefFor(*e, arm, 0.5), value).ok());
    }
    e->Tick(rng, 1);
    SCOPED_TRACE(lossy ? "lossy" : "every reward arrives");
    EXPECT_EQ(e->srm_alarm(), lossy);
    EXPECT_EQ(e->srm_alarm_rewards(), lossy);
    EXPECT_EQ(e->srm_rewards().counted(), lossy ? e->counters()[0].n + e->counters()[1].n : 20000);
    if (!lossy) {
      EXPECT_GT(e->SrmRewardsTest().p_value, 0.001);
      continue;
    }
    EXPECT_LT(e->SrmRewardsTest().p_value, 1e-20);
    EXPECT_NE(e->StatusReason().find("sample ratio mismatch in the rewards"), std::string::npos)
        << e->StatusReason();
    auto copy = Make(o);
    ASSERT_TRUE(copy->Restore(e->Snapshot()).ok());
    EXPECT_TRUE(copy->srm_alarm_rewards());
    EXPECT_EQ(copy->srm_rewards().counted(), e->srm_rewards().counted());
    ASSERT_TRUE(e->AckSrm().ok());
    EXPECT_FALSE(e->srm_alarm_rewards());
    EXPECT_EQ(e->srm_rewards().counted(), 0);
  }
  // Off by default: no test.
  auto off = Make(Ab());
  EXPECT_TRUE(std::isnan(off->SrmRewardsTest().p_value));
}

TEST(ExperimentSrmTest, AnAlarmHoldsTheDecisionUntilAcknowledged) {
  ExperimentOptions o = Ab(Sequential());
  o.on_decision = OnDecision::kPromote;
  auto e = Make(o);
  Rng rng(6);
  e->Tick(rng, 1);
  // A route path outside Experiment::Route (an extra I/O thread's view)
  // reports 600/400 against 50/50 weights: chi2 = 40, p ~ 2.5e-10.
  const uint64_t skew[] = {600, 400};
  e->AddRoutedDraws(skew, e->weights(), e->allocation_version());
  FeedStrongEffect(*e, rng, 400);
  for (int64_t t = 2; t < 6; ++t) e->Tick(rng, t);
  EXPECT_TRUE(e->srm_alarm());
  EXPECT_EQ(e->srm_alarms(), 1u);
  EXPECT_LT(e->srm_alarm_p(), 1e-6);
  ASSERT_TRUE(e->last_check().stop) << e->last_check().reason;  // the rule has decided...
  EXPECT_EQ(e->state(), ExperimentState::kRunning);                        // ...and the decision is held
  EXPECT_NE(e->StatusReason().find("sample ratio mismatch"), std::string::npos);
  EXPECT_NE(e->StatusReason().find("ack_srm"), std::string::npos);
  // The alarm survives a snapshot.
  auto copy = Make(Ab(Sequential()));
  ASSERT_TRUE(copy->Restore(e->Snapshot()).ok());
  EXPECT_TRUE(copy->srm_alarm());
  EXPECT_EQ(copy->srm_alarms(), 1u);
  EXPECT_EQ(copy->srm().counted(), 1000);
  // Acknowledged: the held decision is applied at the next tick, and the
  // test starts afresh.
  ASSERT_TRUE(e->AckSrm().ok());
  EXPECT_EQ(e->AckSrm().code(), Code::kBadRequest);  // nothing left to acknowledge
  e->Tick(rng, 10);
  EXPECT_EQ(e->state(), ExperimentState::kPromoted);  // on_decision: promote
  EXPECT_FALSE(e->srm_alarm());
  EXPECT_EQ(e->srm_acks(), 1u);
  EXPECT_EQ(e->srm().counted(), 0);
}

// --- the rule's state across a snapshot, and the reason ---------------------------

TEST(ExperimentReportTest, TheRulesLastLookSurvivesASnapshot) {
  auto o = Ab(Sequential());
  o.on_decision = OnDecision::kHold;
  auto e = Make(o);
  Rng rng(7);
  FeedStrongEffect(*e, rng, 400);
  for (int64_t t = 1; t < 4; ++t) e->Tick(rng, t, 1'700'000'000 + t);
  ASSERT_EQ(e->state(), ExperimentState::kDecided);
  const StopDecision before = e->last_check();
  ASSERT_LT(before.p_value, 0.05);
  ASSERT_TRUE(before.compared_arm.has_value());
  ASSERT_TRUE(std::isfinite(before.ci_lo));
  auto copy = Make(o);
  ASSERT_TRUE(copy->Restore(e->Snapshot()).ok());
  // A decided experiment is not looked at again: the restored look is what
  // status shows (it read p = 1 when the look was not kept).
  copy->Tick(rng, 10, 1'700'000'010);
  EXPECT_EQ(copy->last_check().p_value, before.p_value);
  EXPECT_EQ(copy->last_check().ci_lo, before.ci_lo);
  EXPECT_EQ(copy->last_check().ci_hi, before.ci_hi);
  EXPECT_EQ(copy->last_check().compared_arm, before.compared_arm);
  EXPECT_EQ(copy->last_check().reason, before.reason);
  EXPECT_EQ(copy->looks(), e->looks());
  EXPECT_EQ(copy->started_s(), 1'700'000'001);
}

TEST(ExperimentReportTest, TheReasonAlwaysSaysWhatTheRuleNeeds) {
  auto none = Make(Ab());
  EXPECT_NE(none->StatusReason().find("no stopping rule"), std::string::npos);
  auto e = Make(Ab(Sequential()));
  EXPECT_NE(e->StatusReason().find("has not looked yet"), std::string::npos);
  EXPECT_NE(e->StatusReason().find("no rewards yet"), std::string::npos);
  Rng rng(8);
  e->Tick(rng, 1);
  EXPECT_NE(e->StatusReason().find("min_samples"), std::string::npos) << e->StatusReason();
  EXPECT_EQ(e->looks(), 0u);  // a check without rewards is not a look
  ASSERT_TRUE(e->Pause().ok());
  EXPECT_NE(e->StatusReason().find("paused by an operator"), std::string::npos);
  EXPECT_NE(e->StatusReason().find("min_samples"), std::string::npos);
}

TEST(ExperimentReportTest, TheStartIsKeptAndANewEpochStartsAgain) {
  auto o = Ab(Sequential());
  o.min_duration_s = 86400;
  auto e = Make(o);
  Rng rng(9);
  e->Tick(rng, 1, 1'700'000'000);
  e->Tick(rng, 2, 1'700'000'500);
  EXPECT_EQ(e->started_s(), 1'700'000'000);
  auto copy = Make(o);
  ASSERT_TRUE(copy->Restore(e->Snapshot()).ok());
  copy->Tick(rng, 3, 1'700'090'000);
  EXPECT_EQ(copy->started_s(), 1'700'000'000);  // not the restart's time
  copy->NewEpoch("models reloaded");
  copy->Tick(rng, 4, 1'700'095'000);
  EXPECT_EQ(copy->started_s(), 1'700'095'000);
}

TEST(ExperimentReportTest, TheTimeGuardHoldsTheRuleUntilMinDurationHasPassed) {
  auto o = Ab(Sequential());
  o.min_duration_s = 86400;
  o.on_decision = OnDecision::kHold;
  auto e = Make(o);
  Rng rng(10);
  FeedStrongEffect(*e, rng, 400);
  e->Tick(rng, 1, 1'700'000'000);
  e->Tick(rng, 2, 1'700'003'600);  // an hour in: the evidence is there, the time is not
  EXPECT_EQ(e->state(), ExperimentState::kRunning) << e->StatusReason();
  EXPECT_NE(e->StatusReason().find("min_duration"), std::string::npos) << e->StatusReason();
  // A restart in between does not reset the clock.
  auto copy = Make(o);
  ASSERT_TRUE(copy->Restore(e->Snapshot()).ok());
  copy->Tick(rng, 3, 1'700'000'000 + 86400);
  EXPECT_EQ(copy->state(), ExperimentState::kDecided) << copy->StatusReason();
}

}  // namespace
}  // namespace banditd::experiment
