// A real daemon's stopping decision reproduced offline: the daemon runs an
// experiment to a decision, looking every 200 rewards (refresh.every_rewards,
// refresh.interval 1h); `bandit-sim export-events` rebuilds the events from
// its decision log and `bandit-sim analyze --rule ... --look-every 200`
// replays them, and so does `analyze` with the log's own look marks (its L
// lines) and champion (its E line) and no --look-every or --arms. The replay
// must name the same winner, decide at the same number of rewards and print
// the same p.
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "banditd/rng.h"
#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"

namespace banditd::itest {
namespace {

constexpr int kLookEvery = 200;
constexpr int kAlikeBatches = 3;

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs bandit-sim with `args`; stdout to `out`, stderr to `out`.err.
int BanditSim(const std::vector<std::string>& args, const std::string& out) {
  std::string cmd = BinDir() + "/bandit-sim";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " > '" + out + "' 2> '" + out + ".err'";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string P6(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", p);
  return buf;
}

struct Case {
  std::string name, yaml_stopping, mode;
  std::vector<std::string> flags;  // the same rule for analyze
  double rate_old, rate_new;
  std::string extra_yaml;  // more keys of the experiment
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ReplayTest : public ::testing::TestWithParam<Case> {};

// Routes and rewards `exp` in batches of kLookEvery until it decides (or
// `max_batches` pass); after each batch, waits until the daemon's tick has
// looked (the 100 ms tick; the p of the status moving, or 600 ms).
void DriveToDecision(Client& api, const Case& c, int max_batches, wire::ExperimentReport* out) {
  Rng rng(20261124);
  double last_p = 1.0;
  for (int batch = 0; batch < max_batches; ++batch) {
    std::vector<std::pair<std::string, double>> items;
    for (int i = 0; i < kLookEvery; ++i) {
      auto r = api.Route({c.name});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      // The first batches pay both arms alike, so the decision typically
      // comes after several looks (and, for Thompson, moved propensities).
      const double rate = r->arm == "new" && batch >= kAlikeBatches ? c.rate_new : c.rate_old;
      items.emplace_back(r->decision, rng.Uniform() < rate ? 1.0 : 0.0);
    }
    auto acked = api.Rewards(items);
    ASSERT_TRUE(acked.ok()) << acked.status().ToString();
    ASSERT_EQ(acked->accepted, static_cast<uint64_t>(kLookEvery));
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    for (;;) {
      auto s = api.GetStatus(c.name);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      *out = *FindReport(*s, c.name);
      if (out->state != ExperimentState::kRunning) return;
      if (out->test && out->test->rule_p_value != last_p) break;
      if (std::chrono::steady_clock::now() > until) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    last_p = out->test ? out->test->rule_p_value : 1.0;
  }
}

TEST_P(ReplayTest, ReplayOfTheExportedEventsReproducesTheDecision) {
  const Case& c = GetParam();
  TempDir dir;
  const std::string exp = "  - name: " + c.name + "\n    mode: " + c.mode +
                          "\n    arms:\n      - name: old\n        champion: true\n"
                          "      - name: new\n    stopping:\n" +
                          c.yaml_stopping +
                          "    refresh: {interval: 1h, every_rewards: " +
                          std::to_string(kLookEvery) + "}\n" + c.extra_yaml;
  const std::string config = WriteConfig(dir.path(), exp);
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path())) << d.LogTail();
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  // The first tick looks once at no data; let it pass before any reward.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  wire::ExperimentReport report;
  DriveToDecision(api, c, 40, &report);
  if (HasFatalFailure()) return;
  ASSERT_EQ(report.state, ExperimentState::kDecided)
      << "p " << (report.test ? report.test->rule_p_value : 1.0) << " after "
      << report.arms[0].n + report.arms[1].n << " rewards";
  ASSERT_TRUE(report.test.has_value());
  uint64_t rewards = 0;
  for (const auto& a : report.arms) rewards += a.n;
  std::cout << "[ daemon   ] " << c.name << ": decided after " << rewards << " rewards, winner "
            << report.winner.value_or("none") << ", p " << P6(report.test->rule_p_value) << ": "
            << report.reason << "\n";
  ASSERT_EQ(d.Stop(), 0);  // flushes the decision log

  const std::string events = dir.path() + "/events.csv";
  ASSERT_EQ(BanditSim({"export-events", dir.path() + "/state", "--experiment", c.name, "--out",
                       events},
                      dir.path() + "/export.out"),
            0)
      << ReadAll(dir.path() + "/export.out.err");
  if (c.mode == "bandit") {
    // The replay is fed the propensities Thompson sampling moved at each look.
    std::set<std::string> propensities;
    std::istringstream lines(ReadAll(events));
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] == '#' || line[0] == 't') continue;
      std::istringstream fields(line);  // t,arm,reward,propensity,look
      std::string field;
      for (int i = 0; i < 4; ++i) std::getline(fields, field, ',');
      propensities.insert(field);
    }
    EXPECT_GT(propensities.size(), 2u);
  }
  std::vector<std::string> args = {"analyze",     events,       "--arms",
                                   "old,new",     "--control",  "old",
                                   "--look-every", std::to_string(kLookEvery)};
  args.insert(args.end(), c.flags.begin(), c.flags.end());
  const std::string text_out = dir.path() + "/analyze.txt";
  ASSERT_EQ(BanditSim(args, text_out), 0) << ReadAll(text_out + ".err");
  const std::string text = ReadAll(text_out);
  std::cout << text;
  const uint64_t look = rewards / kLookEvery;
  EXPECT_EQ(rewards % kLookEvery, 0u);
  EXPECT_NE(text.find("decision: STOP at look " + std::to_string(look) + " (after " +
                      std::to_string(rewards) + " of " + std::to_string(rewards) + " events"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("winner " + (report.winner ? "'" + *report.winner + "'" : "none")),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  p " + P6(report.test->rule_p_value) + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  reason: " + report.reason + "\n"), std::string::npos) << text;

