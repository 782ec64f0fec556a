// Good configurations load into the documented values and defaults.
#include "src/config/loader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

namespace banditd::config {
namespace {

LoadOptions NoFiles(std::map<std::string, std::string> env = {}) {
  LoadOptions o;
  o.check_files = false;
  o.env = [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

constexpr const char* kMinimal = R"(
experiments:
  - name: e1
    arms:
      - name: a
      - name: b
)";

TEST(ConfigTest, MinimalConfigGetsTheDocumentedDefaults) {
  auto cfg = ParseConfig(kMinimal, "/etc/banditd", NoFiles());
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->sockets.api, "tcp://127.0.0.1:5555");
  EXPECT_EQ(cfg->sockets.rewards, "tcp://127.0.0.1:5556");
  EXPECT_EQ(cfg->sockets.admin, "tcp://127.0.0.1:5557");
  EXPECT_EQ(cfg->sockets.metrics, "127.0.0.1:9464");
  EXPECT_FALSE(cfg->security.curve());
  EXPECT_EQ(cfg->state_dir, "/etc/banditd/state");
  EXPECT_EQ(cfg->model_dir, "/etc/banditd/");
  EXPECT_EQ(cfg->durability.mode, Durability::kGroup);
  EXPECT_EQ(cfg->durability.group_window, std::chrono::milliseconds(2));
  EXPECT_EQ(cfg->reward_window, std::chrono::hours(24));
  EXPECT_EQ(cfg->inference.workers, 2);
  EXPECT_EQ(cfg->inference.intra_op_threads, 1);
  EXPECT_FALSE(cfg->inference.batching);
  EXPECT_EQ(cfg->inference.spin, std::chrono::microseconds(0));
  EXPECT_TRUE(cfg->sockets.api_extra.empty());
  EXPECT_EQ(cfg->limits.max_frame_bytes, 1u << 20);
  EXPECT_EQ(cfg->limits.max_unsent_reply_bytes, size_t{64} << 20);
  EXPECT_EQ(cfg->log_level, "info");
  ASSERT_EQ(cfg->experiments.size(), 1u);
  const auto& e = cfg->experiments[0];
  EXPECT_EQ(e.name, "e1");
  EXPECT_EQ(e.mode, Mode::kBandit);
  EXPECT_EQ(e.metric, Metric::kBernoulli);
  EXPECT_EQ(e.policy, "thompson");
  EXPECT_EQ(e.champion(), 0u);
  EXPECT_TRUE(e.arms[0].champion);
  EXPECT_FALSE(e.arms[1].champion);
  EXPECT_FALSE(e.arms[0].model.has_value());
  EXPECT_EQ(e.traffic.champion_floor, 0.0);
  EXPECT_EQ(e.traffic.challenger_ceiling, 1.0);
  EXPECT_EQ(e.stopping.rule, "");  // no `stopping` map: no rule, an operator decides
  EXPECT_EQ(e.on_decision, OnDecision::kHold);
  EXPECT_EQ(e.guardrails.max_error_rate_ratio, 2.0);
  EXPECT_EQ(e.guardrails.max_p99_latency_ratio, 3.0);
  EXPECT_EQ(e.guardrails.min_samples, 200);
  EXPECT_EQ(e.refresh.interval, std::chrono::milliseconds(1000));
  EXPECT_EQ(e.salt, "e1");
}

TEST(ConfigTest, DemoConfigLoadsWithModelsFromTheBuildDirectory) {
  auto cfg = LoadConfigFile("config/demo.yaml", NoFiles());
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const std::string config_dir = std::filesystem::absolute("config").lexically_normal().string();
  const std::string root = std::filesystem::path(config_dir).parent_path().string();
  EXPECT_EQ(cfg->state_dir, "/tmp/banditd-demo");
  EXPECT_EQ(cfg->model_dir, root + "/build/models");
  ASSERT_EQ(cfg->experiments.size(), 1u);
  const auto& e = cfg->experiments[0];
  EXPECT_EQ(e.name, "ctr");
  EXPECT_EQ(e.policy, "thompson");
  EXPECT_EQ(e.traffic.champion_floor, 0.2);
  EXPECT_EQ(e.stopping.rule, "bernoulli_cs");
  EXPECT_EQ(e.on_decision, OnDecision::kPromote);
  EXPECT_EQ(e.refresh.interval, std::chrono::milliseconds(500));
  EXPECT_EQ(cfg->reward_window, std::chrono::hours(1));
  ASSERT_EQ(e.arms.size(), 2u);
  ASSERT_TRUE(e.arms[0].model.has_value());
  EXPECT_EQ(e.arms[0].model->path, root + "/build/models/champion.pt");
  EXPECT_EQ(e.arms[1].model->path, root + "/build/models/challenger.pt");
  EXPECT_EQ(e.arms[0].model->input_shape, (std::vector<int64_t>{8}));
  auto policy = MakePolicy(e.policy_spec());
  EXPECT_TRUE(policy.ok()) << policy.status().ToString();
}

TEST(ConfigTest, ModelDirComesFromTheEnvironment) {
  auto cfg = LoadConfigFile("config/demo.yaml",
                            NoFiles({{"BANDITD_MODEL_DIR", "/opt/m"}, {"BANDITD_STATE_DIR", "s"}}));
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->experiments[0].arms[1].model->path, "/opt/m/challenger.pt");
  EXPECT_EQ(cfg->state_dir, std::filesystem::absolute("config/s").lexically_normal().string());
}

TEST(ConfigTest, ExamplesLoad) {
  for (const char* path :
       {"config/examples/route_only_ab.yaml", "config/examples/shadow_and_canary.yaml"}) {
    auto cfg = LoadConfigFile(path, NoFiles());
    EXPECT_TRUE(cfg.ok()) << path << ": " << cfg.status().ToString();
  }
  auto ab = LoadConfigFile("config/examples/route_only_ab.yaml", NoFiles());
  ASSERT_TRUE(ab.ok());
  EXPECT_EQ(ab->experiments[0].mode, Mode::kAb);
  EXPECT_EQ(ab->experiments[0].weights, (std::vector<double>{0.5, 0.25, 0.25}));
  EXPECT_EQ(ab->experiments[0].stopping.params.GetInt("n_per_arm", 0).value(), 20000);
  EXPECT_EQ(ab->sockets.api_extra, (std::vector<std::string>{"tcp://127.0.0.1:5565"}));
  auto sc = LoadConfigFile("config/examples/shadow_and_canary.yaml", NoFiles());
  ASSERT_TRUE(sc.ok());
  EXPECT_EQ(sc->durability.mode, Durability::kAlways);
  EXPECT_TRUE(sc->inference.batching);
  EXPECT_EQ(sc->inference.max_batch, 16);
  EXPECT_EQ(sc->inference.max_queue_delay, std::chrono::microseconds(300));
  EXPECT_EQ(sc->inference.spin, std::chrono::microseconds(50));
  EXPECT_EQ(sc->limits.max_frame_bytes, 262144u);
  EXPECT_TRUE(sc->security.curve());
  EXPECT_FALSE(IsLocalEndpoint(sc->sockets.api));
  EXPECT_TRUE(IsLocalEndpoint(sc->sockets.admin));
  const auto& canary = sc->experiments[1];
  EXPECT_EQ(canary.mode, Mode::kCanary);
  EXPECT_EQ(canary.canary_share, 0.05);
  EXPECT_EQ(canary.salt, "fraud-2026-11");
  EXPECT_EQ(canary.arms[1].model->input_shape, (std::vector<int64_t>{4, 16}));
  EXPECT_EQ(sc->experiments[0].arms[1].model->sha256.size(), 64u);
}

TEST(ConfigTest, ParamsKeepTheirTypes) {
  auto cfg = ParseConfig(R"(
experiments:
  - name: e
    policy: {name: thompson, params: {prior_alpha: 2, prior_beta: 3.5}}
    stopping: {rule: bernoulli_cs, params: {prior_sd: 0.95, min_samples: 100}}
    arms: [{name: a}, {name: b, champion: true}]
)",
                         "/", NoFiles());
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const auto& e = cfg->experiments[0];
  EXPECT_EQ(e.champion(), 1u);
  EXPECT_EQ(e.policy_params.GetInt("prior_alpha", 0).value(), 2);
  EXPECT_EQ(e.policy_params.GetDouble("prior_beta", 0).value(), 3.5);
  const Params& p = e.stopping.params;
  EXPECT_EQ(p.GetDouble("prior_sd", 0).value(), 0.95);
  EXPECT_EQ(p.GetInt("min_samples", 0).value(), 100);
}

