// The betting confidence sequence behind bandit_cs (src/stats/betting.h)
// and the rule's guards: the closed-form bounds against a direct evaluation
// of the betting capital, a unit drawn with a tiny propensity, the two-arm,
// metric and reward-range checks. (The false positive rate under unclipped
// Thompson sampling is checked by simulation in validation_test.cc.)
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "banditd/rng.h"
#include "banditd/stopping.h"
#include "src/stats/betting.h"

namespace banditd::stats {
namespace {

// An independent re-computation of one unit's bet from betting.h's formulas.
struct Unit {
  double phi, lambda, psi;
};

TEST(BettingTest, PsiIsFanGramaLiusConstant) {
  EXPECT_NEAR(BettingPsi(0.5), (std::log(2.0) - 0.5) / 0.25, 1e-15);
  EXPECT_NEAR(BettingPsi(1e-6), 0.5 + 1e-6 / 3.0, 1e-12);
  EXPECT_NEAR(BettingPsi(2e-4), (-std::log1p(-2e-4) - 2e-4) / 4e-8, 1e-9);
  // The inequality itself: log(1 + y) >= y - psi(c) y^2 for y >= -c.
  for (double c : {0.01, 0.2, 0.5}) {
    for (double y = -c; y < 5.0; y += 0.01) {
      EXPECT_GE(std::log1p(y), y - BettingPsi(c) * y * y - 1e-15) << c << " " << y;
    }
  }
}

TEST(BettingTest, BoundsAreWhereTheCapitalsLowerBoundCrossesTheThreshold) {
  const double alpha = 0.05, tune_n = 500;
  BettingDiffSequence cs(alpha, tune_n);
  Rng rng = Rng::ForStream(11, 0);
  std::vector<Unit> units;
  double n[2] = {0, 0}, sum[2] = {0, 0}, phi_sum = 0, phi_sq = 0;
  for (int i = 0; i < 1000; ++i) {
    // Propensities wander down to 0.001, as an unclipped bandit's do.
    const double pt = i % 50 == 0 ? 0.001 : 0.02 + 0.96 * rng.Uniform();
    const bool treat = rng.Uniform() < pt;
    const double y = rng.Bernoulli(treat ? 0.7 : 0.4) ? 1.0 : 0.0;
    const double pooled = n[0] + n[1] > 0 ? (sum[0] + sum[1]) / (n[0] + n[1]) : 0.5;
    const double mt = n[1] > 0 ? sum[1] / n[1] : pooled;
    const double mc = n[0] > 0 ? sum[0] / n[0] : pooled;
    cs.Add(treat ? BettingDiffSequence::Served::kTreatment : BettingDiffSequence::Served::kControl,
           y, pt, 1 - pt, mt, mc);
    const double phi = mt - mc + (treat ? (y - mt) / pt : -(y - mc) / (1 - pt));
    const double bound = std::abs(mt - mc) +
                         std::max(std::max(mt, 1 - mt) / pt, std::max(mc, 1 - mc) / (1 - pt)) + 1;
    const double t = static_cast<double>(units.size());
    const double mean = t > 0 ? phi_sum / t : 0.0;
    const double var = (0.25 + std::max(0.0, phi_sq - t * mean * mean)) / (t + 1);
    const double lambda =
        std::min(std::sqrt(2 * std::log(2 / alpha) / (var * tune_n)), 0.5 / bound);
    units.push_back({phi, lambda, BettingPsi(lambda * bound)});
    phi_sum += phi;
    phi_sq += phi * phi;
    n[treat ? 1 : 0] += 1;
    sum[treat ? 1 : 0] += y;
  }
  auto lower_side = [&](double d) {  // L_t(d), and log K_t(d) directly
    double l = 0, log_k = 0;
    for (const Unit& u : units) {
      const double y = u.lambda * (u.phi - d);
      l += y - u.psi * y * y;
      log_k += std::log1p(y);
    }
    return std::pair{l, log_k};
  };
  const double th = std::log(2 / alpha);
  const double lo = cs.Lower(), hi = cs.Upper();
  ASSERT_GT(lo, -1.0);  // a 0.3 difference over 1000 units is bounded below
  EXPECT_LT(lo, hi);
  EXPECT_NEAR(lower_side(lo).first, th, 1e-9);
  EXPECT_LT(lower_side(lo + 1e-6).first, th);
  for (double d = -1; d <= 1; d += 0.05) {
    const auto [l, log_k] = lower_side(d);
    EXPECT_GE(log_k, l - 1e-12) << d;  // L_t is a lower bound of the capital
  }
  EXPECT_NEAR(cs.PValue(), std::min(1.0, 2 * std::exp(-lower_side(0).first)), 1e-12);
  EXPECT_LT(cs.PValue(), 0.05);
  EXPECT_GT(lo, 0.0);
  EXPECT_GT(hi, 0.3);
  EXPECT_NEAR(cs.Estimate(), phi_sum / static_cast<double>(units.size()), 1e-12);
}

std::unique_ptr<StoppingRule> MakeCs(Params params, size_t arms = 2,
                                     Metric metric = Metric::kBernoulli) {
  auto made = MakeStoppingRule({"bandit_cs", arms, 0, metric, std::move(params)});
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? std::move(made).value() : nullptr;
}

// A unit drawn with propensity 1e-4 has an IPW pseudo-outcome of ~8000; the
// stake on it was fixed before the draw at <= 0.5 / B_i ~ 6e-5, so it cannot
// decide the experiment on its own (the stake of a balanced unit, ~0.05,
// would add ~400 to the log-capital and stop the rule).
TEST(BanditCsTest, OneUnitWithATinyPropensityDoesNotDecide) {
  auto rule = MakeCs({{"tune_n", 2000.0}, {"min_samples", 100.0}});
  for (int i = 0; i < 2000; ++i) {
    rule->Observe(i % 2, (i / 2) % 5 == 0 ? 1.0 : 0.0, 0.5);  // both arms 0.2
  }
  EXPECT_FALSE(rule->Check().stop);
  rule->Observe(1, 1.0, 1e-4);
  const StopDecision d = rule->Check();
  EXPECT_FALSE(d.stop) << d.reason;
  EXPECT_LT(d.ci_lo, 0.0);
  EXPECT_GT(d.ci_hi, 0.0);
}

TEST(BanditCsTest, TuneNDefaultsToMaxSamples) {
  auto by_default = MakeCs({{"max_samples", 50000.0}});
  auto explicit_n = MakeCs({{"max_samples", 50000.0}, {"tune_n", 50000.0}});
  auto other_n = MakeCs({{"max_samples", 50000.0}, {"tune_n", 10000.0}});
  for (auto* r : {by_default.get(), explicit_n.get(), other_n.get()}) {
    for (int i = 0; i < 3000; ++i) {
      r->Observe(i % 2, (i / 2) % 4 == 0 ? 1.0 : 0.0, 0.5);
      if (i % 1000 == 999) (void)r->Check();  // units are staked at the looks
    }
  }
  EXPECT_EQ(by_default->Snapshot(), explicit_n->Snapshot());
  EXPECT_NE(by_default->Snapshot(), other_n->Snapshot());
}

TEST(BanditCsTest, ArmsMetricAndRangeAreChecked) {
  auto three = MakeStoppingRule({"bandit_cs", 3, 0, Metric::kBernoulli, {}});
  ASSERT_FALSE(three.ok());
  EXPECT_NE(three.status().message().find("exactly 2 arms"), std::string::npos);
  auto gaussian = MakeStoppingRule({"bandit_cs", 2, 0, Metric::kGaussian, {}});
  ASSERT_FALSE(gaussian.ok());
  EXPECT_NE(gaussian.status().message().find("reward_min"), std::string::npos);
  auto flipped = MakeStoppingRule(
      {"bandit_cs", 2, 0, Metric::kGaussian, {{"reward_min", 5.0}, {"reward_max", 1.0}}});
  EXPECT_FALSE(flipped.ok());

  // Real-valued rewards in [0, 10]: a clear difference is found, on the
  // reward scale.
  auto rule =
      MakeCs({{"reward_min", 0.0}, {"reward_max", 10.0}, {"tune_n", 4000.0}}, 2, Metric::kGaussian);
  Rng rng = Rng::ForStream(5, 0);
  for (int i = 0; i < 4000; ++i) {
    const size_t arm = rng.Uniform() < 0.5 ? 1 : 0;
    rule->Observe(arm, std::clamp(rng.Normal() + (arm ? 6.0 : 5.0), 0.0, 10.0), 0.5);
  }
  const StopDecision d = rule->Check();
  ASSERT_TRUE(d.stop) << d.reason;
  EXPECT_EQ(d.winner, std::optional<size_t>(1));
  EXPECT_GT(d.ci_lo, 0.0);
  EXPECT_LT(d.ci_lo, 1.0);
  EXPECT_GT(d.ci_hi, 1.0);
  EXPECT_NEAR(d.difference, 1.0, 0.2);

  // A reward outside the declared range is clipped into it (the rule then
  // tests the clipped means) and counted in the reason.
  auto out = MakeCs({{"reward_min", 0.0}, {"reward_max", 1.0}, {"min_samples", 0.0}}, 2,
                    Metric::kGaussian);
  for (int i = 0; i < 200; ++i) out->Observe(i % 2, 0.5, 0.5);
  out->Observe(0, 3.0, 0.5);
  out->Observe(1, -2.0, 0.5);
  const StopDecision clipped = out->Check();
  EXPECT_FALSE(clipped.stop);
  EXPECT_NE(clipped.reason.find("2 rewards clipped to [0, 1]"), std::string::npos)
      << clipped.reason;
  // The clipped rewards entered as 1 and 0.
  auto same = MakeCs({{"reward_min", 0.0}, {"reward_max", 1.0}, {"min_samples", 0.0}}, 2,
                     Metric::kGaussian);
  for (int i = 0; i < 200; ++i) same->Observe(i % 2, 0.5, 0.5);
  same->Observe(0, 1.0, 0.5);
  same->Observe(1, 0.0, 0.5);
  const StopDecision inside = same->Check();
  EXPECT_EQ(inside.p_value, clipped.p_value);
  EXPECT_EQ(inside.difference, clipped.difference);
}

}  // namespace
}  // namespace banditd::stats
