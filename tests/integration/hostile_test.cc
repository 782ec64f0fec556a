// Hostile input against the real daemon: malformed frames each get their
// code, the daemon keeps answering, and its memory stays flat.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <thread>

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

constexpr size_t kMaxFrame = 65536;

// A msgpack map built by `fill`, which packs `n` key/value pairs.
std::string Map(uint32_t n, const std::function<void(Packer&)>& fill) {
  msgpack::sbuffer buf;
  Packer p(buf);
  p.pack_map(n);
  fill(p);
  return std::string(buf.data(), buf.size());
}

void Str(Packer& p, std::string_view s) {
  p.pack_str(static_cast<uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

struct Case {
  std::string name;
  std::string frame;
  Code code;
};

std::vector<Case> Cases() {
  std::vector<Case> c;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  auto route_with = [](std::function<void(Packer&)> extra) {
    return Map(3, [&](Packer& p) {
      Str(p, "op");
      Str(p, "route");
      Str(p, "exp");
      Str(p, "ctr");
      extra(p);
    });
  };
  c.push_back({"empty frame", "", Code::kBadRequest});
  c.push_back({"never-used byte 0xc1", "\xc1\xc1\xc1\xc1", Code::kBadRequest});
  c.push_back({"ascii text", "hello, banditd", Code::kBadRequest});
  c.push_back({"array root", "\x93\x01\x02\x03", Code::kBadRequest});
  c.push_back({"array bomb", std::string("\xdd\xff\x00\x00\x00", 5), Code::kBadRequest});
  c.push_back({"map bomb", std::string("\xdf\xff\xff\xff\xff", 5), Code::kBadRequest});
  c.push_back({"str bomb", std::string("\xdb\xff\xff\xff\xff", 5), Code::kBadRequest});
  c.push_back({"bin bomb", std::string("\xc6\x7f\xff\xff\xff", 5), Code::kBadRequest});
  c.push_back({"truncated map", "\x82\xa2op\xa5rou", Code::kBadRequest});
  c.push_back(
      {"no op", Map(1, [](Packer& p) { Str(p, "exp"), Str(p, "ctr"); }), Code::kBadRequest});
  c.push_back(
      {"op is a number", Map(1, [](Packer& p) { Str(p, "op"), p.pack(5); }), Code::kBadRequest});
  c.push_back(
      {"unknown op", Map(1, [](Packer& p) { Str(p, "op"), Str(p, "explode"); }), Code::kUnknownOp});
  c.push_back(
      {"non-string key", Map(1, [](Packer& p) { p.pack(1), Str(p, "route"); }), Code::kBadRequest});
  c.push_back(
      {"duplicate key",
       Map(2, [](Packer& p) { Str(p, "op"), Str(p, "status"), Str(p, "op"), Str(p, "status"); }),
       Code::kBadRequest});
  c.push_back({"exp is a number",
               Map(2, [](Packer& p) { Str(p, "op"), Str(p, "route"), Str(p, "exp"), p.pack(7); }),
               Code::kBadRequest});
  c.push_back({"route without exp", Map(1, [](Packer& p) { Str(p, "op"), Str(p, "route"); }),
               Code::kBadRequest});
  c.push_back({"unit is a map", route_with([](Packer& p) { Str(p, "unit"), p.pack_map(0); }),
               Code::kBadRequest});
  {
    std::string deep = route_with([](Packer& p) {
      Str(p, "junk");
      for (int i = 0; i < 200; ++i) p.pack_array(1);
      p.pack_nil();
    });
    c.push_back({"deep nesting", deep, Code::kBadRequest});
  }
  c.push_back({"array bomb in input", route_with([](Packer& p) {
                 Str(p, "input");
                 p.pack_array(0xffffffffu);
               }),
               Code::kBadRequest});
  c.push_back({"too many map entries",
               Map(1000,
                   [](Packer& p) {
                     for (int i = 0; i < 1000; ++i) Str(p, "k" + std::to_string(i)), p.pack(i);
                   }),
               Code::kBadRequest});
  c.push_back({"string over max_str",
               route_with([](Packer& p) { Str(p, "unit"), Str(p, std::string(5000, 'u')); }),
               Code::kBadRequest});
  c.push_back({"oversized frame", route_with([](Packer& p) {
                 Str(p, "pad");
                 const std::string pad(kMaxFrame * 3 / 2, 'x');
                 p.pack_bin(static_cast<uint32_t>(pad.size()));
                 p.pack_bin_body(pad.data(), static_cast<uint32_t>(pad.size()));
               }),
               Code::kBadRequest});
  c.push_back({"ext root", std::string("\xd4\x01\x00", 3), Code::kBadRequest});
  c.push_back({"reward NaN",
               Map(3,
                   [&](Packer& p) {
                     Str(p, "op"), Str(p, "reward"), Str(p, "decision"), Str(p, "d"),
                         Str(p, "value"), p.pack(nan);
                   }),
               Code::kInvalidValue});
  c.push_back({"reward +inf",
               Map(3,
                   [&](Packer& p) {
                     Str(p, "op"), Str(p, "reward"), Str(p, "decision"), Str(p, "d"),
                         Str(p, "value"), p.pack(inf);
                   }),
               Code::kInvalidValue});
  c.push_back({"reward value is a string",
               Map(3,
                   [](Packer& p) {
                     Str(p, "op"), Str(p, "reward"), Str(p, "decision"), Str(p, "d"),
                         Str(p, "value"), Str(p, "1");
                   }),
               Code::kBadRequest});
  c.push_back(
      {"rewards items not an array",
       Map(2, [](Packer& p) { Str(p, "op"), Str(p, "rewards"), Str(p, "items"), p.pack(3); }),
       Code::kBadRequest});
  c.push_back({"input of 7 values for an [8] model",
               route_with([](Packer& p) { Str(p, "input"), p.pack(std::vector<float>(7, 0.1f)); }),
               Code::kInvalidInput});
  c.push_back({"input with NaN", route_with([&](Packer& p) {
                 std::vector<float> x(8, 0.1f);
                 x[3] = static_cast<float>(nan);
                 Str(p, "input"), p.pack(x);
               }),
               Code::kInvalidInput});
  c.push_back({"input of strings", route_with([](Packer& p) {
                 Str(p, "input"), p.pack(std::vector<std::string>(8, "x"));
               }),
               Code::kInvalidInput});
  c.push_back({"tensor of shape [2, 4] for an [8] model", route_with([](Packer& p) {
                 Str(p, "input");
                 p.pack_map(2);
                 Str(p, "shape"), p.pack(std::vector<int>{2, 4});
                 const std::string data(32, '\0');
                 Str(p, "data");
                 p.pack_bin(32);
                 p.pack_bin_body(data.data(), 32);
               }),
               Code::kInvalidInput});
  c.push_back({"tensor data shorter than its shape", route_with([](Packer& p) {
                 Str(p, "input");
                 p.pack_map(2);
                 Str(p, "shape"), p.pack(std::vector<int>{8});
                 const std::string data(12, '\0');
                 Str(p, "data");
                 p.pack_bin(12);
                 p.pack_bin_body(data.data(), 12);
               }),
               Code::kInvalidInput});
  c.push_back({"forced arm that does not exist",
               RouteFrame({"ctr", std::nullopt, std::vector<float>(8, 0.1f), "zzz"}),
               Code::kBadRequest});
  c.push_back({"context with NaN", route_with([&](Packer& p) {
                 Str(p, "context"), p.pack(std::vector<double>{1.0, nan});
               }),
               Code::kBadContext});
  c.push_back({"unknown experiment", RouteFrame({"no-such-experiment"}), Code::kUnknownExperiment});
  c.push_back({"status of an unknown experiment", StatusFrame("nope"), Code::kUnknownExperiment});
  c.push_back({"unknown decision", RewardFrame("AAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1.0),
               Code::kUnknownDecision});
  c.push_back({"admin op on api", AdminFrame(wire::Op::kPromote, "ctr", "challenger"),
               Code::kUnauthorized});
  return c;
}

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ConfigOptions o;
    o.max_frame_bytes = kMaxFrame;
    o.io_threads = 2;  // an extra api endpoint gets the same cases
    ASSERT_TRUE(d_.Start(
        WriteConfig(dir_.path(), TwoModels("ctr", "ab", "champion.pt", "challenger.pt"), o),
        dir_.path()));
  }
  bool Healthy(Client& api) {
    auto r = api.Route({"ctr", "u", std::vector<float>(8, 0.2f)});
    return r.ok() && r->output.has_value();
  }

  TempDir dir_;
  DaemonProcess d_;
  zmq::context_t ctx_;
};

// Sends every case, then the multi-frame ones, to `api`: each gets its code
// and the daemon keeps serving.
void ExpectEachCaseGetsItsCode(Client& api, const std::function<bool()>& healthy) {
  const auto cases = Cases();
  ASSERT_GE(cases.size(), 20u);
  for (const auto& c : cases) {
    auto reply = api.Call(c.frame);
    ASSERT_TRUE(reply.has_value()) << c.name << ": no reply";
    EXPECT_EQ(CodeName(ReplyCode(reply)), CodeName(c.code)) << c.name;
    ASSERT_TRUE(healthy()) << "after " << c.name;
  }
  // Multi-frame messages: more frames than an envelope may hold.
  api.SendParts({"a", "b", "c", "d", "e", StatusFrame()});
  EXPECT_EQ(ReplyCode(api.Recv()), Code::kBadRequest) << "six frames";
  // Two frames from a DEALER: the first is taken as a routing frame (as a
  // proxy would add) and echoed; the body still gets its code.
  api.SendParts({"\xc1", std::string("\xdd\xff\x00\x00\x00", 5)});
  auto parts = api.RecvParts();
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(ReplyCode(parts->back()), Code::kBadRequest) << "two frames";
}

// The extra api I/O thread decodes every frame first (with the same limits)
// and answers or forwards it: each case gets the same code there.
TEST_F(HostileTest, EachMalformedFrameGetsItsCodeOnAnExtraApiEndpoint) {
  ASSERT_EQ(d_.endpoints().api_extra.size(), 1u);
  Client api(ctx_, d_.endpoints().api_extra[0]);
  ExpectEachCaseGetsItsCode(api, [&] { return Healthy(api); });
  EXPECT_TRUE(Healthy(api));
}

TEST_F(HostileTest, EachMalformedFrameGetsItsCode) {
  Client api(ctx_, d_.endpoints().api);
  ExpectEachCaseGetsItsCode(api, [&] { return Healthy(api); });
  const auto cases = Cases();
  // Requests on the wrong socket.
  Client admin(ctx_, d_.endpoints().admin);
  EXPECT_EQ(ReplyCode(admin.Call(RouteFrame({"ctr"}))), Code::kBadRequest);
  EXPECT_EQ(ReplyCode(admin.Call("\xc1")), Code::kBadRequest);
  // The PULL socket answers nothing and keeps working.
  Client push(ctx_, d_.endpoints().rewards, zmq::socket_type::push);
  for (const auto& c : cases) push.Send(c.frame);
  push.SendParts({"x", "y"});
  EXPECT_TRUE(Healthy(api));

  // /metrics counts the refusals by code (published once a second).
  size_t bad_requests = 0;
  for (const auto& c : cases) bad_requests += c.code == Code::kBadRequest;
  // Metrics are published once a second and the PULL frames are served
  // asynchronously: poll for up to 5 s.
  std::optional<std::string> metrics;
  auto value = [&](const std::string& series) {
    return metrics ? MetricValue(*metrics, series) : -1.0;
  };
  const std::string bad = "banditd_errors_total{code=\"bad_request\"}";
  const std::string input = "banditd_errors_total{code=\"invalid_input\"}";
  const std::string unauth = "banditd_errors_total{code=\"unauthorized\"}";
  // Non-finite rewards are rejected rewards too: 2 on api, 2 on the PULL socket.
  const std::string nonfinite = "banditd_rewards_total{result=\"invalid_value\"}";
  for (int i = 0; i < 50; ++i) {
    metrics = HttpGet(d_.endpoints().metrics, "/metrics");
    if (value(bad) >= static_cast<double>(bad_requests + 4) && value(input) >= 5 &&
        value(unauth) >= 1 && value(nonfinite) >= 4) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(metrics.has_value()) << "GET /metrics on " << d_.endpoints().metrics;
  EXPECT_GE(value(bad), static_cast<double>(bad_requests + 4));
  EXPECT_GE(value(input), 5.0);
  EXPECT_GE(value(unauth), 1.0);
  EXPECT_GE(value(nonfinite), 4.0);
  EXPECT_EQ(d_.Stop(), 0) << d_.LogTail();
}

// Polls /metrics (published once a second) until `series` reaches `want`
// or 5 s passed; its last value (-1 when absent).
double WaitMetric(const DaemonProcess& d, const std::string& series, double want) {
  double v = -1;
  for (int i = 0; i < 50; ++i) {
    if (auto text = HttpGet(d.endpoints().metrics, "/metrics")) v = MetricValue(*text, series);
    if (v >= want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return v;
}

TEST_F(HostileTest, FramesOverFourTimesTheLimitDropOnlyThatPeer) {
  Client api(ctx_, d_.endpoints().api);
  ASSERT_TRUE(Healthy(api));
  // libzmq reports a frame over ZMQ_MAXMSGSIZE only as the disconnect of its
  // peer: counted per socket while the peer itself keeps its end open.
  const std::string api_closed = "banditd_disconnects_total{socket=\"api\"}";
  const std::string pull_closed = "banditd_disconnects_total{socket=\"rewards\"}";
  ASSERT_EQ(WaitMetric(d_, api_closed, 0), 0);
  ASSERT_EQ(WaitMetric(d_, pull_closed, 0), 0);
  {
    // Over ZMQ_MAXMSGSIZE (4x max_frame_bytes + 4 KiB): libzmq closes that
    // peer's connection without handing the frame to the daemon.
    Client hog(ctx_, d_.endpoints().api);
    hog.Send(std::string(kMaxFrame * 5, '\x91'));
    EXPECT_FALSE(hog.Recv(500).has_value());
    EXPECT_EQ(WaitMetric(d_, api_closed, 1), 1);
    Client push_hog(ctx_, d_.endpoints().rewards, zmq::socket_type::push);
    push_hog.Send(std::string(kMaxFrame * 5, '\x91'));
    EXPECT_EQ(WaitMetric(d_, pull_closed, 1), 1);
  }
  EXPECT_TRUE(Healthy(api));
  // Many short-lived peers, each with one hostile frame: all answered.
  const long before = d_.RssKib();
  int answered = 0;
  for (int i = 0; i < 300; ++i) {
    Client peer(ctx_, d_.endpoints().api);
    answered += ReplyCode(peer.Call(std::string("\xdd\xff\x00\x00\x00", 5))) == Code::kBadRequest;
  }
  EXPECT_EQ(answered, 300);
  const long after = d_.RssKib();
  std::printf("[ hostile ] RSS %ld KiB -> %ld KiB over 300 short-lived peers\n", before, after);
  EXPECT_LT(after - before, 10 * 1024);
  EXPECT_TRUE(Healthy(api));
  EXPECT_EQ(d_.Stop(), 0) << d_.LogTail();
}

// A message of several frames on the PULL socket is refused whole: its first
// frame, a valid reward, is not applied, and the refusal is counted.
TEST_F(HostileTest, MultipartMessageOnPullIsRefusedWhole) {
  Client api(ctx_, d_.endpoints().api);
  auto first = api.Route({"ctr", "u1", std::vector<float>(8, 0.2f)});
  auto second = api.Route({"ctr", "u2", std::vector<float>(8, 0.2f)});
  ASSERT_TRUE(first.ok() && second.ok());
  const std::string bad = "banditd_errors_total{code=\"bad_request\"}";
  const double bad_before = std::max(0.0, WaitMetric(d_, bad, 0));
  Client push(ctx_, d_.endpoints().rewards, zmq::socket_type::push);
  push.SendParts({RewardFrame(first->decision, 1.0), "tail"});
  push.SendParts({RewardFrame(first->decision, 1.0), RewardFrame(second->decision, 1.0)});
  // A single-frame reward on the same connection, read after the two.
  push.Send(RewardFrame(second->decision, 1.0));
  auto rewards_applied = [&] {
    auto st = api.GetStatus("ctr");
    if (!st.ok()) return -1.0;
    double n = 0;
    for (const auto& arm : FindReport(*st, "ctr")->arms) n += arm.n;
    return n;
  };
  double applied = 0;
  for (int i = 0; i < 50 && applied < 1; ++i) {
    applied = rewards_applied();
    if (applied < 1) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(applied, 1) << "only the single-frame reward is applied";
  EXPECT_EQ(WaitMetric(d_, bad, bad_before + 2), bad_before + 2);
  // The first decision was never rewarded: an acked reward for it is accepted.
  EXPECT_TRUE(api.Reward(first->decision, 0.5).ok());
  EXPECT_EQ(rewards_applied(), 2);
  EXPECT_EQ(d_.Stop(), 0) << d_.LogTail();
}

TEST_F(HostileTest, MemoryStaysFlatOverTwentyThousandFrames) {
  Client api(ctx_, d_.endpoints().api);
  const auto cases = Cases();
  auto blast = [&](int frames) {
    constexpr int kWindow = 200;
    int sent = 0, answered = 0, wrong = 0;
    while (sent < frames) {
      const int n = std::min(kWindow, frames - sent);
      for (int i = 0; i < n; ++i) api.Send(cases[(sent + i) % cases.size()].frame);
      for (int i = 0; i < n; ++i) {
        auto reply = api.Recv();
        if (!reply) break;
        ++answered;
        wrong += protocol::DecodeOkReply(*reply).ok();
      }
      sent += n;
    }
    EXPECT_EQ(answered, frames);
    EXPECT_EQ(wrong, 0) << "hostile frames answered with ok";
  };
  blast(2000);  // warm-up: allocator arenas, decoder scratch, reply buffer
  const long before = d_.RssKib();
  ASSERT_GT(before, 0);
  blast(20000);
  const long after = d_.RssKib();
  std::printf("[ hostile ] RSS %ld KiB -> %ld KiB over 20,000 hostile frames (%+ld KiB)\n", before,
              after, after - before);
  EXPECT_LT(after - before, 10 * 1024);
  EXPECT_TRUE(Healthy(api));
  EXPECT_EQ(d_.Stop(), 0) << d_.LogTail();
}

}  // namespace
}  // namespace banditd::itest
