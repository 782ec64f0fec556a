// bernoulli_cs: the always-valid test on successes (src/stats/rules_bernoulli_cs.cc).
#include <cmath>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "banditd/rng.h"
#include "banditd/stopping.h"
#include "policies/snapshot.h"
#include "tests/unit/stats/rules_testing.h"

namespace banditd {
namespace {

using rules_testing::Feed;
using rules_testing::Make;

TEST(BernoulliCsTest, StopsOnAClearLiftAndCoversIt) {
  auto rule = Make("bernoulli_cs", {});
  Rng rng(3);
  StopDecision d;
  for (int look = 0; look < 200 && !d.stop; ++look) {
    // A 90/10 split, challenger 1.5 times the control's 2%.
    for (int i = 0; i < 1000; ++i) {
      const size_t arm = rng.Uniform() < 0.1 ? 1 : 0;
      rule->Observe(arm, rng.Bernoulli(arm ? 0.03 : 0.02) ? 1.0 : 0.0, arm ? 0.1 : 0.9);
    }
    d = rule->Check();
  }
  ASSERT_TRUE(d.stop) << d.reason;
  EXPECT_EQ(d.winner, std::optional<size_t>(1));
  EXPECT_LE(d.p_value, 0.05);
  // The interval is for the relative lift (rate ratio - 1), here 0.5; at the
  // look that stops, r = 1 has just left it.
  EXPECT_GE(d.ci_lo, 0.0);
  EXPECT_LT(d.ci_lo, 0.5);
  EXPECT_GT(d.ci_hi, 0.5);
  EXPECT_NE(d.reason.find("rate ratio"), std::string::npos) << d.reason;
}

// The estimate is the conditional MLE of the rate ratio, not the nearest
// point of the rule's grid (spaced 3.8% apart in log r): at a 50/50 split
// with 1,270 vs 1,000 successes the MLE is exactly 1.27 (the nearest grid
// point is 1.252).
TEST(BernoulliCsTest, TheEstimateIsTheMaximumNotAGridPoint) {
  auto rule = Make("bernoulli_cs", {{"min_samples", 0.0}, {"alpha", 1e-9}});
  rule->ObserveRepeated(0, 1.0, 1000, 0.5);
  rule->ObserveRepeated(0, 0.0, 99000, 0.5);
  rule->ObserveRepeated(1, 1.0, 1270, 0.5);
  rule->ObserveRepeated(1, 0.0, 98730, 0.5);
  const StopDecision d = rule->Check();
  // The parabola through the grid's three best points; the log-likelihood
  // is nearly quadratic there.
  EXPECT_NEAR(d.difference, 0.27, 2e-3) << d.difference;
}

TEST(BernoulliCsTest, NoSuccessesOnASmallArmIsNoEvidence) {
  auto rule = Make("bernoulli_cs", {{"min_samples", 0.0}});
  rule->ObserveRepeated(0, 1.0, 30, 0.9);
  rule->ObserveRepeated(0, 0.0, 14970, 0.9);
  rule->ObserveRepeated(1, 0.0, 1666, 0.1);
  const StopDecision d = rule->Check();
  EXPECT_FALSE(d.stop) << d.reason;
  // Under H0 all 30 successes come from the control with probability
  // 0.9^30 = 0.042: one look's likelihood ratio can be at most 1/0.042 = 24,
  // and the mixture (which also weighs r near 1) is far less.
  EXPECT_GT(d.p_value, 0.2);
}

TEST(BernoulliCsTest, ControlWinsAndPValueOnlyDecreases) {
  auto rule = Make("bernoulli_cs", {{"prior_sd", 0.3}});
  Feed(*rule, {0.10, 0.12}, 500);
  const StopDecision first = rule->Check();
  Feed(*rule, {0.12, 0.10}, 500);
  const StopDecision second = rule->Check();
  EXPECT_LE(second.p_value, first.p_value);
  EXPECT_GE(second.ci_lo, first.ci_lo);
  EXPECT_LE(second.ci_hi, first.ci_hi);
  Feed(*rule, {0.20, 0.10}, 3000);
  const StopDecision d = rule->Check();
  ASSERT_TRUE(d.stop) << d.reason;
  EXPECT_EQ(d.winner, std::optional<size_t>(0));
  EXPECT_LT(d.ci_hi, 0.0);
}

// A success served with a tiny propensity was expected from that arm with
// a tiny probability: it is strong evidence, but bounded by the one unit's
// likelihood ratio, so 2 such successes cannot decide at alpha 0.05 when the
// other arm has many.
TEST(BernoulliCsTest, TinyPropensitiesAreExactNotExplosive) {
  auto rule = Make("bernoulli_cs", {{"min_samples", 0.0}});
  rule->ObserveRepeated(0, 1.0, 500, 0.999);
  rule->ObserveRepeated(0, 0.0, 10000, 0.999);
  rule->ObserveRepeated(1, 0.0, 10, 0.001);
  rule->ObserveRepeated(1, 1.0, 1, 0.001);
  const StopDecision d = rule->Check();
  EXPECT_FALSE(d.stop) << d.reason;
}

TEST(BernoulliCsTest, AggregateSnapshotIsTheStaticSplitLook) {
  // bandit-sim analyze restores the sums alone; that must equal feeding the
  // units with the shares as propensities.
  auto fed = Make("bernoulli_cs", {{"min_samples", 0.0}});
  fed->ObserveRepeated(0, 1.0, 500, 0.75);
  fed->ObserveRepeated(0, 0.0, 14500, 0.75);
  fed->ObserveRepeated(1, 1.0, 200, 0.25);
  fed->ObserveRepeated(1, 0.0, 4800, 0.25);
  const StopDecision a = fed->Check();
  policies::SnapshotState s;
  s.arrays["n"] = {15000, 5000};
  s.arrays["sum"] = {500, 200};
  s.arrays["sum_sq"] = {500, 200};
  auto restored = Make("bernoulli_cs", {{"min_samples", 0.0}});
  ASSERT_TRUE(restored->Restore(policies::EncodeSnapshot("bernoulli_cs", 1, 2, s)).ok());
  const StopDecision b = restored->Check();
  EXPECT_NEAR(a.p_value, b.p_value, 1e-12 * a.p_value);
  EXPECT_EQ(a.stop, b.stop);
  EXPECT_EQ(a.ci_lo, b.ci_lo);
  EXPECT_EQ(a.ci_hi, b.ci_hi);
}

TEST(BernoulliCsTest, RefusesWhatItCannotTest) {
  auto three = MakeStoppingRule({"bernoulli_cs", 3, 0, Metric::kBernoulli, {}});
  ASSERT_FALSE(three.ok());
  EXPECT_NE(three.status().message().find("exactly 2 arms"), std::string::npos);
  auto gauss = MakeStoppingRule({"bernoulli_cs", 2, 0, Metric::kGaussian, {}});
  ASSERT_FALSE(gauss.ok());
  EXPECT_NE(gauss.status().message().find("bandit_cs"), std::string::npos);
  EXPECT_FALSE(MakeStoppingRule({"bernoulli_cs", 2, 0, Metric::kBernoulli, {{"prior_sd", 0.0}}})
                   .ok());
  EXPECT_FALSE(
      MakeStoppingRule({"bernoulli_cs", 2, 0, Metric::kBernoulli, {{"mde", 0.01}}}).ok());
  EXPECT_TRUE(MakeStoppingRule({"bernoulli_cs", 2, 0, Metric::kBernoulli,
                                {{"mde", 0.01}, {"baseline", 0.05}}})
                  .ok());
}

}  // namespace
}  // namespace banditd
