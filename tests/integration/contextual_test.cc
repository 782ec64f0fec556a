// A contextual (LinUCB) experiment through the real daemon: bad contexts are
// refused with bad_context; the daemon keeps each decision's context until its
// reward, so the policy learns a context-dependent best arm from delayed
// rewards; a graceful restart keeps both what it learned and the contexts of
// decisions still waiting for their rewards; after a crash, decisions made
// since the last snapshot are rewarded without teaching the policy.
#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "banditd/rng.h"
#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"

namespace banditd::itest {
namespace {

const std::string kExperiments =
    "  - name: ctx\n"
    "    policy: {name: linucb, context_dim: 3}\n"
    "    context_store: {max_bytes: 1048576}\n"
    "    arms:\n      - name: a\n        champion: true\n      - name: b\n"
    "  - name: plain\n"
    "    arms:\n      - name: a\n      - name: b\n";

// Context (1, x, z): a constant, a binary feature that flips the best arm,
// and a distractor in [0, 1).
std::vector<double> Context(Rng& rng) {
  return {1.0, rng.Bernoulli(0.5) ? 1.0 : 0.0, rng.Uniform()};
}

double TrueMean(const std::string& arm, const std::vector<double>& x) {
  const bool flipped = x[1] > 0.5;
  return (arm == "b") != flipped ? 0.7 : 0.3;
}

RouteArgs WithContext(std::vector<double> x) {
  RouteArgs a("ctx");
  a.context = std::move(x);
  return a;
}

const wire::ContextStoreReport& Store(Client& api) {
  static wire::ContextStoreReport last;
  auto s = api.GetStatus("ctx");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (s.ok()) {
    const auto* r = FindReport(*s, "ctx");
    EXPECT_TRUE(r->context_store.has_value());
    if (r->context_store) last = *r->context_store;
  }
  return last;
}

// Polls /metrics (published once a second) until `series` reaches `at_least`.
double WaitMetric(const DaemonProcess& d, const std::string& series, double at_least) {
  double v = -1;
  for (int i = 0; i < 50 && v < at_least; ++i) {
    if (auto text = HttpGet(d.endpoints().metrics, "/metrics")) v = MetricValue(*text, series);
    if (v < at_least) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return v;
}

TEST(ContextualTest, BadContextsAreRefusedWithTheirCode) {
  TempDir dir;
  zmq::context_t ctx;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), kExperiments), dir.path()));
  Client api(ctx, d.endpoints().api);

  EXPECT_EQ(api.Route(RouteArgs("ctx")).status().code(), Code::kBadContext);  // missing
  auto short_ctx = api.Route(WithContext({1.0, 0.0}));
  EXPECT_EQ(short_ctx.status().code(), Code::kBadContext);
  EXPECT_NE(short_ctx.status().message().find("takes a context of 3 numbers, got 2"),
            std::string::npos)
      << short_ctx.status().message();
  EXPECT_EQ(api.Route(WithContext({1.0, 0.0, 0.0, 0.0})).status().code(), Code::kBadContext);
  EXPECT_EQ(api.Route(WithContext({1.0, std::nan(""), 0.0})).status().code(), Code::kBadContext);
  EXPECT_EQ(api.Route(WithContext({1.0, 0.0, INFINITY})).status().code(), Code::kBadContext);
  // Nothing was decided or kept.
  EXPECT_EQ(Store(api).entries, 0u);
  // A forced route needs no context; a non-contextual experiment ignores one.
  RouteArgs forced("ctx");
  forced.arm = "b";
  EXPECT_TRUE(api.Route(forced).ok());
  RouteArgs plain("plain");
  plain.context = {1.0, 2.0};
  EXPECT_TRUE(api.Route(plain).ok());
  EXPECT_EQ(Store(api).entries, 0u);

  // Synchronous route round trips over ipc, contextual vs not (informational,
  // not asserted: timing depends on the machine).
  Rng rng(23);
  for (const char* exp : {"plain", "ctx"}) {
    constexpr int kRoutes = 2000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kRoutes; ++i) {
      RouteArgs a(exp);
      a.context = Context(rng);
      ASSERT_TRUE(api.Route(a).ok());
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[ rate ] %s: %.0f synchronous routes/s with a 3-number context (%d in %.3f s)\n",
                exp, kRoutes / secs, kRoutes, secs);
  }
  EXPECT_EQ(Store(api).entries, 2000u);

  EXPECT_GE(WaitMetric(d, "banditd_errors_total{code=\"bad_context\"}", 5), 5.0);
  EXPECT_EQ(WaitMetric(d, "banditd_context_store_max_bytes{experiment=\"ctx\"}", 1048576),
            1048576.0);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

