// The Prometheus scrape endpoint: GET /metrics returns the newest text the
// daemon published (see PrometheusText); GET /healthz answers "ok". HEAD is
// answered too; other methods get 405, other paths 404.
//
// A small HTTP/1.1 server of its own rather than a general library: it
// serves one published string, and its contract is that no client, however
// slow or numerous, can hold more than a bounded share of the process:
//   - one thread, non-blocking sockets and poll(): a slow client never
//     blocks another;
//   - at most `max_connections` open connections; a connection beyond that
//     is accepted and closed at once (counted);
//   - absolute deadlines per connection, not extended by trickled bytes:
//     a request (line + headers) must arrive within `request_timeout` of the
//     connection's opening (or of its first byte after a keep-alive pause),
//     a response must be written within `write_timeout`, and a keep-alive
//     connection may idle for `idle_timeout`;
//   - requests are at most `max_request_bytes` (request line + headers) and
//     carry no body;
//   - Range headers are ignored: every answer is the full body (RFC 9110
//     lets a server ignore Range), so a request's output is bounded by the
//     body's size;
//   - the body is shared between connections, never copied per request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "banditd/status.h"

namespace banditd::telemetry {

class PrometheusText;

struct HttpLimits {
  size_t max_connections = 64;
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds idle_timeout{10000};
  std::chrono::milliseconds write_timeout{10000};
  size_t max_request_bytes = 8192;
};

// Counters of the server (written by its thread, read by anyone).
struct HttpStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused_limit{0};  // over max_connections: closed at once
  std::atomic<uint64_t> accept_errors{0};  // accept() failed (e.g. EMFILE)
  std::atomic<uint64_t> timed_out_request{0};
  std::atomic<uint64_t> timed_out_write{0};
  std::atomic<uint64_t> timed_out_idle{0};
  std::atomic<uint64_t> responses_ok{0};     // 200
  std::atomic<uint64_t> responses_error{0};  // 4xx / 5xx
  std::atomic<uint64_t> open{0};
};

class MetricsServer {
 public:
  MetricsServer();
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds host:port (port 0: any free port) and starts serving.
  Status Start(const std::string& host, int port, const HttpLimits& limits = {});
  void Stop();
  int port() const { return port_; }

  void Publish(std::string text);

  const HttpStats& stats() const { return stats_; }
  // The banditd_http_* families from stats(), for the daemon's /metrics text.
  void AppendMetrics(PrometheusText* t) const;

 private:
  class Loop;  // the server thread (http_loop.cc)
  void RunLoop();
  std::shared_ptr<const std::string> body() const;

  HttpLimits limits_;
  HttpStats stats_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  mutable std::mutex mu_;
  std::shared_ptr<const std::string> text_;
  int port_ = 0;
};

// The process's own resource use, for /metrics and status.
struct ProcessStats {
  double rss_bytes = 0;
  double cpu_seconds = 0;  // user + system
  double threads = 0;
  double uptime_s = 0;  // since the process started
};
ProcessStats ReadProcessStats();

}  // namespace banditd::telemetry
