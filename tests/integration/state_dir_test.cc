// The state directory under accidents an operator can cause or meet: a second
// daemon on the same directory, a full disk (a real tmpfs, filled and freed),
// a snapshot moved away, a flipped byte in the WAL. In every case no
// acknowledged reward is lost or counted twice, and what cannot be recovered
// safely refuses start-up naming what is wrong.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "src/protocol/reply_decoder.h"
#include "src/state/wal.h"
#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"
#include "tests/integration/tmpfs.h"

namespace banditd::itest {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// What the client was told was recorded, per arm.
struct Acked {
  std::map<std::string, uint64_t> n;
  std::map<std::string, double> sum;
  uint64_t total = 0;
  void Add(const std::string& arm, double v) {
    ++n[arm];
    sum[arm] += v;
    ++total;
  }
};

struct Decision {
  std::string id, arm;
  double value = 0;
};

Decision RouteOne(Client& api, int i) {
  auto r = api.Route(RouteArgs("ab"));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return Decision{r.ok() ? r->decision : "", r.ok() ? r->arm : "", (i % 3 == 0) ? 1.0 : 0.0};
}

// Routes and rewards `count` decisions, all of which must be acked.
void RewardAll(Client& api, int count, Acked* acked) {
  for (int i = 0; i < count; ++i) {
    const Decision d = RouteOne(api, i);
    Status s = api.Reward(d.id, d.value);
    ASSERT_TRUE(s.ok()) << s.ToString();
    acked->Add(d.arm, d.value);
  }
}

void ExpectCounts(Client& api, const Acked& acked) {
  auto st = api.GetStatus("ab");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  uint64_t n = 0;
  for (const auto& a : st->experiments[0].arms) {
    EXPECT_EQ(a.n, acked.n.count(a.name) ? acked.n.at(a.name) : 0) << "arm " << a.name;
    EXPECT_DOUBLE_EQ(a.reward_sum, acked.sum.count(a.name) ? acked.sum.at(a.name) : 0.0)
        << "arm " << a.name;
    n += a.n;
  }
  EXPECT_EQ(n, acked.total);
}

// SIGKILL: the state directory as a crash leaves it.
void Kill(DaemonProcess& d) {
  d.Signal(SIGKILL);
  EXPECT_EQ(d.Wait(std::chrono::seconds(5)), -(128 + SIGKILL));
}

// A fresh directory with an A/B experiment of two route-only arms.
class StateDirTest : public ::testing::Test {
 protected:
  TempDir dir;
  const std::string config = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5));
  const std::string state_dir = dir.path() + "/state";
  zmq::context_t ctx;
  Acked acked;
};

// Writes a filler file into `dir` until its file system is full.
void Fill(const std::string& dir) {
  std::FILE* f = std::fopen((dir + "/filler").c_str(), "wb");
  ASSERT_NE(f, nullptr);
  const std::string chunk(4096, 'f');
  while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size()) {
  }
  std::fclose(f);
}
void Free(const std::string& dir) { fs::remove(dir + "/filler"); }

