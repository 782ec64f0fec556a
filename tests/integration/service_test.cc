// The real banditd process: route -> reward -> status round trips, reward
// rejections, the decision log, restart (SIGTERM and SIGKILL) with the same
// state dir, bandit and canary traffic, pause/promote and admin auth.
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "src/state/decision_log.h"
#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {

using Items = std::vector<std::pair<std::string, double>>;

// Every row of the decision logs in <dir>/state.
std::vector<state::LogRow> ReadLogs(const std::string& dir) {
  std::vector<state::LogRow> all;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/state")) {
    const std::string name = entry.path().filename();
    if (name.rfind("decisions-", 0) != 0 || entry.path().extension() != ".tsv") continue;
    std::ifstream f(entry.path());
    std::stringstream ss;
    ss << f.rdbuf();
    auto rows = state::ReadDecisionLog(ss.str(), name);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (rows.ok()) all.insert(all.end(), rows->begin(), rows->end());
  }
  return all;
}

TEST(ServiceTest, RouteRewardStatusRoundTrip) {
  TempDir dir;
  const std::string config = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5));
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path()));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);

  // 300 route-only decisions, sampled per request (no unit).
  std::vector<protocol::RouteResult> decisions;
  std::map<std::string, int> routed;
  for (int i = 0; i < 300; ++i) {
    auto r = api.Route({"ab"});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->arm == "a" || r->arm == "b") << r->arm;
    EXPECT_DOUBLE_EQ(r->p, 0.5);
    EXPECT_FALSE(r->output.has_value());
    ++routed[r->arm];
    decisions.push_back(*r);
  }
  EXPECT_GT(routed["a"], 100);  // 150 expected; P(<= 100) < 1e-8
  EXPECT_GT(routed["b"], 100);

  // Rewards 0..149 acked one by one, 150..299 in one batch with three bad items.
  std::map<std::string, std::pair<uint64_t, double>> expected;  // arm -> (n, sum)
  auto value_of = [](int i) { return i % 3 == 0 ? 1.0 : 0.0; };
  for (int i = 0; i < 150; ++i) {
    Status s = api.Reward(decisions[i].decision, value_of(i));
    ASSERT_TRUE(s.ok()) << s.ToString();
    expected[decisions[i].arm].first += 1;
    expected[decisions[i].arm].second += value_of(i);
  }
  Items batch;
  for (int i = 150; i < 300; ++i) {
    batch.emplace_back(decisions[i].decision, value_of(i));
    expected[decisions[i].arm].first += 1;
    expected[decisions[i].arm].second += value_of(i);
  }
  batch.emplace_back(decisions[0].decision, 1.0);           // duplicate
  batch.emplace_back("not-a-decision", 1.0);                // unknown
  batch.emplace_back(decisions[1].decision + "x", 1.0);     // unknown (tampered)
  batch.emplace_back(decisions[2].decision, std::nan(""));  // non-finite (checked first)
  auto rr = api.Rewards(batch);
  ASSERT_TRUE(rr.ok()) << rr.status().ToString();
  EXPECT_EQ(rr->accepted, 150u);
  ASSERT_EQ(rr->rejected.size(), 4u);
  EXPECT_EQ(rr->rejected[0].first, decisions[0].decision);
  EXPECT_EQ(rr->rejected[0].second, Code::kDuplicateReward);
  EXPECT_EQ(rr->rejected[1].second, Code::kUnknownDecision);
  EXPECT_EQ(rr->rejected[2].second, Code::kUnknownDecision);
  EXPECT_EQ(rr->rejected[3].second, Code::kInvalidValue);

  // Single rewards get their codes too.
  EXPECT_EQ(api.Reward(decisions[5].decision, 1.0).code(), Code::kDuplicateReward);
  EXPECT_EQ(api.Reward("nope", 1.0).code(), Code::kUnknownDecision);
  EXPECT_EQ(api.Reward(decisions[6].decision, INFINITY).code(), Code::kInvalidValue);
  EXPECT_EQ(api.Reward(decisions[7].decision, std::nan("")).code(), Code::kInvalidValue);
  auto fresh = api.Route({"ab"});
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(api.Reward(fresh->decision, 1.5).code(), Code::kInvalidValue)
      << "a Bernoulli experiment takes values in [0, 1]";
  EXPECT_EQ(api.Rewards({{fresh->decision, -1.0}})->rejected.at(0).second, Code::kInvalidValue);

  auto st = api.GetStatus("ab");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  const auto* rep = FindReport(*st, "ab");
  ASSERT_NE(rep, nullptr);
  EXPECT_EQ(rep->mode, "ab");
  EXPECT_EQ(rep->state, ExperimentState::kRunning);
  ASSERT_EQ(rep->arms.size(), 2u);
  for (const auto& arm : rep->arms) {
    EXPECT_EQ(arm.n, expected[arm.name].first) << arm.name;
    EXPECT_DOUBLE_EQ(arm.reward_sum, expected[arm.name].second) << arm.name;
    EXPECT_DOUBLE_EQ(arm.allocation, 0.5) << arm.name;
  }
  EXPECT_EQ(api.GetStatus("nope").status().code(), Code::kUnknownExperiment);
  EXPECT_EQ(api.Route({"nope"}).status().code(), Code::kUnknownExperiment);

  // Fire-and-forget rewards on the PULL socket count the same way.
  Client push(ctx, d.endpoints().rewards, zmq::socket_type::push);
  auto more = api.Route({"ab", std::nullopt, {}, "b"});  // forced arm
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(more->arm, "b");
  EXPECT_DOUBLE_EQ(more->p, 1.0);
  push.Send(RewardFrame(more->decision, 1.0));
  bool seen = false;
  for (int i = 0; i < 500 && !seen; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto s2 = api.GetStatus("ab");
    ASSERT_TRUE(s2.ok());
    seen = FindReport(*s2, "ab")->arms[1].n == expected["b"].first + 1;
  }
  EXPECT_TRUE(seen) << "the pushed reward was not applied within 5 s";
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();

  // The decision log has every decision (with its propensity) and every
  // joined reward.
  std::map<std::string, const state::LogRow*> logged;
  size_t reward_rows = 0;
  const auto rows = ReadLogs(dir.path());
  for (const auto& row : rows) {
    if (row.kind == 'D') logged[row.decision] = &row;
    reward_rows += row.kind == 'R';
  }
  for (const auto& dec : decisions) {
    auto it = logged.find(dec.decision);
    ASSERT_NE(it, logged.end()) << dec.decision;
    EXPECT_EQ(it->second->arm, dec.arm);
    EXPECT_DOUBLE_EQ(it->second->propensity, 0.5);
    EXPECT_FALSE(it->second->forced);
  }
  ASSERT_TRUE(logged.count(more->decision));
  EXPECT_TRUE(logged[more->decision]->forced);
  EXPECT_EQ(reward_rows, 300u + 1u);  // 150 acked + 150 batch + 1 pushed
}

