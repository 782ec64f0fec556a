#include <gtest/gtest.h>

#include "policies/beta_math.h"
#include "tests/unit/policies/policy_testing.h"

namespace banditd {
namespace {

using testing::MustMake;

// Window 3: the fourth reward pushes the first out of every count.
TEST(SlidingWindowThompsonTest, CountsCoverExactlyTheLastWindowRewards) {
  auto p = MustMake("sliding_window_thompson", 2, Params{{"window", int64_t{3}}});
  p->Update(0, 1.0, {});
  p->Update(1, 0.0, {});
  p->Update(0, 0.25, {});
  std::vector<ArmEstimate> e(2);
  p->Estimates(e);
  EXPECT_DOUBLE_EQ(e[0].n, 2.0);
  EXPECT_DOUBLE_EQ(e[0].reward_sum, 1.25);
  EXPECT_DOUBLE_EQ(e[0].mean, 2.25 / 4.0);  // Beta(1 + 1.25, 1 + 0.75)
  p->Update(1, 1.0, {});                    // evicts arm 0's reward 1.0
  p->Estimates(e);
  EXPECT_DOUBLE_EQ(e[0].n, 1.0);
  EXPECT_DOUBLE_EQ(e[0].reward_sum, 0.25);
  EXPECT_DOUBLE_EQ(e[1].n, 2.0);
  EXPECT_DOUBLE_EQ(e[1].reward_sum, 1.0);
  p->Update(1, 1.0, {});  // evicts arm 1's 0.0
  p->Update(1, 1.0, {});  // evicts arm 0's 0.25
  p->Estimates(e);
  EXPECT_DOUBLE_EQ(e[0].n, 0.0);
  EXPECT_DOUBLE_EQ(e[0].mean, 0.5);  // back to the prior
  EXPECT_DOUBLE_EQ(e[1].n, 3.0);
  EXPECT_DOUBLE_EQ(e[1].reward_sum, 3.0);
  Rng rng(1);
  std::vector<double> a(2);
  p->Allocation(rng, {}, a);
  EXPECT_DOUBLE_EQ(a[1], policies::ProbBetaGreater(1.0, 1.0, 4.0, 1.0));
}

// The means swap after 5,000 rewards; with a window of 200 the allocation
// follows within 500 more. Seeds 41-43.
TEST(SlidingWindowThompsonTest, FollowsADrift) {
  for (uint64_t seed : {41, 42, 43}) {
    SCOPED_TRACE(seed);
    auto p = MustMake("sliding_window_thompson", 2, Params{{"window", int64_t{200}}});
    Rng rng(seed);
    testing::Drive(*p, {0.8, 0.2}, 5000, rng);
    testing::Drive(*p, {0.2, 0.8}, 500, rng);
    std::vector<double> a(2);
    p->Allocation(rng, {}, a);
    EXPECT_GT(a[1], 0.8);
  }
}

TEST(SlidingWindowThompsonTest, ChoiceFrequenciesMatchAllocation) {
  auto two = MustMake("sliding_window_thompson", 2, Params{{"window", int64_t{100}}});
  Rng rng(51);
  testing::Drive(*two, {0.5, 0.55}, 300, rng);
  testing::ExpectFrequenciesMatchAllocation(*two, rng, 100000);  // closed form
  auto four = MustMake("sliding_window_thompson", 4,
                       Params{{"window", int64_t{100}}, {"allocation_draws", int64_t{400000}}});
  testing::Drive(*four, {0.5, 0.55, 0.45, 0.5}, 300, rng);
  testing::ExpectFrequenciesMatchAllocation(*four, rng, 100000, 4.5);  // Monte Carlo
}

TEST(SlidingWindowThompsonTest, SnapshotRestoreContinuesIdentically) {
  // The window (100) fills during the 500 warm-up rewards, so the restored
  // ring starts mid-rotation; 1,000 would restore a window still filling.
  testing::ExpectRestoreContinuesIdentically("sliding_window_thompson", 3,
                                             Params{{"window", int64_t{100}}}, {0.3, 0.5, 0.4});
  testing::ExpectRestoreContinuesIdentically("sliding_window_thompson", 3, {}, {0.3, 0.5, 0.4});
}

TEST(SlidingWindowThompsonTest, BadParametersAreRefused) {
  const std::vector<std::pair<Params, std::string>> bad = {
      {Params{{"window", int64_t{0}}}, "window must be in [1"},
      {Params{{"window", int64_t{2'000'000}}}, "window must be in [1"},
      {Params{{"window", 10.5}}, "window"},
      {Params{{"prior_alpha", -1.0}}, "prior_alpha must be in (0"},
      {Params{{"gamma", 0.9}}, "unknown parameter 'gamma'"},
  };
  for (const auto& [params, msg] : bad) {
    auto r = MakePolicy(PolicySpec{"sliding_window_thompson", 2, 0, params, {}});
    ASSERT_FALSE(r.ok()) << msg;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(msg), std::string::npos) << r.status().message();
  }
}

TEST(SlidingWindowThompsonTest, WrongSnapshotsAreRefusedAndChangeNothing) {
  auto big = MustMake("sliding_window_thompson", 2, Params{{"window", int64_t{50}}});
  for (int i = 0; i < 40; ++i) big->Update(i % 2, 1.0, {});
  auto p = MustMake("sliding_window_thompson", 2, Params{{"window", int64_t{10}}});
  p->Update(1, 1.0, {});
  const std::string before = p->Snapshot();
  Status s = p->Restore(big->Snapshot());  // 40 rewards do not fit a window of 10
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("window of 10"), std::string::npos) << s.message();
  EXPECT_FALSE(p->Restore(MustMake("discounted_thompson", 2)->Snapshot()).ok());
  EXPECT_FALSE(p->Restore(MustMake("sliding_window_thompson", 3)->Snapshot()).ok());
  EXPECT_EQ(p->Snapshot(), before);
}

}  // namespace
}  // namespace banditd