TEST(ConfigTest, ContextStoreBoundHasADefaultAndCanBeSet) {
  auto cfg = ParseConfig(R"(
experiments:
  - name: d
    policy: {name: linucb, context_dim: 8}
    arms: [{name: a}, {name: b}]
  - name: e
    policy: {name: lin_thompson, context_dim: 8}
    context_store: {max_bytes: 1048576}
    arms: [{name: a}, {name: b}]
)",
                         "/", NoFiles());
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->experiments[0].context_store_max_bytes, size_t{64} << 20);
  EXPECT_EQ(cfg->experiments[1].context_store_max_bytes, size_t{1} << 20);
  EXPECT_EQ(cfg->experiments[1].context_dim, 8u);
}

// The stopping rule is built at load time: what start-up would refuse,
// --check refuses too, naming the key and line.
TEST(ConfigTest, StoppingParamsAreValidatedAtLoad) {
  auto unknown = ParseConfig(R"(
experiments:
  - name: e
    stopping: {rule: bernoulli_cs, params: {prior_sd: 0.2, label: x}}
    arms: [{name: a}, {name: b, champion: true}]
)",
                             "/", NoFiles());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("experiments[0].stopping.params (line 4)"),
            std::string::npos)
      << unknown.status().message();
  EXPECT_NE(unknown.status().message().find("label"), std::string::npos);
  auto unplanned = ParseConfig(R"(
experiments:
  - name: e
    stopping: {rule: sequential}
    arms: [{name: a}, {name: b, champion: true}]
)",
                               "/", NoFiles());
  ASSERT_FALSE(unplanned.ok());
  EXPECT_NE(unplanned.status().message().find("tau2"), std::string::npos);
}

