#include <algorithm>

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

}  // namespace
}  // namespace banditd
