#include <algorithm>

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

// The cached projected allocation is recomputed on the documented schedule:
// after each of the first 10 updates, then when the updates since the last
// refresh reach 10% of all updates, at least every 1,000. A deterministic
// inner policy (UCB1, whose allocation changes as it learns) shows exactly
// when: the wrapper reports the projection of the inner allocation as of the
// last refresh. 20,000 updates cross the 1,000 cap at 10,000.
TEST(LimitsTest, RefreshFollowsTheSchedule) {
  const TrafficLimits limits{0, 0.0, 0.9};
  auto wrapped = MustMake("ucb1", 3, {}, limits);
  auto inner = MustMake("ucb1", 3);
  Rng rng(8), rewards(9);
  std::vector<double> expected(3), got(3);
  uint64_t since = 0;
  int refreshes = 0;
  for (uint64_t u = 1; u <= 20000; ++u) {
    const size_t arm = inner->Choose(rng, {});
    const double r = rewards.Bernoulli(0.1 + 0.1 * static_cast<double>(arm)) ? 1.0 : 0.0;
    inner->Update(arm, r, {});
    wrapped->Update(arm, r, {});
    ++since;
    if (since >= std::clamp<uint64_t>(u / 10, 1, 1000)) {
      inner->Allocation(rng, {}, expected);
      policies::ProjectOntoLimits(limits, expected);
      since = 0;
      ++refreshes;
    }
    wrapped->Allocation(rng, {}, got);
    ASSERT_EQ(got, expected) << "after update " << u;
  }
  EXPECT_LT(refreshes, 120);  // 10 + ~63 on the 10% schedule + 10 capped
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
