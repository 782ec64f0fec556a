#include <algorithm>
#include <cmath>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "banditd/policy.h"

namespace banditd {
namespace {

// The contextual policies need a context length; every other policy ignores it.
bool IsContextual(std::string_view name) { return name == "linucb" || name == "lin_thompson"; }

PolicySpec SpecFor(std::string_view name, size_t arms, TrafficLimits limits = {}) {
  return PolicySpec{std::string(name), arms, IsContextual(name) ? 4u : 0u, {}, limits};
}

// A context of the policy's length (empty for non-contextual ones).
std::vector<double> ContextFor(const Policy& p, int i) {
  std::vector<double> x(p.context_dim());
  for (size_t j = 0; j < x.size(); ++j) x[j] = j == 0 ? 1.0 : ((i + j) % 3) - 1.0;
  return x;
}

TEST(RegistryTest, UnknownPolicyNamesTheKnownOnes) {
  auto r = MakePolicy(PolicySpec{"thompsen", 2, 0, {}, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("thompsen"), std::string::npos);
  EXPECT_NE(r.status().message().find("thompson"), std::string::npos);
}

TEST(RegistryTest, EmptyArmListIsRefused) {
  for (auto name : PolicyNames()) {
    auto r = MakePolicy(SpecFor(name, 0));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.status().message().find("empty arm list"), std::string::npos);
  }
}

// Every registered policy builds with its defaults, reports a valid
// allocation, and refuses a snapshot of another policy.
TEST(RegistryTest, EveryPolicyHonoursTheInterface) {
  for (auto name : PolicyNames()) {
    SCOPED_TRACE(std::string(name));
    auto r = MakePolicy(SpecFor(name, 3));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto& p = **r;
    EXPECT_EQ(p.name(), name);
    EXPECT_EQ(p.num_arms(), 3u);
    EXPECT_EQ(p.context_dim(), IsContextual(name) ? 4u : 0u);
    Rng rng(1);
    for (int i = 0; i < 50; ++i) {
      const auto x = ContextFor(p, i);
      const size_t arm = p.Choose(rng, x);
      ASSERT_LT(arm, 3u);
      p.Update(arm, i % 2, x);
    }
    std::vector<double> a(3);
    p.Allocation(rng, ContextFor(p, 0), a);
    double sum = 0;
    for (double x : a) {
      EXPECT_GE(x, 0.0);
      sum += x;
    }
    EXPECT_NEAR(sum, 1.0, 1e-9);
    for (auto other : PolicyNames()) {
      if (other == name) continue;
      auto o = MakePolicy(SpecFor(other, 3));
      ASSERT_TRUE(o.ok());
      Status s = p.Restore((*o)->Snapshot());
      EXPECT_FALSE(s.ok()) << "accepted a snapshot of " << other;
    }
  }
}

// A contextual policy without a context length is refused, naming it.
TEST(RegistryTest, ContextualPoliciesNeedAContextDim) {
  int contextual = 0;
  for (auto name : PolicyNames()) {
    if (!IsContextual(name)) continue;
    ++contextual;
    auto r = MakePolicy(PolicySpec{std::string(name), 2, 0, {}, {}});
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("context_dim"), std::string::npos);
  }
  EXPECT_EQ(contextual, 2);
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
      auto r = MakePolicy(SpecFor(n, 2, limits));
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

// The registry states each policy's reward domain in one place; the policy
// object reports exactly that statement, and unknown names have none.
TEST(RegistryTest, EachPolicyStatesItsRewardDomainInTheRegistry) {
  EXPECT_FALSE(PolicyRewardRange("no_such_policy").has_value());
  for (auto name : PolicyNames()) {
    SCOPED_TRACE(std::string(name));
    const auto stated = PolicyRewardRange(name);
    ASSERT_TRUE(stated.has_value());
    for (TrafficLimits limits : {TrafficLimits{}, TrafficLimits{0, 0.5, 1.0}}) {
      auto r = MakePolicy(SpecFor(std::string(name), 2, limits));
      ASSERT_TRUE(r.ok());
      const RewardRange range = (*r)->reward_range();
      EXPECT_EQ(range.lo, stated->lo);
      EXPECT_EQ(range.hi, stated->hi);
    }
  }
  const auto thompson = PolicyRewardRange("thompson");
  EXPECT_EQ(thompson->lo, 0.0);
  EXPECT_EQ(thompson->hi, 1.0);
  EXPECT_FALSE(PolicyRewardRange("thompson_gaussian")->bounded());
}

}  // namespace
}  // namespace banditd
