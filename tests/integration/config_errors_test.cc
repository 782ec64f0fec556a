// Configurations that would crash the daemon or leave it unable to restart:
// `banditd --check` and start-up refuse each with the config key to fix (or,
// for saved state that does not fit the config, with what to do), and
// `metrics: ""` runs the daemon without a metrics endpoint.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

// Replaces the first `from` after the `nth` (0-based) earlier match in `path`.
void Replace(const std::string& path, const std::string& from, const std::string& to, int nth = 0) {
  std::string text = ReadFile(path);
  size_t at = text.find(from);
  for (int i = 0; i < nth && at != std::string::npos; ++i) at = text.find(from, at + 1);
  ASSERT_NE(at, std::string::npos) << from << " in " << text;
  text.replace(at, from.size(), to);
  std::ofstream(path) << text;
}

// Exit code of `banditd args...`, and its output.
std::pair<int, std::string> RunAndRead(const std::vector<std::string>& args,
                                       const std::string& log) {
  const int rc = RunBanditd(args, log);
  return {rc, ReadFile(log)};
}

TEST(ConfigErrorsTest, CheckRunsEachModelOnItsInputShapeAndNamesTheKey) {
  TempDir dir;
  const std::string config =
      WriteConfig(dir.path(), TwoModels("m", "ab", "champion.pt", "challenger.pt"));
  auto [ok_rc, ok_out] = RunAndRead({"--config", config, "--check"}, dir.path() + "/ok.log");
  EXPECT_EQ(ok_rc, 0) << ok_out;
  // The challenger takes [B, 8]; declare [5].
  Replace(config, "input_shape: [8]", "input_shape: [5]", /*nth=*/1);
  auto [rc, out] = RunAndRead({"--config", config, "--check"}, dir.path() + "/check.log");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("experiments[0].arms[1].model.input_shape: the model does not run on "
                     "input_shape [5]"),
            std::string::npos)
      << out;
  // Start-up names the same key, binds nothing and writes no endpoints.
  auto [start_rc, start_out] = RunAndRead({"--config", config}, dir.path() + "/start.log");
  EXPECT_NE(start_rc, 0);
  EXPECT_NE(start_out.find("experiments[0].arms[1].model.input_shape"), std::string::npos)
      << start_out;
  EXPECT_FALSE(fs::exists(dir.path() + "/state/endpoints"));
}

TEST(ConfigErrorsTest, CheckNamesThePathOfAFileThatIsNotTorchScript) {
  TempDir dir;
  const std::string config =
      WriteConfig(dir.path(), TwoModels("m", "ab", "champion.pt", "challenger.pt"));
  std::ofstream(dir.path() + "/broken.pt") << "not a model";
  Replace(config, "path: challenger.pt", "path: " + dir.path() + "/broken.pt");
  auto [rc, out] = RunAndRead({"--config", config, "--check"}, dir.path() + "/check.log");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("experiments[0].arms[1].model.path"), std::string::npos) << out;
}

// Socket inodes of `pid` that are listening TCP sockets (IPv4 or IPv6).
std::set<std::string> ListeningTcpInodes(pid_t pid) {
  std::set<std::string> mine;
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& e : fs::directory_iterator(fd_dir)) {
    std::error_code ec;
    const std::string target = fs::read_symlink(e.path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0) mine.insert(target.substr(8, target.size() - 9));
  }
  std::set<std::string> listening;
  for (const char* table : {"tcp", "tcp6"}) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/net/" + table);
    std::string line;
    std::getline(f, line);  // header
    while (std::getline(f, line)) {
      std::istringstream row(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      row >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (state == "0A" && mine.count(inode)) listening.insert(inode);
    }
  }
  return listening;
}

TEST(ConfigErrorsTest, EmptyMetricsRunsWithoutAMetricsEndpoint) {
  TempDir dir;
  const std::string config = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5));
  Replace(config, "  metrics: 127.0.0.1:0\n", "  metrics: \"\"\n");
  auto [rc, out] = RunAndRead({"--config", config, "--check"}, dir.path() + "/check.log");
  EXPECT_EQ(rc, 0) << out;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path()));
  // The endpoints file says so: an empty metrics= line, still the last.
  const std::string endpoints = ReadFile(dir.path() + "/state/endpoints");
  EXPECT_TRUE(endpoints.ends_with("\nmetrics=\n")) << endpoints;
  EXPECT_EQ(d.endpoints().metrics, "");
  zmq::context_t ctx;
  Client c(ctx, d.endpoints().api);
  ASSERT_TRUE(c.Route({"ab"}).ok());
  // ipc sockets only: no TCP port is listening in the process.
  EXPECT_TRUE(ListeningTcpInodes(d.pid()).empty());
  EXPECT_EQ(d.Stop(), 0);
}

