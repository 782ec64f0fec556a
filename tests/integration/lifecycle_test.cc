// Hot reload under load, and SIGTERM with requests in flight, against the
// real daemon. Also prints the route+inference round-trip rate
// (informational, not asserted).
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "src/model/demo_models.h"
#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {
namespace fs = std::filesystem;

std::vector<float> Input(int i) {
  std::vector<float> x(8);
  for (int k = 0; k < 8; ++k) x[k] = static_cast<float>(std::cos(0.37 * i + 1.3 * k));
  return x;
}

// Replaces `to` with a copy of `from` atomically (copy, then rename).
void Install(const fs::path& from, const fs::path& to) {
  const fs::path tmp = to.string() + ".tmp";
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
  fs::rename(tmp, to);
}

// Starts an A/B experiment "ctr" whose champion and challenger model files
// are copies in `models` (inside the test's dir), so a test can replace them.
::testing::AssertionResult StartWithOwnModels(const TempDir& dir, const fs::path& models,
                                              DaemonProcess& d) {
  fs::create_directories(models);
  Install(ModelDir() + "/champion.pt", models / "champion.pt");
  Install(ModelDir() + "/challenger.pt", models / "challenger.pt");
  ConfigOptions o;
  o.model_dir = models;
  return d.Start(WriteConfig(dir.path(), TwoModels("ctr", "ab", "champion.pt", "challenger.pt"), o),
                 dir.path());
}

