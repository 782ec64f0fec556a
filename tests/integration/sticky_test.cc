// Sticky assignment through the real daemon: units keep their arm while the
// weights are unchanged, and a weight change moves only the units it must.
// Also prints the route-only round-trip rate (informational, not asserted).
#include <chrono>
#include <cstdio>
#include <map>

#include <gtest/gtest.h>

#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {

// Deterministic: the salt and the unit names are fixed, so every unit's hash is.
constexpr int kUnits = 20000;
constexpr int kRounds = 2;  // 20,000 units x 2 = 40,000 requests (>= 10,000)

// Routes every unit once, pipelined in windows; returns unit index -> arm.
std::vector<std::string> RouteAll(Client& api, const std::string& exp, double* p_sum) {
  std::vector<std::string> arms(kUnits);
  constexpr int kWindow = 250;
  for (int start = 0; start < kUnits; start += kWindow) {
    for (int i = start; i < start + kWindow; ++i) {
      api.Send(RouteFrame({exp, "unit-" + std::to_string(i)}, IdOf(static_cast<uint32_t>(i))));
    }
    for (int k = 0; k < kWindow; ++k) {
      auto reply = api.Recv();
      if (!reply) {
        ADD_FAILURE() << "no reply";
        return arms;
      }
      auto r = protocol::DecodeRouteReply(*reply);
      if (!r.ok()) {
        ADD_FAILURE() << r.status().ToString();
        return arms;
      }
      // The echoed id is the uint32 we sent.
      const int64_t n = IdNumber(r->id);
      if (n < 0 || n >= kUnits) {
        ADD_FAILURE() << "bad echoed id";
        return arms;
      }
      arms.at(n) = r->arm;
      if (p_sum != nullptr) *p_sum += r->p;
    }
  }
  return arms;
}

TEST(StickyTest, UnitsKeepTheirArmAndMoveMinimally) {
  TempDir dir;
  zmq::context_t ctx;
  std::vector<std::string> before;
  {
    DaemonProcess d;
    ASSERT_TRUE(
        d.Start(WriteConfig(dir.path(), AbRouteOnly("st", 0.5, 0.5, "salt-1")), dir.path()));
    Client api(ctx, d.endpoints().api);

    // Route-only round-trip rate, one request at a time (informational).
    const auto t0 = std::chrono::steady_clock::now();
    constexpr int kSync = 3000;
    for (int i = 0; i < kSync; ++i) ASSERT_TRUE(api.Route({"st"}).ok());
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "[ rate ] route-only, synchronous round trips over ipc: %.0f req/s (%d in %.3f s)\n",
        kSync / secs, kSync, secs);

    double p_sum = 0;
    const auto t1 = std::chrono::steady_clock::now();
    before = RouteAll(api, "st", &p_sum);
    for (int round = 1; round < kRounds; ++round) {
      const auto again = RouteAll(api, "st", &p_sum);
      int changed = 0;
      for (int i = 0; i < kUnits; ++i) changed += again[i] != before[i];
      EXPECT_EQ(changed, 0) << "round " << round;
    }
    const double secs2 =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    std::printf("[ rate ] route-only, pipelined (windows of 250): %.0f req/s (%d in %.3f s)\n",
                kUnits * kRounds / secs2, kUnits * kRounds, secs2);
    EXPECT_NEAR(p_sum / (kUnits * kRounds), 0.5, 1e-12);
    int on_a = 0;
    for (const auto& a : before) on_a += a == "a";
    // 10,000 expected; 5 sd of Binomial(20000, 0.5) is 354.
    EXPECT_NEAR(on_a, kUnits / 2, 354);
    EXPECT_EQ(d.Stop(), 0) << d.LogTail();
  }

  // Same salt and state dir, weights 50/50 -> 40/60: a 10-point change.
  DaemonProcess d;
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), AbRouteOnly("st", 0.4, 0.6, "salt-1")), dir.path()));
  Client api(ctx, d.endpoints().api);
  auto st = api.GetStatus("st");
  ASSERT_TRUE(st.ok());
  EXPECT_NEAR(st->experiments[0].arms[0].allocation, 0.4, 1e-4);
  EXPECT_NEAR(st->experiments[0].arms[1].allocation, 0.6, 1e-4);
  const auto after = RouteAll(api, "st", nullptr);
  int moved = 0, b_to_a = 0, on_a_before = 0, on_a_after = 0;
  for (int i = 0; i < kUnits; ++i) {
    moved += after[i] != before[i];
    b_to_a += before[i] == "b" && after[i] == "a";
    on_a_before += before[i] == "a";
    on_a_after += after[i] == "a";
  }
  const double moved_fraction = static_cast<double>(moved) / kUnits;
  std::printf("[ sticky ] 50/50 -> 40/60: %d of %d units moved (%.2f%%); a: %d -> %d units\n",
              moved, kUnits, 100 * moved_fraction, on_a_before, on_a_after);
  // A 10-point change of arm a's share forces at least 10% of all units to
  // leave it (those units cannot stay: a holds 40% of the hash space now, not
  // 50%). So the "< 5% of units move" can only mean the movement
  // beyond that minimum. Here: nobody moves the other way, only arm a's
  // surplus moves, and the moved fraction is at most the minimum (10%) plus
  // 1 point. (The units sample the hash space: for 20,000 units the moved
  // fraction has a sd of 0.21 points around 10%; with the fixed salt and
  // unit names the result is the same on every run.)
  EXPECT_EQ(b_to_a, 0);
  EXPECT_EQ(moved, on_a_before - on_a_after) << "only the surplus of arm a moves";
  EXPECT_LE(moved_fraction, 0.10 + 0.01);
  EXPECT_GE(moved_fraction, 0.10 - 0.01);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

}  // namespace
}  // namespace banditd::itest
