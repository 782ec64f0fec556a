#include <gtest/gtest.h>

#include "policies/beta_math.h"
#include "tests/unit/policies/policy_testing.h"

namespace banditd {
namespace {

using testing::MustMake;

// γ = 0.5: every reward halves all counts, then adds r / 1 − r to its arm.
TEST(DiscountedThompsonTest, DiscountedUpdatesAreExact) {
  auto p = MustMake("discounted_thompson", 2, Params{{"gamma", 0.5}});
  p->Update(0, 1.0, {});   // S = (1, 0),      F = (0, 0)
  p->Update(1, 0.0, {});   // S = (0.5, 0),    F = (0, 1)
  p->Update(0, 0.75, {});  // S = (1, 0),      F = (0.25, 0.5)
  std::vector<ArmEstimate> e(2);
  p->Estimates(e);
  EXPECT_DOUBLE_EQ(e[0].reward_sum, 1.0);
  EXPECT_DOUBLE_EQ(e[0].n, 1.25);
  EXPECT_DOUBLE_EQ(e[0].mean, 2.0 / 3.25);  // Beta(1 + 1, 1 + 0.25)
  EXPECT_DOUBLE_EQ(e[1].reward_sum, 0.0);
  EXPECT_DOUBLE_EQ(e[1].n, 0.5);
  EXPECT_DOUBLE_EQ(e[1].mean, 1.0 / 2.5);  // Beta(1, 1 + 0.5)
  Rng rng(1);
  std::vector<double> a(2);
  p->Allocation(rng, {}, a);
  EXPECT_DOUBLE_EQ(a[1], policies::ProbBetaGreater(2.0, 1.25, 1.0, 1.5));
}

TEST(DiscountedThompsonTest, GammaOneIsPlainThompson) {
  auto d = MustMake("discounted_thompson", 3, Params{{"gamma", 1.0}});
  auto t = MustMake("thompson", 3);
  Rng rd(3), rt(3), rewards_d(4), rewards_t(4);
  const double means[] = {0.2, 0.4, 0.3};
  for (int i = 0; i < 5000; ++i) {
    const size_t a = d->Choose(rd, {});
    ASSERT_EQ(a, t->Choose(rt, {}));
    d->Update(a, rewards_d.Bernoulli(means[a]) ? 1.0 : 0.0, {});
    t->Update(a, rewards_t.Bernoulli(means[a]) ? 1.0 : 0.0, {});
  }
}

// The means swap after 5,000 rewards: with γ = 0.99 (memory ~100 rewards)
// the allocation follows within 500 more; plain Thompson, remembering
// everything, still favours the old best arm.
TEST(DiscountedThompsonTest, FollowsADrift) {
  for (const char* name : {"discounted_thompson", "thompson"}) {
    SCOPED_TRACE(name);
    const bool discounted = std::string(name) == "discounted_thompson";
    auto p = MustMake(name, 2, discounted ? Params{{"gamma", 0.99}} : Params{});
    Rng rng(21);
    testing::Drive(*p, {0.8, 0.2}, 5000, rng);
    std::vector<double> a(2);
    p->Allocation(rng, {}, a);
    EXPECT_GT(a[0], 0.95);
    testing::Drive(*p, {0.2, 0.8}, 500, rng);
    p->Allocation(rng, {}, a);
    if (discounted) {
      EXPECT_GT(a[1], 0.95);
    } else {
      EXPECT_LT(a[1], 0.5);
    }
  }
}

TEST(DiscountedThompsonTest, ChoiceFrequenciesMatchAllocation) {
  auto two = MustMake("discounted_thompson", 2, Params{{"gamma", 0.95}});
  Rng rng(31);
  testing::Drive(*two, {0.5, 0.55}, 300, rng);
  testing::ExpectFrequenciesMatchAllocation(*two, rng, 100000);  // closed form
  auto four = MustMake("discounted_thompson", 4,
                       Params{{"gamma", 0.95}, {"allocation_draws", int64_t{400000}}});
  testing::Drive(*four, {0.5, 0.55, 0.45, 0.5}, 300, rng);
  testing::ExpectFrequenciesMatchAllocation(*four, rng, 100000, 4.5);  // Monte Carlo, as Thompson's
}

TEST(DiscountedThompsonTest, SnapshotRestoreContinuesIdentically) {
  testing::ExpectRestoreContinuesIdentically("discounted_thompson", 3, Params{{"gamma", 0.98}},
                                             {0.3, 0.5, 0.4});
}

TEST(DiscountedThompsonTest, BadParametersAreRefused) {
  const std::vector<std::pair<Params, std::string>> bad = {
      {Params{{"gamma", 0.0}}, "gamma must be in (0"},
      {Params{{"gamma", 1.01}}, "gamma must be in (0"},
      {Params{{"prior_alpha", -1.0}}, "prior_alpha must be in (0"},
      {Params{{"prior_beta", 0.0}}, "prior_beta must be in (0"},
      {Params{{"window", int64_t{10}}}, "unknown parameter 'window'"},
  };
  for (const auto& [params, msg] : bad) {
    auto r = MakePolicy(PolicySpec{"discounted_thompson", 2, 0, params, {}});
    ASSERT_FALSE(r.ok()) << msg;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(msg), std::string::npos) << r.status().message();
  }
}

TEST(DiscountedThompsonTest, WrongSnapshotsAreRefusedAndChangeNothing) {
  auto p = MustMake("discounted_thompson", 2);
  p->Update(1, 1.0, {});
  const std::string before = p->Snapshot();
  EXPECT_FALSE(p->Restore(MustMake("thompson", 2)->Snapshot()).ok());
  EXPECT_FALSE(p->Restore(MustMake("discounted_thompson", 4)->Snapshot()).ok());
  EXPECT_EQ(p->Snapshot(), before);
}

}  // namespace
}  // namespace banditd
