// The stopping rules behind include/banditd/stopping.h: construction and
// parameter checks, when each rule stops and why, latching, sample bounds,
// and snapshot/restore.
#include <cmath>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "banditd/rng.h"
#include "banditd/stopping.h"
#include "src/stats/bayes.h"
#include "src/stats/hypothesis.h"

namespace banditd {
namespace {

std::unique_ptr<StoppingRule> Make(const std::string& name, Params params, size_t arms = 2,
                                   Metric metric = Metric::kBernoulli) {
  StoppingSpec spec{name, arms, 0, metric, std::move(params)};
  auto made = MakeStoppingRule(spec);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? std::move(made).value() : nullptr;
}

// `common` plus what each rule needs: the planned effect where it uses one.
Params With(std::string_view name, Params common) {
  if (name == "fixed_horizon") {
    common.Set("mde", 0.02);
    common.Set("baseline", 0.1);
  }
  if (name == "sequential" || name == "bayes") common.Set("mde", 0.02);
  return common;
}

// Feeds `n` units per arm with exactly round(rate * n) successes each, in an
// interleaved order so every prefix is close to the target rates.
void Feed(StoppingRule& rule, const std::vector<double>& rates, int n, double propensity = 0.5) {
  for (int i = 0; i < n; ++i) {
    for (size_t arm = 0; arm < rates.size(); ++arm) {
      const double before = std::floor(rates[arm] * i);
      const double after = std::floor(rates[arm] * (i + 1));
      rule.Observe(arm, after > before ? 1.0 : 0.0, propensity);
    }
  }
}

TEST(StoppingRegistryTest, NamesAndUnknownRule) {
  const auto names = StoppingRuleNames();
  ASSERT_EQ(names.size(), 6u);
  EXPECT_EQ(names[0], "fixed_horizon");
  EXPECT_EQ(names[4], "bandit_cs");
  EXPECT_EQ(names[5], "bernoulli_cs");
  auto bad = MakeStoppingRule({"peek_daily", 2, 0, Metric::kBernoulli, {}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("sequential"), std::string::npos);
}

TEST(StoppingRegistryTest, BadParametersAreRefused) {
  struct Case {
    std::string name;
    Params params;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"naive_peeking", {{"alpha", 1.5}}, "alpha"},
      {"naive_peeking", {{"bogus", 1.0}}, "bogus"},
      {"naive_peeking", {{"min_samples", 500.0}, {"max_samples", 100.0}}, "max_samples"},
      {"naive_peeking", {{"alpha", std::string("x")}}, "alpha"},
      {"sequential", {}, "tau2"},
      {"fixed_horizon", {}, "n_per_arm"},
      {"fixed_horizon", {{"mde", 0.01}, {"baseline", 1.5}}, "baseline"},
      {"bayes", {{"threshold", 0.4}}, "threshold"},
      {"bayes", {{"prior_alpha", -1.0}}, "prior_alpha"},
      {"bandit_cs", {{"tune_n", 0.0}}, "tune_n"},
  };
  for (const auto& c : cases) {
    auto made = MakeStoppingRule({c.name, 2, 0, Metric::kBernoulli, c.params});
    ASSERT_FALSE(made.ok()) << c.name << " " << c.needle;
    EXPECT_EQ(made.status().code(), Code::kInvalidArgument);
    EXPECT_NE(made.status().message().find(c.needle), std::string::npos) << made.status().message();
  }
  EXPECT_FALSE(MakeStoppingRule({"naive_peeking", 1, 0, Metric::kBernoulli, {}}).ok());
  EXPECT_FALSE(MakeStoppingRule({"naive_peeking", 2, 2, Metric::kBernoulli, {}}).ok());
}

TEST(StoppingRuleTest, WaitsForMinSamplesAndSaysSo) {
  for (auto name : StoppingRuleNames()) {
    auto rule = Make(std::string(name), With(name, {{"min_samples", 1000.0}}));
    Feed(*rule, {0.0, 1.0}, 100);  // overwhelming evidence, but too early
    const StopDecision d = rule->Check();
    EXPECT_FALSE(d.stop) << name;
    EXPECT_NE(d.reason.find("min_samples"), std::string::npos) << d.reason;
  }
}

TEST(StoppingRuleTest, FixedHorizonTestsOnlyAtThePlannedN) {
  auto rule = Make("fixed_horizon", {{"n_per_arm", 2000.0}, {"min_samples", 0.0}});
  Feed(*rule, {0.10, 0.20}, 1000);
  StopDecision d = rule->Check();
  EXPECT_FALSE(d.stop);  // significant already, but the horizon is 2000
  EXPECT_NE(d.reason.find("horizon"), std::string::npos);
  Feed(*rule, {0.10, 0.20}, 1000);
  d = rule->Check();
  ASSERT_TRUE(d.stop);
  ASSERT_TRUE(d.winner.has_value());
  EXPECT_EQ(*d.winner, 1u);
  const double p =
      stats::TwoProportionZTest({200, 2000}, {400, 2000}, stats::Alternative::kTwoSided).p_value;
  EXPECT_DOUBLE_EQ(d.p_value, p);
  // The comparison and its 95% Newcombe interval travel with the decision.
  EXPECT_EQ(d.compared_arm, std::optional<size_t>(1));
  EXPECT_NEAR(d.difference, 0.1, 1e-15);
  const stats::Interval ci = stats::NewcombeDiffInterval({200, 2000}, {400, 2000}, 0.95);
  EXPECT_DOUBLE_EQ(d.ci_lo, ci.lo);
  EXPECT_DOUBLE_EQ(d.ci_hi, ci.hi);
}

TEST(StoppingRuleTest, FixedHorizonWithoutEffectStopsWithoutWinner) {
  auto rule = Make("fixed_horizon", {{"n_per_arm", 500.0}});
  Feed(*rule, {0.10, 0.10}, 500);
  const StopDecision d = rule->Check();
  EXPECT_TRUE(d.stop);
  EXPECT_FALSE(d.winner.has_value());
  EXPECT_NE(d.reason.find("no significant difference"), std::string::npos);
}

TEST(StoppingRuleTest, FixedHorizonPlansItsNFromTheEffect) {
  // statsmodels samplesize_proportions_2indep_onetail(0.01, 0.1, 0.8) = 14750.3...
  auto rule = Make("fixed_horizon", {{"mde", 0.01}, {"baseline", 0.1}, {"power", 0.8}});
  Feed(*rule, {0.1, 0.1}, 14750);
  EXPECT_FALSE(rule->Check().stop);
  Feed(*rule, {0.1, 0.1}, 1);
  EXPECT_TRUE(rule->Check().stop);
}

TEST(StoppingRuleTest, NaivePeekingStopsAtTheFirstSignificantLookAndLatches) {
  auto rule = Make("naive_peeking", {{"min_samples", 100.0}});
  Feed(*rule, {0.10, 0.10}, 200);
  EXPECT_FALSE(rule->Check().stop);
  Feed(*rule, {0.05, 0.30}, 300);
  const StopDecision d = rule->Check();
  ASSERT_TRUE(d.stop);
  EXPECT_EQ(d.winner, std::optional<size_t>(1));
  EXPECT_LT(d.p_value, 0.05);
  Feed(*rule, {0.50, 0.0}, 5000);  // contrary evidence after the decision
  const StopDecision later = rule->Check();
  EXPECT_EQ(later.winner, d.winner);
  EXPECT_EQ(later.reason, d.reason);
  EXPECT_EQ(later.p_value, d.p_value);
}

TEST(StoppingRuleTest, ControlWinsWhenItIsSignificantlyBetter) {
  auto rule = Make("naive_peeking", {});
  Feed(*rule, {0.30, 0.10}, 1000);
  const StopDecision d = rule->Check();
  ASSERT_TRUE(d.stop);
  EXPECT_EQ(d.winner, std::optional<size_t>(0));
}

TEST(StoppingRuleTest, GaussianMetricUsesWelch) {
  auto rule = Make("naive_peeking", {{"min_samples", 2.0}}, 2, Metric::kGaussian);
  const double a[] = {1.0, 2.0, 3.0, 4.0};
  const double b[] = {2.0, 3.5, 4.0, 6.5};
  for (int i = 0; i < 4; ++i) {
    rule->Observe(0, a[i], 0.5);
    rule->Observe(1, b[i], 0.5);
  }
  const StopDecision d = rule->Check();
  const auto ma = stats::MomentsFromSums(4, 10, 30);
  const auto mb = stats::MomentsFromSums(4, 16, 4 + 12.25 + 16 + 42.25);
  EXPECT_NEAR(d.p_value, stats::WelchTTest(ma, mb, stats::Alternative::kTwoSided).p_value, 1e-12);
  EXPECT_FALSE(d.stop);  // p ~ 0.25
}

TEST(StoppingRuleTest, SequentialPValueOnlyDecreasesAndStopsOnStrongEvidence) {
  auto rule = Make("sequential", {{"tau2", 1e-3}, {"min_samples", 100.0}});
  Feed(*rule, {0.10, 0.13}, 200);
  const double p1 = rule->Check().p_value;
  Feed(*rule, {0.13, 0.10}, 200);  // evidence reverses: the always-valid p keeps its minimum
  const double p2 = rule->Check().p_value;
  EXPECT_LE(p2, p1);
  const StopDecision before = rule->Check();
  Feed(*rule, {0.10, 0.20}, 3000);
  const StopDecision d = rule->Check();
  ASSERT_TRUE(d.stop) << d.reason;
  EXPECT_EQ(d.winner, std::optional<size_t>(1));
  EXPECT_NE(d.reason.find("mSPRT"), std::string::npos);
  // The always-valid interval only shrinks, and now excludes 0.
  EXPECT_GT(d.ci_lo, 0.0);
  EXPECT_GE(d.ci_lo, before.ci_lo);
  EXPECT_LE(d.ci_hi, before.ci_hi);
  EXPECT_TRUE(std::isfinite(before.ci_lo));
}

TEST(StoppingRuleTest, SequentialNeedsMoreEvidenceThanOneFixedTest) {
  // z ~ 2.6 (p ~ 0.01): significant for one test, not for the mSPRT.
  auto seq = Make("sequential", {{"tau2", 1e-4}});
  auto naive = Make("naive_peeking", {});
  Feed(*seq, {0.10, 0.12}, 3000);
  Feed(*naive, {0.10, 0.12}, 3000);
  EXPECT_TRUE(naive->Check().stop);
  EXPECT_FALSE(seq->Check().stop);
}

TEST(StoppingRuleTest, BayesStopsOnProbabilityAndLoss) {
  auto rule = Make("bayes", {{"threshold", 0.95}, {"epsilon", 1e-3}});
  Feed(*rule, {0.10, 0.10}, 1000);
  StopDecision d = rule->Check();
  EXPECT_FALSE(d.stop);
  Feed(*rule, {0.10, 0.15}, 2000);
  d = rule->Check();
  ASSERT_TRUE(d.stop) << d.reason;
  EXPECT_EQ(d.winner, std::optional<size_t>(1));
  // 3000 units per arm: arm 0 has 100 + 200 successes, arm 1 100 + 300.
  const double p = stats::ProbBetterBeta({301, 2701}, {401, 2601});
  EXPECT_NEAR(d.p_value, 1 - p, 1e-12);
  EXPECT_NE(d.reason.find("P(best)"), std::string::npos);
}

TEST(StoppingRuleTest, BayesLossThresholdCanHoldItBack) {
  auto rule = Make("bayes", {{"threshold", 0.9}, {"epsilon", 1e-9}});
  Feed(*rule, {0.10, 0.13}, 2000);
  const StopDecision d = rule->Check();
  EXPECT_FALSE(d.stop);
  EXPECT_NE(d.reason.find("expected loss"), std::string::npos);
}

TEST(StoppingRuleTest, BayesWithThreeArmsIsReproducible) {
  auto a = Make("bayes", {{"threshold", 0.95}, {"epsilon", 0.01}}, 3);
  auto b = Make("bayes", {{"threshold", 0.95}, {"epsilon", 0.01}}, 3);
  Feed(*a, {0.10, 0.10, 0.16}, 3000);
  Feed(*b, {0.10, 0.10, 0.16}, 3000);
  const StopDecision da = a->Check(), db = b->Check();
  ASSERT_TRUE(da.stop) << da.reason;
  EXPECT_EQ(da.winner, std::optional<size_t>(2));
  EXPECT_EQ(da.p_value, db.p_value);
}

TEST(StoppingRuleTest, BanditCsStopsOnAClearDifferenceOnly) {
  auto same = Make("bandit_cs", {{"tune_n", 10000.0}});
  Feed(*same, {0.2, 0.2}, 5000);
  EXPECT_FALSE(same->Check().stop);
  auto diff = Make("bandit_cs", {{"tune_n", 10000.0}});
  Feed(*diff, {0.2, 0.3}, 5000);
  const StopDecision d = diff->Check();
  ASSERT_TRUE(d.stop) << d.reason;
  EXPECT_EQ(d.winner, std::optional<size_t>(1));
  EXPECT_NE(d.reason.find("confidence sequence"), std::string::npos);
  EXPECT_GT(d.ci_lo, 0.0);
  EXPECT_LT(d.ci_lo, d.difference);
  EXPECT_GT(d.ci_hi, d.difference);
  EXPECT_NEAR(d.difference, 0.1, 0.02);  // AIPW estimate of 0.3 - 0.2
}

TEST(StoppingRuleTest, MaxSamplesEndsWithoutWinner) {
  for (std::string_view name : {"naive_peeking", "sequential", "bayes", "bandit_cs"}) {
    auto rule =
        Make(std::string(name), With(name, {{"max_samples", 400.0}, {"min_samples", 10.0}}));
    Feed(*rule, {0.3, 0.3}, 400);
    const StopDecision d = rule->Check();
    EXPECT_TRUE(d.stop) << name;
    EXPECT_FALSE(d.winner.has_value()) << name;
    EXPECT_NE(d.reason.find("max_samples"), std::string::npos) << d.reason;
  }
}

TEST(StoppingRuleTest, SnapshotRestoreContinuesIdentically) {
  for (auto name : StoppingRuleNames()) {
    const Params params = With(name, {{"min_samples", 50.0}, {"max_samples", 100000.0}});
    auto original = Make(std::string(name), params);
    Rng rng(99);
    for (int i = 0; i < 800; ++i) {
      const size_t arm = rng.Below(2);
      original->Observe(arm, rng.Bernoulli(arm ? 0.14 : 0.1) ? 1.0 : 0.0, 0.5);
      if (i % 100 == 99) (void)original->Check();
    }
    auto copy = Make(std::string(name), params);
    ASSERT_TRUE(copy->Restore(original->Snapshot()).ok()) << name;
    EXPECT_EQ(copy->Snapshot(), original->Snapshot()) << name;
    for (int i = 0; i < 4000; ++i) {
      const size_t arm = rng.Below(2);
      const double y = rng.Bernoulli(arm ? 0.14 : 0.1) ? 1.0 : 0.0;
      original->Observe(arm, y, 0.5);
      copy->Observe(arm, y, 0.5);
      if (i % 100 == 99) {
        const StopDecision a = original->Check(), b = copy->Check();
        EXPECT_EQ(a.stop, b.stop) << name;
        EXPECT_EQ(a.winner, b.winner) << name;
        EXPECT_EQ(a.p_value, b.p_value) << name;
        EXPECT_EQ(a.reason, b.reason) << name;
        EXPECT_EQ(a.ci_lo, b.ci_lo) << name;
        EXPECT_EQ(a.ci_hi, b.ci_hi) << name;
      }
    }
  }
}

TEST(StoppingRuleTest, RestoreRefusesForeignOrBrokenSnapshots) {
  auto seq = Make("sequential", {{"tau2", 1e-4}});
  Feed(*seq, {0.1, 0.2}, 100);
  const std::string before = seq->Snapshot();
  auto naive = Make("naive_peeking", {});
  EXPECT_FALSE(seq->Restore(naive->Snapshot()).ok());
  auto three = Make("sequential", {{"tau2", 1e-4}}, 3);
  EXPECT_FALSE(seq->Restore(three->Snapshot()).ok());
  EXPECT_FALSE(seq->Restore("not msgpack at all").ok());
  EXPECT_FALSE(seq->Restore(before.substr(0, before.size() / 2)).ok());
  EXPECT_EQ(seq->Snapshot(), before);  // unchanged by the failed restores
}

TEST(StoppingRuleTest, DecidedStateSurvivesRestore) {
  auto rule = Make("naive_peeking", {});
  Feed(*rule, {0.1, 0.3}, 1000);
  const StopDecision d = rule->Check();
  ASSERT_TRUE(d.stop);
  auto copy = Make("naive_peeking", {});
  ASSERT_TRUE(copy->Restore(rule->Snapshot()).ok());
  Feed(*copy, {0.3, 0.1}, 100000);
  const StopDecision c = copy->Check();
  EXPECT_TRUE(c.stop);
  EXPECT_EQ(c.winner, d.winner);
  EXPECT_EQ(c.reason, d.reason);
}

}  // namespace
}  // namespace banditd