// stopping.min_duration: 7 days unless set; a duration string; 0 allowed.
TEST(ConfigTest, MinDurationDefaultsToAWeekAndTakesDurations) {
  auto load = [](const std::string& stopping) {
    return ParseConfig("experiments:\n  - name: e\n    mode: ab\n    stopping: " + stopping +
                           "\n    arms: [{name: a}, {name: b}]\n",
                       "/", NoFiles());
  };
  auto def = load("{rule: sequential, params: {tau2: 0.01}}");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->experiments[0].stopping.min_duration, std::chrono::hours(7 * 24));
  EXPECT_EQ(def->experiments[0].srm.threshold, 0.001);
  for (const auto& [text, seconds] : {std::pair{"7d", 7 * 86400}, {"12h", 43200}, {"0", 0},
                                      {"90m", 5400}, {"30", 30}}) {
    auto cfg = load(std::string("{rule: sequential, params: {tau2: 0.01}, min_duration: ") + text +
                    "}");
    ASSERT_TRUE(cfg.ok()) << text << ": " << cfg.status().ToString();
    EXPECT_EQ(cfg->experiments[0].stopping.min_duration.count(), seconds) << text;
  }
  auto bad = load("{rule: sequential, params: {tau2: 0.01}, min_duration: soon}");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("experiments[0].stopping.min_duration"), std::string::npos)
      << bad.status().message();
  auto as_param = load("{rule: sequential, params: {tau2: 0.01, min_duration: 5}}");
  ASSERT_FALSE(as_param.ok());
  EXPECT_NE(as_param.status().message().find("stopping.min_duration"), std::string::npos)
      << as_param.status().message();
}

TEST(ConfigTest, SrmThresholdIsReadAndBounded) {
  auto cfg = ParseConfig(R"(
experiments:
  - name: e
    srm: {threshold: 0.0001}
    arms: [{name: a}, {name: b}]
)",
                         "/", NoFiles());
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->experiments[0].srm.threshold, 0.0001);
  auto bad = ParseConfig(R"(
experiments:
  - name: e
    srm: {threshold: 0.9}
    arms: [{name: a}, {name: b}]
)",
                         "/", NoFiles());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("experiments[0].srm.threshold"), std::string::npos)
      << bad.status().message();
}

TEST(ConfigTest, ModelFilesAreCheckedWhenAsked) {
  const auto dir = std::filesystem::temp_directory_path() / "banditd_config_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "m.pt") << "x";
  const std::string yaml = R"(
experiments:
  - name: e
    arms:
      - {name: a, model: {path: m.pt, input_shape: [2]}}
      - {name: b, model: none}
)";
  LoadOptions check = NoFiles();
  check.check_files = true;
  auto cfg = ParseConfig(yaml, dir.string(), check);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->experiments[0].arms[0].model->path, (dir / "m.pt").string());
  EXPECT_FALSE(cfg->experiments[0].arms[1].model.has_value());
  std::filesystem::remove(dir / "m.pt");
  auto missing = ParseConfig(yaml, dir.string(), check);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(
                "experiments[0].arms[0].model.path (line 5): no model file at"),
            std::string::npos)
      << missing.status().message();
  std::filesystem::remove_all(dir);
}

TEST(ConfigTest, WildcardTcpPortsMayRepeat) {
  // Each socket binds its own ephemeral port; a fixed port twice is an error
  // (bad_config_test.cc).
  auto cfg = ParseConfig(std::string("sockets:\n  api: tcp://127.0.0.1:*\n"
                                     "  rewards: tcp://127.0.0.1:*\n  admin: tcp://127.0.0.1:0\n") +
                             kMinimal,
                         "/etc/banditd", NoFiles());
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->sockets.rewards, "tcp://127.0.0.1:*");
}