// --check refuses what start-up refuses: a non-loopback ZeroMQ endpoint
// without CURVE, and /metrics (never under CURVE) off loopback; both pass
// with --insecure.
TEST(ConfigErrorsTest, CheckRefusesExposedEndpointsLikeStartUp) {
  TempDir dir;
  const std::string config = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5));
  const std::string api = ReadFile(config).substr(ReadFile(config).find("  api: "));
  Replace(config, api.substr(0, api.find('\n') + 1), "  api: tcp://0.0.0.0:*\n");
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--check"}, std::vector<std::string>{}}) {
    std::vector<std::string> args = {"--config", config};
    args.insert(args.end(), extra.begin(), extra.end());
    auto [rc, out] = RunAndRead(args, dir.path() + "/refused.log");
    EXPECT_EQ(rc, 2) << out;
    EXPECT_NE(out.find("tcp://0.0.0.0:* without CURVE"), std::string::npos) << out;
  }
  auto [rc, out] =
      RunAndRead({"--config", config, "--check", "--insecure"}, dir.path() + "/insecure.log");
  EXPECT_EQ(rc, 0) << out;

  TempDir dir2;
  const std::string config2 = WriteConfig(dir2.path(), AbRouteOnly("ab", 0.5, 0.5));
  Replace(config2, "  metrics: 127.0.0.1:0\n", "  metrics: 0.0.0.0:0\n");
  auto [rc2, out2] = RunAndRead({"--config", config2, "--check"}, dir2.path() + "/check.log");
  EXPECT_EQ(rc2, 2) << out2;
  EXPECT_NE(out2.find("/metrics on 0.0.0.0:0"), std::string::npos) << out2;
  auto [rc3, out3] = RunAndRead({"--config", config2}, dir2.path() + "/start.log");
  EXPECT_EQ(rc3, 2) << out3;
  EXPECT_FALSE(fs::exists(dir2.path() + "/state/endpoints"));
}

TEST(ConfigErrorsTest, MalformedMetricsIsRefusedWithTheKeyPath) {
  TempDir dir;
  const std::string config = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5));
  Replace(config, "  metrics: 127.0.0.1:0\n", "  metrics: \"127.0.0.1: 80\"\n");
  auto [rc, out] = RunAndRead({"--config", config}, dir.path() + "/start.log");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("sockets.metrics (line "), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir.path() + "/state/endpoints"));
}

TEST(ConfigErrorsTest, AGaussianMetricNeedsAPolicyForRealRewards) {
  TempDir dir;
  const std::string exp =
      "  - name: g\n    metric: gaussian\n    policy: thompson\n"
      "    arms:\n      - name: a\n      - name: b\n";
  const std::string config = WriteConfig(dir.path(), exp);
  auto [rc, out] = RunAndRead({"--config", config, "--check"}, dir.path() + "/check.log");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("experiments[0].policy (line "), std::string::npos) << out;
  EXPECT_NE(out.find("thompson takes rewards in [0, 1]; metric gaussian"), std::string::npos)
      << out;
  EXPECT_NE(out.find("thompson_gaussian"), std::string::npos) << out;
  Replace(config, "policy: thompson\n", "policy: thompson_gaussian\n");
  auto [fixed_rc, fixed_out] =
      RunAndRead({"--config", config, "--check"}, dir.path() + "/fixed.log");
  EXPECT_EQ(fixed_rc, 0) << fixed_out;
}

// An experiment with state whose arm list grew: start-up says what to do, and
// what it says works.
TEST(ConfigErrorsTest, AnArmAddedToAnExperimentWithStateNamesTheRemedy) {
  TempDir dir;
  const std::string two = "  - name: e\n    mode: ab\n    arms:\n      - name: a\n      - name: b\n" + kNoStopAb;
  const std::string config = WriteConfig(dir.path(), two);
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path()));
    zmq::context_t ctx;
    Client c(ctx, d.endpoints().api);
    auto r = c.Route({"e"});
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(c.Reward(r->decision, 1.0).ok());
    ASSERT_EQ(d.Stop(), 0);  // a snapshot of `e` with 2 arms
  }
  Replace(config, "      - name: b\n", "      - name: b\n      - name: c\n");
  auto [rc, out] = RunAndRead({"--config", config}, dir.path() + "/grown.log");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("snapshot of experiment 'e' has 2 arms, the config has 3"), std::string::npos)
      << out;
  EXPECT_NE(out.find("give the experiment a new name to start it with fresh state"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("move state_dir aside"), std::string::npos) << out;
  // The remedy: under a new name the experiment starts fresh.
  Replace(config, "  - name: e\n", "  - name: e2\n");
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path())) << ReadFile(dir.path() + "/grown.log");
  zmq::context_t ctx;
  Client c(ctx, d.endpoints().api);
  auto st = c.GetStatus("e2");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(d.Stop(), 0);
}

}  // namespace
}  // namespace banditd::itest
