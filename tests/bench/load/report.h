// Results of one banditd-bench run: each daemon measurement beside its
// same-run baseline, printed as a table and written as JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/bench/load/driver.h"

namespace banditd::bench {

struct Measure {
  std::string what;          // e.g. "banditd route" or "raw ZeroMQ echo"
  std::string unit = "req";  // what throughput counts: req or rewards
  double throughput = 0;     // units per second
  bool has_latency = false;
  double p50_us = 0, p99_us = 0, p999_us = 0;
  uint64_t count = 0, errors = 0, lost = 0;
  double seconds = 0;
  size_t request_bytes = 0, reply_bytes = 0;
};

// `units_per_reply` scales request rates into reward rates for batches.
Measure FromLoad(const std::string& what, const LoadResult& r, double units_per_reply = 1,
                 const std::string& unit = "req");

struct Row {
  std::string name;  // the mode, e.g. "route-lockstep"
  Measure daemon;
  Measure baseline;
};

struct MemoryReport {
  uint64_t decisions = 0;
  double rss_start_mb = 0, rss_after_routes_mb = 0, rss_after_rewards_mb = 0;
  uint64_t rewards_applied = 0;
};

struct FlatReport {
  double seconds = 0, rate = 0, warmup_seconds = 0;
  std::string reward_window;                       // the daemon's, e.g. "24h"
  std::vector<std::pair<double, double>> samples;  // (seconds since start, RSS MB)
  double min_mb = 0, max_mb = 0;                   // after warm-up
  uint64_t routes = 0, rewards = 0;
};

struct Report {
  std::string command;
  std::string cpu_model;
  int nproc = 0;
  std::string load_before, load_after;  // /proc/loadavg
  std::vector<Row> rows;
  std::optional<MemoryReport> memory;
  std::optional<FlatReport> flat;
};

void PrintRow(const Row& row);
void PrintReport(const Report& report);  // rows, memory, flatness, targets
bool WriteJson(const Report& report, const std::string& path);

std::string CpuModel();
std::string LoadAvg();

}  // namespace banditd::bench