  // The log's own marks: the champion first ('# arms:') and the look column
  // from the rule's L lines, so neither --arms nor --look-every is needed.
  const std::string csv = ReadAll(events);
  EXPECT_NE(csv.find("# arms: old,new\n"), std::string::npos) << csv.substr(0, 400);
  EXPECT_NE(csv.find("t,arm,reward,propensity,look\n"), std::string::npos) << csv.substr(0, 400);
  std::vector<std::string> marked = {"analyze", events};
  marked.insert(marked.end(), c.flags.begin(), c.flags.end());
  const std::string marked_out = dir.path() + "/analyze-marked.txt";
  ASSERT_EQ(BanditSim(marked, marked_out), 0) << ReadAll(marked_out + ".err");
  const std::string marked_text = ReadAll(marked_out);
  EXPECT_NE(marked_text.find("decision: STOP at look " + std::to_string(look) + " (after " +
                             std::to_string(rewards) + " of " + std::to_string(rewards) +
                             " events"),
            std::string::npos)
      << marked_text;
  EXPECT_NE(marked_text.find("\n  p " + P6(report.test->rule_p_value) + "\n"), std::string::npos)
      << marked_text;

  // In full precision (JSON) the p is the daemon's, bit for bit.
  args.push_back("--json");
  const std::string json_out = dir.path() + "/analyze.json";
  ASSERT_EQ(BanditSim(args, json_out), 0) << ReadAll(json_out + ".err");
  const std::string json = ReadAll(json_out);
  const std::string key = "\"p_value\": ";
  const size_t at = json.find(key, json.find("\"decision\": "));
  ASSERT_NE(at, std::string::npos) << json;
  EXPECT_EQ(std::strtod(json.c_str() + at + key.size(), nullptr), report.test->rule_p_value) << json;

  // The command line's refusals: exit code 2 and the reason.
  const std::string bad = dir.path() + "/bad.txt";
  EXPECT_EQ(BanditSim({"analyze", events, "--rule", "peek_daily", "--look-every", "200"}, bad), 2);
  EXPECT_NE(ReadAll(bad + ".err").find("unknown stopping rule 'peek_daily'"), std::string::npos);
  EXPECT_EQ(BanditSim({"analyze", events, "--alpha", "0.1"}, bad), 2);
  EXPECT_NE(ReadAll(bad + ".err").find("--alpha replays events and needs --rule"),
            std::string::npos)
      << ReadAll(bad + ".err");
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ReplayTest,
    ::testing::Values(
        // A/B 50/50 with the mSPRT; its p is the running minimum over looks.
        Case{"ab_sequential",
             "      rule: sequential\n      min_duration: 0\n      params: {alpha: 0.05, tau2: 0.01, min_samples: 100}\n",
             "ab",
             {"--rule", "sequential", "--alpha", "0.05", "--tau2", "0.01", "--param",
              "min_samples=100"},
             0.10,
             0.18,
             ""},
        // Thompson sampling, the champion kept at >= 30% of the traffic: the
        // propensities move at every look.
        Case{"bandit_cs",
             "      rule: bandit_cs\n      min_duration: 0\n      params: {alpha: 0.05, tune_n: 1000, min_samples: 200}\n",
             "bandit",
             {"--rule", "bandit_cs", "--alpha", "0.05", "--param", "tune_n=1000", "--param",
              "min_samples=200"},
             0.10,
             0.25,
             "    traffic: {champion_floor: 0.3}\n"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace banditd::itest
