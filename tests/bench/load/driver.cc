#include "tests/bench/load/driver.h"

#include <algorithm>
#include <chrono>
#include <msgpack.hpp>
#include <thread>
#include <zmq.hpp>

namespace banditd::bench {
namespace {

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Reads `id` (a uint) and `ok` from the first msgpack map in the frame;
// trailing bytes are ignored (the echo baselines pad their replies).
bool ParseReply(std::string_view frame, uint64_t* id, bool* ok) {
  try {
    size_t off = 0;
    msgpack::object_handle oh = msgpack::unpack(frame.data(), frame.size(), off);
    const msgpack::object& o = oh.get();
    if (o.type != msgpack::type::MAP) return false;
    bool have_id = false;
    *ok = true;
    for (uint32_t i = 0; i < o.via.map.size; ++i) {
      const auto& kv = o.via.map.ptr[i];
      if (kv.key.type != msgpack::type::STR) continue;
      const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
      if (key == "id" && kv.val.type == msgpack::type::POSITIVE_INTEGER) {
        *id = kv.val.via.u64;
        have_id = true;
      } else if (key == "ok" && kv.val.type == msgpack::type::BOOLEAN) {
        *ok = kv.val.via.boolean;
      }
    }
    return have_id;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::string IdBytes(uint64_t seq) {
  std::string s(9, '\0');
  s[0] = static_cast<char>(0xcf);
  for (int i = 0; i < 8; ++i) s[8 - i] = static_cast<char>((seq >> (8 * i)) & 0xff);
  return s;
}

namespace {

LoadResult RunLoadThread(const LoadSpec& spec) {
  LoadResult result;
  zmq::context_t ctx(1);
  const int n = spec.clients;
  std::vector<zmq::socket_t> socks;
  std::vector<zmq::pollitem_t> items;
  for (int i = 0; i < n; ++i) {
    socks.emplace_back(ctx, zmq::socket_type::dealer);
    socks.back().set(zmq::sockopt::linger, 0);
    socks.back().set(zmq::sockopt::sndhwm, 0);
    socks.back().set(zmq::sockopt::rcvhwm, 0);
    socks.back().connect(spec.endpoint);
    for (const auto& ep : spec.extra_endpoints) socks.back().connect(ep);
  }
  for (auto& s : socks) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
  // Send times by sequence number; a ring larger than what can be in flight.
  size_t ring = 1;
  while (ring < static_cast<size_t>(n) * static_cast<size_t>(spec.inflight) * 4) ring <<= 1;
  std::vector<uint64_t> sent_at(ring, 0);
  std::string frame;
  uint64_t next_seq = 0, outstanding = 0;
  const uint64_t start = NowNs();
  const uint64_t deadline = start + static_cast<uint64_t>(spec.max_seconds * 1e9);
  uint64_t last_reply = start, last_send = start;

  auto send_one = [&](zmq::socket_t& s) {
    spec.make(next_seq, &frame);
    result.request_bytes = frame.size();
    sent_at[next_seq & (ring - 1)] = NowNs();
    last_send = sent_at[next_seq & (ring - 1)];
    s.send(zmq::buffer(frame), zmq::send_flags::none);
    ++next_seq;
    ++outstanding;
    ++result.sent;
  };
  auto may_send = [&] { return next_seq < spec.max_requests && NowNs() < deadline; };

  for (int i = 0; i < n; ++i)
    for (int k = 0; k < spec.inflight && may_send(); ++k) send_one(socks[i]);

  zmq::message_t msg;
  while (outstanding > 0) {
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));
    for (int i = 0; i < n; ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      while (socks[i].recv(msg, zmq::recv_flags::dontwait)) {
        const uint64_t now = NowNs();
        const std::string_view reply(static_cast<const char*>(msg.data()), msg.size());
        uint64_t id = 0;
        bool ok = true;
        --outstanding;
        ++result.replies;
        last_reply = now;
        result.reply_bytes = reply.size();
        if (ParseReply(reply, &id, &ok)) {
          result.hist.Record(now - sent_at[id & (ring - 1)]);
        } else {
          ok = false;
        }
        if (!ok) {
          ++result.errors;
          if (result.first_error.empty()) result.first_error = std::string(reply);
        }
        if (spec.on_reply) spec.on_reply(reply);
        if (may_send()) send_one(socks[i]);
      }
    }
    if (NowNs() > last_send + 5'000'000'000ull && NowNs() > last_reply + 5'000'000'000ull) break;
  }
  result.lost = outstanding;
  result.seconds = static_cast<double>(last_reply - start) / 1e9;
  return result;
}

}  // namespace

LoadResult RunLoad(const LoadSpec& spec) {
  if (spec.threads <= 1) return RunLoadThread(spec);
  // Each thread sends its share; their sockets and clocks are their own.
  std::vector<LoadResult> parts(static_cast<size_t>(spec.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < spec.threads; ++t) {
    LoadSpec one = spec;
    one.threads = 1;
    one.max_requests = spec.max_requests / static_cast<uint64_t>(spec.threads);
    threads.emplace_back([one, &parts, t] { parts[static_cast<size_t>(t)] = RunLoadThread(one); });
  }
  for (auto& t : threads) t.join();
  LoadResult all;
  for (const auto& p : parts) {
    all.hist.Merge(p.hist);
    all.sent += p.sent;
    all.replies += p.replies;
    all.errors += p.errors;
    all.lost += p.lost;
    all.seconds = std::max(all.seconds, p.seconds);
    all.request_bytes = p.request_bytes;
    all.reply_bytes = p.reply_bytes;
    if (all.first_error.empty()) all.first_error = p.first_error;
  }
  return all;
}

double Blast(const std::string& endpoint, const std::vector<std::string>& frames) {
  zmq::context_t ctx(1);
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 10000);
  push.connect(endpoint);
  const uint64_t start = NowNs();
  for (const auto& f : frames) push.send(zmq::buffer(f), zmq::send_flags::none);
  return static_cast<double>(NowNs() - start) / 1e9;
}

}  // namespace banditd::bench