TEST(ConfigTest, EmptyMetricsMeansNoMetricsEndpoint) {
  auto cfg = ParseConfig("sockets:\n  metrics: \"\"\n" + std::string(kMinimal), "/cfg", NoFiles());
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->sockets.metrics, "");
  for (const char* good : {"0.0.0.0:0", "localhost:9464", "[::1]:65535", "metrics-1.lan:80"}) {
    auto c = ParseConfig("sockets:\n  metrics: '" + std::string(good) + "'\n" + kMinimal, "/cfg",
                         NoFiles());
    EXPECT_TRUE(c.ok()) << good << ": " << c.status().ToString();
  }
}

// Every policy whose registry domain is unbounded takes a gaussian metric;
// every policy takes a bernoulli one ([0, 1] is inside every domain).
TEST(ConfigTest, MetricAndPolicyAgreeOnTheRewardDomain) {
  for (std::string_view name : PolicyNames()) {
    const bool contextual = name == "linucb" || name == "lin_thompson";
    const std::string policy =
        "    policy: {name: " + std::string(name) + (contextual ? ", context_dim: 2}\n" : "}\n");
    for (const char* metric : {"bernoulli", "gaussian"}) {
      const std::string yaml = "experiments:\n  - name: e\n    metric: " + std::string(metric) +
                               "\n" + policy + "    arms:\n      - name: a\n      - name: b\n";
      auto cfg = ParseConfig(yaml, "/cfg", NoFiles());
      const bool real = !PolicyRewardRange(name)->bounded();
      EXPECT_EQ(cfg.ok(), std::string(metric) == "bernoulli" || real)
          << name << " / " << metric << ": " << cfg.status().ToString();
    }
  }
}

TEST(ConfigTest, MissingFileIsNotFound) {
  auto cfg = LoadConfigFile("config/no_such_file.yaml");
  EXPECT_EQ(cfg.status().code(), Code::kNotFound);
}

// decision_log: retention and the disk reserve (docs/config.md).
TEST(ConfigTest, DecisionLogKeysHaveSafeDefaultsAndTakeUnits) {
  auto defaults = ParseConfig(kMinimal, "/etc/banditd", NoFiles());
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->decision_log.max_bytes, uint64_t{1} << 30);
  EXPECT_EQ(defaults->decision_log.max_age, std::chrono::hours(24 * 7));
  EXPECT_EQ(defaults->decision_log.min_free_bytes, uint64_t{256} << 20);
  EXPECT_EQ(defaults->decision_log.rotate_bytes, uint64_t{256} << 20);

  auto cfg = ParseConfig(std::string("decision_log:\n  max_bytes: 20GiB\n  max_age: 36h\n"
                                     "  min_free_bytes: 4096\n  rotate_bytes: 512KiB\n") +
                             kMinimal,
                         "/etc/banditd", NoFiles());
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->decision_log.max_bytes, uint64_t{20} << 30);
  EXPECT_EQ(cfg->decision_log.max_age, std::chrono::hours(36));
  EXPECT_EQ(cfg->decision_log.min_free_bytes, 4096u);
  EXPECT_EQ(cfg->decision_log.rotate_bytes, 512u << 10);
  auto no_age =
      ParseConfig(std::string("decision_log: {max_age: 0, min_free_bytes: 0B}\n") + kMinimal,
                  "/etc/banditd", NoFiles());
  ASSERT_TRUE(no_age.ok()) << no_age.status().ToString();
  EXPECT_EQ(no_age->decision_log.max_age.count(), 0);
  EXPECT_EQ(no_age->decision_log.min_free_bytes, 0u);

  for (auto [yaml, error] : {
           std::pair{"decision_log: {max_bytes: 1MiB}\n",
                     "decision_log.max_bytes (line 1): must be between 4194304"},
           std::pair{"decision_log: {max_bytes: 10MB}\n",
                     "decision_log.max_bytes (line 1): must be a size like"},
           std::pair{"decision_log: {min_free_bytes: -1}\n",
                     "decision_log.min_free_bytes (line 1): must be a size"},
           std::pair{"decision_log: {max_bytes: 99999999999TiB}\n", "must be between"},
           std::pair{"decision_log: {max_age: soon}\n",
                     "decision_log.max_age (line 1): must be a duration"},
           std::pair{"decision_log: {max_files: 3}\n", "max_files"},
       }) {
    auto bad = ParseConfig(std::string(yaml) + kMinimal, "/etc/banditd", NoFiles());
    ASSERT_FALSE(bad.ok()) << yaml;
    EXPECT_NE(bad.status().message().find(error), std::string::npos) << bad.status().message();
  }
}

}  // namespace
}  // namespace banditd::config
