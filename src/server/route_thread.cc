#include "src/server/route_thread.h"

#include <poll.h>

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <tuple>

#include "src/protocol/encoder.h"
#include "src/server/receive.h"

namespace banditd::server {
namespace {

constexpr int64_t kHandOverNs = 100'000'000;  // decision-log lines, at least this often
constexpr size_t kHandOverBytes = 64 << 10;   // ... or this much text
constexpr int kBurst = 256;                   // client messages per round, as the main thread
constexpr int64_t kSweepNs = 100'000'000;     // forget peers with no replies queued this often

}  // namespace

RouteThread::RouteThread(RouteThreadOptions options, zmq::socket_t router, zmq::socket_t relay,
                         ViewBoard& board, Clock& clock, Mailbox<LogChunk>& log)
    : options_(std::move(options)),
      router_(std::move(router)),
      relay_(std::move(relay)),
      board_(board),
      clock_(clock),
      log_(log),
      rng_(options_.seed),
      codec_(options_.key),
      decoder_(options_.limits),
      replies_(*options_.reply_budget) {}

RouteThread::~RouteThread() {
  if (thread_.joinable()) Join();
}

void RouteThread::Start() {
  last_handover_ns_ = clock_.MonoNanos();
  thread_ = std::thread([this] { Run(); });
}

void RouteThread::StopReading() {
  phase_.store(kRelayOnly, std::memory_order_release);
  wake_.Wake();
  while (thread_.joinable() && !reading_stopped_.load(std::memory_order_acquire)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void RouteThread::Join() {
  phase_.store(kExit, std::memory_order_release);
  wake_.Wake();
  if (thread_.joinable()) thread_.join();
}

// The loop follows the main thread's (Daemon::PollOnce): poll(2) on the
// sockets' ZMQ_FDs, drain a socket with non-blocking receives until EAGAIN
// (bounded per round), and try a socket again after sending on it.
void RouteThread::Run() {
  struct pollfd fds[3];
  try {
    fds[0] = {router_.get(zmq::sockopt::fd), POLLIN, 0};
    fds[1] = {relay_.get(zmq::sockopt::fd), POLLIN, 0};
  } catch (const zmq::error_t& e) {
    spdlog::error("io thread {}: cannot get the sockets' file descriptors: {}", options_.reader + 1,
                  e.what());
    reading_stopped_.store(true, std::memory_order_release);
    return;
  }
  fds[2] = {wake_.fd(), POLLIN, 0};
  bool try_router = true, try_relay = true;
  for (;;) {
    const int phase = phase_.load(std::memory_order_acquire);
    if (phase != kServing && !reading_stopped_.load(std::memory_order_relaxed)) {
      reading_stopped_.store(true, std::memory_order_release);
    }
    if (phase == kServing && try_router) {
      const uint64_t forwarded = stats_.forwarded.load(std::memory_order_relaxed);
      board_.Enter(options_.reader);
      int got = 0;
      while (got < kBurst && OnClientMessage()) ++got;
      board_.Leave(options_.reader);
      // Replies sent during the drain came before its EAGAIN; forwarding
      // sent on the relay, which may have cleared the relay's fd.
      try_router = got == kBurst;
      if (stats_.forwarded.load(std::memory_order_relaxed) != forwarded) try_relay = true;
    }
    if (try_relay) {
      int got = 0;
      while (got < 1024 && OnReply()) ++got;
      try_relay = got == 1024;
      if (got > 0) try_router = true;  // sent on the router after its drain
    }
    if (phase == kExit) {
      while (OnReply()) {
      }
      HandOverLog(/*force=*/true);
      return;
    }
    HandOverLog(/*force=*/false);
    if (const int64_t now = clock_.MonoNanos(); now - last_sweep_ns_ >= kSweepNs) {
      last_sweep_ns_ = now;
      replies_.Sweep();
    }
    const bool busy = (phase == kServing && try_router) || try_relay;
    const int n = ::poll(fds, 3, busy ? 0 : 50);
    if (n < 0) continue;  // EINTR: go round again
    if (fds[0].revents != 0 || (n == 0 && !busy)) try_router = true;
    if (fds[1].revents != 0 || (n == 0 && !busy)) try_relay = true;
    if (fds[2].revents != 0) {
      std::vector<int> ignored;
      wake_.Drain(&ignored);
    }
  }
}

bool RouteThread::OnClientMessage() {
  size_t n = 0;
  try {
    n = ReceiveFrames(router_, parts_, excess_);
    if (n == 0) return false;
  } catch (const zmq::error_t& e) {
    spdlog::warn("io thread {}: receive failed: {}", options_.reader + 1, e.what());
    return true;
  }
  stats_.frames.fetch_add(1, std::memory_order_relaxed);
  if (n < 2) return true;  // a ROUTER message always carries the peer identity
  if (n > parts_.size()) {
    // Its extra frames are gone: answer here, as the main thread would.
    protocol::EncodeErrorReply(
        wire::ErrorReply{{}, Code::kBadRequest, "a request is one frame (plus routing frames)"},
        &out_);
    SendReply(1, out_);
    stats_.refused.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  const zmq::message_t& body = parts_[n - 1];
  wire::Request req;
  Status s =
      decoder_.Decode(std::string_view(static_cast<const char*>(body.data()), body.size()), &req);
  if (!s.ok() || req.op != wire::Op::kRoute) {
    Forward(n);
    return true;
  }
  const wire::RouteRequest& r = *req.route();
  size_t e = 0;
  while (e < options_.experiments.size() && options_.experiments[e] != r.exp) ++e;
  const RouteView* view = e < options_.experiments.size() ? board_.Get(e) : nullptr;
  if (view == nullptr || view->contextual() || (view->any_model() && r.input.present())) {
    Forward(n);
    return true;
  }
  const int64_t wall_ns = clock_.WallNanos();  // for the decision log
  const int64_t issued_ns = options_.decision_time.Nanos(clock_.MonoNanos());
  ViewDecision d;
  if (!DecideFromView(*view, r.unit, r.arm, options_.boot, seq_ + 1, issued_ns, rng_, codec_, &d)) {
    Forward(n);  // no such arm: the main thread explains the error
    return true;
  }
  ++seq_;
  const experiment::DecisionRef& ref = d.ref;
  const size_t arm = ref.arm;
  const std::string_view id_text(d.id.data(), d.id.size());
  protocol::EncodeRouteReply(wire::RouteReply{req.id, id_text, view->arms()[arm], ref.propensity,
                                              ref.epoch, std::nullopt, std::nullopt},
                             &out_);
  SendReply(n - 1, out_);
  view->Count(options_.reader, arm, r.arm.has_value(), !r.arm && !r.unit);
  stats_.routed.fetch_add(1, std::memory_order_relaxed);
  lines_.Decision({.wall_ns = wall_ns,
                   .exp = r.exp,
                   .epoch = ref.epoch,
                   .decision = id_text,
                   .arm = view->arms()[arm],
                   .propensity = ref.propensity,
                   .forced = r.arm.has_value(),
                   .unit_hash = d.unit_hash,
                   .context = r.context.value_or(std::span<const double>{}),
                   .output = {}});
  return true;
}

void RouteThread::Forward(size_t frames) {
  try {
    for (size_t i = 0; i < frames; ++i) {
      relay_.send(parts_[i], i + 1 < frames ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  } catch (const zmq::error_t& e) {
    spdlog::warn("io thread {}: forward failed: {}", options_.reader + 1, e.what());
  }
  stats_.forwarded.fetch_add(1, std::memory_order_relaxed);
}

void RouteThread::SendReply(size_t envelope_frames, const std::string& payload) {
  std::array<std::string_view, std::tuple_size_v<decltype(parts_)>> frames;
  for (size_t i = 0; i < envelope_frames; ++i) {
    frames[i] = {static_cast<const char*>(parts_[i].data()), parts_[i].size()};
  }
  try {
    // Over the memory bound for unsent replies the reply is dropped and
    // counted (reply_budget.h).
    (void)replies_.Send(router_, std::span(frames.data(), envelope_frames), payload);
  } catch (const zmq::error_t& e) {
    spdlog::warn("io thread {}: send failed: {}", options_.reader + 1, e.what());
  }
}

bool RouteThread::OnReply() {
  // A reply from the main thread: routing frames, then the payload.
  zmq::message_t& m = excess_;
  try {
    if (!relay_.recv(m, zmq::recv_flags::dontwait)) return false;
    for (;;) {
      const bool more = m.more();
      router_.send(m, more ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                           : zmq::send_flags::dontwait);
      if (!more || !relay_.recv(m, zmq::recv_flags::dontwait)) break;
    }
  } catch (const zmq::error_t& e) {
    spdlog::warn("io thread {}: relay failed: {}", options_.reader + 1, e.what());
  }
  return true;
}

void RouteThread::HandOverLog(bool force) {
  if (lines_.lines() == 0) return;
  const int64_t now = clock_.MonoNanos();
  if (!force && lines_.text().size() < kHandOverBytes && now - last_handover_ns_ < kHandOverNs) {
    return;
  }
  last_handover_ns_ = now;
  log_.Post(LogChunk{std::move(lines_.text()), lines_.lines()});
  lines_.Clear();
}

}  // namespace banditd::server