TEST(ServiceTest, ConfigErrorsStopStartUpWithExitCode2) {
  TempDir dir;
  const std::string good = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5));
  EXPECT_EQ(RunBanditd({"--config", good, "--check"}, dir.path() + "/check.log"), 0);
  const std::string bad =
      WriteConfig(dir.path(), "  - name: ab\n    mode: sometimes\n    arms: []\n");
  const std::string log = dir.path() + "/bad.log";
  EXPECT_EQ(RunBanditd({"--config", bad}, log), 2);
  std::ifstream f(log);
  std::stringstream text;
  text << f.rdbuf();
  EXPECT_NE(text.str().find("mode"), std::string::npos)
      << "the error names the key: " << text.str();
  // Nothing half-started: no endpoints were written, no socket was bound.
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/state/endpoints"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/api.sock"));
  EXPECT_EQ(RunBanditd({"--config", dir.path() + "/missing.yaml"}, log), 2);
}

// Without CURVE, an endpoint other hosts can reach is refused at start-up
// (exit 2, naming it) unless banditd runs with --insecure; sockets.api_extra
// is held to the same rule as the other sockets.
TEST(ServiceTest, NonLoopbackApiExtraNeedsCurveOrInsecure) {
  TempDir dir;
  std::string config = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5));
  {
    std::ifstream in(config);
    std::stringstream text;
    text << in.rdbuf();
    std::string yaml = text.str();
    yaml.insert(yaml.find("  metrics:"), "  api_extra: [tcp://0.0.0.0:*]\n");
    std::ofstream(config) << yaml;
  }
  const std::string log = dir.path() + "/refused.log";
  EXPECT_EQ(RunBanditd({"--config", config}, log), 2);
  std::ifstream l(log);
  std::stringstream out;
  out << l.rdbuf();
  EXPECT_NE(out.str().find("refusing to bind tcp://0.0.0.0:*"), std::string::npos) << out.str();
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/state/endpoints"));
  // --insecure: it starts and serves on that endpoint too.
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path(), {"--insecure"}));
  ASSERT_EQ(d.endpoints().api_extra.size(), 1u);
  std::string ep = d.endpoints().api_extra[0];
  ep.replace(ep.find("0.0.0.0"), 7, "127.0.0.1");
  zmq::context_t ctx;
  Client api(ctx, ep);
  EXPECT_TRUE(api.Route({"ab"}).ok());
  EXPECT_EQ(d.Stop(), 0);
}

