#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "banditd/policy.h"

namespace banditd {
namespace {

TEST(RegistryTest, UnknownPolicyNamesTheKnownOnes) {
  auto r = MakePolicy(PolicySpec{"thompsen", 2, 0, {}, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("thompsen"), std::string::npos);
  EXPECT_NE(r.status().message().find("thompson"), std::string::npos);
}

TEST(RegistryTest, EmptyArmListIsRefused) {
  for (auto name : PolicyNames()) {
    auto r = MakePolicy(PolicySpec{std::string(name), 0, 0, {}, {}});
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.status().message().find("empty arm list"), std::string::npos);
  }
}

// Every registered policy builds with its defaults, reports a valid
// allocation, and refuses a snapshot of another policy.
TEST(RegistryTest, EveryPolicyHonoursTheInterface) {
  for (auto name : PolicyNames()) {
    SCOPED_TRACE(std::string(name));
    auto r = MakePolicy(PolicySpec{std::string(name), 3, 0, {}, {}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto& p = **r;
    EXPECT_EQ(p.name(), name);
    EXPECT_EQ(p.num_arms(), 3u);
    Rng rng(1);
    for (int i = 0; i < 50; ++i) {
      const size_t arm = p.Choose(rng, {});
      ASSERT_LT(arm, 3u);
      p.Update(arm, i % 2, {});
    }
    std::vector<double> a(3);
    p.Allocation(rng, {}, a);
    double sum = 0;
    for (double x : a) {
      EXPECT_GE(x, 0.0);
      sum += x;
    }
    EXPECT_NEAR(sum, 1.0, 1e-9);
    for (auto other : PolicyNames()) {
      if (other == name) continue;
      auto o = MakePolicy(PolicySpec{std::string(other), 3, 0, {}, {}});
      ASSERT_TRUE(o.ok());
      Status s = p.Restore((*o)->Snapshot());
      EXPECT_FALSE(s.ok()) << "accepted a snapshot of " << other;
    }
  }
}

// The reward domain each policy declares (docs/policies.md), also through
// the traffic-limits wrapper.
TEST(RegistryTest, RewardRangesMatchTheDocumentedDomains) {
  for (auto name : PolicyNames()) {
    SCOPED_TRACE(std::string(name));
    const std::string n(name);
    const bool unit = n == "thompson" || n == "discounted_thompson" ||
                      n == "sliding_window_thompson" || n == "ucb1" || n == "kl_ucb";
    for (TrafficLimits limits : {TrafficLimits{}, TrafficLimits{0, 0.5, 1.0}}) {
      auto r = MakePolicy(PolicySpec{n, 2, 0, {}, limits});
      ASSERT_TRUE(r.ok());
      const RewardRange range = (*r)->reward_range();
      EXPECT_FALSE(range.Contains(std::nan("")));
      EXPECT_FALSE(range.Contains(INFINITY));
      EXPECT_TRUE(range.Contains(0.0));
      EXPECT_TRUE(range.Contains(1.0));
      EXPECT_EQ(range.bounded(), unit);
      EXPECT_EQ(range.Contains(1.5), !unit);
      EXPECT_EQ(range.Contains(-0.01), !unit);
    }
  }
}

}  // namespace
}  // namespace banditd
