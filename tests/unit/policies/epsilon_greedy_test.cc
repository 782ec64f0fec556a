#include <gtest/gtest.h>

#include "tests/unit/policies/policy_testing.h"

namespace banditd {
namespace {

using testing::MustMake;

TEST(EpsilonGreedyTest, TriesUntriedArmsThenTheBestMean) {
  auto p = MustMake("epsilon_greedy", 3, Params{{"epsilon", 0.0}});
  Rng rng(1);
  EXPECT_EQ(p->Choose(rng, {}), 0u);
  p->Update(0, 0.5, {});
  EXPECT_EQ(p->Choose(rng, {}), 1u);
  p->Update(1, 2.0, {});
  EXPECT_EQ(p->Choose(rng, {}), 2u);
  p->Update(2, 1.0, {});
  EXPECT_EQ(p->Choose(rng, {}), 1u);  // means 0.5, 2.0, 1.0
  p->Update(1, -3.0, {});             // arm 1: mean -0.5
  EXPECT_EQ(p->Choose(rng, {}), 2u);
  p->Update(0, 1.5, {});  // arm 0: mean 1.0 ties arm 2: lowest index wins
  EXPECT_EQ(p->Choose(rng, {}), 0u);
  std::vector<ArmEstimate> e(3);
  p->Estimates(e);
  EXPECT_DOUBLE_EQ(e[0].n, 2.0);
  EXPECT_DOUBLE_EQ(e[0].mean, 1.0);
  EXPECT_DOUBLE_EQ(e[1].reward_sum, -1.0);
}

TEST(EpsilonGreedyTest, FixedAllocationIsExact) {
  auto p = MustMake("epsilon_greedy", 4, Params{{"epsilon", 0.2}});
  for (size_t k = 0; k < 4; ++k) p->Update(k, k == 2 ? 1.0 : 0.0, {});
  Rng rng(1);
  std::vector<double> a(4);
  p->Allocation(rng, {}, a);
  EXPECT_DOUBLE_EQ(a[0], 0.05);
  EXPECT_DOUBLE_EQ(a[2], 0.05 + 0.8);
  EXPECT_DOUBLE_EQ(a[3], 0.05);
}

// ε_t = min(1, c K / (d² t)), t = rewards + 1; defaults c = 0.15, d = 0.1.
TEST(EpsilonGreedyTest, DecayingScheduleFollowsAuerEtAl) {
  auto p = MustMake("epsilon_greedy", 2, Params{{"schedule", std::string("decaying")}});
  Rng rng(1);
  std::vector<double> a(2);
  p->Allocation(rng, {}, a);
  EXPECT_DOUBLE_EQ(a[0], 0.5);  // ε = 1 at first: uniform
  for (int i = 0; i < 59; ++i) p->Update(1, 1.0, {});
  p->Update(0, 0.0, {});  // 60 rewards: t = 61, ε = 30 / 61
  p->Allocation(rng, {}, a);
  const double eps = 0.15 * 2 / (0.01 * 61);
  EXPECT_DOUBLE_EQ(a[0], eps / 2);
  EXPECT_DOUBLE_EQ(a[1], eps / 2 + 1 - eps);
}

TEST(EpsilonGreedyTest, ChoiceFrequenciesMatchAllocation) {
  auto p = MustMake("epsilon_greedy", 3, Params{{"epsilon", 0.3}});
  p->Update(0, 0.1, {});
  p->Update(1, 0.9, {});
  p->Update(2, 0.5, {});
  Rng rng(99);
  testing::ExpectFrequenciesMatchAllocation(*p, rng, 100000);
  auto d = MustMake("epsilon_greedy", 3,
                    Params{{"schedule", std::string("decaying")}, {"c", 0.5}, {"d", 0.5}});
  for (int i = 0; i < 30; ++i) d->Update(i % 3, i % 3 == 2 ? 1.0 : 0.0, {});
  testing::ExpectFrequenciesMatchAllocation(*d, rng, 100000);
}

TEST(EpsilonGreedyTest, SnapshotRestoreContinuesIdentically) {
  testing::ExpectRestoreContinuesIdentically("epsilon_greedy", 3, {}, {0.3, 0.5, 0.4});
  testing::ExpectRestoreContinuesIdentically(
      "epsilon_greedy", 3, Params{{"schedule", std::string("decaying")}}, {0.3, 0.5, 0.4});
}

TEST(EpsilonGreedyTest, BadParametersAreRefused) {
  const std::vector<std::pair<Params, std::string>> bad = {
      {Params{{"epsilon", -0.1}}, "epsilon must be in [0"},
      {Params{{"epsilon", 1.5}}, "epsilon must be in [0"},
      {Params{{"epsilon", std::nan("")}}, "epsilon"},
      {Params{{"schedule", std::string("sometimes")}}, "schedule"},
      {Params{{"schedule", std::string("decaying")}, {"c", 0.0}}, "c must be in (0"},
      {Params{{"schedule", std::string("decaying")}, {"d", 1.5}}, "d must be in (0"},
      {Params{{"schedule", std::string("decaying")}, {"epsilon", 0.1}}, "'fixed'"},
      {Params{{"c", 1.0}}, "'decaying'"},
  };
  for (const auto& [params, msg] : bad) {
    auto r = MakePolicy(PolicySpec{"epsilon_greedy", 2, 0, params, {}});
    ASSERT_FALSE(r.ok()) << msg;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(msg), std::string::npos) << r.status().message();
  }
}

TEST(EpsilonGreedyTest, WrongSnapshotsAreRefusedAndChangeNothing) {
  auto p = MustMake("epsilon_greedy", 2);
  p->Update(0, 1.0, {});
  const std::string before = p->Snapshot();
  EXPECT_FALSE(p->Restore(MustMake("epsilon_greedy", 3)->Snapshot()).ok());
  EXPECT_FALSE(p->Restore(MustMake("static", 2)->Snapshot()).ok());
  EXPECT_FALSE(p->Restore(before.substr(0, before.size() / 2)).ok());
  EXPECT_EQ(p->Snapshot(), before);
}

}  // namespace
}  // namespace banditd