TEST(LifecycleTest, ReloadUnderLoadFailsNoRequest) {
  TempDir dir;
  const fs::path models = dir.path() + "/models";
  DaemonProcess d;
  ASSERT_TRUE(StartWithOwnModels(dir, models, d));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  Client admin(ctx, d.endpoints().admin);

  // Route + inference round-trip rate, one request at a time (informational).
  {
    constexpr int kSync = 2000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kSync; ++i) {
      auto r = api.Route({"ctr", std::nullopt, Input(i)});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_TRUE(r->output.has_value());
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "[ rate ] route+inference (logistic, 8 features), synchronous round trips over ipc: "
        "%.0f req/s (%d in %.3f s)\n",
        kSync / secs, kSync, secs);
  }
  const uint64_t epoch0 = FindReport(*api.GetStatus("ctr"), "ctr")->epoch;

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::string first_failure;
  std::thread load([&] {
    Client c(ctx, d.endpoints().api);
    for (int i = 0; !stop.load(); ++i) {
      auto r = c.Route({"ctr", std::nullopt, Input(i)});
      if (r.ok() && r->output.has_value() && r->output->size() == 1) {
        ++ok;
      } else {
        if (failed++ == 0) first_failure = r.ok() ? "no output" : r.status().ToString();
      }
    }
  });
  constexpr int kReloads = 6;
  for (int k = 0; k < kReloads; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    // Odd reloads put the champion's file in the challenger's place, even
    // ones put it back: each reload loads a different file.
    Install(ModelDir() + (k % 2 == 0 ? "/champion.pt" : "/challenger.pt"),
            models / "challenger.pt");
    Status s = admin.Admin(wire::Op::kReload, "ctr");
    EXPECT_TRUE(s.ok()) << "reload " << k << ": " << s.ToString();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  stop = true;
  load.join();
  std::printf("[ reload ] %d reloads; %d requests served during them, %d failed\n", kReloads,
              ok.load(), failed.load());
  EXPECT_EQ(failed.load(), 0) << first_failure;
  EXPECT_GT(ok.load(), 100);
  // Each reload changed the challenger's file: a new epoch each time.
  EXPECT_EQ(FindReport(*api.GetStatus("ctr"), "ctr")->epoch, epoch0 + kReloads);
  // A reload of an experiment without models, or of an unknown one, is refused.
  EXPECT_EQ(admin.Admin(wire::Op::kReload, "nope").code(), Code::kUnknownExperiment);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

// A model file replaced while the daemon was down: the next start-up sees its
// sha256 differ from the snapshot's and starts a new epoch, as a reload of
// the same change does; a start with the files unchanged keeps the epoch.
TEST(LifecycleTest, ModelFileReplacedBetweenRestartsStartsANewEpoch) {
  TempDir dir;
  const fs::path models = dir.path() + "/models";
  zmq::context_t ctx;
  uint64_t epoch0 = 0;
  {
    DaemonProcess d;
    ASSERT_TRUE(StartWithOwnModels(dir, models, d)) << d.LogTail();
    Client api(ctx, d.endpoints().api);
    for (int i = 0; i < 50; ++i) {
      auto r = api.Route({"ctr", std::nullopt, Input(i)});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_TRUE(api.Reward(r->decision, 1.0).ok());
    }
    epoch0 = FindReport(*api.GetStatus("ctr"), "ctr")->epoch;
    ASSERT_EQ(d.Stop(), 0) << d.LogTail();
  }
  const std::string config = dir.path() + "/banditd.yaml";
  {
    DaemonProcess d;  // unchanged files: same epoch, counts kept
    ASSERT_TRUE(d.Start(config, dir.path())) << d.LogTail();
    Client api(ctx, d.endpoints().api);
    const auto* r = FindReport(*api.GetStatus("ctr"), "ctr");
    EXPECT_EQ(r->epoch, epoch0);
    EXPECT_EQ(r->arms[0].n + r->arms[1].n, 50u);
    ASSERT_EQ(d.Stop(), 0) << d.LogTail();
  }
  Install(ModelDir() + "/champion.pt", models / "challenger.pt");  // a different file
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path())) << d.LogTail();
  Client api(ctx, d.endpoints().api);
  const auto status = api.GetStatus("ctr");
  ASSERT_TRUE(status.ok());
  const auto* r = FindReport(*status, "ctr");
  EXPECT_EQ(r->epoch, epoch0 + 1);
  EXPECT_EQ(r->arms[0].n + r->arms[1].n, 0u) << "the old file's statistics were kept";
  const std::string log = d.LogTail(20000);
  EXPECT_NE(log.find("model files changed since the last run (challenger"), std::string::npos)
      << log;
  ASSERT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(LifecycleTest, FailedReloadKeepsEveryOldModel) {
  TempDir dir;
  const fs::path models = dir.path() + "/models";
  DaemonProcess d;
  ASSERT_TRUE(StartWithOwnModels(dir, models, d));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  Client admin(ctx, d.endpoints().admin);
  const auto x = Input(3);
  const double champion_p = model::demo::ClickProbability(model::demo::kChampion, x.data());
  const double challenger_p = model::demo::ClickProbability(model::demo::kChallenger, x.data());
  ASSERT_GT(std::abs(champion_p - challenger_p), 1e-3);
  auto champion_output = [&]() -> double {
    auto r = api.Route({"ctr", std::nullopt, x, "champion"});
    return r.ok() && r->output ? (*r->output)[0] : -1.0;
  };
  EXPECT_NEAR(champion_output(), champion_p, 1e-5);
  const uint64_t epoch0 = FindReport(*api.GetStatus("ctr"), "ctr")->epoch;

  // A valid new file for the champion arm, a broken one for the challenger:
  // the reload fails as a whole and neither arm changes.
  Install(ModelDir() + "/challenger.pt", models / "champion.pt");
  {
    std::ofstream broken(models / "challenger.pt", std::ios::trunc);
    broken << "this is not a TorchScript archive";
  }
  Status s = admin.Admin(wire::Op::kReload, "ctr");
  EXPECT_FALSE(s.ok());
  std::printf("[ reload ] broken file: %s\n", s.ToString().c_str());
  EXPECT_NEAR(champion_output(), champion_p, 1e-5) << "the champion's model changed";
  EXPECT_EQ(FindReport(*api.GetStatus("ctr"), "ctr")->epoch, epoch0);

  // Repaired: both load, the champion arm now runs the new file, new epoch.
  Install(ModelDir() + "/challenger.pt", models / "challenger.pt");
  EXPECT_TRUE(admin.Admin(wire::Op::kReload, "ctr").ok());
  EXPECT_NEAR(champion_output(), challenger_p, 1e-5);
  EXPECT_EQ(FindReport(*api.GetStatus("ctr"), "ctr")->epoch, epoch0 + 1);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(LifecycleTest, OverloadIsAnsweredAndReloadThreadsAreReaped) {
  TempDir dir;
  ConfigOptions o;
  o.max_pending_inference = 8;
  o.workers = 1;
  DaemonProcess d;
  ASSERT_TRUE(
      d.Start(WriteConfig(dir.path(), TwoModels("slow", "ab", "test_slow.pt", "test_slow.pt"), o),
              dir.path()));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  constexpr int kBurst = 300;
  for (int i = 0; i < kBurst; ++i) api.Send(RouteFrame({"slow", std::nullopt, Input(i)}));
  int ok = 0, overloaded = 0, other = 0;
  for (int i = 0; i < kBurst; ++i) {
    auto reply = api.Recv();
    if (!reply) break;
    const Code c = ReplyCode(reply);
    ok += c == Code::kOk;
    overloaded += c == Code::kOverloaded;
    other += c != Code::kOk && c != Code::kOverloaded;
  }
  std::printf("[ overload ] %d requests at once, queue 8: %d served, %d overloaded\n", kBurst, ok,
              overloaded);
  EXPECT_EQ(ok + overloaded, kBurst) << other << " other replies";
  EXPECT_GT(overloaded, 0);
  EXPECT_GE(ok, 8);

  // Each reload runs on its own thread; finished ones must not pile up.
  auto vm_kib = [&] {
    std::ifstream f("/proc/" + std::to_string(d.pid()) + "/status");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("VmSize:", 0) == 0) return std::strtol(line.c_str() + 7, nullptr, 10);
    }
    return -1L;
  };
  Client admin(ctx, d.endpoints().admin);
  ASSERT_TRUE(admin.Admin(wire::Op::kReload, "slow").ok());
  const long before = vm_kib();
  constexpr int kReloads = 30;
  for (int i = 0; i < kReloads; ++i) ASSERT_TRUE(admin.Admin(wire::Op::kReload, "slow").ok());
  const long after = vm_kib();
  std::printf("[ reload ] VmSize %ld KiB -> %ld KiB over %d reloads\n", before, after, kReloads);
  // An unjoined thread keeps its stack mapping (8 MiB by default) forever.
  EXPECT_LT(after - before, 64 * 1024);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(LifecycleTest, SigintDuringReloadExitsCleanly) {
  TempDir dir;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(
      WriteConfig(dir.path(), TwoModels("ctr", "ab", "champion.pt", "test_slow.pt")), dir.path()));
  zmq::context_t ctx;
  Client admin(ctx, d.endpoints().admin);
  admin.Send(AdminFrame(wire::Op::kReload, "ctr"));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  d.Signal(SIGINT);
  // The reload was sent before the signal: it is answered.
  EXPECT_EQ(ReplyCode(admin.Recv(5000)), Code::kOk);
  std::chrono::milliseconds took{};
  EXPECT_EQ(d.Wait(std::chrono::seconds(5), &took), 0) << d.LogTail();
  std::printf("[ sigint ] exit %lld ms after SIGINT during a reload\n",
              static_cast<long long>(took.count()));
}

