#include <gtest/gtest.h>

#include "policies/builtin.h"
#include "tests/unit/policies/policy_testing.h"

namespace banditd {
namespace {

using testing::MustMake;

TEST(LimitsTest, ProjectionRaisesTheChampionToItsFloor) {
  std::vector<double> p = {0.1, 0.6, 0.3};
  policies::ProjectOntoLimits(TrafficLimits{0, 0.5, 1.0}, p);
  EXPECT_DOUBLE_EQ(p[0], 0.5);
  EXPECT_NEAR(p[1], 0.6 * 0.5 / 0.9, 1e-15);  // challengers shrink in proportion
  EXPECT_NEAR(p[2], 0.3 * 0.5 / 0.9, 1e-15);
}

TEST(LimitsTest, ProjectionCutsChallengersToTheCeiling) {
  std::vector<double> p = {0.1, 0.7, 0.2};
  policies::ProjectOntoLimits(TrafficLimits{0, 0.0, 0.25}, p);
  EXPECT_DOUBLE_EQ(p[1], 0.25);
  EXPECT_DOUBLE_EQ(p[2], 0.2);
  EXPECT_NEAR(p[0], 0.55, 1e-15);  // the excess goes back to the champion
}

TEST(LimitsTest, ProjectionLeavesAllocationsWithinLimitsAlone) {
  std::vector<double> p = {0.7, 0.3};
  policies::ProjectOntoLimits(TrafficLimits{0, 0.5, 0.4}, p);
  EXPECT_DOUBLE_EQ(p[0], 0.7);
  EXPECT_DOUBLE_EQ(p[1], 0.3);
}

// A 50% champion floor against a much better challenger: over 100k
// choose/update rounds the reported allocation never gives the champion less
// than 50%, and its share of the choices is >= 50% within 4 standard errors.
TEST(LimitsTest, ChampionFloorHoldsAgainstAMuchBetterChallenger) {
  auto p = MustMake("thompson", 2, {}, TrafficLimits{0, 0.5, 1.0});
  ASSERT_NE(p, nullptr);
  Rng rng(17);
  const double means[] = {0.02, 0.30};
  std::vector<double> a(2);
  int champion = 0;
  constexpr int kN = 100000;
  for (int t = 0; t < kN; ++t) {
    const size_t arm = p->Choose(rng, {});
    champion += arm == 0;
    p->Update(arm, rng.Bernoulli(means[arm]) ? 1.0 : 0.0, {});
    if (t % 100 == 0) {
      p->Allocation(rng, {}, a);
      ASSERT_GE(a[0], 0.5) << "at step " << t;
    }
  }
  const double share = static_cast<double>(champion) / kN;
  EXPECT_GE(share, 0.5 - 4 * std::sqrt(0.25 / kN));
  // And the bandit did learn: without the floor the challenger would take ~all.
  EXPECT_LE(share, 0.5 + 4 * std::sqrt(0.25 / kN) + 0.01);
}

TEST(LimitsTest, ChallengerCeilingHolds) {
  auto p = MustMake("thompson", 3, {}, TrafficLimits{0, 0.0, 0.2});
  Rng rng(3);
  testing::Drive(*p, {0.1, 0.5, 0.1}, 2000, rng);
  std::vector<double> a(3);
  p->Allocation(rng, {}, a);
  EXPECT_LE(a[1], 0.2 + 1e-12);
  EXPECT_LE(a[2], 0.2 + 1e-12);
  testing::ExpectFrequenciesMatchAllocation(*p, rng, 50000);
}

TEST(LimitsTest, SnapshotRestoreContinuesIdentically) {
  testing::ExpectRestoreContinuesIdentically("thompson", 2, {}, {0.1, 0.3},
                                             TrafficLimits{0, 0.5, 1.0});
}

TEST(LimitsTest, InvalidLimitsAreRefused) {
  PolicySpec spec{"thompson", 2, 0, {}, TrafficLimits{0, 1.5, 1.0}};
  EXPECT_EQ(MakePolicy(spec).status().code(), Code::kInvalidArgument);
  spec.limits = TrafficLimits{5, 0.5, 1.0};  // no arm 5
  EXPECT_EQ(MakePolicy(spec).status().code(), Code::kInvalidArgument);
  spec.limits = TrafficLimits{0, 0.5, -0.1};
  EXPECT_EQ(MakePolicy(spec).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace banditd
