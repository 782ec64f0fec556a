#include "sim/scenario.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/unit/sim/sim_testing.h"

namespace banditd::sim {
namespace {

using testing::MustParse;

constexpr const char* kFull = R"(name: full
description: every feature
reward: bernoulli
arms:
  - {name: champion, mean: 0.05}
  - {name: challenger, mean: 0.055}
champion: champion
horizon: 1e5
runs: 20
seed: 9
environment:
  drift:
    - {arm: challenger, at: 500, mean: 0.07}
    - {arm: champion, from: 100, to: 200, mean: 0.02}
  delay: {mean: 12.5}
decision: {check_every: 50, propensity_every: 10, on_decision: continue}
report: {checkpoints_per_decade: 5}
policies:
  - name: thompson
    label: ts
    params: {prior_alpha: 2, prior_beta: 3.5, warm_successes: [1, 2]}
    limits: {champion_floor: 0.5}
    stopping: {name: sequential, params: {alpha: 0.05, min_samples: 100}}
  - name: thompson
)";

TEST(ScenarioTest, ParsesEveryFeature) {
  Scenario s = MustParse(kFull);
  EXPECT_EQ(s.name, "full");
  ASSERT_EQ(s.arms.size(), 2u);
  EXPECT_EQ(s.arms[1].name, "challenger");
  EXPECT_DOUBLE_EQ(s.arms[1].mean, 0.055);
  EXPECT_EQ(s.champion, 0u);
  EXPECT_EQ(s.horizon, 100000u);
  EXPECT_EQ(s.runs, 20u);
  EXPECT_EQ(s.seed, 9u);
  ASSERT_EQ(s.drift.size(), 2u);
  EXPECT_EQ(s.drift[0].arm, 1u);
  EXPECT_EQ(s.drift[0].start, 500u);
  EXPECT_EQ(s.drift[0].end, 500u);
  EXPECT_EQ(s.drift[1].start, 100u);
  EXPECT_EQ(s.drift[1].end, 200u);
  EXPECT_EQ(s.delay.kind, DelaySpec::Kind::kRandom);
  EXPECT_DOUBLE_EQ(s.delay.mean, 12.5);
  EXPECT_EQ(s.check_every, 50u);
  EXPECT_EQ(s.propensity_every, 10u);
  EXPECT_FALSE(s.promote_on_decision);
  EXPECT_EQ(s.checkpoints_per_decade, 5);
  ASSERT_EQ(s.contenders.size(), 2u);
  const auto& c = s.contenders[0];
  EXPECT_EQ(c.label, "ts");
  EXPECT_EQ(c.policy.name, "thompson");
  EXPECT_EQ(c.policy.num_arms, 2u);
  EXPECT_EQ(*c.policy.params.GetInt("prior_alpha", 0), 2);
  EXPECT_DOUBLE_EQ(*c.policy.params.GetDouble("prior_beta", 0), 3.5);
  EXPECT_EQ(c.policy.params.GetDoubles("warm_successes", {})->size(), 2u);
  EXPECT_DOUBLE_EQ(c.policy.limits.champion_floor, 0.5);
  ASSERT_TRUE(c.stopping.has_value());
  EXPECT_EQ(c.stopping->name, "sequential");
  EXPECT_EQ(c.stopping->control, 0u);
  EXPECT_EQ(*c.stopping->params.GetInt("min_samples", 0), 100);
  EXPECT_EQ(s.contenders[1].label, "thompson");
  EXPECT_FALSE(s.contenders[1].stopping.has_value());
  EXPECT_FALSE(s.stationary_bernoulli());
}

TEST(ScenarioTest, GeneratedArmsAndSweep) {
  auto parsed = ParseScenario(R"(name: sweep
arms: {count: 4, mean: 0.4, best: 0.5}
horizon: 1000
runs: 2
environment:
  delay: {every: 1}
sweep: {key: environment.delay.every, values: [1, 10, 100]}
policies: [{name: thompson}]
)",
                              "t.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[2].delay.every, 100u);
  EXPECT_EQ((*parsed)[2].variant, "environment.delay.every=100");
  ASSERT_EQ((*parsed)[0].arms.size(), 4u);
  EXPECT_DOUBLE_EQ((*parsed)[0].arms[0].mean, 0.5);
  EXPECT_DOUBLE_EQ((*parsed)[0].arms[3].mean, 0.4);
  EXPECT_TRUE((*parsed)[0].stationary_bernoulli());
}

// The error names the offending key and its 1-based line.
void ExpectError(const std::string& yaml, const std::string& key, int line) {
  auto s = ParseScenario(yaml, "bad.yaml");
  ASSERT_FALSE(s.ok()) << "accepted:\n" << yaml;
  const std::string msg = s.status().message();
  EXPECT_NE(msg.find(key), std::string::npos) << msg;
  EXPECT_NE(msg.find("bad.yaml:" + std::to_string(line) + ":"), std::string::npos) << msg;
}

constexpr const char* kHead = "name: x\narms: [{mean: 0.1}, {mean: 0.2}]\nruns: 3\n";

TEST(ScenarioTest, UnknownTopLevelKeyNamesKeyAndLine) {
  ExpectError(std::string(kHead) + "horizn: 100\npolicies: [{name: thompson}]\n", "horizn", 4);
}

TEST(ScenarioTest, UnknownNestedKeysNameKeyAndLine) {
  ExpectError(std::string(kHead) + "horizon: 10\npolicies:\n  - name: thompson\n    parms: {}\n",
              "parms", 7);
  ExpectError(std::string(kHead) +
                  "horizon: 10\nenvironment:\n  delay: {evry: 3}\n"
                  "policies: [{name: thompson}]\n",
              "evry", 6);
  ExpectError(std::string(kHead) +
                  "horizon: 10\nenvironment:\n  drift:\n"
                  "    - {arm: arm1, at: 5, mean: 0.3, slope: 2}\n"
                  "policies: [{name: thompson}]\n",
              "slope", 7);
}

TEST(ScenarioTest, BadValuesNameKeyAndLine) {
  ExpectError(std::string(kHead) + "horizon: lots\npolicies: [{name: thompson}]\n", "horizon", 4);
  ExpectError(
      "name: x\narms:\n  - {mean: 0.1}\n  - {mean: 1.5}\nruns: 1\nhorizon: 5\n"
      "policies: [{name: thompson}]\n",
      "mean", 4);
  ExpectError(std::string(kHead) +
                  "horizon: 10\nenvironment:\n  drift:\n"
                  "    - {arm: nobody, at: 5, mean: 0.3}\n"
                  "policies: [{name: thompson}]\n",
              "nobody", 7);
  ExpectError(std::string(kHead) +
                  "horizon: 10\nenvironment:\n  replacement: {prob: 2}\n"
                  "policies: [{name: thompson}]\n",
              "prob", 6);
  ExpectError(std::string(kHead) + "horizon: 10\npolicies: [{name: thompson}, {name: thompson}]\n",
              "duplicate policy label", 5);
  ExpectError(std::string(kHead) +
                  "horizon: 10\nenvironment:\n  replacement: {prob: 0.1, notice: later}\n"
                  "policies: [{name: thompson}]\n",
              "notice", 6);
  ExpectError(std::string(kHead) +
                  "horizon: 10\nenvironment:\n  replacement: {prob: 0.1, pending: keep}\n"
                  "policies: [{name: thompson}]\n",
              "pending", 6);
}

TEST(ScenarioTest, ReplacementReadings) {
  Scenario d = MustParse(std::string(kHead) +
                         "horizon: 10\nenvironment: {replacement: {prob: 0.1}}\n"
                         "policies: [{name: thompson}]\n");
  EXPECT_EQ(d.replacement.notice, ReplacementSpec::Notice::kAtOnce);
  EXPECT_EQ(d.replacement.pending, ReplacementSpec::Pending::kDrop);
  Scenario s =
      MustParse(std::string(kHead) +
                "horizon: 10\nenvironment: {replacement: {prob: 0.1, notice: next_delivery, "
                "pending: deliver}}\npolicies: [{name: thompson}]\n");
  EXPECT_EQ(s.replacement.notice, ReplacementSpec::Notice::kNextDelivery);
  EXPECT_EQ(s.replacement.pending, ReplacementSpec::Pending::kDeliver);
}

TEST(ScenarioTest, MissingKeyAndMalformedYaml) {
  ExpectError("name: x\narms: [{mean: 0.1}]\nruns: 1\npolicies: [{name: thompson}]\n", "horizon",
              1);
  ExpectError("name: x\narms: [{mean: 0.1}\nruns: 1\n", "malformed YAML", 3);
}

TEST(ScenarioTest, EveryShippedScenarioParses) {
  const char* root = std::getenv("BANDITD_SOURCE_DIR");
  const std::filesystem::path dir = std::filesystem::path(root ? root : ".") / "sim/scenarios";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    auto s = LoadScenarioFile(entry.path().string());
    EXPECT_TRUE(s.ok()) << entry.path() << ": " << s.status().ToString();
  }
  EXPECT_GE(files, 5);
}

}  // namespace
}  // namespace banditd::sim
