// The real banditd process with model arms: shadow mode and its decision
// log, and the guardrails (a throwing challenger, a slow challenger).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "src/model/demo_models.h"
#include "src/state/decision_log.h"
#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {

// Deterministic [8] inputs: x[0] is `first`, the rest follow i.
std::vector<float> InputFor(int i, float first) {
  std::vector<float> x(8);
  x[0] = first;
  for (int k = 1; k < 8; ++k) x[k] = static_cast<float>(std::sin(0.7 * i + k));
  return x;
}

TEST(ModelsTest, ShadowAnswersWithChampionAndLogsChallenger) {
  TempDir dir;
  DaemonProcess d;
  ASSERT_TRUE(
      d.Start(WriteConfig(dir.path(), TwoModels("sh", "shadow", "champion.pt", "challenger.pt")),
              dir.path()));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  std::map<std::string, std::vector<float>> inputs;  // decision -> input
  for (int i = 0; i < 50; ++i) {
    const auto x = InputFor(i, 0.1f * static_cast<float>(i % 10));
    RouteArgs args("sh", std::nullopt, x);
    args.context = {static_cast<double>(i), 1.0};  // logged with the decision
    auto r = api.Route(args);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->arm, "champion");
    EXPECT_FALSE(r->served_by.has_value());
    ASSERT_TRUE(r->output.has_value());
    ASSERT_EQ(r->output->size(), 1u);
    const double champ = model::demo::ClickProbability(model::demo::kChampion, x.data());
    const double chall = model::demo::ClickProbability(model::demo::kChallenger, x.data());
    EXPECT_NEAR((*r->output)[0], champ, 1e-5);
    if (std::abs(champ - chall) > 1e-4) {
      EXPECT_GT(std::abs((*r->output)[0] - chall), 5e-5);
    }
    inputs[r->decision] = x;
  }
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();  // flushes the decision log

  size_t shadow_lines = 0, decision_lines = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/state")) {
    const std::string name = entry.path().filename();
    if (name.rfind("decisions-", 0) != 0 || entry.path().extension() != ".tsv") continue;
    std::ifstream f(entry.path());
    std::stringstream ss;
    ss << f.rdbuf();
    auto rows = state::ReadDecisionLog(ss.str(), name);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    for (const auto& row : *rows) {
      if (row.kind == 'D') {
        // A decision served by a model keeps its context and output in the log.
        ++decision_lines;
        EXPECT_EQ(row.arm, "champion");
        ASSERT_EQ(row.context.size(), 2u);
        EXPECT_EQ(row.context[1], 1.0);
        ASSERT_EQ(row.output.size(), 1u);
        auto it = inputs.find(row.decision);
        ASSERT_NE(it, inputs.end());
        EXPECT_NEAR(row.output[0],
                    model::demo::ClickProbability(model::demo::kChampion, it->second.data()), 1e-5);
      }
      if (row.kind != 'S') continue;
      ++shadow_lines;
      EXPECT_EQ(row.exp, "sh");
      EXPECT_EQ(row.arm, "challenger");
      auto it = inputs.find(row.decision);
      ASSERT_NE(it, inputs.end()) << "shadow line for an unknown decision " << row.decision;
      ASSERT_EQ(row.output.size(), 1u);
      EXPECT_NEAR(row.output[0],
                  model::demo::ClickProbability(model::demo::kChallenger, it->second.data()), 1e-5);
    }
  }
  EXPECT_EQ(shadow_lines, inputs.size());
  EXPECT_EQ(decision_lines, inputs.size());
}

