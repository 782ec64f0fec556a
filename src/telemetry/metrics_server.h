// The Prometheus scrape endpoint: GET /metrics returns the newest text the
// daemon published (see PrometheusText); GET /healthz answers "ok". It runs
// on its own thread (cpp-httplib) and shares only one mutex-guarded string
// with the publisher.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "banditd/status.h"

namespace httplib {
class Server;
}

namespace banditd::telemetry {

class MetricsServer {
 public:
  MetricsServer();
  ~MetricsServer();

  // Binds host:port (port 0: any free port) and starts serving.
  Status Start(const std::string& host, int port);
  void Stop();
  int port() const { return port_; }

  void Publish(std::string text);

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex mu_;
  std::string text_;
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
