// The I/O loop: poll the sockets and the mailboxes, dispatch, tick.
#include "src/server/daemon.h"

#include <spdlog/spdlog.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "src/protocol/encoder.h"
#include "src/server/receive.h"

namespace banditd::server {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int kShutdownQuietMs = 50;

// Only the stable wire codes (docs/protocol.md) go on the wire. Local codes from
// the engine, the models or the state store are mapped: a refused state
// change or argument is the client's request at fault (bad_request); a file
// or state problem is internal (the message keeps the detail).
Code WireCode(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition:
      return Code::kBadRequest;
    case Code::kNotFound:
    case Code::kIoError:
    case Code::kCorruption:
      return Code::kInternal;
    default:
      return code;
  }
}

}  // namespace

void Daemon::Stop() {
  stop_.store(true, std::memory_order_relaxed);
  stop_wake_.Wake();
}

int Daemon::Run() {
  spdlog::info("banditd serving {} experiment(s)", engine_->num_experiments());
  const size_t ns = sockets_.size();
  pollfds_.assign(ns + 4, {});
  try_recv_.assign(ns, 1);
  try {
    for (size_t s = 0; s < ns; ++s) {
      pollfds_[s] = {sockets_[s]->get(zmq::sockopt::fd), POLLIN, 0};
    }
  } catch (const zmq::error_t& e) {
    spdlog::error("cannot get the sockets' file descriptors: {}", e.what());
    return 1;
  }
  const int fds[] = {completions_.fd(), wal_wake_.fd(), reloads_.fd(), stop_wake_.fd()};
  for (size_t i = 0; i < std::size(fds); ++i) pollfds_[ns + i] = {fds[i], POLLIN, 0};
  while (!stop_.load(std::memory_order_relaxed)) PollOnce(50);
  // A final snapshot that failed is not a clean stop: what it should have
  // held is still in the WAL, but an operator's backup must not rely on it.
  return Shutdown() ? 0 : 1;
}

// One round of the I/O loop. zmq_poll is not used: it asks ZMQ_EVENTS of every
// socket before and after each wait (six calls for three sockets, each one a
// pass over the socket's command mailbox and a poll(2) of its signal fd),
// whatever happened. Here no ZMQ_EVENTS is asked at all; this relies on how
// libzmq (4.3) signals a socket:
// - a socket's ZMQ_FD (zmq_getsockopt(3)) is readable while libzmq has
//   unprocessed commands for the socket (a peer's "messages are waiting" is
//   one), not while messages wait; it is cleared when the commands are read;
// - a non-blocking recv that finds no message reads all pending commands and
//   tries again before it returns EAGAIN. So a socket that answered EAGAIN is
//   empty, and whatever arrives later raises its fd: waiting on the fd is safe;
// - a send may read the socket's commands too (and so clear the fd while
//   messages wait): after replies were sent outside a drain, the socket is
//   tried again without waiting.
// A socket that may hold messages is drained with non-blocking recv until
// EAGAIN, at most a bounded burst per round so that one busy client does not
// starve the other sockets and the mailboxes; after a full burst it stays
// marked and the round does not wait.
void Daemon::PollOnce(int timeout_ms) {
  const size_t ns = sockets_.size();
  // While the WAL backlog is half full, fire-and-forget rewards wait in
  // libzmq's queue (and then in their senders, at the high-water mark)
  // instead of being refused as overloaded.
  const bool pull_paused = store_->wal().backlog() * 2 >= store_->wal().max_backlog();
  bool busy = false;
  for (size_t s = 0; s < ns; ++s) busy = busy || (try_recv_[s] && !(s == kPull && pull_paused));
  // inference.spin: results of inference in flight are collected without a
  // wake-up from a sleep (on a VM, waking an idle vCPU costs tens of µs).
  if (!busy && spin_until_ns_ != 0 && !routes_.empty()) {
    busy = clock_.MonoNanos() < spin_until_ns_;
  }
  const int n = ::poll(pollfds_.data(), pollfds_.size(), busy ? 0 : timeout_ms);
  if (n < 0 && errno != EINTR) spdlog::error("poll failed: {}", std::strerror(errno));
  for (size_t s = 0; s < ns; ++s) {
    // A wait that timed out also tries every socket: a cheap guard (every
    // 50 ms when idle) against a lost signal.
    if (pollfds_[s].revents != 0 || (n == 0 && !busy)) try_recv_[s] = true;
  }

  for (size_t s = 0; s < ns; ++s) {
    if (!try_recv_[s] || (s == kPull && pull_paused)) continue;
    const int burst = s == kPull ? 1024 : s == kAdmin ? 64 : 256;
    int got = 0;
    while (got < burst &&
           (s == kPull ? OnPullMessage() : OnApiMessage(*sockets_[s], s == kAdmin))) {
      ++got;
    }
    // Sends during the drain (marking the socket) came before its EAGAIN.
    try_recv_[s] = got == burst;
  }
  // These send replies on api (inference results, acks) and admin (reloads);
  // Send() marks the socket to be tried again.
  if (n > 0 && (pollfds_[ns].revents & POLLIN)) OnInferenceResults();
  if (n > 0 && (pollfds_[ns + 1].revents & POLLIN)) OnWalProgress();
  if (n > 0 && (pollfds_[ns + 2].revents & POLLIN)) OnReloads();
  if (n > 0 && (pollfds_[ns + 3].revents & POLLIN)) {
    std::vector<int> ignored;
    stop_wake_.Drain(&ignored);
  }
  Periodic();
  PublishViews();
}