// The metric once /metrics (republished every second) shows at least `min`;
// the last value seen after 10 s otherwise.
double WaitMetric(const std::string& endpoint, const std::string& series, double min) {
  double v = -1;
  for (int i = 0; i < 100; ++i) {
    auto text = HttpGet(endpoint, "/metrics");
    v = text ? MetricValue(*text, series) : -1;
    if (v >= min) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return v;
}

int Banditctl(const std::vector<std::string>& args, const std::string& log) {
  std::string cmd = BinDir() + "/banditctl";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " > '" + log + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A second daemon on the same state_dir exits 2 naming the directory and the
// first one's pid, touches nothing, and the first keeps serving; --check does
// not take the lock.
TEST_F(StateDirTest, SecondDaemonIsRefusedAndTheFirstKeepsServing) {
  DaemonProcess first;
  ASSERT_TRUE(first.Start(config, dir.path())) << first.LogTail();
  const std::string endpoints_before = ReadAll(state_dir + "/endpoints");
  Client api(ctx, first.endpoints().api);
  RewardAll(api, 50, &acked);

  const std::string log = dir.path() + "/second.log";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(RunBanditd({"--config", config}, log), 2);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  std::cout << "[ lock     ] the second daemon exited after " << took.count() << " ms\n";
  const std::string said = ReadAll(log);
  EXPECT_NE(said.find(dir.path() + "/state"), std::string::npos) << said;
  EXPECT_NE(said.find("pid " + std::to_string(first.pid())), std::string::npos) << said;
  EXPECT_EQ(ReadAll(dir.path() + "/state/endpoints"), endpoints_before);

  EXPECT_EQ(RunBanditd({"--config", config, "--check"}, dir.path() + "/check.log"), 0)
      << ReadAll(dir.path() + "/check.log");

  RewardAll(api, 50, &acked);
  ExpectCounts(api, acked);
  EXPECT_EQ(first.Stop(), 0) << first.LogTail();

  DaemonProcess again;  // the lock went with the first process
  ASSERT_TRUE(again.Start(config, dir.path())) << again.LogTail();
  Client api2(ctx, again.endpoints().api);
  ExpectCounts(api2, acked);
  EXPECT_EQ(again.Stop(), 0) << again.LogTail();
}

// A full disk (a real tmpfs): rewards the WAL cannot write are refused with
// the retryable `overloaded` and never acked; a snapshot is an error (admin
// reply and banditctl's exit code); once space is back the WAL takes rewards
// again by itself, the refused ones go through on retry, and the totals equal
// exactly what was acked — also after a SIGTERM whose final snapshot failed
// (exit 1) and a restart.
TEST_F(StateDirTest, FullDiskRefusesRetryablyAndResumesWhenFreed) {
  ASSERT_EQ(::geteuid(), 0u) << "mounting a tmpfs needs root (CI runs as root)";
  SmallTmpfs tmpfs(state_dir, uint64_t{16} << 20);
  ASSERT_TRUE(tmpfs.mounted()) << tmpfs.error();
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path())) << d.LogTail();
    Client api(ctx, d.endpoints().api);
    Client admin(ctx, d.endpoints().admin);
    RewardAll(api, 100, &acked);
    ASSERT_TRUE(admin.Admin(wire::Op::kSnapshot).ok());

    Fill(tmpfs.dir());
    std::vector<Decision> refused;
    int internal = 0;
    for (int i = 0; i < 400; ++i) {
      const Decision dec = RouteOne(api, i);
      const Status s = api.Reward(dec.id, dec.value);
      if (s.ok()) {
        acked.Add(dec.arm, dec.value);
      } else if (s.code() == Code::kOverloaded) {
        refused.push_back(dec);
      } else {
        ++internal;
        ADD_FAILURE() << "reward " << i << ": " << s.ToString();
      }
    }
    EXPECT_EQ(internal, 0);
    ASSERT_FALSE(refused.empty()) << "the full disk refused nothing";
    std::cout << "[ disk     ] full: " << refused.size()
              << " of 400 rewards refused (overloaded)\n";

    Status snap = admin.Admin(wire::Op::kSnapshot);
    EXPECT_FALSE(snap.ok()) << "a snapshot on a full disk reported success";
    const std::string ctl_log = dir.path() + "/ctl.log";
    EXPECT_NE(Banditctl({"--admin", d.endpoints().admin, "snapshot"}, ctl_log), 0)
        << ReadAll(ctl_log);
    EXPECT_GE(WaitMetric(d.endpoints().metrics, "banditd_snapshot_failures_total", 2), 2);
    EXPECT_GE(WaitMetric(d.endpoints().metrics, "banditd_wal_dropped_records_total", 1), 1);

    Free(tmpfs.dir());
    // The WAL resumes by itself: the refused rewards go through on retry.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    size_t next = 0;
    while (next < refused.size() && std::chrono::steady_clock::now() < deadline) {
      const Status s = api.Reward(refused[next].id, refused[next].value);
      if (s.ok()) {
        acked.Add(refused[next].arm, refused[next].value);
        ++next;
      } else {
        ASSERT_EQ(s.code(), Code::kOverloaded) << s.ToString();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    ASSERT_EQ(next, refused.size()) << "the WAL did not resume after space came back";
    RewardAll(api, 50, &acked);
    ExpectCounts(api, acked);
    EXPECT_GE(WaitMetric(d.endpoints().metrics, "banditd_wal_resumed_total", 1), 1);
    EXPECT_EQ(WaitMetric(d.endpoints().metrics, "banditd_wal_healthy", 1), 1);

    // SIGTERM with the disk full again: the final snapshot fails: exit 1.
    Fill(tmpfs.dir());
    EXPECT_EQ(d.Stop(), 1) << d.LogTail();
    Free(tmpfs.dir());
  }
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path())) << d.LogTail();
  Client api(ctx, d.endpoints().api);
  ExpectCounts(api, acked);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

