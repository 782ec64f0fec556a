// Extra api I/O threads (sockets.api_extra) through the real daemon: every
// endpoint answers route-only routes with the same allocation, the same
// sticky assignment and decision ids unique across threads; everything else
// (rewards, status, model and contextual routes, bad input) reaches the main
// I/O thread and its reply comes back on the endpoint it was sent to; the
// requests counted, the rewards applied and the decision log add up, also
// across a graceful restart.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {

const std::string kExperiments =
    AbRouteOnly("ab", 0.3, 0.7, "salt-io") +
    "  - name: bt\n    policy: {name: thompson}\n"
    "    arms:\n      - name: a\n        champion: true\n      - name: b\n" +
    kNoStop +
    "  - name: ctx\n    policy: {name: linucb, context_dim: 2}\n"
    "    arms:\n      - name: a\n        champion: true\n      - name: b\n" +
    TwoModels("m", "ab", "champion.pt", "challenger.pt");

ConfigOptions ThreeIoThreads() {
  ConfigOptions o;
  o.io_threads = 3;
  o.inference_spin_us = 100;  // the model route below also takes the spinning path
  return o;
}

// Routes `n` requests pipelined on `api`; the replies, in any order.
std::vector<protocol::RouteResult> RouteMany(Client& api, const RouteArgs& a, int n) {
  for (int i = 0; i < n; ++i) api.Send(RouteFrame(a, IdOf(static_cast<uint32_t>(i))));
  std::vector<protocol::RouteResult> out;
  for (int i = 0; i < n; ++i) {
    auto reply = api.Recv();
    if (!reply) {
      ADD_FAILURE() << "no reply to route " << i;
      break;
    }
    auto r = protocol::DecodeRouteReply(*reply);
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      break;
    }
    out.push_back(*r);
  }
  return out;
}

// Requests routed to experiment `exp` (both arms) per /metrics, polled
// (it is published once a second) until it equals `want` or 6 s passed.
double WaitRequests(const DaemonProcess& d, const std::string& exp, double want) {
  double v = -1;
  for (int i = 0; i < 60 && v != want; ++i) {
    if (auto text = HttpGet(d.endpoints().metrics, "/metrics")) {
      v = MetricValue(*text, "banditd_requests_total{experiment=\"" + exp + "\",arm=\"a\"}") +
          MetricValue(*text, "banditd_requests_total{experiment=\"" + exp + "\",arm=\"b\"}");
    }
    if (v != want) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return v;
}

size_t DecisionLines(const std::string& state_dir) {
  size_t n = 0;
  for (const auto& f : std::filesystem::directory_iterator(state_dir)) {
    if (f.path().filename().string().rfind("decisions-", 0) != 0) continue;
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);) n += line.rfind("D\t", 0) == 0;
  }
  return n;
}

