// The I/O loop: poll the sockets and the mailboxes, dispatch, tick.
#include "src/server/daemon.h"

#include <spdlog/spdlog.h>

#include "src/protocol/encoder.h"

namespace banditd::server {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr size_t kMaxEnvelopeFrames = 4;
constexpr int kShutdownQuietMs = 50;

// Only the stable wire codes (DESIGN.md §5) go on the wire. Local codes from
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
  while (!stop_.load(std::memory_order_relaxed)) PollOnce(50);
  Shutdown();
  return 0;
}

void Daemon::PollOnce(int timeout_ms) {
  zmq::pollitem_t items[] = {
      {api_.handle(), 0, ZMQ_POLLIN, 0},         {pull_.handle(), 0, ZMQ_POLLIN, 0},
      {admin_.handle(), 0, ZMQ_POLLIN, 0},       {nullptr, completions_.fd(), ZMQ_POLLIN, 0},
      {nullptr, wal_wake_.fd(), ZMQ_POLLIN, 0},  {nullptr, reloads_.fd(), ZMQ_POLLIN, 0},
      {nullptr, stop_wake_.fd(), ZMQ_POLLIN, 0},
  };
  try {
    zmq::poll(items, std::size(items), std::chrono::milliseconds(timeout_ms));
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) spdlog::error("poll failed: {}", e.what());
  }
  // Bounded bursts per socket keep one busy client from starving the others.
  for (int i = 0; i < 256 && (items[0].revents & ZMQ_POLLIN); ++i) {
    if (!(api_.get(zmq::sockopt::events) & ZMQ_POLLIN)) break;
    OnApiMessage(api_, false);
  }
  for (int i = 0; i < 1024 && (items[1].revents & ZMQ_POLLIN); ++i) {
    if (!(pull_.get(zmq::sockopt::events) & ZMQ_POLLIN)) break;
    OnPullMessage();
  }
  for (int i = 0; i < 64 && (items[2].revents & ZMQ_POLLIN); ++i) {
    if (!(admin_.get(zmq::sockopt::events) & ZMQ_POLLIN)) break;
    OnApiMessage(admin_, true);
  }
  if (items[3].revents & ZMQ_POLLIN) OnInferenceResults();
  if (items[4].revents & ZMQ_POLLIN) OnWalProgress();
  if (items[5].revents & ZMQ_POLLIN) OnReloads();
  if (items[6].revents & ZMQ_POLLIN) {
    std::vector<int> ignored;
    stop_wake_.Drain(&ignored);
  }
  Periodic();
}

void Daemon::OnApiMessage(zmq::socket_t& socket, bool admin_socket) {
  std::vector<zmq::message_t> parts;
  try {
    zmq::message_t msg;
    do {
      if (!socket.recv(msg, zmq::recv_flags::dontwait)) break;
      if (parts.size() <= kMaxEnvelopeFrames) parts.push_back(std::move(msg));
      msg = zmq::message_t();
    } while (socket.get(zmq::sockopt::rcvmore));
  } catch (const zmq::error_t& e) {
    spdlog::warn("receive failed: {}", e.what());
    return;
  }
  if (parts.size() < 2) return;  // a ROUTER message always carries the peer identity
  ++frames_;
  Envelope env;
  for (size_t i = 0; i + 1 < parts.size(); ++i) env.frames.push_back(parts[i].to_string());
  if (parts.size() > kMaxEnvelopeFrames) {
    env.frames.resize(1);
    SendError(socket, env, {}, Code::kBadRequest, "a request is one frame (plus routing frames)");
    return;
  }
  const zmq::message_t& body = parts.back();
  wire::Request req;
  Status s =
      decoder_.Decode(std::string_view(static_cast<const char*>(body.data()), body.size()), &req);
  if (!s.ok()) {
    CountRewardRefusal(req, s);
    SendError(socket, env, req.id, s.code(), s.message());
    return;
  }
  if (wire::IsAdminOp(req.op) && !admin_socket) {
    SendError(socket, env, req.id, Code::kUnauthorized,
              "'" + std::string(wire::OpName(req.op)) + "' is only accepted on the admin socket");
    return;
  }
  switch (req.op) {
    case wire::Op::kRoute:
      if (admin_socket) {
        SendError(socket, env, req.id, Code::kBadRequest, "route requests go to the api socket");
        return;
      }
      HandleRoute(req, std::move(env), socket);
      return;
    case wire::Op::kReward:
    case wire::Op::kRewards:
      if (admin_socket) {
        SendError(socket, env, req.id, Code::kBadRequest, "rewards go to the api socket");
        return;
      }
      HandleReward(req, std::move(env), /*reply=*/true);
      return;
    case wire::Op::kStatus:
      HandleStatus(req, env, socket);
      return;
    default:
      HandleAdmin(req, std::move(env), socket);
      return;
  }
}

