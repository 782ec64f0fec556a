// Shared helpers for the policy tests.
#pragma once

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "banditd/policy.h"

namespace banditd::testing {

inline std::unique_ptr<Policy> MustMake(const std::string& name, size_t arms, Params params = {},
                                        TrafficLimits limits = {}) {
  PolicySpec spec{name, arms, 0, std::move(params), limits};
  auto made = MakePolicy(spec);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? std::move(made).value() : nullptr;
}

// Feeds `steps` choose/update rounds with Bernoulli rewards of the given means.
inline void Drive(Policy& policy, const std::vector<double>& means, int steps, Rng& rng) {
  for (int t = 0; t < steps; ++t) {
    const size_t arm = policy.Choose(rng, {});
    policy.Update(arm, rng.Bernoulli(means[arm]) ? 1.0 : 0.0, {});
  }
}

// Snapshot -> restore into a fresh policy -> the next `n` choose/update rounds
// (same rng seed, same rewards) pick the same arms as the original.
inline void ExpectRestoreContinuesIdentically(const std::string& name, size_t arms,
                                              const Params& params,
                                              const std::vector<double>& means,
                                              TrafficLimits limits = {}, int n = 10000) {
  auto original = MustMake(name, arms, params, limits);
  ASSERT_NE(original, nullptr);
  Rng warm(11);
  Drive(*original, means, 500, warm);

  auto restored = MustMake(name, arms, params, limits);
  ASSERT_NE(restored, nullptr);
  ASSERT_TRUE(restored->Restore(original->Snapshot()).ok());

  Rng ra(99), rb(99), rewards_a(5), rewards_b(5);
  for (int t = 0; t < n; ++t) {
    const size_t a = original->Choose(ra, {});
    const size_t b = restored->Choose(rb, {});
    ASSERT_EQ(a, b) << "choice " << t << " differs after restore";
    original->Update(a, rewards_a.Bernoulli(means[a]) ? 1.0 : 0.0, {});
    restored->Update(b, rewards_b.Bernoulli(means[b]) ? 1.0 : 0.0, {});
  }
}

// Choice frequencies over `draws` choices (no updates) match the reported
// allocation within `sigmas` binomial standard errors, arm by arm.
inline void ExpectFrequenciesMatchAllocation(const Policy& policy, Rng& rng, int draws,
                                             double sigmas = 4.0) {
  std::vector<double> alloc(policy.num_arms());
  policy.Allocation(rng, {}, alloc);
  std::vector<int> hits(policy.num_arms(), 0);
  for (int i = 0; i < draws; ++i) ++hits[policy.Choose(rng, {})];
  for (size_t k = 0; k < alloc.size(); ++k) {
    const double se = std::sqrt(std::max(alloc[k] * (1 - alloc[k]), 1e-12) / draws);
    EXPECT_NEAR(static_cast<double>(hits[k]) / draws, alloc[k], sigmas * se + 1e-12)
        << "arm " << k << " of " << policy.name();
  }
}

}  // namespace banditd::testing
