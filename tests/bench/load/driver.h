// The load generator's client side, shared by the daemon runs and the
// baselines so both are measured by the same code: DEALER clients keeping
// requests in flight (lock-step is 1 client x 1 in flight), and a PUSH
// blaster for fire-and-forget messages.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/histogram.h"

namespace banditd::bench {

// Writes the request with sequence number `seq` (its msgpack id) into *frame.
using FrameMaker = std::function<void(uint64_t seq, std::string* frame)>;
// Sees every reply frame (e.g. to collect decision ids); may be empty.
using ReplySink = std::function<void(std::string_view frame)>;

struct LoadSpec {
  std::string endpoint;
  // Every socket also connects to these (a DEALER spreads its requests over
  // its peers in turn): the daemon's extra api endpoints.
  std::vector<std::string> extra_endpoints;
  int threads = 1;   // client threads, each with `clients` sockets and its share of requests
  int clients = 1;   // DEALER sockets per thread, all driven by that thread
  int inflight = 1;  // requests outstanding per socket
  uint64_t max_requests = 100000;
  double max_seconds = 5;
  FrameMaker make;
  ReplySink on_reply;
};

struct LoadResult {
  LatencyHistogram hist;  // send -> reply, nanoseconds
  uint64_t sent = 0;
  uint64_t replies = 0;
  uint64_t errors = 0;  // replies with ok: false
  uint64_t lost = 0;    // no reply within 5 s after the last send
  double seconds = 0;   // first send -> last reply
  size_t request_bytes = 0;
  size_t reply_bytes = 0;  // size of the last reply
  std::string first_error;
  double throughput() const { return seconds > 0 ? static_cast<double>(replies) / seconds : 0; }
};

// The msgpack of `seq` as a fixed-width uint64 (0xcf + 8 bytes big-endian),
// for wire::Request::id.
std::string IdBytes(uint64_t seq);

LoadResult RunLoad(const LoadSpec& spec);

// Sends every frame on one PUSH socket as fast as the socket takes them;
// returns the seconds the sends took (the receiver is timed separately).
double Blast(const std::string& endpoint, const std::vector<std::string>& frames);

}  // namespace banditd::bench
