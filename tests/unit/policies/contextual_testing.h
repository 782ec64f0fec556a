// Shared helpers for the contextual policy tests.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "banditd/policy.h"

namespace banditd::testing {

inline std::unique_ptr<Policy> MustMakeContextual(const std::string& name, size_t arms, size_t dim,
                                                  Params params = {}) {
  auto made = MakePolicy(PolicySpec{name, arms, dim, std::move(params), {}});
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? std::move(made).value() : nullptr;
}

// Two arms, context x = (1, f, u) with f in {0, 1} a binary feature and u
// uniform noise the rewards ignore. Bernoulli rewards with means
// 0.6 - 0.3 f (arm 0) and 0.3 + 0.3 f (arm 1): the best arm flips with f.
struct FlipEnvironment {
  static constexpr size_t kDim = 3;
  std::vector<double> Context(Rng& rng) const {
    return {1.0, rng.Bernoulli(0.5) ? 1.0 : 0.0, rng.Uniform()};
  }
  double Mean(size_t arm, const std::vector<double>& x) const {
    return arm == 0 ? 0.6 - 0.3 * x[1] : 0.3 + 0.3 * x[1];
  }
  size_t Best(const std::vector<double>& x) const { return x[1] > 0.5 ? 1 : 0; }
};

// Runs `steps` rounds; returns the share of correct choices over the last `tail`.
inline double CorrectShareAtEnd(Policy& policy, int steps, int tail, uint64_t seed) {
  FlipEnvironment env;
  Rng rng(seed);
  int correct = 0;
  for (int t = 0; t < steps; ++t) {
    const auto x = env.Context(rng);
    const size_t arm = policy.Choose(rng, x);
    if (t >= steps - tail && arm == env.Best(x)) ++correct;
    policy.Update(arm, rng.Bernoulli(env.Mean(arm, x)) ? 1.0 : 0.0, x);
  }
  return static_cast<double>(correct) / tail;
}

// Snapshot after 500 rounds -> restore into a fresh policy -> the next `n`
// rounds (same contexts, Rng state and rewards) choose identically.
inline void ExpectContextualRestoreContinuesIdentically(const std::string& name,
                                                        const Params& params, int n = 10000) {
  FlipEnvironment env;
  auto original = MustMakeContextual(name, 2, FlipEnvironment::kDim, params);
  ASSERT_NE(original, nullptr);
  Rng warm(11);
  for (int t = 0; t < 500; ++t) {
    const auto x = env.Context(warm);
    const size_t arm = original->Choose(warm, x);
    original->Update(arm, warm.Bernoulli(env.Mean(arm, x)) ? 1.0 : 0.0, x);
  }
  auto restored = MustMakeContextual(name, 2, FlipEnvironment::kDim, params);
  ASSERT_NE(restored, nullptr);
  ASSERT_TRUE(restored->Restore(original->Snapshot()).ok());
  Rng contexts(7), ra(99), rb(99), rewards(5);
  for (int t = 0; t < n; ++t) {
    const auto x = env.Context(contexts);
    const size_t a = original->Choose(ra, x);
    const size_t b = restored->Choose(rb, x);
    ASSERT_EQ(a, b) << "choice " << t << " differs after restore";
    const double r = rewards.Bernoulli(env.Mean(a, x)) ? 1.0 : 0.0;
    original->Update(a, r, x);
    restored->Update(b, r, x);
  }
}

// The snapshot refusals every contextual policy shares: another policy's,
// another arm count's, another context length's; each leaves the policy as it was.
inline void ExpectContextualSnapshotRefusals(const std::string& name, const std::string& other) {
  auto p = MustMakeContextual(name, 2, 3);
  ASSERT_NE(p, nullptr);
  const std::vector<double> x = {1.0, 0.5, -0.25};
  p->Update(1, 0.8, x);
  const std::string before = p->Snapshot();
  const auto refuse = [&](const std::unique_ptr<Policy>& src, const char* what) {
    ASSERT_NE(src, nullptr);
    src->Update(0, 1.0, std::vector<double>(src->context_dim(), 1.0));
    EXPECT_FALSE(p->Restore(src->Snapshot()).ok()) << what;
    EXPECT_EQ(p->Snapshot(), before) << what;
  };
  refuse(MustMakeContextual(other, 2, 3), "another policy");
  refuse(MustMakeContextual(name, 3, 3), "another arm count");
  refuse(MustMakeContextual(name, 2, 4), "another context length");
  EXPECT_FALSE(p->Restore("not msgpack").ok());
  EXPECT_EQ(p->Snapshot(), before);
}

}  // namespace banditd::testing