// Snapshot moved away (as an operator might do with a damaged one): the
// previous generation and its WAL bring everything back; with both
// generations gone, start-up refuses instead of rolling back.
TEST_F(StateDirTest, MovedSnapshotDoesNotRollBack) {
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path())) << d.LogTail();
    Client api(ctx, d.endpoints().api);
    Client admin(ctx, d.endpoints().admin);
    for (int round = 0; round < 3; ++round) {
      RewardAll(api, 100, &acked);
      ASSERT_TRUE(admin.Admin(wire::Op::kSnapshot).ok());
    }
    RewardAll(api, 100, &acked);
    Kill(d);
  }
  fs::rename(state_dir + "/snapshot", dir.path() + "/snapshot.moved");
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path())) << d.LogTail();
    EXPECT_NE(d.LogTail(20000).find("snapshot.prev"), std::string::npos);
    Client api(ctx, d.endpoints().api);
    ExpectCounts(api, acked);
    Kill(d);
  }
  fs::remove(state_dir + "/snapshot");
  fs::rename(state_dir + "/snapshot.prev", dir.path() + "/snapshot.prev.moved");
  const std::string log = dir.path() + "/refused.log";
  EXPECT_EQ(RunBanditd({"--config", config}, log), 1);
  const std::string said = ReadAll(log);
  EXPECT_NE(said.find("no snapshot"), std::string::npos) << said;
  EXPECT_NE(said.find("backup"), std::string::npos) << said;
}

// A flipped bit in the length of a record in the middle of a segment, after a
// SIGKILL: start-up refuses naming the file and offset, cuts nothing; with
// --repair it starts, keeps the dropped bytes in quarantine/ and says how
// many records they hold.
TEST_F(StateDirTest, FlippedLengthRefusesStartAndRepairQuarantines) {
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path())) << d.LogTail();
    Client api(ctx, d.endpoints().api);
    RewardAll(api, 200, &acked);
    Kill(d);
  }
  std::string segment;
  for (const auto& e : fs::directory_iterator(state_dir)) {
    uint64_t id;
    if (state::ParseWalSegmentName(e.path().filename().string(), &id) && fs::file_size(e) > 0) {
      segment = e.path().string();
    }
  }
  ASSERT_FALSE(segment.empty());
  const std::string bytes = ReadAll(segment);
  auto parsed = state::ParseWal(bytes, segment, false);
  ASSERT_TRUE(parsed.ok());
  ASSERT_GE(parsed->records.size(), 150u);
  const uint64_t victim = parsed->records[100].offset;
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(victim + 2));
    f.put('\x01');
  }
  const std::string log = dir.path() + "/refused.log";
  EXPECT_EQ(RunBanditd({"--config", config}, log), 1);
  const std::string said = ReadAll(log);
  EXPECT_NE(said.find(fs::path(segment).filename().string()), std::string::npos) << said;
  EXPECT_NE(said.find("offset " + std::to_string(victim)), std::string::npos) << said;
  EXPECT_EQ(fs::file_size(segment), bytes.size()) << "start-up cut the log it refused";

  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path(), {"--repair"})) << d.LogTail();
  const std::string tail = d.LogTail(20000);
  EXPECT_NE(tail.find("quarantine"), std::string::npos) << tail;
  EXPECT_NE(tail.find("intact record(s)"), std::string::npos) << tail;
  ASSERT_TRUE(fs::exists(state_dir + "/quarantine"));
  uint64_t kept = 0;
  for (const auto& e : fs::directory_iterator(state_dir + "/quarantine")) kept += fs::file_size(e);
  EXPECT_EQ(kept, bytes.size() - victim);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

// A SIGTERM the moment the endpoints file appears (as a supervisor may send
// it) is a clean stop with a final snapshot, never death by the signal.
TEST_F(StateDirTest, SigtermRightAfterStartIsACleanStop) {
  for (int i = 0; i < 5; ++i) {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path())) << d.LogTail();
    EXPECT_EQ(d.Stop(), 0) << "start " << i << ": " << d.LogTail();
  }
}

}  // namespace
}  // namespace banditd::itest