bool Daemon::OnApiMessage(zmq::socket_t& socket, bool admin_socket) {
  size_t n = 0;  // frames of the message, kept or not
  try {
    n = ReceiveFrames(socket, parts_, excess_);
    if (n == 0) return false;
  } catch (const zmq::error_t& e) {
    spdlog::warn("receive failed: {}", e.what());
    return true;
  }
  if (n < 2) return true;  // a ROUTER message always carries the peer identity
  ++frames_;
  Envelope env;
  if (n > parts_.size()) {
    env.Add(parts_[0].data(), parts_[0].size());
    SendError(socket, env, {}, Code::kBadRequest, "a request is one frame (plus routing frames)");
    return true;
  }
  for (size_t i = 0; i + 1 < n; ++i) env.Add(parts_[i].data(), parts_[i].size());
  const zmq::message_t& body = parts_[n - 1];
  wire::Request req;
  Status s =
      decoder_.Decode(std::string_view(static_cast<const char*>(body.data()), body.size()), &req);
  if (!s.ok()) {
    CountRewardRefusal(req, s);
    SendError(socket, env, req.id, s.code(), s.message());
    return true;
  }
  if (wire::IsAdminOp(req.op) && !admin_socket) {
    SendError(socket, env, req.id, Code::kUnauthorized,
              "'" + std::string(wire::OpName(req.op)) + "' is only accepted on the admin socket");
    return true;
  }
  switch (req.op) {
    case wire::Op::kRoute:
      if (admin_socket) {
        SendError(socket, env, req.id, Code::kBadRequest, "route requests go to the api socket");
        return true;
      }
      HandleRoute(req, std::move(env), socket);
      return true;
    case wire::Op::kReward:
    case wire::Op::kRewards:
      if (admin_socket) {
        SendError(socket, env, req.id, Code::kBadRequest, "rewards go to the api socket");
        return true;
      }
      HandleReward(req, std::move(env), &socket);
      return true;
    case wire::Op::kStatus:
      HandleStatus(req, env, socket);
      return true;
    default:
      HandleAdmin(req, std::move(env), socket);
      return true;
  }
}

