// An extra I/O thread of the api (sockets.api_extra; docs/PERFORMANCE.md,
// "More than one core"). It owns one more ROUTER socket, bound and secured by
// the main thread, and answers route-only route requests there by itself,
// from the experiments' published views (route_view.h): the same draw, the
// same signed decision ids (under a boot id of its own) and the same
// decision-log lines as the main thread. Everything else — other ops, routes
// that carry an input for a model, contextual experiments, unknown
// experiments or arms, frames it cannot decode — it forwards unchanged to the
// main I/O thread over an inproc PAIR, and relays the main thread's replies
// back to the client. So the Engine, the WAL and the model pool keep their
// single owner, and rewards are applied by it alone.
//
// Its decision-log lines are formatted here and handed to the main thread
// in chunks (LogChunk), at most every 100 ms or 64 KiB.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "banditd/clock.h"
#include "banditd/rng.h"
#include "banditd/wire.h"
#include "src/experiment/decision_id.h"
#include "src/protocol/decoder.h"
#include "src/server/mailbox.h"
#include "src/server/reply_budget.h"
#include "src/server/route_view.h"
#include "src/state/decision_log.h"

namespace banditd::server {

struct LogChunk {
  std::string text;
  uint64_t lines = 0;
};

struct RouteThreadOptions {
  size_t reader = 0;  // this thread's reader index on the ViewBoard
  uint32_t boot = 0;  // boot id of its decisions (distinct per thread)
  experiment::DecisionKey key{};
  experiment::DecisionTime decision_time;  // the engine's: decisions' issued_s
  uint64_t seed = 0;
  std::vector<std::string> experiments;  // names; index = view index
  wire::DecodeLimits limits;
  // The daemon's bound for unsent replies, shared with the main I/O thread
  // (required). Replies relayed from the main thread were charged there.
  ReplyBudget* reply_budget = nullptr;
};

// Written by the thread, read by the main thread's metrics.
struct RouteThreadStats {
  std::atomic<uint64_t> frames{0};     // received on its ROUTER
  std::atomic<uint64_t> routed{0};     // answered here
  std::atomic<uint64_t> forwarded{0};  // sent to the main thread
  std::atomic<uint64_t> refused{0};    // bad_request answered here (too many frames)
};

class RouteThread {
 public:
  // `router` is bound; `relay` is a PAIR connected to the main thread's end.
  // Both move to the new thread at Start.
  RouteThread(RouteThreadOptions options, zmq::socket_t router, zmq::socket_t relay,
              ViewBoard& board, Clock& clock, Mailbox<LogChunk>& log);
  ~RouteThread();
  RouteThread(const RouteThread&) = delete;
  RouteThread& operator=(const RouteThread&) = delete;

  void Start();
  // Shutdown, first step: take no more requests from clients, keep relaying
  // the main thread's replies. Returns once the thread has stopped reading
  // its ROUTER (everything it read before is forwarded or answered).
  void StopReading();
  // Second step: relay the replies still queued, hand over the last log
  // lines, and exit.
  void Join();

  const RouteThreadStats& stats() const { return stats_; }

 private:
  enum Phase : int { kServing = 0, kRelayOnly = 1, kExit = 2 };

  void Run();
  // Each handles one message; false when none was waiting.
  bool OnClientMessage();
  bool OnReply();
  void Forward(size_t frames);
  void SendReply(size_t envelope_frames, const std::string& payload);
  void HandOverLog(bool force);

  RouteThreadOptions options_;
  zmq::socket_t router_, relay_;
  ViewBoard& board_;
  Clock& clock_;
  Mailbox<LogChunk>& log_;
  Rng rng_;
  experiment::DecisionCodec codec_;
  protocol::Decoder decoder_;
  uint32_t seq_ = 0;
  std::array<zmq::message_t, 4> parts_;  // routing frames + body, as the main thread
  zmq::message_t excess_;
  std::string out_;
  ReplySender replies_;
  state::LineBuffer lines_;
  int64_t last_handover_ns_ = 0;
  int64_t last_sweep_ns_ = 0;
  RouteThreadStats stats_;
  Mailbox<int> wake_;
  std::atomic<int> phase_{kServing};
  std::atomic<bool> reading_stopped_{false};
  std::thread thread_;
};

}  // namespace banditd::server
