// Contextual scenarios: parsing, the environment's per-context truth, and a
// CI-sized version of the contextual acceptance run (contextual_flip.yaml).
#include "sim/contextual.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "sim/engine.h"
#include "sim/environment.h"
#include "sim/report.h"
#include "tests/unit/sim/sim_testing.h"

namespace banditd::sim {
namespace {

using testing::MustParse;

// d = 3: the constant, `returning` (the flip) and a uniform distractor with
// the same effect on both arms.
const char* kFlip = R"(
name: flip
context:
  features:
    - {name: returning, bernoulli: 0.5}
    - {name: u, uniform: [0, 1]}
arms:
  - {name: champion, theta: [-1.0, 0.0, 0.3]}
  - {name: challenger, theta: [-0.6, -0.8, 0.3]}
horizon: 100
runs: 1
policies: [{name: thompson}, {name: lin_thompson}]
)";

TEST(ContextualScenarioTest, ParsesFeaturesThetasAndSetsContextDim) {
  Scenario s = MustParse(kFlip);
  ASSERT_TRUE(s.contextual());
  EXPECT_EQ(s.context.dim(), 3u);
  ASSERT_EQ(s.context.theta.size(), 2u);
  EXPECT_DOUBLE_EQ(s.context.theta[1][1], -0.8);
  EXPECT_EQ(s.context.features[0].kind, FeatureSpec::Kind::kBernoulli);
  EXPECT_FALSE(s.stationary_bernoulli());  // no Lai–Robbins slope for a contextual truth
  for (const auto& c : s.contenders) EXPECT_EQ(c.policy.context_dim, 3u);
}

TEST(ContextualScenarioTest, CountRepeatsAFeature) {
  Scenario s = MustParse(
      "name: c\ncontext: {features: [{name: z, normal: [0, 1], count: 4}]}\n"
      "arms: [{theta: [0, 1, 1, 1, 1]}, {theta: [0, 0, 0, 0, 0]}]\nhorizon: 1\nruns: 1\n"
      "policies: [{name: linucb}]\n");
  ASSERT_EQ(s.context.features.size(), 4u);
  EXPECT_EQ(s.context.features[3].name, "z4");
}

TEST(ContextualScenarioTest, RefusesMalformedContexts) {
  struct Case {
    std::string yaml, needle;
  };
  const std::string tail = "horizon: 1\nruns: 1\npolicies: [{name: thompson}]\n";
  const Case cases[] = {
      {"name: a\ncontext: {features: [{bernoulli: 0.5}]}\narms: [{theta: [0]}]\n", "2 numbers"},
      {"name: a\ncontext: {features: [{bernoulli: 0.5}]}\narms: [{mean: 0.5}]\n", "needs 'theta'"},
      {"name: a\ncontext: {features: [{bernoulli: 1.5}]}\narms: [{theta: [0, 1]}]\n", "[0, 1]"},
      {"name: a\ncontext: {features: [{normal: [0, 0]}]}\narms: [{theta: [0, 1]}]\n", "sd > 0"},
      {"name: a\ncontext: {features: [{bernoulli: 0.5, normal: [0, 1]}]}\narms: [{theta: [0, "
       "1]}]\n",
       "exactly one"},
      {"name: a\ncontext: {features: []}\narms: [{theta: [0]}]\n", "non-empty"},
      {"name: a\narms: [{mean: 0.5, theta: [0, 1]}]\n", "needs a 'context'"},
      {"name: a\nreward: gaussian\ncontext: {features: [{bernoulli: 0.5}]}\n"
       "arms: [{theta: [0, 1]}]\n",
       "Bernoulli"},
      {"name: a\ncontext: {features: [{bernoulli: 0.5}]}\narms: [{theta: [0, 1]}]\n"
       "environment: {drift: [{arm: arm0, at: 5, mean: 0.1}]}\n",
       "delay' only"},
  };
  for (const auto& c : cases) {
    auto r = ParseScenario(c.yaml + tail, "t.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << r.status().message() << "\n  wanted: " << c.needle;
  }
}

TEST(ContextualEnvironmentTest, MeansAreTheLogisticTruthAndTheBestArmFlips) {
  Scenario s = MustParse(kFlip);
  Environment env(s, 0);
  int returning = 0;
  double sum_u = 0;
  const int n = 20000;
  for (int t = 1; t <= n; ++t) {
    env.BeginStep(static_cast<uint64_t>(t));
    const auto x = env.context();
    ASSERT_EQ(x.size(), 3u);
    ASSERT_EQ(x[0], 1.0);
    ASSERT_TRUE(x[1] == 0.0 || x[1] == 1.0);
    ASSERT_TRUE(x[2] >= 0.0 && x[2] < 1.0);
    returning += x[1] == 1.0;
    sum_u += x[2];
    EXPECT_NEAR(env.mean(0), 1.0 / (1.0 + std::exp(1.0 - 0.3 * x[2])), 1e-15);
    EXPECT_NEAR(env.mean(1), 1.0 / (1.0 + std::exp(0.6 + 0.8 * x[1] - 0.3 * x[2])), 1e-15);
    // Returning users: the champion is best; new users: the challenger.
    ASSERT_EQ(env.best_arm(), x[1] == 1.0 ? 0u : 1u) << "step " << t;
    ASSERT_DOUBLE_EQ(env.best_mean(), std::max(env.mean(0), env.mean(1)));
  }
  // Feature frequencies (4 standard errors: 0.0141 and 0.0082).
  EXPECT_NEAR(returning / static_cast<double>(n), 0.5, 0.0142);
  EXPECT_NEAR(sum_u / n, 0.5, 0.0082);
}

// The CI-sized acceptance run: the contextual_flip scenario file itself
// (d = 10) at T = 20,000 and 8 replications. At this size the full run's gap
// is already wide (measured: thompson ~780, lin_thompson ~100), so the issue's
// bound — lin_thompson's regret at most 50% of Thompson's — is asserted as is.
TEST(ContextualEngineTest, LinThompsonBeatsThompsonOnTheFlipScenario) {
  auto loaded = LoadScenarioFile("sim/scenarios/contextual_flip.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Scenario s = loaded->front();
  ASSERT_EQ(s.context.dim(), 10u);
  s.horizon = 20000;
  s.runs = 8;
  RunOptions options;
  options.threads = 2;
  options.progress = false;
  auto r = RunScenario(s, options, Factories::Default());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto rows = Summarize(*r);
  double thompson = -1, lin_thompson = -1, linucb = -1;
  for (const auto& row : rows) {
    if (row.label == "thompson") thompson = row.regret.mean;
    if (row.label == "lin_thompson") lin_thompson = row.regret.mean;
    if (row.label == "linucb") linucb = row.regret.mean;
  }
  ASSERT_GT(thompson, 0.0);
  EXPECT_GE(lin_thompson, 0.0);
  EXPECT_LE(lin_thompson, 0.5 * thompson);
  EXPECT_LE(linucb, 0.5 * thompson);
  // Non-contextual Thompson can only learn the average: about half of its
  // pulls go to the arm that is worse for the context.
  for (const auto& row : rows) {
    if (row.label == "thompson") {
      EXPECT_NEAR(row.best_arm_share, 0.5, 0.05);
    } else if (row.label == "lin_thompson") {
      EXPECT_GT(row.best_arm_share, 0.85);
    }
  }
}

// Delayed feedback carries each reward's context to the update, and a
// contextual policy under a stopping rule routes by its per-request
// allocation: lin_thompson still learns the flip (d = 3, T = 5,000).
TEST(ContextualEngineTest, DelayedFeedbackAndStoppingRulesKeepTheContext) {
  for (const char* extra :
       {"environment: {delay: {every: 50}}\n", "environment: {delay: {mean: 20}}\n",
        "decision: {check_every: 500, on_decision: continue}\n"}) {
    std::string yaml = std::string(kFlip) + extra;
    if (std::string(extra).find("decision") != std::string::npos) {
      yaml.replace(yaml.find("policies: [{name: thompson}, {name: lin_thompson}]"),
                   std::string("policies: [{name: thompson}, {name: lin_thompson}]").size(),
                   "policies: [{name: thompson, stopping: {name: bayes}},\n"
                   "           {name: lin_thompson, stopping: {name: bayes}}]");
    }
    Scenario s = MustParse(yaml);
    ASSERT_TRUE(s.contextual()) << extra;
    s.horizon = 5000;
    s.runs = 4;
    RunOptions options;
    options.threads = 2;
    options.progress = false;
    auto r = RunScenario(s, options, Factories::Default());
    ASSERT_TRUE(r.ok()) << extra << r.status().ToString();
    const auto rows = Summarize(*r);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].label, "lin_thompson");
    EXPECT_GT(rows[1].best_arm_share, 0.75) << extra;
    EXPECT_LT(rows[1].regret.mean, 0.6 * rows[0].regret.mean) << extra;
  }
}

TEST(ContextualEngineTest, PolicyContextLengthMustMatchTheScenario) {
  // A contextual policy in a non-contextual scenario is refused, not run blind.
  Scenario s = MustParse(
      "name: p\narms: [{mean: 0.1}, {mean: 0.2}]\nhorizon: 10\nruns: 1\n"
      "policies: [{name: linucb}]\n");
  s.contenders[0].policy.context_dim = 3;
  std::vector<uint64_t> cps = Checkpoints(s.horizon, 20);
  auto r = RunReplication(s, 0, 0, Factories::Default(), cps);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("needs contexts of length 3"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace banditd::sim
