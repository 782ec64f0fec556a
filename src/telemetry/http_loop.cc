// MetricsServer's thread: one poll() loop over the listening socket, a wake
// eventfd and at most HttpLimits::max_connections connections, each with one
// absolute deadline for its current phase (see metrics_server.h).
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "src/telemetry/http_request.h"
#include "src/telemetry/metrics_server.h"

namespace banditd::telemetry {
namespace {

using Clock = std::chrono::steady_clock;

// accept() failed for want of descriptors: the listening socket stays
// readable, so it is left out of poll() this long instead of spinning.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
constexpr auto kDrainTime = std::chrono::milliseconds(500);

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

std::string Head(int status, const char* type, size_t length, bool keep_alive) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n";
  h += std::string("Content-Type: ") + type + "\r\n";
  h += "Content-Length: " + std::to_string(length) + "\r\n";
  h += "Accept-Ranges: none\r\n";
  if (status == 405) h += "Allow: GET, HEAD\r\n";
  h += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return h;
}

// kDrain: the answer was sent and the write side shut down; the client's
// leftover input is read and dropped until it closes or kDrainTime passes,
// so that closing with unread input (a reset) cannot destroy the answer.
enum class Phase { kRequest, kIdle, kWrite, kDrain };

struct Conn {
  int fd = -1;
  Phase phase = Phase::kRequest;
  Clock::time_point deadline;
  std::string in;
  std::string head;
  std::shared_ptr<const std::string> body;  // null: no body (HEAD, errors in `head`)
  size_t sent = 0;                          // of head + body
  bool close_after = false;
};

}  // namespace

class MetricsServer::Loop {
 public:
  explicit Loop(MetricsServer* s) : s_(s), lim_(s->limits_), st_(s->stats_) {}

  void Run() {
    std::vector<pollfd> fds;
    while (true) {
      fds.clear();
      fds.push_back({s_->wake_fd_, POLLIN, 0});
      const bool listening = Clock::now() >= accept_paused_until_;
      fds.push_back({listening ? s_->listen_fd_ : -1, POLLIN, 0});
      for (const Conn& c : conns_) {
        fds.push_back({c.fd, static_cast<short>(c.phase == Phase::kWrite ? POLLOUT : POLLIN), 0});
      }
      const int n = ::poll(fds.data(), fds.size(), TimeoutMs(listening));
      if (n < 0 && errno != EINTR) break;
      if (fds[0].revents != 0) break;  // Stop()
      const auto now = Clock::now();
      for (size_t i = 0; i < conns_.size(); ++i) {
        if (fds[i + 2].revents != 0) Serve(conns_[i], now);
      }
      Expire(now);
      if (fds[1].revents != 0) AcceptAll(now);
    }
    for (Conn& c : conns_) Close(c);
    Sweep();
  }

