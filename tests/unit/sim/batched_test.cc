// The batched engine and its samplers: exact binomial / multinomial draws,
// the same statistics as the per-step engine, determinism across threads.
#include <cmath>
#include <numeric>

#include <gtest/gtest.h>

#include "sim/engine.h"
#include "sim/report.h"
#include "sim/sampling.h"
#include "tests/unit/sim/sim_testing.h"

namespace banditd::sim {
namespace {

using testing::MustParse;

double BinomialPmf(uint64_t n, double p, uint64_t k) {
  const double nn = static_cast<double>(n), kk = static_cast<double>(k);
  return std::exp(std::lgamma(nn + 1) - std::lgamma(kk + 1) - std::lgamma(nn - kk + 1) +
                  kk * std::log(p) + (nn - kk) * std::log1p(-p));
}

// Mean and variance of 20,000 draws within 5 standard errors of n p and n p q.
TEST(SamplingTest, BinomialMomentsAcrossRegimes) {
  Rng rng(11);
  struct Case {
    uint64_t n;
    double p;
  };
  for (const Case c : {Case{100, 0.05}, Case{100, 0.7}, Case{37, 0.5}, Case{1000000, 0.05},
                       Case{50000000, 0.3}, Case{2000, 0.999}}) {
    const int draws = 20000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < draws; ++i) {
      const auto x = static_cast<double>(Binomial(rng, c.n, c.p));
      ASSERT_LE(x, static_cast<double>(c.n));
      sum += x;
      sum2 += x * x;
    }
    const double m = sum / draws, v = sum2 / draws - m * m;
    const double var = static_cast<double>(c.n) * c.p * (1 - c.p);
    EXPECT_NEAR(m, static_cast<double>(c.n) * c.p, 5 * std::sqrt(var / draws)) << c.n << " " << c.p;
    // Var of the sample variance ~ 2 var^2 / draws (near-normal counts).
    EXPECT_NEAR(v, var, 5 * var * std::sqrt(2.0 / draws)) << c.n << " " << c.p;
  }
  EXPECT_EQ(Binomial(rng, 0, 0.3), 0u);
  EXPECT_EQ(Binomial(rng, 10, 0.0), 0u);
  EXPECT_EQ(Binomial(rng, 10, 1.0), 10u);
}

// The whole distribution, by a chi-square test against the exact pmf, on
// the inversion path (n p < 20) and the order-statistic path (n p >= 20).
TEST(SamplingTest, BinomialMatchesThePmf) {
  Rng rng(12);
  for (const auto& [n, p] : {std::pair<uint64_t, double>{40, 0.3}, {400, 0.3}}) {
    const int draws = 200000;
    std::vector<double> seen(n + 1, 0.0);
    for (int i = 0; i < draws; ++i) seen[Binomial(rng, n, p)] += 1;
    // Pool the tails so every cell expects >= 20.
    double chi2 = 0, exp_acc = 0, obs_acc = 0;
    int cells = 0;
    for (uint64_t k = 0; k <= n; ++k) {
      exp_acc += draws * BinomialPmf(n, p, k);
      obs_acc += seen[k];
      if (exp_acc >= 20 || k == n) {
        chi2 += (obs_acc - exp_acc) * (obs_acc - exp_acc) / exp_acc;
        exp_acc = obs_acc = 0;
        ++cells;
      }
    }
    const double df = cells - 1;
    // Mean df, sd sqrt(2 df): 5 sd above is far in the tail.
    EXPECT_LT(chi2, df + 5 * std::sqrt(2 * df)) << "n " << n << " chi2 " << chi2 << " df " << df;
  }
}

TEST(SamplingTest, MultinomialSumsAndSkipsZeroWeights) {
  Rng rng(13);
  std::vector<double> w = {0.2, 0.0, 0.5, 0.3, 0.0};
  std::vector<uint64_t> out(5);
  std::vector<double> total(5, 0.0);
  for (int i = 0; i < 5000; ++i) {
    Multinomial(rng, 1000, w, out);
    EXPECT_EQ(std::accumulate(out.begin(), out.end(), uint64_t{0}), 1000u);
    EXPECT_EQ(out[1], 0u);
    EXPECT_EQ(out[4], 0u);
    for (size_t a = 0; a < 5; ++a) total[a] += static_cast<double>(out[a]);
  }
  // 5e6 units: shares within 5 standard errors (<= 0.0011).
  EXPECT_NEAR(total[0] / 5e6, 0.2, 0.0011);
  EXPECT_NEAR(total[2] / 5e6, 0.5, 0.0012);
}

// A timed scenario (a decaying challenger) with three rule-carrying
// contenders, which route by allocation weights in both engines.
constexpr const char* kCompare =
    "name: cmp\narms: [{name: champion, mean: 0.05}, {name: challenger, mean: 0.09}]\n"
    "champion: champion\ntraffic: {requests_per_second: 10}\n"
    "environment: {novelty: {arm: challenger, to: 0.04, half_life: 10m}}\n"
    "horizon: 30000\nruns: 400\nseed: 17\n"
    "decision: {check_every: 1000, propensity_every: 100, on_decision: promote}\n"
    "policies:\n"
    "  - {name: static, label: ab, stopping: {name: sequential, params: {alpha: 0.05, mde: "
    "0.01}}}\n"
    "  - {name: thompson, label: ts, limits: {champion_floor: 0.2}, stopping: {name: sequential, "
    "params: {alpha: 0.05, mde: 0.01}}}\n"
    "  - {name: static, label: ab_cont, params: {weights: [0.7, 0.3]}, stopping: {name: "
    "fixed_horizon, params: {n_per_arm: 8000}}}\n";

// Tolerance: every compared statistic's difference between the engines
// within 4.5 standard errors of that difference (runs are independent).
TEST(BatchedEngineTest, StatisticallyTheSameAsPerStep) {
  Scenario per_step = MustParse(kCompare);
  Scenario batched = MustParse(std::string(kCompare) + "engine: batched\n");
  ASSERT_EQ(batched.engine, EngineKind::kBatched);
  auto a = RunScenario(per_step, RunOptions{2, false, ""}, Factories::Default());
  auto b = RunScenario(batched, RunOptions{2, false, ""}, Factories::Default());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  const auto ra = Summarize(*a), rb = Summarize(*b);
  const double n = 400;
  auto near_rate = [n](double x, double y, const std::string& what) {
    const double p = (x + y) / 2;
    const double se = std::sqrt(std::max(p * (1 - p), 1.0 / n) * 2 / n);
    EXPECT_NEAR(x, y, 4.5 * se) << what;
  };
  for (size_t c = 0; c < ra.size(); ++c) {
    const std::string who = ra[c].label;
    const double se_a = (ra[c].regret.hi - ra[c].regret.lo) / (2 * 1.966);
    const double se_b = (rb[c].regret.hi - rb[c].regret.lo) / (2 * 1.966);
    EXPECT_NEAR(ra[c].regret.mean, rb[c].regret.mean, 4.5 * std::hypot(se_a, se_b)) << who;
    near_rate(ra[c].decided_share, rb[c].decided_share, who + " decided");
    near_rate(ra[c].error_rate, rb[c].error_rate, who + " wrong");
    near_rate(ra[c].correct_rate, rb[c].correct_rate, who + " correct");
    near_rate(ra[c].best_arm_share, rb[c].best_arm_share, who + " best-arm share");
    // Mean decision time: the per-step engine's spread as the yardstick.
    std::vector<double> steps;
    for (const auto& r : a->contenders[c].reps) {
      if (r.decided) steps.push_back(static_cast<double>(r.decision_step));
    }
    const MeanCi t = MeanWithCi(steps);
    const double se_t = (t.hi - t.lo) / (2 * 1.966);
    EXPECT_NEAR(ra[c].time_to_decision, rb[c].time_to_decision, 4.5 * std::sqrt(2.0) * se_t)
        << who;
  }
  // The comparison has teeth: the scenario makes every contender decide, and wrongly at times.
  EXPECT_GT(ra[0].decided_share, 0.5);
  EXPECT_GT(ra[0].error_rate + ra[1].error_rate, 0.05);
}

TEST(BatchedEngineTest, IdenticalWhateverTheThreadCountAndAcrossTwins) {
  Scenario s = MustParse(std::string(kCompare) +
                         "  - {name: thompson, label: ts_twin, limits: {champion_floor: 0.2}, "
                         "stopping: {name: sequential, params: {alpha: 0.05, mde: 0.01}}}\n"
                         "engine: batched\n");
  s.runs = 12;
  auto one = RunScenario(s, RunOptions{1, false, ""}, Factories::Default());
  auto three = RunScenario(s, RunOptions{3, false, ""}, Factories::Default());
  ASSERT_TRUE(one.ok() && three.ok());
  for (size_t c = 0; c < s.contenders.size(); ++c) {
    for (size_t r = 0; r < s.runs; ++r) {
      const RepResult& x = one->contenders[c].reps[r];
      const RepResult& y = three->contenders[c].reps[r];
      EXPECT_EQ(x.regret, y.regret);
      EXPECT_EQ(x.regret_at, y.regret_at);
      EXPECT_EQ(x.best_share_at, y.best_share_at);
      EXPECT_EQ(x.decision_step, y.decision_step);
      EXPECT_EQ(x.winner, y.winner);
    }
  }
  // The same contender twice meets the same draws.
  for (size_t r = 0; r < s.runs; ++r) {
    EXPECT_EQ(one->contenders[1].reps[r].regret, one->contenders[3].reps[r].regret);
  }
}

TEST(BatchedEngineTest, FeedsEveryUnitWithItsPropensityAndSamplesEveryCheckpoint) {
  Scenario s = MustParse(
      "name: f\narms: [{mean: 0.3}, {mean: 0.6}]\nhorizon: 12345\nruns: 1\nengine: batched\n"
      "decision: {check_every: 1000, propensity_every: 70}\n"
      "policies: [{name: static, params: {weights: [0.25, 0.75]}, stopping: {name: never}}]\n");
  auto seen = std::make_shared<std::vector<double>>();
  Factories f = Factories::Default();
  f.stopping = [seen](const StoppingSpec&) -> Result<std::unique_ptr<StoppingRule>> {
    return std::unique_ptr<StoppingRule>(
        std::make_unique<testing::FakeRule>(~size_t{0}, std::nullopt, seen));
  };
  const auto cps = Checkpoints(s.horizon, 20);
  auto r = RunReplication(s, 0, 0, f, cps);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(seen->size(), 12345u);  // every unit reaches the rule
  size_t at_quarter = 0;
  for (double p : *seen) {
    ASSERT_TRUE(p == 0.25 || p == 0.75) << p;
    at_quarter += p == 0.25;
  }
  EXPECT_NEAR(at_quarter / 12345.0, 0.25, 5 * std::sqrt(0.25 * 0.75 / 12345));
  ASSERT_EQ(r->regret_at.size(), cps.size());
  EXPECT_EQ(r->best_pulls + r->worse_pulls, 12345u);
  EXPECT_NEAR(r->regret, 0.3 * static_cast<double>(r->worse_pulls), 1e-6);
  EXPECT_FALSE(r->decided);
}

}  // namespace
}  // namespace banditd::sim