bool Daemon::OnPullMessage() {
  zmq::message_t& msg = parts_[0];
  bool multipart = false;
  try {
    if (!pull_.recv(msg, zmq::recv_flags::dontwait)) return false;
    multipart = msg.more();
    for (bool more = multipart; more;) {
      if (!pull_.recv(excess_, zmq::recv_flags::dontwait)) break;
      more = excess_.more();
    }
  } catch (const zmq::error_t& e) {
    spdlog::warn("receive failed on the rewards socket: {}", e.what());
    return true;
  }
  ++frames_;
  if (multipart) {
    // A request is one frame and PUSH adds no routing frames: a message of
    // several is refused whole (nothing applied), as bad_request.
    ++errors_by_code_[std::string(CodeName(Code::kBadRequest))];
    return true;
  }
  wire::Request req;
  Status s =
      decoder_.Decode(std::string_view(static_cast<const char*>(msg.data()), msg.size()), &req);
  if (!s.ok() || (req.op != wire::Op::kReward && req.op != wire::Op::kRewards)) {
    if (!s.ok()) CountRewardRefusal(req, s);
    ++errors_by_code_[std::string(CodeName(s.ok() ? Code::kBadRequest : s.code()))];
    return true;
  }
  HandleReward(req, Envelope{}, /*reply_socket=*/nullptr);
  return true;
}

void Daemon::CountRewardRefusal(const wire::Request& req, const Status& s) {
  // The decoder refuses a non-finite `value` (or `at`) of a reward: that is a
  // rejected reward too, counted with the refusals of the engine. (req.op is
  // only meaningful once the op was read, which a kInvalidValue implies.)
  if (s.code() == Code::kInvalidValue && req.op == wire::Op::kReward) {
    ++rewards_by_result_[std::string(CodeName(s.code()))];
  }
}

void Daemon::Send(zmq::socket_t& socket, const Envelope& env, const std::string& payload) {
  // A send may read the socket's commands (see PollOnce): try it again.
  for (size_t s = 0; s < sockets_.size(); ++s) {
    if (sockets_[s] == &socket) try_recv_[s] = true;
  }
  std::array<std::string_view, Envelope::kMaxFrames> frames;
  const char* p = env.bytes.data();
  for (uint32_t i = 0; i < env.count; p += env.sizes[i++]) frames[i] = {p, env.sizes[i]};
  try {
    // Over the memory bound for unsent replies the reply is dropped; the
    // budget counts it (reply_budget.h).
    (void)replies_.Send(socket, std::span(frames.data(), env.count), payload);
  } catch (const zmq::error_t& e) {
    spdlog::warn("send failed: {}", e.what());
  }
}

void Daemon::TrimAfterReplyBurst() {
  // The replies of a burst (clients that stopped reading) were allocated
  // here and freed on libzmq's threads, tens of MiB in small blocks: glibc
  // keeps those pages unless asked. malloc_trim takes a few ms for such a
  // heap, so only after a burst larger than what glibc keeps anyway
  // (kKeptFreeHeapBytes) that has drained to an eighth of its peak.
  constexpr int64_t kTrimAfterBytes = kKeptFreeHeapBytes;
  const int64_t charged = reply_budget_.bytes();
  reply_peak_ = std::max(reply_peak_, charged);
  if (reply_peak_ <= kTrimAfterBytes || charged > reply_peak_ / 8) return;
  reply_peak_ = charged;
  ReturnFreedMemory();
}

void Daemon::ReturnFreedMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

void Daemon::SendError(zmq::socket_t& socket, const Envelope& env, std::string_view id, Code code,
                       std::string_view message) {
  code = WireCode(code);
  ++errors_by_code_[std::string(CodeName(code))];
  protocol::EncodeErrorReply(wire::ErrorReply{id, code, message}, &out_);
  Send(socket, env, out_);
}

