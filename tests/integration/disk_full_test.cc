// The decision log on a small real filesystem: state_dir on a 16 MiB tmpfs
// with an 8 MiB decision-log reserve. Routing fills the tmpfs with decision
// lines until the log stops at the reserve; acked rewards (the WAL, in the same
// directory) are still acknowledged; the stop is counted in /metrics and
// logged once; deleting old decision-log files brings the log back by itself.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"
#include "tests/integration/tmpfs.h"

namespace banditd::itest {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMiB = uint64_t{1} << 20;

double Metric(const DaemonProcess& d, const std::string& series) {
  auto text = HttpGet(d.endpoints().metrics, "/metrics");
  return text ? MetricValue(*text, series) : -1;
}

// Polls /metrics (published once a second) until `series` equals `want`.
bool WaitMetric(const DaemonProcess& d, const std::string& series, double want,
                std::chrono::seconds timeout = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Metric(d, series) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Routes `n` requests pipelined in windows; the decision ids, in order.
std::vector<std::string> RouteMany(Client& api, int n) {
  std::vector<std::string> ids;
  constexpr int kWindow = 500;
  for (int start = 0; start < n; start += kWindow) {
    const int m = std::min(kWindow, n - start);
    for (int i = 0; i < m; ++i) api.Send(RouteFrame({"ab"}, IdOf(static_cast<uint32_t>(i))));
    for (int i = 0; i < m; ++i) {
      auto reply = api.Recv();
      if (!reply) return ids;
      auto r = protocol::DecodeRouteReply(*reply);
      if (r.ok()) ids.push_back(r->decision);
    }
  }
  return ids;
}

std::vector<std::string> DecisionFiles(const std::string& state) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(state)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("decisions-")) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(DiskFullTest, DecisionLogStopsAtTheReserveAcksContinueAndItResumes) {
  if (!SmallTmpfs::CanMount()) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir dir;
  const std::string state = dir.path() + "/state";
  SmallTmpfs tmpfs(state, 16 * kMiB);
  ASSERT_TRUE(tmpfs.mounted()) << tmpfs.error();
  ConfigOptions o;
  o.extra_yaml = "decision_log:\n  min_free_bytes: 8MiB\n  rotate_bytes: 1MiB\n";
  zmq::context_t ctx;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5), o), dir.path()));
  Client api(ctx, d.endpoints().api);
  const std::string stopped = "banditd_decision_log_stopped{reason=\"disk_reserve\"}";
  const std::string dropped = "banditd_decision_log_dropped_total{reason=\"disk_reserve\"}";
  ASSERT_TRUE(WaitMetric(d, "banditd_decision_log_writing", 1));

  // Route until the decision log has stopped: about 8 MiB of lines.
  std::vector<std::string> ids;
  for (int round = 0; round < 200 && Metric(d, stopped) != 1; ++round) {
    auto more = RouteMany(api, 5000);
    ASSERT_EQ(more.size(), 5000u) << d.LogTail();
    ids.insert(ids.end(), more.begin(), more.end());
  }
  ASSERT_EQ(Metric(d, stopped), 1) << d.LogTail();
  EXPECT_EQ(Metric(d, "banditd_decision_log_writing"), 0);
  const uint64_t free_when_stopped = tmpfs.FreeBytes();
  EXPECT_GE(free_when_stopped, 7 * kMiB);  // the reserve, less what the WAL took since
  EXPECT_LT(free_when_stopped, 9 * kMiB + 512 * 1024);
  std::printf("[ disk ] stopped after %zu routes, %llu bytes free\n", ids.size(),
              static_cast<unsigned long long>(free_when_stopped));

  // Routes and acked rewards go on; the dropped lines are counted.
  for (int i = 0; i < 200; ++i) {
    Status s = api.Reward(ids[static_cast<size_t>(i)], 1.0);
    ASSERT_TRUE(s.ok()) << i << ": " << s.ToString();
  }
  const auto while_stopped = RouteMany(api, 2000);
  ASSERT_EQ(while_stopped.size(), 2000u);
  ASSERT_TRUE(WaitMetric(d, "banditd_rewards_total{result=\"accepted\"}", 200));
  double lost = -1;
  for (int i = 0; i < 50 && lost < 2000; ++i) {
    lost = Metric(d, dropped);
    if (lost < 2000) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GE(lost, 2000);
  EXPECT_EQ(Metric(d, "banditd_wal_healthy"), 1);
  EXPECT_EQ(Metric(d, "banditd_decision_log_removed_files_total"), 0);

  // An operator deletes the old decision-log files (all but the one being
  // written): the log resumes by itself and writes new decisions again.
  const auto files = DecisionFiles(state);
  ASSERT_GE(files.size(), 3u);
  for (size_t i = 0; i + 1 < files.size(); ++i) fs::remove(state + "/" + files[i]);
  ASSERT_TRUE(WaitMetric(d, "banditd_decision_log_writing", 1)) << d.LogTail();
  EXPECT_EQ(Metric(d, stopped), 0);
  const auto after = RouteMany(api, 100);
  ASSERT_EQ(after.size(), 100u);
  Status s = api.Reward(after.back(), 0.0);
  EXPECT_TRUE(s.ok()) << s.ToString();
  bool written = false;
  for (int i = 0; i < 50 && !written; ++i) {  // flushed within a second
    std::string all;
    for (const auto& f : DecisionFiles(state)) all += ReadText(state + "/" + f);
    written = all.find(after.back()) != std::string::npos;
    if (!written) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (written) {
      EXPECT_EQ(all.find(while_stopped.back()), std::string::npos);    // dropped, not written
      EXPECT_NE(all.find(" lines dropped from "), std::string::npos);  // the gap is noted
    }
  }
  EXPECT_TRUE(written);

  // One loud line when it stopped, one when it resumed.
  const std::string log = d.LogTail(1 << 20);
  EXPECT_EQ(Count(log, "decision log stopped"), 1u) << log;
  EXPECT_EQ(Count(log, "decision log writing again after disk_reserve"), 1u) << log;
  EXPECT_EQ(d.Stop(), 0);
}

}  // namespace
}  // namespace banditd::itest
