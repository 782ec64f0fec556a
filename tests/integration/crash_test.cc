// Crash test (CI-sized): a client sends acked rewards as fast as it
// can while banditd is SIGKILLed at random moments, 20 times, and restarted
// on the same state dir each time. A reward whose ack did not arrive before
// the kill is re-sent after the restart, as a client would after a timeout:
// it comes back ok (it was lost) or duplicate_reward (it was durable). At the
// end every arm's count and reward sum equal what was acknowledged —
// nothing lost, nothing counted twice — across WAL replays and the
// snapshots written along the way.
//
// The opt-in long version: BANDITD_CRASH_KILLS=200 build/bin/integration_crash_test
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "banditd/rng.h"
#include "src/protocol/reply_decoder.h"
#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {

struct Pending {
  std::string decision;
  std::string arm;
  double value = 0;
};

TEST(CrashTest, AckedRewardsSurviveRepeatedSigkill) {
  const char* env = std::getenv("BANDITD_CRASH_KILLS");
  const int kills = env ? std::atoi(env) : 20;
  TempDir dir;
  const std::string config = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5));
  zmq::context_t ctx;
  Rng rng(20261123);
  std::map<std::string, uint64_t> acked_n;
  std::map<std::string, double> acked_sum;
  std::optional<Pending> unacked;  // sent, no ack seen before the kill
  uint64_t total_acked = 0;

  auto settle = [&](const Pending& p, Status s) {
    // ok: applied now; duplicate_reward: it had been made durable before.
    if (s.ok() || s.code() == Code::kDuplicateReward) {
      ++acked_n[p.arm];
      acked_sum[p.arm] += p.value;
      ++total_acked;
      return true;
    }
    return false;
  };

  for (int round = 0; round <= kills; ++round) {
    DaemonProcess d;
    // Snapshots every 200 ms, so kills also land around snapshot writes.
    ASSERT_TRUE(d.Start(config, dir.path(), {"--snapshot-interval-ms=200"})) << d.LogTail();
    Client api(ctx, d.endpoints().api);
    if (unacked) {
      auto reply = api.Call(RewardFrame(unacked->decision, unacked->value), 5000);
      ASSERT_TRUE(reply.has_value()) << "no reply to the re-sent reward";
      ASSERT_TRUE(settle(*unacked, protocol::DecodeOkReply(*reply)))
          << protocol::DecodeOkReply(*reply).ToString();
      unacked.reset();
    }
    if (round == kills) {
      // The last start: compare, then stop cleanly.
      auto st = api.GetStatus("ab");
      ASSERT_TRUE(st.ok()) << st.status().ToString();
      uint64_t n = 0;
      for (const auto& a : st->experiments[0].arms) {
        EXPECT_EQ(a.n, acked_n[a.name]) << "arm " << a.name;
        EXPECT_DOUBLE_EQ(a.reward_sum, acked_sum[a.name]) << "arm " << a.name;
        n += a.n;
      }
      EXPECT_EQ(n, total_acked);
      EXPECT_EQ(d.Stop(), 0) << d.LogTail();
      break;
    }
    // Kill at a random moment 20-250 ms from now while rewards stream in.
    const auto kill_after = std::chrono::milliseconds(20 + rng.Below(230));
    std::atomic<bool> killed{false};
    std::thread killer([&] {
      std::this_thread::sleep_for(kill_after);
      d.Signal(SIGKILL);
      killed = true;
    });
    while (!killed) {
      auto r = api.Call(RouteFrame(RouteArgs("ab")), 500);
      if (!r) break;  // the daemon is gone
      auto route = protocol::DecodeRouteReply(*r);
      if (!route.ok()) break;
      Pending p{route->decision, route->arm, rng.Bernoulli(0.3) ? 1.0 : 0.0};
      auto reply = api.Call(RewardFrame(p.decision, p.value), 500);
      if (!reply) {
        unacked = p;  // the kill came between the send and the ack
        break;
      }
      ASSERT_TRUE(settle(p, protocol::DecodeOkReply(*reply)))
          << protocol::DecodeOkReply(*reply).ToString();
    }
    killer.join();
    EXPECT_EQ(d.Wait(std::chrono::seconds(5)), -(128 + SIGKILL));
  }
  EXPECT_GT(total_acked, static_cast<uint64_t>(kills) * 5) << "too little traffic to mean much";
  std::cout << "[ crash    ] " << kills << " kills, " << total_acked
            << " acked rewards, all accounted for\n";
}

}  // namespace
}  // namespace banditd::itest
