#include <gtest/gtest.h>

#include "tests/unit/policies/policy_testing.h"

namespace banditd {
namespace {

using testing::MustMake;

TEST(StaticTest, AllocationIsTheNormalisedWeights) {
  auto p = MustMake("static", 3, Params{{"weights", std::vector<double>{1.0, 3.0, 0.0}}});
  Rng rng(1);
  std::vector<double> a(3);
  p->Allocation(rng, {}, a);
  EXPECT_DOUBLE_EQ(a[0], 0.25);
  EXPECT_DOUBLE_EQ(a[1], 0.75);
  EXPECT_DOUBLE_EQ(a[2], 0.0);
  // Rewards change the estimates, never the allocation.
  for (int i = 0; i < 100; ++i) p->Update(0, 1.0, {});
  p->Allocation(rng, {}, a);
  EXPECT_DOUBLE_EQ(a[0], 0.25);
}

TEST(StaticTest, DefaultIsAnEqualSplit) {
  auto p = MustMake("static", 4);
  Rng rng(1);
  std::vector<double> a(4);
  p->Allocation(rng, {}, a);
  for (double x : a) EXPECT_DOUBLE_EQ(x, 0.25);
}

TEST(StaticTest, EstimatesAreExactCounts) {
  auto p = MustMake("static", 2);
  p->Update(1, 2.5, {});
  p->Update(1, -0.5, {});
  p->Update(0, 1.0, {});
  std::vector<ArmEstimate> e(2);
  p->Estimates(e);
  EXPECT_DOUBLE_EQ(e[0].n, 1.0);
  EXPECT_DOUBLE_EQ(e[0].mean, 1.0);
  EXPECT_DOUBLE_EQ(e[1].n, 2.0);
  EXPECT_DOUBLE_EQ(e[1].reward_sum, 2.0);
  EXPECT_DOUBLE_EQ(e[1].mean, 1.0);
  EXPECT_FALSE(p->reward_range().bounded());
}

TEST(StaticTest, ChoiceFrequenciesMatchAllocation) {
  auto p = MustMake("static", 3, Params{{"weights", std::vector<double>{0.2, 0.5, 0.3}}});
  Rng rng(17);
  testing::ExpectFrequenciesMatchAllocation(*p, rng, 100000);
}

TEST(StaticTest, SnapshotRestoreContinuesIdentically) {
  testing::ExpectRestoreContinuesIdentically(
      "static", 3, Params{{"weights", std::vector<double>{1, 1, 2}}}, {0.3, 0.5, 0.4});
  auto a = MustMake("static", 2);
  a->Update(0, 1.0, {});
  auto b = MustMake("static", 2);
  ASSERT_TRUE(b->Restore(a->Snapshot()).ok());
  EXPECT_EQ(b->Snapshot(), a->Snapshot());
}

TEST(StaticTest, BadWeightsAreRefused) {
  const std::vector<std::pair<std::vector<double>, std::string>> bad = {
      {{1.0}, "one value per arm"},
      {{1.0, -1.0}, ">= 0"},
      {{0.0, 0.0}, "not all be 0"},
      {{1.0, std::nan("")}, "finite"},
  };
  for (const auto& [w, msg] : bad) {
    auto r = MakePolicy(PolicySpec{"static", 2, 0, Params{{"weights", w}}, {}});
    ASSERT_FALSE(r.ok()) << msg;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(msg), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(MakePolicy(PolicySpec{"static", 2, 0, Params{{"weights", 1.0}}, {}}).ok());
  EXPECT_FALSE(MakePolicy(PolicySpec{"static", 2, 0, Params{{"weight", 1.0}}, {}}).ok());
}

TEST(StaticTest, WrongSnapshotsAreRefused) {
  auto p = MustMake("static", 2);
  EXPECT_FALSE(p->Restore(MustMake("static", 3)->Snapshot()).ok());
  EXPECT_FALSE(p->Restore(MustMake("thompson", 2)->Snapshot()).ok());
  EXPECT_FALSE(p->Restore("garbage").ok());
}

}  // namespace
}  // namespace banditd
