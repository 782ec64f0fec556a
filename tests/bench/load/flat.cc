#include "tests/bench/load/flat.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <zmq.hpp>

#include "banditd/wire.h"
#include "src/protocol/encoder.h"
#include "src/protocol/reply_decoder.h"

namespace banditd::bench {

MemoryReport MeasureMemory(Bench& bench, const Target& t, uint64_t n, int batch) {
  MemoryReport m;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  m.rss_start_mb = ReadRssMB(t.pid);
  const auto decisions = bench.Decisions(t, n);
  m.decisions = decisions.size();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  m.rss_after_routes_mb = ReadRssMB(t.pid);
  double secs = 0;
  m.rewards_applied = bench.PushRewards(t, decisions, 0, decisions.size(), batch, &secs);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  m.rss_after_rewards_mb = ReadRssMB(t.pid);
  std::printf(
      "memory: RSS %.1f MB at start, %.1f MB after %llu routes, %.1f MB after %llu "
      "rewards (joined in %.1f s)\n",
      m.rss_start_mb, m.rss_after_routes_mb, static_cast<unsigned long long>(m.decisions),
      m.rss_after_rewards_mb, static_cast<unsigned long long>(m.rewards_applied), secs);
  std::fflush(stdout);
  return m;
}

FlatReport MeasureFlat(const Target& t, const FlatOptions& o) {
  using Clock = std::chrono::steady_clock;
  FlatReport f;
  f.seconds = o.seconds;
  f.rate = o.rate;
  f.warmup_seconds = o.warmup_seconds;
  zmq::context_t ctx(1);
  zmq::socket_t api(ctx, zmq::socket_type::dealer);
  zmq::socket_t push(ctx, zmq::socket_type::push);
  api.set(zmq::sockopt::linger, 0);
  api.set(zmq::sockopt::rcvtimeo, 2000);
  push.set(zmq::sockopt::linger, 2000);
  api.connect(t.ep.api);
  push.connect(t.ep.rewards);
  const int per_tick = std::max(1, static_cast<int>(o.rate / 100));  // 10 ms ticks
  std::string frame;
  zmq::message_t msg;
  const auto start = Clock::now();
  auto next_tick = start;
  auto next_sample = start;
  uint64_t seq = 0;
  f.min_mb = 1e18;
  while (Clock::now() - start < std::chrono::duration<double>(o.seconds)) {
    for (int i = 0; i < per_tick; ++i) {
      const std::string id = IdBytes(seq++);
      wire::Request req;
      req.op = wire::Op::kRoute;
      req.id = id;
      wire::RouteRequest route;
      route.exp = "route";
      req.body = route;
      protocol::EncodeRequest(req, &frame);
      api.send(zmq::buffer(frame), zmq::send_flags::none);
    }
    for (int i = 0; i < per_tick; ++i) {
      if (!api.recv(msg)) break;
      auto r = protocol::DecodeRouteReply(std::string_view(msg.data<char>(), msg.size()));
      if (!r.ok()) continue;
      ++f.routes;
      wire::Request req;
      req.op = wire::Op::kReward;
      req.body = wire::RewardRequest{r->decision, static_cast<double>(seq & 1), std::nullopt};
      protocol::EncodeRequest(req, &frame);
      push.send(zmq::buffer(frame), zmq::send_flags::none);
      ++f.rewards;
    }
    const auto now = Clock::now();
    if (now >= next_sample) {
      const double at = std::chrono::duration<double>(now - start).count();
      const double rss = ReadRssMB(t.pid);
      f.samples.emplace_back(at, rss);
      if (at >= o.warmup_seconds) {
        f.min_mb = std::min(f.min_mb, rss);
        f.max_mb = std::max(f.max_mb, rss);
      }
      next_sample += std::chrono::seconds(5);
    }
    next_tick += std::chrono::milliseconds(10);
    std::this_thread::sleep_until(next_tick);
  }
  if (f.max_mb == 0) f.min_mb = 0;
  std::printf("flat: %.0f s, %llu routes, %llu rewards, RSS after warm-up %.1f..%.1f MB\n",
              o.seconds, static_cast<unsigned long long>(f.routes),
              static_cast<unsigned long long>(f.rewards), f.min_mb, f.max_mb);
  return f;
}

}  // namespace banditd::bench
