#include "sim/environment.h"

#include <cmath>

#include <gtest/gtest.h>

#include "tests/unit/sim/sim_testing.h"

namespace banditd::sim {
namespace {

using testing::MustParse;

TEST(EnvironmentTest, SameReplicationSameRewardsWhateverIsAsked) {
  Scenario s = MustParse(
      "name: crn\narms: {count: 5, mean: 0.3, best: 0.6}\nhorizon: 10\nruns: 1\n"
      "environment: {replacement: {prob: 0.01}, delay: {mean: 3}}\npolicies: [{name: thompson}]\n");
  Environment a(s, 4), b(s, 4), other(s, 5);
  int differ = 0;
  for (uint64_t t = 1; t <= 20000; ++t) {
    EXPECT_EQ(a.BeginStep(t), b.BeginStep(t));
    other.BeginStep(t);
    // `a` is asked about one arm, `b` about all: the draws must not depend on it.
    const size_t arm = t % 5;
    for (size_t k = 0; k < 5; ++k) ASSERT_EQ(b.Reward(k), b.Reward(k));
    ASSERT_EQ(a.Reward(arm), b.Reward(arm)) << "step " << t;
    ASSERT_EQ(a.delay(), b.delay());
    ASSERT_EQ(a.mean(arm), b.mean(arm));
    differ += a.Reward(arm) != other.Reward(arm);
  }
  EXPECT_GT(differ, 1000);  // another replication is another stream
}

TEST(EnvironmentTest, BernoulliFrequencyMatchesMean) {
  Scenario s = MustParse(
      "name: f\narms: [{mean: 0.25}]\nhorizon: 1\nruns: 1\npolicies: [{name: thompson}]\n");
  Environment env(s, 0);
  double sum = 0;
  const int n = 100000;
  for (int t = 1; t <= n; ++t) {
    env.BeginStep(t);
    sum += env.Reward(0);
  }
  // 5 standard errors: sqrt(0.25 * 0.75 / 1e5) = 0.00137.
  EXPECT_NEAR(sum / n, 0.25, 5 * 0.00137);
}

TEST(EnvironmentTest, StepAndGradualDrift) {
  Scenario s = MustParse(
      "name: d\narms: [{name: a, mean: 0.2}, {name: b, mean: 0.4}]\nhorizon: 10\nruns: 1\n"
      "environment:\n  drift:\n    - {arm: a, at: 10, mean: 0.9}\n"
      "    - {arm: b, from: 100, to: 200, mean: 0.0}\npolicies: [{name: thompson}]\n");
  Environment env(s, 0);
  for (uint64_t t = 1; t <= 9; ++t) env.BeginStep(t);
  EXPECT_DOUBLE_EQ(env.mean(0), 0.2);
  EXPECT_EQ(env.best_arm(), 1u);
  env.BeginStep(10);
  EXPECT_DOUBLE_EQ(env.mean(0), 0.9);
  EXPECT_EQ(env.best_arm(), 0u);
  for (uint64_t t = 11; t <= 150; ++t) env.BeginStep(t);
  EXPECT_NEAR(env.mean(1), 0.2, 1e-12);  // half-way from 0.4 to 0.0
  for (uint64_t t = 151; t <= 300; ++t) env.BeginStep(t);
  EXPECT_NEAR(env.mean(1), 0.0, 1e-12);
}

TEST(EnvironmentTest, ReplacementRateAndNewMeans) {
  Scenario s = MustParse(
      "name: r\narms: {count: 10, beta: [4, 4]}\nhorizon: 10\nruns: 1\n"
      "environment: {replacement: {prob: 0.01, beta: [4, 4]}}\npolicies: [{name: thompson}]\n");
  Environment env(s, 3);
  int replaced = 0;
  double mean_sum = 0;
  const int n = 200000;
  for (int t = 1; t <= n; ++t) {
    auto r = env.BeginStep(t);
    if (!r) continue;
    ++replaced;
    ASSERT_LT(*r, 10u);
    mean_sum += env.mean(*r);
    ASSERT_GT(env.mean(*r), 0.0);
    ASSERT_LT(env.mean(*r), 1.0);
  }
  // Binomial(2e5, 0.01): mean 2000, sd 44.5; 5 sd.
  EXPECT_NEAR(replaced, 2000, 5 * 44.5);
  // Beta(4,4) has mean 0.5 and sd 0.1667: 5 standard errors.
  EXPECT_NEAR(mean_sum / replaced, 0.5, 5 * 0.1667 / std::sqrt(replaced));
}

TEST(EnvironmentTest, RandomDelayHasItsMean) {
  Scenario s = MustParse(
      "name: r\narms: [{mean: 0.5}]\nhorizon: 10\nruns: 1\n"
      "environment: {delay: {mean: 20}}\npolicies: [{name: thompson}]\n");
  Environment env(s, 1);
  double sum = 0;
  const int n = 100000;
  for (int t = 1; t <= n; ++t) {
    env.BeginStep(t);
    sum += static_cast<double>(env.delay());
  }
  // Geometric with mean 20 has sd sqrt(20 * 21) = 20.5; 5 standard errors.
  EXPECT_NEAR(sum / n, 20.0, 5 * 20.5 / std::sqrt(n));
}

}  // namespace
}  // namespace banditd::sim