TEST(ServiceTest, ExpiredRewardIsRejected) {
  TempDir dir;
  ConfigOptions o;
  o.reward_window = "1s";
  DaemonProcess d;
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5), o), dir.path()));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  auto r = api.Route({"ab"});
  ASSERT_TRUE(r.ok());
  // Whole seconds: issued at floor(t0); now - issued > 1 s from t0 + 2 s on.
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  EXPECT_EQ(api.Reward(r->decision, 1.0).code(), Code::kExpiredDecision);
  auto rr = api.Rewards({{r->decision, 1.0}});
  ASSERT_TRUE(rr.ok());
  EXPECT_EQ(rr->accepted, 0u);
  ASSERT_EQ(rr->rejected.size(), 1u);
  EXPECT_EQ(rr->rejected[0].second, Code::kExpiredDecision);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(ServiceTest, RestartKeepsLearnedCounts) {
  TempDir dir;
  const std::string config = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5));
  zmq::context_t ctx;
  std::vector<uint64_t> n_before;
  std::vector<double> sum_before;
  std::vector<std::string> decisions;
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path()));
    Client api(ctx, d.endpoints().api);
    Items items;
    for (int i = 0; i < 200; ++i) {
      auto r = api.Route({"ab", "u" + std::to_string(i)});
      ASSERT_TRUE(r.ok());
      decisions.push_back(r->decision);
      if (i < 150) items.emplace_back(r->decision, i % 2);
    }
    ASSERT_EQ(api.Rewards(items)->accepted, 150u);
    auto st = api.GetStatus("ab");
    ASSERT_TRUE(st.ok());
    for (const auto& a : st->experiments[0].arms) {
      n_before.push_back(a.n);
      sum_before.push_back(a.reward_sum);
    }
    EXPECT_EQ(n_before[0] + n_before[1], 150u);
    EXPECT_EQ(d.Stop(), 0) << d.LogTail();
  }
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path()));
  Client api(ctx, d.endpoints().api);
  auto st = api.GetStatus("ab");
  ASSERT_TRUE(st.ok());
  for (size_t a = 0; a < 2; ++a) {
    EXPECT_EQ(st->experiments[0].arms[a].n, n_before[a]);
    EXPECT_DOUBLE_EQ(st->experiments[0].arms[a].reward_sum, sum_before[a]);
  }
  // Decisions issued before the restart are still known: rewarded ones are
  // duplicates, the others are accepted.
  EXPECT_EQ(api.Reward(decisions[0], 1.0).code(), Code::kDuplicateReward);
  EXPECT_TRUE(api.Reward(decisions[199], 1.0).ok());
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(ServiceTest, BanditMovesTrafficToTheRewardedArm) {
  TempDir dir;
  const std::string exp =
      "  - name: bx\n    mode: bandit\n    policy:\n      name: thompson\n"
      "    refresh:\n      interval: 50ms\n"
      "    arms:\n      - name: a\n        champion: true\n      - name: b\n" +
      kNoStop;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), exp), dir.path()));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  // Arm b always converts, arm a never: Thompson sampling's P(b is best)
  // goes to ~1 after a few hundred rewards.
  for (int round = 0; round < 4; ++round) {
    Items items;
    for (int i = 0; i < 100; ++i) {
      auto r = api.Route({"bx"});
      ASSERT_TRUE(r.ok());
      EXPECT_GT(r->p, 0.0);
      items.emplace_back(r->decision, r->arm == "b" ? 1.0 : 0.0);
    }
    ASSERT_EQ(api.Rewards(items)->accepted, 100u);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // > refresh + tick
  }
  // The allocation refreshes on the I/O loop's tick: wait up to 5 s for it.
  Result<protocol::StatusResult> st = api.GetStatus("bx");
  for (int i = 0; i < 50 && st.ok() && FindReport(*st, "bx")->arms[1].allocation <= 0.9; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    st = api.GetStatus("bx");
  }
  ASSERT_TRUE(st.ok());
  const auto* rep = FindReport(*st, "bx");
  EXPECT_EQ(rep->policy, "thompson");
  EXPECT_GT(rep->arms[1].allocation, 0.9);
  EXPECT_EQ(rep->arms[0].n + rep->arms[1].n, 400u);
  int to_b = 0;
  for (int i = 0; i < 200; ++i) to_b += api.Route({"bx"})->arm == "b";
  EXPECT_GT(to_b, 160);  // >= 0.9 expected share: 180; P(<= 160) < 1e-4
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(ServiceTest, CanaryGivesTheChallengerItsShare) {
  TempDir dir;
  const std::string exp =
      "  - name: can\n    mode: canary\n    canary_share: 0.2\n"
      "    arms:\n      - name: a\n        champion: true\n      - name: b\n" +
      kNoStop;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), exp), dir.path()));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  // Fewer requests than the canary phase lasts (1,000 challenger requests).
  int to_b = 0;
  constexpr int kN = 2000;
  for (int i = 0; i < kN; ++i) {
    auto r = api.Route({"can"});
    ASSERT_TRUE(r.ok());
    // Decision ids carry the propensity as float32 (decision_id.h).
    EXPECT_NEAR(r->p, r->arm == "b" ? 0.2 : 0.8, 1e-6);
    to_b += r->arm == "b";
  }
  // 400 expected; 5 sd of Binomial(2000, 0.2) is 89.
  EXPECT_NEAR(to_b, 400, 89);
  EXPECT_NEAR(FindReport(*api.GetStatus("can"), "can")->arms[1].allocation, 0.2, 1e-12);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(ServiceTest, AckedRewardsSurviveSigkill) {
  TempDir dir;
  ConfigOptions o;
  o.durability = "group";
  const std::string config = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5), o);
  zmq::context_t ctx;
  std::map<std::string, uint64_t> acked_n;
  std::vector<std::string> acked;
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(config, dir.path()));
    Client api(ctx, d.endpoints().api);
    for (int i = 0; i < 300; ++i) {
      auto r = api.Route({"ab"});
      ASSERT_TRUE(r.ok());
      // An ok reply means the reward is in the fsynced WAL (group commit).
      if (api.Reward(r->decision, 1.0).ok()) {
        ++acked_n[r->arm];
        acked.push_back(r->decision);
      }
    }
    ASSERT_EQ(acked.size(), 300u);
    d.Signal(SIGKILL);  // no snapshot, no flush: only the WAL remains
    EXPECT_EQ(d.Wait(std::chrono::seconds(5)), -(128 + SIGKILL));
  }
  DaemonProcess d;
  ASSERT_TRUE(d.Start(config, dir.path()));
  Client api(ctx, d.endpoints().api);
  auto st = api.GetStatus("ab");
  ASSERT_TRUE(st.ok());
  for (const auto& a : st->experiments[0].arms) EXPECT_EQ(a.n, acked_n[a.name]) << a.name;
  int lost = 0;
  for (const auto& dec : acked) lost += api.Reward(dec, 1.0).code() != Code::kDuplicateReward;
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(ServiceTest, PromoteOnAdminSocketOnly) {
  TempDir dir;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5)), dir.path()));
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  Client admin(ctx, d.endpoints().admin);
  for (wire::Op op : {wire::Op::kPromote, wire::Op::kPause, wire::Op::kResume, wire::Op::kReload,
                      wire::Op::kSnapshot}) {
    EXPECT_EQ(ReplyCode(api.Call(AdminFrame(op, "ab", "b"))), Code::kUnauthorized)
        << wire::OpName(op);
  }
  EXPECT_EQ(FindReport(*api.GetStatus("ab"), "ab")->state, ExperimentState::kRunning);
  // pause / resume, and their refusals carry wire codes.
  ASSERT_TRUE(admin.Admin(wire::Op::kPause, "ab").ok());
  EXPECT_EQ(FindReport(*api.GetStatus("ab"), "ab")->state, ExperimentState::kPaused);
  EXPECT_EQ(CodeName(admin.Admin(wire::Op::kPause, "ab").code()), CodeName(Code::kBadRequest))
      << "pausing a paused experiment";
  for (int i = 0; i < 50; ++i) EXPECT_EQ(api.Route({"ab"})->arm, "a") << "paused: champion only";
  ASSERT_TRUE(admin.Admin(wire::Op::kResume, "ab").ok());
  EXPECT_EQ(FindReport(*api.GetStatus("ab"), "ab")->state, ExperimentState::kRunning);
  EXPECT_EQ(CodeName(admin.Admin(wire::Op::kReload, "ab").code()), CodeName(Code::kBadRequest))
      << "reloading an experiment without models";
  EXPECT_EQ(admin.Admin(wire::Op::kPromote, "ab", "zzz").code(), Code::kBadRequest);
  EXPECT_EQ(admin.Admin(wire::Op::kPromote, "nope", "b").code(), Code::kUnknownExperiment);
  ASSERT_TRUE(admin.Admin(wire::Op::kPromote, "ab", "b").ok());
  auto st = api.GetStatus("ab");
  ASSERT_TRUE(st.ok());
  const auto* rep = FindReport(*st, "ab");
  EXPECT_EQ(rep->state, ExperimentState::kPromoted);
  ASSERT_TRUE(rep->winner.has_value());
  EXPECT_EQ(*rep->winner, "b");
  // The promoted arm takes all the traffic.
  int to_b = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = api.Route({"ab", "unit" + std::to_string(i)});
    ASSERT_TRUE(r.ok());
    to_b += r->arm == "b";
  }
  EXPECT_EQ(to_b, 200);
  EXPECT_TRUE(admin.Admin(wire::Op::kSnapshot).ok());
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

}  // namespace
}  // namespace banditd::itest