void Daemon::Periodic() {
  const int64_t now = clock_.MonoNanos();
  if (now - last_tick_ns_ >= 100 * kMs) {
    last_tick_ns_ = now;
    replies_.Sweep();
    TrimAfterReplyBurst();
    for (auto& c : connections_) c->Poll();
    CollectFromIoThreads();
    const std::vector<size_t> changed = engine_->Tick();
    for (size_t e : changed) LogStateChange(e);
    LogLooks();
    WriteCheckpoints(changed);
  }
  if (now - last_flush_ns_ >= 1000 * kMs) {
    last_flush_ns_ = now;
    // Failed writes are reported as state changes: once when the log stops,
    // once when it resumes.
    (void)decision_log_->Flush();
    for (const auto& e : decision_log_->TakeEvents()) {
      if (e.state == state::DecisionLogState::kWriting) {
        spdlog::warn("{}", e.message);
      } else {
        spdlog::error("{}", e.message);
      }
    }
  }
  if (now - last_metrics_ns_ >= 1000 * kMs) {
    last_metrics_ns_ = now;
    PublishMetrics();
  }
  if (flags_.snapshot_interval_ms > 0 &&
      now - last_snapshot_ns_ >= flags_.snapshot_interval_ms * kMs) {
    last_snapshot_ns_ = now;
    (void)WriteSnapshot();  // logged and counted; the WAL keeps everything meanwhile
  }
}

void Daemon::LogStateChange(size_t e) {
  const auto& x = engine_->experiment(e);
  if (x.srm_alarm()) {
    spdlog::warn("experiment '{}' is {}: {}", x.name(), NameOf(x.state()),
                 x.StatusReason());
    return;
  }
  spdlog::info("experiment '{}' is {}: {}", x.name(), NameOf(x.state()),
               x.StatusReason());
}

void Daemon::LogLooks() {
  logged_looks_.resize(engine_->num_experiments());
  const int64_t now = clock_.WallNanos();
  for (size_t e = 0; e < engine_->num_experiments(); ++e) {
    const auto& x = engine_->experiment(e);
    LoggedLooks& l = logged_looks_[e];
    if (l.epoch != x.epoch()) {
      std::vector<std::string> arms;
      for (const auto& a : x.options().arms) arms.push_back(a.name);
      decision_log_->Experiment(now, x.name(), x.epoch(), arms[x.options().champion], arms);
      l = {x.epoch(), x.looks()};  // looks restored from the state were logged before
    }
    if (x.looks() != l.looks) {
      decision_log_->Look(now, x.name(), x.epoch(), x.looks());
      l.looks = x.looks();
    }
  }
}

Status Daemon::WriteSnapshot() {
  // The rotation waits only for the WAL batch being written; later records
  // go to the new segment, and the snapshot holds exactly the ones before.
  auto start = store_->BeginSnapshot();
  if (!start.ok()) {
    ++snapshot_failures_;
    spdlog::error("snapshot failed: cannot rotate the WAL: {}", start.status().ToString());
    return start.status().WithContext("snapshot: cannot rotate the WAL");
  }
  OnWalProgress(start->boundary_seq);
  CollectFromIoThreads();
  Status s = store_->FinishSnapshot(engine_->Snapshot(), start->segment);
  ReturnFreedMemory();  // the snapshot's bytes, as large as the state
  // What became durable beyond the boundary meanwhile (its wake-up was taken).
  OnWalProgress();
  if (!s.ok()) {
    ++snapshot_failures_;
    spdlog::error("snapshot failed: {}", s.ToString());
    return s.WithContext("snapshot");
  }
  spdlog::debug("snapshot written; WAL replays from segment {}", start->segment);
  return Status::Ok();
}

