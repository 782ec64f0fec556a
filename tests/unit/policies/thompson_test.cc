#include <cmath>

#include <gtest/gtest.h>

#include "tests/unit/policies/policy_testing.h"

namespace banditd {
namespace {

using testing::MustMake;

TEST(ThompsonTest, PosteriorUpdatesAreExact) {
  auto p = MustMake("thompson", 3, Params{{"prior_alpha", 2.0}, {"prior_beta", 3.0}});
  p->Update(0, 1.0, {});
  p->Update(0, 1.0, {});
  p->Update(0, 0.0, {});
  p->Update(2, 0.25, {});  // fractional rewards split between alpha and beta
  std::vector<ArmEstimate> e(3);
  p->Estimates(e);
  EXPECT_DOUBLE_EQ(e[0].n, 3.0);
  EXPECT_DOUBLE_EQ(e[0].reward_sum, 2.0);
  EXPECT_DOUBLE_EQ(e[0].mean, 4.0 / 8.0);  // Beta(2+2, 3+1)
  EXPECT_DOUBLE_EQ(e[1].n, 0.0);
  EXPECT_DOUBLE_EQ(e[1].mean, 2.0 / 5.0);  // the prior mean
  EXPECT_DOUBLE_EQ(e[2].mean, 2.25 / 6.0);
}

TEST(ThompsonTest, WarmStartAddsCountsToThePrior) {
  auto p = MustMake("thompson", 2,
                    Params{{"warm_successes", std::vector<double>{50, 0}},
                           {"warm_failures", std::vector<double>{950, 0}}});
  std::vector<ArmEstimate> e(2);
  p->Estimates(e);
  EXPECT_DOUBLE_EQ(e[0].n, 1000.0);
  EXPECT_DOUBLE_EQ(e[0].mean, 51.0 / 1002.0);
}

TEST(ThompsonTest, TwoArmAllocationIsTheClosedFormProbabilityOfBeingBest) {
  auto p = MustMake("thompson", 2);
  // Arm 0: Beta(1+1, 1+0) (one success); arm 1: the uniform prior.
  p->Update(0, 1.0, {});
  Rng rng(1);
  std::vector<double> a(2);
  p->Allocation(rng, {}, a);
  // P(U > X), X ~ Beta(2,1) with density 2x: integral of 2x(1-x) = 1/3.
  EXPECT_NEAR(a[1], 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(a[0] + a[1], 1.0, 1e-15);
}

// Two arms: choice frequencies within 4 standard errors of the closed form over 100k draws.
TEST(ThompsonTest, ChoiceFrequenciesMatchAllocationTwoArms) {
  auto p = MustMake("thompson", 2);
  for (int i = 0; i < 30; ++i) p->Update(0, i % 3 == 0 ? 1.0 : 0.0, {});
  for (int i = 0; i < 40; ++i) p->Update(1, i % 2 == 0 ? 1.0 : 0.0, {});
  Rng rng(2024);
  testing::ExpectFrequenciesMatchAllocation(*p, rng, 100000);
}

// More arms: the allocation is Monte Carlo (20k draws, se <= 0.0036), so the
// tolerance adds that error to the sampling error of the 100k choices.
TEST(ThompsonTest, ChoiceFrequenciesMatchAllocationFourArms) {
  auto p = MustMake("thompson", 4, Params{{"allocation_draws", int64_t{400000}}});
  const double rates[] = {0.2, 0.25, 0.3, 0.22};
  for (int k = 0; k < 4; ++k) {
    for (int i = 0; i < 100; ++i) p->Update(k, i < rates[k] * 100 ? 1.0 : 0.0, {});
  }
  Rng rng(7);
  testing::ExpectFrequenciesMatchAllocation(*p, rng, 100000, 4.5);
}

TEST(ThompsonTest, LearnsTheBetterArm) {
  auto p = MustMake("thompson", 3);
  Rng rng(5);
  testing::Drive(*p, {0.05, 0.10, 0.05}, 20000, rng);
  std::vector<double> a(3);
  p->Allocation(rng, {}, a);
  EXPECT_GT(a[1], 0.95);
}

TEST(ThompsonTest, SnapshotRestoreContinuesIdentically) {
  testing::ExpectRestoreContinuesIdentically("thompson", 3, {}, {0.3, 0.5, 0.4});
}

TEST(ThompsonTest, BadParametersAreRefused) {
  PolicySpec spec{"thompson", 2, 0, Params{{"prior_alpha", -1.0}}, {}};
  auto r = MakePolicy(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("prior_alpha"), std::string::npos);

  spec.params = Params{{"warm_successes", std::vector<double>{1.0}}};  // wrong length
  EXPECT_FALSE(MakePolicy(spec).ok());
  spec.params = Params{{"prior_alhpa", 1.0}};  // typo: unknown key
  EXPECT_FALSE(MakePolicy(spec).ok());
}

TEST(ThompsonTest, WrongSnapshotsAreRefusedAndChangeNothing) {
  auto p = MustMake("thompson", 2);
  p->Update(0, 1.0, {});
  const std::string before = p->Snapshot();
  auto three = MustMake("thompson", 3);
  Status s = p->Restore(three->Snapshot());  // arm count differs
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("arms"), std::string::npos);
  EXPECT_FALSE(p->Restore("\xc1 not msgpack").ok());
  EXPECT_FALSE(p->Restore("").ok());
  EXPECT_EQ(p->Snapshot(), before);
}

}  // namespace
}  // namespace banditd