 private:
  // Until the nearest deadline (or the end of an accept back-off).
  int TimeoutMs(bool listening) const {
    auto next = Clock::time_point::max();
    for (const Conn& c : conns_) next = std::min(next, c.deadline);
    if (!listening) next = std::min(next, accept_paused_until_);
    if (next == Clock::time_point::max()) return -1;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000));
  }

  void AcceptAll(Clock::time_point now) {
    while (true) {
      const int fd = ::accept4(s_->listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          st_.accept_errors.fetch_add(1, std::memory_order_relaxed);
          accept_paused_until_ = now + kAcceptBackoff;
        }
        return;
      }
      if (conns_.size() >= lim_.max_connections) {
        st_.refused_limit.fetch_add(1, std::memory_order_relaxed);  // counted before seen
        ::close(fd);
        continue;
      }
      st_.accepted.fetch_add(1, std::memory_order_relaxed);
      st_.open.fetch_add(1, std::memory_order_relaxed);
      Conn c;
      c.fd = fd;
      c.deadline = now + lim_.request_timeout;
      conns_.push_back(std::move(c));
    }
  }

  void Serve(Conn& c, Clock::time_point now) {
    if (c.fd < 0) return;
    if (c.phase == Phase::kWrite) {
      Write(c, now);
    } else if (c.phase == Phase::kDrain) {
      Drain(c);
    } else {
      Read(c, now);
    }
  }

  void Read(Conn& c, Clock::time_point now) {
    char buf[4096];
    while (c.in.size() < lim_.max_request_bytes) {
      const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
      if (n == 0) return Close(c);  // the peer is done
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return Close(c);
      }
      if (c.phase == Phase::kIdle) {  // the next request starts its own deadline
        c.phase = Phase::kRequest;
        c.deadline = now + lim_.request_timeout;
      }
      c.in.append(buf, static_cast<size_t>(n));
    }
    Handle(c, now);
  }

  // Answers the request at the front of c.in, if complete.
  void Handle(Conn& c, Clock::time_point now) {
    const ParseResult r = ParseHttpRequest(c.in, lim_.max_request_bytes);
    if (r.outcome == ParseOutcome::kIncomplete) return;
    if (r.outcome == ParseOutcome::kError) {
      Respond(c, r.status, "text/plain", nullptr, false, false, now);
      return;
    }
    c.in.erase(0, r.request.consumed);
    const HttpRequest& q = r.request;
    const bool head = q.method == "HEAD";
    const bool known = q.path == "/metrics" || q.path == "/healthz";
    if (!known || (!head && q.method != "GET")) {
      Respond(c, known ? 405 : 404, "text/plain", nullptr, false, q.keep_alive, now);
      return;
    }
    static const auto kOk = std::make_shared<const std::string>("ok\n");
    if (q.path == "/healthz") {
      Respond(c, 200, "text/plain", kOk, head, q.keep_alive, now);
    } else {
      Respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", s_->body(), head, q.keep_alive,
              now);
    }
  }

  void Respond(Conn& c, int status, const char* type, std::shared_ptr<const std::string> body,
               bool head_only, bool keep_alive, Clock::time_point now) {
    (status == 200 ? st_.responses_ok : st_.responses_error)
        .fetch_add(1, std::memory_order_relaxed);
    std::string error_body;
    if (status != 200) error_body = std::to_string(status) + " " + Reason(status) + "\n";
    const size_t length = body ? body->size() : error_body.size();
    c.head = Head(status, type, length, keep_alive) + (head_only ? "" : error_body);
    c.body = head_only ? nullptr : std::move(body);
    c.sent = 0;
    c.close_after = !keep_alive;
    c.phase = Phase::kWrite;
    c.deadline = now + lim_.write_timeout;
    Write(c, now);  // most answers fit the socket buffer at once
  }

  void Write(Conn& c, Clock::time_point now) {
    const size_t body_size = c.body ? c.body->size() : 0;
    while (c.sent < c.head.size() + body_size) {
      iovec iov[2];
      int count = 0;
      if (c.sent < c.head.size()) {
        iov[count++] = {c.head.data() + c.sent, c.head.size() - c.sent};
      }
      if (body_size > 0) {
        const size_t off = c.sent > c.head.size() ? c.sent - c.head.size() : 0;
        iov[count++] = {const_cast<char*>(c.body->data()) + off, body_size - off};
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(count);
      const ssize_t n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // poll for POLLOUT
        return Close(c);
      }
      c.sent += static_cast<size_t>(n);
    }
    if (c.close_after) {
      ::shutdown(c.fd, SHUT_WR);
      c.phase = Phase::kDrain;
      c.deadline = now + std::min<Clock::duration>(kDrainTime, lim_.write_timeout);
      return Drain(c);
    }
    c.head.clear();
    c.body.reset();
    c.phase = Phase::kIdle;
    c.deadline = now + lim_.idle_timeout;
    if (!c.in.empty()) {  // a pipelined request already arrived
      c.phase = Phase::kRequest;
      c.deadline = now + lim_.request_timeout;
      Handle(c, now);
    }
  }

  void Drain(Conn& c) {
    char buf[4096];
    for (int reads = 0; reads < 16; ++reads) {  // a fast sender cannot hold the thread
      const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      return Close(c);  // the client closed too
    }
  }

  void Expire(Clock::time_point now) {
    for (Conn& c : conns_) {
      if (c.fd < 0 || c.deadline > now) continue;
      if (c.phase == Phase::kDrain) {  // the answer was sent: no timeout
        Close(c);
        continue;
      }
      auto& counter = c.phase == Phase::kWrite  ? st_.timed_out_write
                      : c.phase == Phase::kIdle ? st_.timed_out_idle
                                                : st_.timed_out_request;
      counter.fetch_add(1, std::memory_order_relaxed);
      Close(c);
    }
    Sweep();
  }

  void Close(Conn& c) {
    if (c.fd < 0) return;
    st_.open.fetch_sub(1, std::memory_order_relaxed);
    ::close(c.fd);
    c.fd = -1;
  }

  void Sweep() {
    conns_.erase(
        std::remove_if(conns_.begin(), conns_.end(), [](const Conn& c) { return c.fd < 0; }),
        conns_.end());
  }

  MetricsServer* s_;
  const HttpLimits& lim_;
  HttpStats& st_;
  std::vector<Conn> conns_;
  Clock::time_point accept_paused_until_{};
};

void MetricsServer::RunLoop() { Loop(this).Run(); }

}  // namespace banditd::telemetry