// Routes `n` requests with fresh contexts; rewards each batch of `batch`
// decisions in one `rewards` call (delayed feedback). Returns how many picked
// the best arm among the last `scored`; leaves the last `keep_pending`
// decisions unrewarded in `pending`.
struct Traffic {
  Rng contexts{21};
  Rng truth{22};
  std::vector<std::pair<std::string, double>> pending;

  int Run(Client& api, int n, int scored, size_t batch) {
    int best = 0;
    for (int i = 0; i < n; ++i) {
      const auto x = Context(contexts);
      auto r = api.Route(WithContext(x));
      if (!r.ok()) {
        ADD_FAILURE() << r.status().ToString();
        return -1;
      }
      if (i >= n - scored) best += TrueMean(r->arm, x) > 0.5 ? 1 : 0;
      pending.emplace_back(r->decision, truth.Bernoulli(TrueMean(r->arm, x)) ? 1.0 : 0.0);
      if (pending.size() >= batch) Flush(api);
    }
    return best;
  }

  void Flush(Client& api) {
    if (pending.empty()) return;
    auto ack = api.Rewards(pending);
    ASSERT_TRUE(ack.ok()) << ack.status().ToString();
    EXPECT_EQ(ack->accepted, pending.size());
    EXPECT_TRUE(ack->rejected.empty());
    pending.clear();
  }
};

TEST(ContextualTest, LearnsTheContextDependentArmAndKeepsItAcrossRestarts) {
  TempDir dir;
  zmq::context_t ctx;
  const std::string config = WriteConfig(dir.path(), kExperiments);
  Traffic traffic;
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path()));
    Client api(ctx, d.endpoints().api);
    // 3,000 route + reward round trips, rewards arriving in batches of 100.
    const int best = traffic.Run(api, 3000, 500, 100);
    traffic.Flush(api);
    // Fixed seeds; a context-blind policy can pick the best arm at most about
    // half of the time here.
    EXPECT_GT(best, 450) << best << " of the last 500 on the best arm";
    std::printf("[ learn ] %d of the last 500 of 3000 decisions on the best arm\n", best);
    // 40 decisions wait for their rewards over the restart.
    traffic.Run(api, 40, 0, 1000);
    const auto& store = Store(api);
    EXPECT_EQ(store.entries, 40u);
    EXPECT_EQ(store.bytes, 40u * (112 + 8 * 3));
    EXPECT_EQ(store.evictions, 0u);
    EXPECT_EQ(store.rewards_without_context, 0u);
    EXPECT_EQ(WaitMetric(d, "banditd_context_store_entries{experiment=\"ctx\"}", 40), 40.0);
    EXPECT_EQ(d.Stop(), 0) << d.LogTail();
  }
  {
    // Graceful restart: the snapshot kept the model and the 40 contexts.
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path()));
    Client api(ctx, d.endpoints().api);
    EXPECT_EQ(Store(api).entries, 40u);
    traffic.Flush(api);
    EXPECT_EQ(Store(api).entries, 0u);
    EXPECT_EQ(Store(api).rewards_without_context, 0u);
    const int best = traffic.Run(api, 300, 300, 100);
    traffic.Flush(api);
    EXPECT_GT(best, 270) << best << " of 300 on the best arm after the restart";
    std::printf("[ learn ] %d of 300 on the best arm after a graceful restart\n", best);
    // Decisions after the last snapshot, then a crash.
    traffic.Run(api, 20, 0, 1000);
    EXPECT_EQ(Store(api).entries, 20u);
    d.Signal(SIGKILL);
    EXPECT_EQ(d.Wait(std::chrono::seconds(5)), -(128 + SIGKILL));
  }
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path()));
    Client api(ctx, d.endpoints().api);
    // The acknowledged rewards since the snapshot came back from the WAL with
    // their contexts: the policy still routes well.
    EXPECT_EQ(Store(api).entries, 0u);
    auto crashed = std::move(traffic.pending);
    traffic.pending.clear();
    const int best = traffic.Run(api, 300, 300, 100);
    traffic.Flush(api);
    EXPECT_GT(best, 270) << best << " of 300 on the best arm after the crash";
    std::printf("[ learn ] %d of 300 on the best arm after a crash\n", best);
    // The 20 decisions made after the last snapshot have no stored context:
    // their rewards are accepted and counted, but do not teach the policy.
    traffic.pending = std::move(crashed);
    traffic.Flush(api);
    EXPECT_EQ(Store(api).rewards_without_context, 20u);
    EXPECT_EQ(d.Stop(), 0) << d.LogTail();
  }
}

}  // namespace
}  // namespace banditd::itest