void Daemon::OnPullMessage() {
  zmq::message_t msg;
  try {
    if (!pull_.recv(msg, zmq::recv_flags::dontwait)) return;
    while (pull_.get(zmq::sockopt::rcvmore)) {  // one frame per message: drop the rest
      zmq::message_t extra;
      (void)pull_.recv(extra, zmq::recv_flags::dontwait);
    }
  } catch (const zmq::error_t& e) {
    spdlog::warn("receive failed on the rewards socket: {}", e.what());
    return;
  }
  ++frames_;
  wire::Request req;
  Status s =
      decoder_.Decode(std::string_view(static_cast<const char*>(msg.data()), msg.size()), &req);
  if (!s.ok() || (req.op != wire::Op::kReward && req.op != wire::Op::kRewards)) {
    if (!s.ok()) CountRewardRefusal(req, s);
    ++errors_by_code_[std::string(CodeName(s.ok() ? Code::kBadRequest : s.code()))];
    return;
  }
  HandleReward(req, Envelope{}, /*reply=*/false);
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
  try {
    for (const auto& f : env.frames) {
      socket.send(zmq::buffer(f), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    }
    socket.send(zmq::buffer(payload), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    spdlog::warn("send failed: {}", e.what());
  }
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
    for (size_t e : engine_->Tick()) LogStateChange(e);
  }
  if (now - last_flush_ns_ >= 1000 * kMs) {
    last_flush_ns_ = now;
    Status s = decision_log_->Flush();
    if (!s.ok()) spdlog::error("decision log write failed: {}", s.ToString());
  }
  if (now - last_metrics_ns_ >= 1000 * kMs) {
    last_metrics_ns_ = now;
    PublishMetrics();
  }
  if (flags_.snapshot_interval_ms > 0 &&
      now - last_snapshot_ns_ >= flags_.snapshot_interval_ms * kMs) {
    last_snapshot_ns_ = now;
    WriteSnapshot();
  }
}

void Daemon::LogStateChange(size_t e) {
  const auto& x = engine_->experiment(e);
  spdlog::info("experiment '{}' is {}: {}", x.name(), experiment::StateName(x.state()), x.reason());
}

void Daemon::WriteSnapshot() {
  auto from = store_->BeginSnapshot();
  if (!from.ok()) {
    spdlog::error("snapshot: cannot rotate the WAL: {}", from.status().ToString());
    return;
  }
  // Every record before the rotation is durable now: apply them so the
  // snapshot covers exactly the segments it lets go of.
  OnWalProgress();
  Status s = store_->FinishSnapshot(engine_->Snapshot(), *from);
  if (!s.ok()) {
    spdlog::error("snapshot failed: {}", s.ToString());
    return;
  }
  spdlog::debug("snapshot written; WAL replays from segment {}", *from);
}

void Daemon::Shutdown() {
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
      OnApiMessage(api_, false);
    }
    for (size_t i = 0; i < 4096 && (pull_.get(zmq::sockopt::events) & ZMQ_POLLIN); ++i, ++n) {
      OnPullMessage();
    }
    for (size_t i = 0; i < 64 && (admin_.get(zmq::sockopt::events) & ZMQ_POLLIN); ++i, ++n) {
      OnApiMessage(admin_, true);
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
  for (auto& [ticket, t] : reload_threads_) {
    if (t.joinable()) t.join();
  }
  // Answer the reloads that finished meanwhile (and start their epochs
  // before the snapshot records them).
  OnReloads();
  WriteSnapshot();
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
  spdlog::info("stopped ({} routes, {} acks unfinished)", routes_.size(), acks_.size());
}

}  // namespace banditd::server
