#include "src/telemetry/metrics_server.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <httplib.h>

namespace banditd::telemetry {

MetricsServer::MetricsServer() : server_(std::make_unique<httplib::Server>()) {}

MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Start(const std::string& host, int port) {
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::string body;
    {
      std::lock_guard<std::mutex> lock(mu_);
      body = text_;
    }
    res.set_content(body, "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ <= 0) return Status(Code::kIoError, "cannot bind the metrics endpoint on " + host);
  } else {
    if (!server_->bind_to_port(host, port)) {
      return Status(Code::kIoError,
                    "cannot bind the metrics endpoint on " + host + ":" + std::to_string(port));
    }
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::Ok();
}

void MetricsServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

void MetricsServer::Publish(std::string text) {
  std::lock_guard<std::mutex> lock(mu_);
  text_ = std::move(text);
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
