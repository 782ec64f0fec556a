#include "src/telemetry/metrics_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "src/telemetry/prometheus.h"

namespace banditd::telemetry {
namespace {

// A listening, non-blocking socket on host:port, or -1 (errno set).
int Listen(std::string host, int port, int* bound_port) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res) != 0) {
    errno = EADDRNOTAVAIL;
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      const int err = errno;
      ::close(fd);
      fd = -1;
      errno = err;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0) return -1;
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound_port = addr.ss_family == AF_INET6
                    ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                    : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

}  // namespace

MetricsServer::MetricsServer() : text_(std::make_shared<const std::string>()) {}

MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Start(const std::string& host, int port, const HttpLimits& limits) {
  if (thread_.joinable())
    return Status(Code::kFailedPrecondition, "the metrics endpoint already runs");
  limits_ = limits;
  if (limits_.max_connections == 0) limits_.max_connections = 1;
  listen_fd_ = Listen(host, port, &port_);
  if (listen_fd_ < 0) {
    return Status(Code::kIoError, "cannot bind the metrics endpoint on " + host + ":" +
                                      std::to_string(port) + ": " + std::strerror(errno));
  }
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return Status(Code::kIoError, std::string("eventfd: ") + std::strerror(errno));
  }
  thread_ = std::thread([this] { RunLoop(); });
  return Status::Ok();
}

void MetricsServer::Stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
}

void MetricsServer::Publish(std::string text) {
  auto body = std::make_shared<const std::string>(std::move(text));
  std::lock_guard<std::mutex> lock(mu_);
  text_ = std::move(body);
}

std::shared_ptr<const std::string> MetricsServer::body() const {
  std::lock_guard<std::mutex> lock(mu_);
  return text_;
}

void MetricsServer::AppendMetrics(PrometheusText* t) const {
  auto v = [](const std::atomic<uint64_t>& a) {
    return static_cast<double>(a.load(std::memory_order_relaxed));
  };
  const HttpStats& s = stats_;
  t->Family("banditd_http_connections_open", "gauge", "Open connections to /metrics.");
  t->Sample("banditd_http_connections_open", {}, v(s.open));
  t->Family("banditd_http_max_connections", "gauge",
            "The cap on open connections to /metrics (limits.http_max_connections).");
  t->Sample("banditd_http_max_connections", {}, static_cast<double>(limits_.max_connections));
  t->Family("banditd_http_connections_accepted_total", "counter",
            "Connections to /metrics accepted and served.");
  t->Sample("banditd_http_connections_accepted_total", {}, v(s.accepted));
  t->Family("banditd_http_connections_refused_total", "counter",
            "Connections to /metrics closed at once: limit (the cap was reached) or "
            "accept_error (accept failed, e.g. no descriptors).");
  t->Sample("banditd_http_connections_refused_total", {{"reason", "limit"}}, v(s.refused_limit));
  t->Sample("banditd_http_connections_refused_total", {{"reason", "accept_error"}},
            v(s.accept_errors));
  t->Family("banditd_http_connections_timed_out_total", "counter",
            "Connections to /metrics closed at a deadline, by phase: request (incomplete "
            "request), write (response not taken), idle (keep-alive pause).");
  t->Sample("banditd_http_connections_timed_out_total", {{"phase", "request"}},
            v(s.timed_out_request));
  t->Sample("banditd_http_connections_timed_out_total", {{"phase", "write"}}, v(s.timed_out_write));
  t->Sample("banditd_http_connections_timed_out_total", {{"phase", "idle"}}, v(s.timed_out_idle));
  t->Family("banditd_http_responses_total", "counter",
            "Responses of the /metrics endpoint: ok (200) or error (4xx, 5xx).");
  t->Sample("banditd_http_responses_total", {{"result", "ok"}}, v(s.responses_ok));
  t->Sample("banditd_http_responses_total", {{"result", "error"}}, v(s.responses_error));
}

ProcessStats ReadProcessStats() {
  ProcessStats s;
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_rss = 0;
  if (statm >> pages_total >> pages_rss) {
    s.rss_bytes = static_cast<double>(pages_rss) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  }
  rusage ru{};
  if (::getrusage(RUSAGE_SELF, &ru) == 0) {
    s.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  }
  // Uptime: the system's uptime minus the process's start time (field 22 of
  // /proc/self/stat, in clock ticks since boot).
  std::ifstream stat("/proc/self/stat");
  std::string stat_line;
  std::ifstream sys_uptime("/proc/uptime");
  double up = 0;
  if (std::getline(stat, stat_line) && (sys_uptime >> up)) {
    const auto close = stat_line.rfind(')');
    std::istringstream fields(stat_line.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && (fields >> field); ++i) {
      if (i == 22) {
        s.uptime_s = up - std::stod(field) / static_cast<double>(::sysconf(_SC_CLK_TCK));
      }
    }
  }
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) s.threads = std::stod(line.substr(8));
  }
  return s;
}

}  // namespace banditd::telemetry
