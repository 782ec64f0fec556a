// Memory bound for unsent replies (docs/operations.md, "Memory bound for
// unsent replies", and the config key limits.max_unsent_reply_bytes).
//
// libzmq queues a ROUTER's outgoing messages per peer, bounded only in
// messages (ZMQ_SNDHWM), and it cannot say how much a queue holds. A client
// that sends requests and never reads the replies makes its queue grow by one
// reply per request, and a client may open many connections. So the bound is
// kept here, in bytes, by exact accounting:
//
// - every reply's body is handed to libzmq as a zero-copy message
//   (zmq_msg_init_data) whose free function libzmq calls once it is done with
//   it: written to the connection, or dropped with the peer. A reply is
//   charged when it is sent and released in that free function, which runs on
//   whichever thread lets go of the message (a libzmq I/O thread, or the
//   sender itself when the ROUTER drops it);
// - the charge is the sum of the reply's frames plus kFrameOverhead per frame
//   for libzmq's own bookkeeping (its msg_t slot in the pipe, the content
//   header, malloc headers): an estimate that errs high. The frames of a
//   message leave a pipe in order, so the routing frames are gone by the time
//   the body is released;
// - a reply is dropped (counted, never queued) when it would take the charge
//   of all peers together over `max_bytes`. A reply to a peer that already
//   has replies queued is also dropped when it would take that peer over
//   `max_bytes / 16` (its share), or all peers together over 7/8 of
//   `max_bytes`: the last eighth is kept for peers with nothing queued —
//   clients that read their replies — so stalled peers cannot take all the
//   room of those that read. (A stalled peer's first reply may use it; to
//   fill it that way takes one connection per reply.)
//
// What is charged at any moment is an upper bound of the reply memory libzmq
// holds for banditd, so that memory never exceeds `max_bytes`. (Each
// connection also costs libzmq a fixed amount — buffers of some KiB — that
// is not counted here.)
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include <zmq.hpp>

namespace banditd::server {

// Shared by every thread that sends replies; must outlive the ZeroMQ context
// (libzmq may release the last replies while the context terminates).
class ReplyBudget {
 public:
  static constexpr size_t kFrameOverhead = 160;
  static constexpr size_t kPeerShareDivisor = 16;

  explicit ReplyBudget(size_t max_bytes) : max_bytes_(static_cast<int64_t>(max_bytes)) {}
  ReplyBudget(const ReplyBudget&) = delete;
  ReplyBudget& operator=(const ReplyBudget&) = delete;

  int64_t max_bytes() const { return max_bytes_; }
  int64_t max_peer_bytes() const { return max_bytes_ / kPeerShareDivisor; }
  // Charged now: replies handed to libzmq that it has not let go of yet.
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  // Replies dropped for the bound.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  friend class ReplySender;
  const int64_t max_bytes_;
  std::atomic<int64_t> bytes_{0};
  std::atomic<uint64_t> dropped_{0};
};

// One per sending thread: sends replies charged to the budget, keeping the
// charge of each peer (socket and routing id) of that thread's sockets.
class ReplySender {
 public:
  explicit ReplySender(ReplyBudget& budget) : budget_(budget) {}
  ~ReplySender();
  ReplySender(const ReplySender&) = delete;
  ReplySender& operator=(const ReplySender&) = delete;

  enum class Result { kSent, kDropped };
  // Sends `envelope` (the routing frames; the first names the peer) and then
  // `payload`, without waiting. kDropped: over the bound, nothing sent.
  // Throws zmq::error_t when libzmq refuses a frame.
  Result Send(zmq::socket_t& socket, std::span<const std::string_view> envelope,
              std::string_view payload);

  // Forgets the peers that have nothing queued (their accounts are created
  // again by their next reply). Call now and then: the table holds a peer
  // only while it has replies queued, plus the peers seen since the last call.
  void Sweep();
  size_t peers() const { return peers_.size(); }

 private:
  struct Account;
  static void Free(void* data, void* hint);

  ReplyBudget& budget_;
  std::unordered_map<std::string, Account*> peers_;
  std::string key_;  // reused
};

}  // namespace banditd::server
