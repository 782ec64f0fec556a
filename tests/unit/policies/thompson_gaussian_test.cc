#include <cmath>

#include <gtest/gtest.h>

#include "policies/normal_gamma.h"
#include "tests/unit/policies/policy_testing.h"

namespace banditd {
namespace {

using policies::NormalGamma;
using testing::MustMake;

// Rewards 1, 2, 4 under the prior (mu0, kappa0, alpha0, beta0) = (1, 2, 3, 4):
// n = 3, mean 7/3, m2 = 42/9; κn = 5, μn = (2 + 7) / 5 = 1.8, αn = 4.5,
// βn = 4 + 7/3 + 2·3·(4/3)² / 10 = 7.4 (Murphy 2007, eqs. 85-89, by hand).
TEST(ThompsonGaussianTest, PosteriorUpdatesAreExact) {
  const NormalGamma post = policies::Posterior({1, 2, 3, 4}, 3, 7.0 / 3.0, 42.0 / 9.0);
  EXPECT_NEAR(post.kappa, 5.0, 1e-15);
  EXPECT_NEAR(post.mu, 1.8, 1e-15);
  EXPECT_NEAR(post.alpha, 4.5, 1e-15);
  EXPECT_NEAR(post.beta, 7.4, 1e-14);

  auto p = MustMake("thompson_gaussian", 2,
                    Params{{"mu0", 1.0}, {"kappa0", 2.0}, {"alpha0", 3.0}, {"beta0", 4.0}});
  for (double r : {1.0, 2.0, 4.0}) p->Update(0, r, {});
  std::vector<ArmEstimate> e(2);
  p->Estimates(e);
  EXPECT_DOUBLE_EQ(e[0].n, 3.0);
  EXPECT_NEAR(e[0].reward_sum, 7.0, 1e-14);
  EXPECT_NEAR(e[0].mean, 1.8, 1e-14);  // posterior mean, not the sample mean
  EXPECT_DOUBLE_EQ(e[1].n, 0.0);
  EXPECT_DOUBLE_EQ(e[1].mean, 1.0);  // the prior mean
  EXPECT_FALSE(p->reward_range().bounded());
}

// A joint draw (τ, then μ | τ) has the Student-t marginal of the mean:
// 2αn degrees of freedom, location μn, variance βn / (κn (αn − 1)).
// Mean and variance of 200k draws (seed 8) within 5 standard errors.
TEST(ThompsonGaussianTest, SampledMeansFollowTheStudentTMarginal) {
  const NormalGamma post{1.8, 5.0, 4.5, 7.4};
  const double var = post.beta / (post.kappa * (post.alpha - 1));
  const double nu = 2 * post.alpha;
  const double excess_kurtosis = 6.0 / (nu - 4.0);
  Rng rng(8);
  constexpr int kN = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < kN; ++i) {
    const double x = post.SampleMean(rng) - post.mu;
    s += x;
    s2 += x * x;
  }
  EXPECT_NEAR(s / kN, 0.0, 5 * std::sqrt(var / kN));
  EXPECT_NEAR(s2 / kN, var, 5 * var * std::sqrt((2.0 + excess_kurtosis) / kN));
}

TEST(ThompsonGaussianTest, LearnsTheBetterArmWithUnknownVariance) {
  auto p = MustMake("thompson_gaussian", 3);
  Rng rng(4);
  const double means[] = {1.0, 1.3, 0.9};
  const double sds[] = {2.0, 2.0, 0.5};
  for (int t = 0; t < 5000; ++t) {
    const size_t arm = p->Choose(rng, {});
    p->Update(arm, rng.Normal(means[arm], sds[arm]), {});
  }
  std::vector<double> a(3);
  p->Allocation(rng, {}, a);
  EXPECT_GT(a[1], 0.9);
}

// Two arms: the allocation is computed (quadrature over the t laws, or
// a law's normal limit from 200 degrees of freedom on), and Choose samples the
// same laws: 400k choices agree within 4 standard errors (se <= 0.0008) —
// with no data, with a handful of rewards (df 2 to 8: heavy tails), with
// unequal spreads, with thousands of rewards (the normal limit), and with
// one arm starved beside one with thousands (a t law against a normal), and
// where the spreads are tiny against the means or far apart from each other.
TEST(ThompsonGaussianTest, TwoArmAllocationIsTheChoiceProbability) {
  struct Case {
    int n0, n1;
    double mu0, mu1, sd0, sd1;
  };
  const Case cases[] = {{0, 0, 0, 0, 1, 1},       {3, 2, 0.0, 0.4, 1, 1},
                        {5, 40, 1.0, 1.2, 3, 0.5}, {200, 30, 0.5, 0.45, 1, 2},
                        {3000, 2500, 1.0, 1.02, 1, 1}, {3000, 12, 1.0, 1.3, 1, 1},
                        {15, 4000, 0.6, 0.55, 2, 1},
                        // Spreads small against the means, far from 0:
                        {50, 50, 10, 10.001, 0.01, 0.01}, {50, 50, 1e9, 1e9 + 1e5, 1e6, 1e6},
                        {400, 300, 1e5, 1e5 + 0.5, 10, 10}, {250, 30, 1e6, 1e6 + 50, 10, 1000},
                        // A starved arm with a huge spread beside a tight one.
                        {4, 682, 0, 0.001, 1e12, 0.01}};
  for (const Case& c : cases) {
    auto p = MustMake("thompson_gaussian", 2);
    Rng data(17);
    for (int i = 0; i < c.n0; ++i) p->Update(0, data.Normal(c.mu0, c.sd0), {});
    for (int i = 0; i < c.n1; ++i) p->Update(1, data.Normal(c.mu1, c.sd1), {});
    Rng rng(5);
    std::vector<double> a(2);
    p->Allocation(rng, {}, a);
    EXPECT_NEAR(a[0] + a[1], 1.0, 1e-12);
    EXPECT_GT(a[1], 0.0);
    EXPECT_LT(a[1], 1.0);
    SCOPED_TRACE("n " + std::to_string(c.n0) + "/" + std::to_string(c.n1));
    testing::ExpectFrequenciesMatchAllocation(*p, rng, 400000, 4.0);
  }
}

// The allocation is Monte Carlo (400k draws here, se <= 0.0008), so the
// tolerance is 4.5 sampling standard errors of the 100k choices: 4 standard
// errors of the difference of the two estimates.
TEST(ThompsonGaussianTest, ChoiceFrequenciesMatchAllocation) {
  auto p = MustMake("thompson_gaussian", 3, Params{{"allocation_draws", int64_t{400000}}});
  const double rewards[3][4] = {{1.0, 0.5, 1.5, 1.1}, {1.2, 0.9, 1.4, 0.8}, {0.2, 2.0, 1.0, 0.1}};
  for (size_t k = 0; k < 3; ++k) {
    for (double r : rewards[k]) p->Update(k, r, {});
  }
  Rng rng(12);
  testing::ExpectFrequenciesMatchAllocation(*p, rng, 100000, 4.5);
}

TEST(ThompsonGaussianTest, SnapshotRestoreContinuesIdentically) {
  testing::ExpectRestoreContinuesIdentically("thompson_gaussian", 3, {}, {0.3, 0.5, 0.4});
}

TEST(ThompsonGaussianTest, BadParametersAreRefused) {
  const std::vector<std::pair<Params, std::string>> bad = {
      {Params{{"kappa0", -1.0}}, "kappa0 must be in (0"},
      {Params{{"alpha0", 0.0}}, "alpha0 must be in (0"},
      {Params{{"beta0", -2.0}}, "beta0 must be in (0"},
      {Params{{"mu0", std::nan("")}}, "mu0"},
      {Params{{"allocation_draws", int64_t{5}}}, "allocation_draws"},
      {Params{{"prior_alpha", 1.0}}, "unknown parameter 'prior_alpha'"},
  };
  for (const auto& [params, msg] : bad) {
    auto r = MakePolicy(PolicySpec{"thompson_gaussian", 2, 0, params, {}});
    ASSERT_FALSE(r.ok()) << msg;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(msg), std::string::npos) << r.status().message();
  }
}

TEST(ThompsonGaussianTest, WrongSnapshotsAreRefusedAndChangeNothing) {
  auto p = MustMake("thompson_gaussian", 2);
  p->Update(0, 3.0, {});
  const std::string before = p->Snapshot();
  EXPECT_FALSE(p->Restore(MustMake("thompson", 2)->Snapshot()).ok());
  EXPECT_FALSE(p->Restore(MustMake("thompson_gaussian", 3)->Snapshot()).ok());
  EXPECT_FALSE(p->Restore("\x81\xa1x\x01").ok());
  EXPECT_EQ(p->Snapshot(), before);
}

}  // namespace
}  // namespace banditd