TEST(ModelsTest, GuardrailTripsOnThrowingChallenger) {
  TempDir dir;
  const std::string guard =
      "    guardrails:\n      max_error_rate_ratio: 2.0\n      min_samples: 100\n";
  DaemonProcess d;
  ASSERT_TRUE(d.Start(
      WriteConfig(dir.path(), TwoModels("g", "ab", "champion.pt", "test_throwing.pt", guard)),
      dir.path()));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  // x[0] = 0.9 > 0.5: the challenger's model throws every time.
  auto forced = api.Route({"g", std::nullopt, InputFor(0, 0.9f), "challenger"});
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_EQ(forced->arm, "challenger");
  ASSERT_TRUE(forced->served_by.has_value());
  EXPECT_EQ(*forced->served_by, "champion");
  ASSERT_TRUE(forced->output.has_value());
  EXPECT_NEAR((*forced->output)[0],
              model::demo::ClickProbability(model::demo::kChampion, InputFor(0, 0.9f).data()),
              1e-5);

  int served_by_champion = 0, i = 0;
  ExperimentState state = ExperimentState::kRunning;
  // Both arms need min_samples requests; ~50% go to the challenger.
  for (; i < 2000 && state == ExperimentState::kRunning; ++i) {
    auto r = api.Route({"g", std::nullopt, InputFor(i, 0.9f)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->output.has_value());
    if (r->arm == "challenger") {
      ASSERT_TRUE(r->served_by.has_value());
      EXPECT_EQ(*r->served_by, "champion");
      ++served_by_champion;
    }
    if (i >= 200 && i % 20 == 0) {
      auto st = api.GetStatus("g");
      ASSERT_TRUE(st.ok());
      state = FindReport(*st, "g")->state;
    }
  }
  EXPECT_GE(served_by_champion, 99);
  auto st = api.GetStatus("g");
  ASSERT_TRUE(st.ok());
  const auto* rep = FindReport(*st, "g");
  ASSERT_EQ(rep->state, ExperimentState::kRolledBack) << rep->reason;
  EXPECT_NE(rep->reason.find("guardrail"), std::string::npos) << rep->reason;
  EXPECT_GE(rep->arms[1].errors, 100u);
  EXPECT_EQ(rep->arms[0].errors, 0u);
  EXPECT_DOUBLE_EQ(rep->arms[0].allocation, 1.0);
  // All traffic goes to the champion now, with or without a unit.
  for (int k = 0; k < 300; ++k) {
    std::optional<std::string> unit;
    if (k % 2) unit = "user" + std::to_string(k);
    auto r = api.Route({"g", unit, InputFor(k, 0.9f)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->arm, "champion");
    EXPECT_FALSE(r->served_by.has_value());
  }
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(ModelsTest, LatencyGuardrailTripsOnSlowChallenger) {
  TempDir dir;
  const std::string guard =
      "    guardrails:\n      max_p99_latency_ratio: 3.0\n      min_samples: 100\n";
  DaemonProcess d;
  ASSERT_TRUE(
      d.Start(WriteConfig(dir.path(), TwoModels("lat", "ab", "champion.pt", "test_slow.pt", guard)),
              dir.path()));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  ExperimentState state = ExperimentState::kRunning;
  for (int i = 0; i < 3000 && state == ExperimentState::kRunning; ++i) {
    auto r = api.Route({"lat", std::nullopt, InputFor(i, 0.1f)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (i >= 200 && i % 20 == 0) state = FindReport(*api.GetStatus("lat"), "lat")->state;
  }
  auto st = api.GetStatus("lat");
  ASSERT_TRUE(st.ok());
  const auto* rep = FindReport(*st, "lat");
  std::printf("[ guardrail ] p99 champion %.3f ms, challenger %.3f ms: %s\n",
              rep->arms[0].model_p99_ms, rep->arms[1].model_p99_ms, rep->reason.c_str());
  EXPECT_GT(rep->arms[1].model_p99_ms, 3 * rep->arms[0].model_p99_ms)
      << "test setup: test_slow.pt should be > 3x slower than the champion";
  EXPECT_EQ(rep->state, ExperimentState::kRolledBack) << rep->reason;
  EXPECT_NE(rep->reason.find("p99"), std::string::npos) << rep->reason;
  EXPECT_DOUBLE_EQ(rep->arms[1].allocation, 0.0);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

}  // namespace
}  // namespace banditd::itest