TEST(IoThreadsTest, EveryEndpointRoutesAndForwardsTheRest) {
  TempDir dir;
  zmq::context_t ctx;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), kExperiments, ThreeIoThreads()), dir.path()));
  ASSERT_EQ(d.endpoints().api_extra.size(), 2u);
  std::vector<std::string> eps = {d.endpoints().api};
  eps.insert(eps.end(), d.endpoints().api_extra.begin(), d.endpoints().api_extra.end());

  // Route-only: 3,000 per endpoint; decision ids unique across threads;
  // shares near the A/B weights (0.3 / 0.7) on every endpoint.
  constexpr int kPer = 3000;
  std::set<std::string> ids;
  std::vector<std::string> decisions;  // one per endpoint, rewarded below
  size_t routed = 0;
  for (const auto& ep : eps) {
    Client api(ctx, ep);
    auto rs = RouteMany(api, RouteArgs("ab"), kPer);
    ASSERT_EQ(rs.size(), static_cast<size_t>(kPer)) << ep;
    int b = 0;
    for (const auto& r : rs) {
      ids.insert(r.decision);
      b += r.arm == "b";
      EXPECT_NEAR(r.p, r.arm == "b" ? 0.7 : 0.3, 1e-6);  // a float on the wire
    }
    // 4 standard errors of a share over 3,000 draws: 0.034.
    EXPECT_NEAR(b / static_cast<double>(kPer), 0.7, 0.034) << ep;
    decisions.push_back(rs.front().decision);
    routed += rs.size();
  }
  EXPECT_EQ(ids.size(), routed) << "decision ids repeat across I/O threads";

  // Sticky: a unit gets the same arm and propensity on every endpoint.
  std::vector<std::map<std::string, std::string>> sticky(eps.size());
  for (size_t e = 0; e < eps.size(); ++e) {
    Client api(ctx, eps[e]);
    for (int u = 0; u < 200; ++u) {
      auto r = api.Route(RouteArgs("ab", "unit-" + std::to_string(u)));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      sticky[e]["unit-" + std::to_string(u)] = r->arm + "@" + std::to_string(r->p);
      ++routed;
    }
  }
  EXPECT_EQ(sticky[1], sticky[0]);
  EXPECT_EQ(sticky[2], sticky[0]);

  Client extra(ctx, eps[2]);
  // Forced arm: answered by the I/O thread; an unknown arm by the main thread.
  auto forced = extra.Route(RouteArgs("ab", std::nullopt, {}, std::string("b")));
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->arm, "b");
  EXPECT_EQ(forced->p, 1.0);
  ++routed;
  EXPECT_EQ(extra.Route(RouteArgs("ab", std::nullopt, {}, std::string("zz"))).status().code(),
            Code::kBadRequest);
  // Forwarded: unknown experiment, contextual routes, model routes.
  EXPECT_EQ(extra.Route(RouteArgs("nope")).status().code(), Code::kUnknownExperiment);
  RouteArgs cx("ctx");
  EXPECT_EQ(extra.Route(cx).status().code(), Code::kBadContext);
  cx.context = {1.0, 0.5};
  auto c = extra.Route(cx);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ++routed;
  auto m = extra.Route(RouteArgs("m", std::nullopt, std::vector<float>(8, 0.25f)));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(m->output.has_value());
  EXPECT_EQ(m->output->size(), 1u);
  ++routed;
  // Bad input on an extra endpoint: the codes of the main thread.
  EXPECT_EQ(ReplyCode(extra.Call(std::string("\xc1", 1))), Code::kBadRequest);
  extra.SendParts({"a", "b", "c", "d"});
  EXPECT_EQ(ReplyCode(extra.Recv()), Code::kBadRequest);

  // Rewards for decisions of every thread, acked through an extra endpoint.
  for (const auto& id : decisions) EXPECT_TRUE(extra.Reward(id, 1.0).ok()) << id;
  EXPECT_EQ(extra.Reward(decisions[0], 1.0).code(), Code::kDuplicateReward);
  auto batch = extra.Rewards({{decisions[1], 0.0}, {"not-a-decision", 1.0}});
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->accepted, 0u);  // decisions[1] was rewarded above
  ASSERT_EQ(batch->rejected.size(), 2u);
  auto st = extra.GetStatus("ab");
  ASSERT_TRUE(st.ok());
  const auto* ab = FindReport(*st, "ab");
  ASSERT_NE(ab, nullptr);
  EXPECT_EQ(ab->arms[0].n + ab->arms[1].n, decisions.size());

  // Every route-only request was counted once, whichever thread served it.
  EXPECT_EQ(WaitRequests(d, "ab", 3 * kPer + 3 * 200 + 1), 3 * kPer + 3 * 200 + 1);
  auto text = HttpGet(d.endpoints().metrics, "/metrics");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(MetricValue(*text, "banditd_forced_total{experiment=\"ab\",arm=\"b\"}"), 1);
  // The frame of too many parts was refused by the second extra thread.
  EXPECT_EQ(MetricValue(*text, "banditd_io_thread_requests_total{thread=\"2\",result=\"refused\"}"),
            1);

  // One decision-log line per decision, once the daemon stopped.
  ASSERT_EQ(d.Stop(), 0);
  EXPECT_EQ(DecisionLines(dir.path() + "/state"), routed);
}

TEST(IoThreadsTest, CountsOfEveryThreadSurviveARestart) {
  TempDir dir;
  zmq::context_t ctx;
  const std::string config = WriteConfig(dir.path(), kExperiments, ThreeIoThreads());
  constexpr int kPer = 1000;
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path()));
    for (const auto& ep : d.endpoints().api_extra) {
      Client api(ctx, ep);
      ASSERT_EQ(RouteMany(api, RouteArgs("bt"), kPer).size(), static_cast<size_t>(kPer));
    }
    ASSERT_EQ(d.Stop(), 0);
  }
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path()));
  EXPECT_EQ(WaitRequests(d, "bt", 2.0 * kPer), 2.0 * kPer);
}

}  // namespace
}  // namespace banditd::itest