bool Daemon::Shutdown() {
  spdlog::info("shutting down: finishing in-flight work");
  const int64_t start = clock_.MonoNanos();
  const int64_t deadline = start + flags_.shutdown_grace_ms * kMs;
  // Requests already delivered to our sockets were sent before the stop and
  // are in flight for their clients: serve them (acked rewards go through the
  // WAL as usual), for at most half the grace period. Then take no more.
  size_t drained = 0;
  while (clock_.MonoNanos() < start + flags_.shutdown_grace_ms * kMs / 2) {
    size_t n = 0;
    for (; n < 4096 && (api_.get(zmq::sockopt::events) & ZMQ_POLLIN); ++n) {
      (void)OnApiMessage(api_, false);
    }
    for (size_t i = 0; i < 4096 && (pull_.get(zmq::sockopt::events) & ZMQ_POLLIN); ++i, ++n) {
      (void)OnPullMessage();
    }
    for (size_t i = 0; i < 64 && (admin_.get(zmq::sockopt::events) & ZMQ_POLLIN); ++i, ++n) {
      (void)OnApiMessage(admin_, true);
    }
    for (auto& relay : relays_) {
      for (size_t i = 0; i < 4096 && (relay->get(zmq::sockopt::events) & ZMQ_POLLIN); ++i, ++n) {
        (void)OnApiMessage(*relay, false);
      }
    }
    OnInferenceResults();
    OnWalProgress();
    OnReloads();
    drained += n;
    if (n == 0) {
      // Frames a client sent just before the stop may still be on their way
      // through libzmq's I/O thread: the queue is empty once it stays quiet.
      zmq::pollitem_t quiet[] = {{api_.handle(), 0, ZMQ_POLLIN, 0},
                                 {pull_.handle(), 0, ZMQ_POLLIN, 0},
                                 {admin_.handle(), 0, ZMQ_POLLIN, 0}};
      try {
        if (zmq::poll(quiet, 3, std::chrono::milliseconds(kShutdownQuietMs)) == 0) break;
      } catch (const zmq::error_t&) {
        break;
      }
    }
  }
  // The extra I/O threads stop reading their clients; what they forwarded
  // until then is served here like the rest.
  for (auto& t : io_threads_) t->StopReading();
  for (auto& relay : relays_) {
    while (relay->get(zmq::sockopt::events) & ZMQ_POLLIN) {
      (void)OnApiMessage(*relay, false);
      ++drained;
    }
  }
  if (drained > 0) spdlog::info("served {} request(s) queued before the stop", drained);
  // Finish inference and WAL writes already started.
  while ((!routes_.empty() || !acks_.empty() || !unapplied_.empty()) &&
         clock_.MonoNanos() < deadline) {
    zmq::pollitem_t items[] = {{nullptr, completions_.fd(), ZMQ_POLLIN, 0},
                               {nullptr, wal_wake_.fd(), ZMQ_POLLIN, 0}};
    zmq::poll(items, 2, std::chrono::milliseconds(20));
    OnInferenceResults();
    (void)store_->wal().Flush();
    OnWalProgress();
  }
  if (pool_) pool_->Shutdown();
  OnInferenceResults();
  // Every reply is queued on the relays: the I/O threads pass them on, hand
  // over their last log lines and exit; their counts go into the snapshot.
  for (auto& t : io_threads_) t->Join();
  for (auto& [ticket, t] : reload_threads_) {
    if (t.joinable()) t.join();
  }
  // Answer the reloads that finished meanwhile (and start their epochs
  // before the snapshot records them).
  OnReloads();
  const Status snapshot = WriteSnapshot();
  (void)decision_log_->Flush();
  metrics_.Stop();
  (void)state::Env::Posix().Remove(config_.state_dir + "/endpoints");
  // Replies still queued in libzmq would be dropped when the context closes
  // with linger 0: give them a short while to reach their clients.
  try {
    api_.set(zmq::sockopt::linger, 500);
    admin_.set(zmq::sockopt::linger, 500);
  } catch (const zmq::error_t& e) {
    spdlog::warn("cannot set linger: {}", e.what());
  }
  if (!snapshot.ok()) {
    spdlog::critical(
        "stopped without a final snapshot ({}); the WAL still holds every "
        "acknowledged reward, but do not take this state directory as a backup",
        snapshot.ToString());
    return false;
  }
  spdlog::info("stopped ({} routes, {} acks unfinished)", routes_.size(), acks_.size());
  return true;
}

}  // namespace banditd::server
