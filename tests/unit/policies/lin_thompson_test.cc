// Linear Thompson sampling.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "contextual_testing.h"

namespace banditd {
namespace {

using testing::MustMakeContextual;

TEST(LinThompsonTest, ContextDimZeroAndBadParamsAreRefused) {
  auto zero = MakePolicy(PolicySpec{"lin_thompson", 2, 0, {}, {}});
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().code(), Code::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("context_dim"), std::string::npos)
      << zero.status().ToString();
  for (const char* bad : {"v", "lambda"}) {
    for (double value : {0.0, -1.0}) {
      Params p;
      p.Set(bad, value);
      auto r = MakePolicy(PolicySpec{"lin_thompson", 2, 3, p, {}});
      ASSERT_FALSE(r.ok()) << bad;
      EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().ToString();
    }
  }
  Params few_draws;
  few_draws.Set("allocation_draws", int64_t{10});
  EXPECT_FALSE(MakePolicy(PolicySpec{"lin_thompson", 3, 3, few_draws, {}}).ok());
  Params unknown;
  unknown.Set("alpha", 1.0);
  EXPECT_FALSE(MakePolicy(PolicySpec{"lin_thompson", 2, 3, unknown, {}}).ok());
}

// Two arms: the exact allocation Phi((m1 - m0) / sqrt(s0^2 + s1^2)), checked
// by hand on a fresh policy and against choice frequencies after learning.
TEST(LinThompsonTest, TwoArmAllocationIsExactAndMatchesChoices) {
  Params params;
  params.Set("v", 1.0);
  auto p = MustMakeContextual("lin_thompson", 2, 2, params);
  ASSERT_NE(p, nullptr);
  const std::vector<double> x = {1.0, 1.0};
  // Arm 1 sees reward 3 at x: A_1 = I + x x^T, x^T A_1^-1 x = 2/3, m1 = 3 * 2/3 = 2;
  // arm 0 is fresh: m0 = 0, s0^2 = 2. P(arm 1) = Phi(2 / sqrt(2 + 2/3)).
  p->Update(1, 3.0, x);
  Rng rng(8);
  std::vector<double> alloc(2);
  p->Allocation(rng, x, alloc);
  const double z = 2.0 / std::sqrt(2.0 + 2.0 / 3.0);
  EXPECT_NEAR(alloc[1], 0.5 * std::erfc(-z / std::sqrt(2.0)), 1e-12);
  EXPECT_NEAR(alloc[0] + alloc[1], 1.0, 1e-15);
  const int draws = 40000;
  int ones = 0;
  for (int i = 0; i < draws; ++i) ones += p->Choose(rng, x) == 1 ? 1 : 0;
  const double se = std::sqrt(alloc[1] * (1 - alloc[1]) / draws);
  EXPECT_NEAR(static_cast<double>(ones) / draws, alloc[1], 4 * se);
}

// Three arms: Monte Carlo allocation (20,000 draws, s.e. <= 0.0036) against
// 40,000 choices (s.e. <= 0.0025): within 4 combined standard errors.
TEST(LinThompsonTest, ThreeArmMonteCarloAllocationMatchesChoices) {
  auto p = MustMakeContextual("lin_thompson", 3, 2);
  ASSERT_NE(p, nullptr);
  const std::vector<double> x = {1.0, 0.5};
  p->Update(0, 0.5, x);
  p->Update(1, 0.7, x);
  p->Update(2, 0.6, x);
  Rng rng(9);
  std::vector<double> alloc(3);
  p->Allocation(rng, x, alloc);
  EXPECT_NEAR(alloc[0] + alloc[1] + alloc[2], 1.0, 1e-12);
  const int draws = 40000;
  std::vector<int> hits(3, 0);
  for (int i = 0; i < draws; ++i) ++hits[p->Choose(rng, x)];
  for (size_t k = 0; k < 3; ++k) {
    const double var = alloc[k] * (1 - alloc[k]);
    const double se = std::sqrt(var / draws + var / 20000);
    EXPECT_NEAR(static_cast<double>(hits[k]) / draws, alloc[k], 4 * se) << k;
    EXPECT_GT(alloc[k], 0.05) << k;  // the test is not vacuous
  }
}

TEST(LinThompsonTest, EstimatesCountRewards) {
  auto p = MustMakeContextual("lin_thompson", 2, 3);
  ASSERT_NE(p, nullptr);
  const std::vector<double> x = {1.0, 0.0, 2.0};
  p->Update(1, 0.5, x);
  p->Update(1, -1.5, x);
  std::vector<ArmEstimate> est(2);
  p->Estimates(est);
  EXPECT_EQ(est[0].n, 0.0);
  EXPECT_EQ(est[1].n, 2.0);
  EXPECT_EQ(est[1].reward_sum, -1.0);
  EXPECT_EQ(est[1].mean, -0.5);
  EXPECT_TRUE(p->reward_range().Contains(-1.5));
  EXPECT_FALSE(p->reward_range().Contains(NAN));
}

TEST(LinThompsonTest, LearnsTheArmThatIsBestInEachContext) {
  auto p = MustMakeContextual("lin_thompson", 2, testing::FlipEnvironment::kDim);
  ASSERT_NE(p, nullptr);
  const double share = testing::CorrectShareAtEnd(*p, 5000, 1000, 22);
  EXPECT_GT(share, 0.9);
}

TEST(LinThompsonTest, RestoreContinuesIdentically) {
  testing::ExpectContextualRestoreContinuesIdentically("lin_thompson", {});
}

TEST(LinThompsonTest, SnapshotRefusals) {
  testing::ExpectContextualSnapshotRefusals("lin_thompson", "linucb");
}

}  // namespace
}  // namespace banditd