// SIGTERM while inference, acked rewards and route-only requests are queued:
// every request gets its reply and every reward is in the state. With
// `io_threads` > 1 the client sends to every api endpoint in turn, so the
// extra I/O threads have requests in flight of every kind too.
void SigtermWithRequestsInFlightLosesNone(int io_threads) {
  TempDir dir;
  ConfigOptions o;
  o.durability = "always";
  o.io_threads = io_threads;
  const std::string config = WriteConfig(
      dir.path(),
      AbRouteOnly("ab", 0.5, 0.5) + TwoModels("slow", "ab", "champion.pt", "test_slow.pt"), o);
  zmq::context_t ctx;
  std::vector<std::string> decisions;
  std::set<std::string> acked;
  constexpr int kRewards = 400, kInferences = 200, kRouteOnly = 2000;
  constexpr int kRoutes = kInferences + kRouteOnly;
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path()));
    Client api(ctx, d.endpoints().api);
    for (const auto& ep : d.endpoints().api_extra) api.socket().connect(ep);
    for (int i = 0; i < kRewards; ++i) {
      auto r = api.Route({"ab"});
      ASSERT_TRUE(r.ok());
      decisions.push_back(r->decision);
    }
    // Pipeline: inference requests (half on the slow model) and acked
    // rewards, then SIGTERM while they are being served.
    static_assert(kRewards == 2 * kInferences);
    for (int i = 0; i < kInferences; ++i) {
      api.Send(RouteFrame({"slow", std::nullopt, Input(i)}, IdOf(static_cast<uint32_t>(i))));
      api.Send(RewardFrame(decisions[i], 1.0, IdOf(static_cast<uint32_t>(100000 + i))));
      api.Send(RewardFrame(decisions[i + kInferences], 0.0,
                           IdOf(static_cast<uint32_t>(100000 + i + kInferences))));
    }
    // Then a burst of route-only requests, still queued when the signal comes.
    for (int i = 0; i < kRouteOnly; ++i) {
      api.Send(RouteFrame({"ab", "u" + std::to_string(i)}, IdOf(static_cast<uint32_t>(1000 + i))));
    }
    // Let the frames leave this process (ipc); the daemon is still serving them.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    d.Signal(SIGTERM);
    const auto signalled = std::chrono::steady_clock::now();
    int exit_code = -1;
    std::chrono::milliseconds took{};
    std::thread waiter([&] { exit_code = d.Wait(std::chrono::seconds(5), &took); });
    int routes_ok = 0, other = 0, after_signal = 0;
    std::string first_error;
    while (routes_ok + static_cast<int>(acked.size()) + other < kRoutes + kRewards) {
      auto reply = api.Recv(3000);
      if (!reply) break;
      // Replies sent before the signal are already queued here; count the
      // rest as "in flight at the signal" (an upper bound of the queue lag).
      after_signal += std::chrono::steady_clock::now() - signalled > std::chrono::milliseconds(2);
      if (auto r = protocol::DecodeRouteReply(*reply); r.ok() && !r->decision.empty()) {
        ++routes_ok;
        continue;
      }
      auto rr = protocol::DecodeOkReply(*reply);
      const int64_t n = IdNumber(ReplyId(*reply));
      if (rr.ok() && n >= 100000 && n - 100000 < static_cast<int64_t>(decisions.size())) {
        acked.insert(decisions[n - 100000]);
        continue;
      }
      if (other++ == 0) first_error = rr.ToString();
    }
    waiter.join();
    EXPECT_EQ(exit_code, 0) << d.LogTail();
    EXPECT_LT(took.count(), 5000);
    std::printf(
        "[ sigterm ] exit %lld ms after SIGTERM; %d/%d routes answered, %zu/%d rewards acked, "
        "%d replies came > 2 ms after the signal\n",
        static_cast<long long>(took.count()), routes_ok, kRoutes, acked.size(), kRewards,
        after_signal);
    EXPECT_EQ(routes_ok, kRoutes) << "every route request sent before SIGTERM gets a reply";
    EXPECT_EQ(other, 0) << first_error;
  }
  // Every reward sent before the signal is in the state: acked or not, a
  // second reward for it is a duplicate.
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path()));
  Client api(ctx, d.endpoints().api);
  auto st = api.GetStatus("ab");
  ASSERT_TRUE(st.ok());
  uint64_t n = 0;
  double sum = 0;
  for (const auto& a : st->experiments[0].arms) {
    n += a.n;
    sum += a.reward_sum;
  }
  EXPECT_EQ(n, static_cast<uint64_t>(kRewards));
  EXPECT_DOUBLE_EQ(sum, kInferences);  // the first kInferences rewards were 1
  int lost = 0;
  for (const auto& dec : decisions) lost += api.Reward(dec, 1.0).code() != Code::kDuplicateReward;
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(LifecycleTest, SigtermWithRequestsInFlightLosesNone) {
  SigtermWithRequestsInFlightLosesNone(1);
}

TEST(LifecycleTest, SigtermWithRequestsInFlightOnTwoApiIoThreadsLosesNone) {
  SigtermWithRequestsInFlightLosesNone(2);
}

}  // namespace
}  // namespace banditd::itest
