#include "tests/bench/load/report.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace banditd::bench {

Measure FromLoad(const std::string& what, const LoadResult& r, double units_per_reply,
                 const std::string& unit) {
  Measure m;
  m.what = what;
  m.unit = unit;
  m.throughput = r.throughput() * units_per_reply;
  m.has_latency = r.hist.count() > 0;
  m.p50_us = r.hist.Quantile(0.5) / 1e3;
  m.p99_us = r.hist.Quantile(0.99) / 1e3;
  m.p999_us = r.hist.Quantile(0.999) / 1e3;
  m.count = r.replies;
  m.errors = r.errors;
  m.lost = r.lost;
  m.seconds = r.seconds;
  m.request_bytes = r.request_bytes;
  m.reply_bytes = r.reply_bytes;
  return m;
}

namespace {

double Ratio(double a, double b) { return b > 0 ? a / b : 0; }

void PrintMeasure(const Measure& m) {
  std::printf("    %-34s %12.0f %s/s", m.what.c_str(), m.throughput, m.unit.c_str());
  if (m.has_latency) {
    std::printf("  p50 %9.1f  p99 %9.1f  p999 %9.1f us", m.p50_us, m.p99_us, m.p999_us);
  }
  std::printf("  (n=%llu", static_cast<unsigned long long>(m.count));
  if (m.errors || m.lost) {
    std::printf(" errors=%llu lost=%llu", static_cast<unsigned long long>(m.errors),
                static_cast<unsigned long long>(m.lost));
  }
  std::printf(")\n");
}

struct Target {
  std::string name, goal;
  double measured = 0;
  bool met = false;
  std::string detail;
};

const Row* Find(const Report& r, const std::string& name) {
  for (const auto& row : r.rows)
    if (row.name == name) return &row;
  return nullptr;
}

std::vector<Target> Targets(const Report& r) {
  std::vector<Target> t;
  if (const Row* row = Find(r, "route-pipelined")) {
    const double x = Ratio(row->daemon.throughput, row->baseline.throughput);
    t.push_back({"route-only pipelined throughput / echo", ">= 0.70", x, x >= 0.70, ""});
  }
  const Row* one = Find(r, "route-pipelined-1io");
  const Row* two = Find(r, "route-pipelined-2io");
  if (one && two) {
    const double x = Ratio(two->daemon.throughput, one->daemon.throughput);
    t.push_back({"pipelined throughput, 2 api I/O threads / 1", "> 1.00", x, x > 1.0,
                 "2 threads vs echo " +
                     std::to_string(Ratio(two->daemon.throughput, two->baseline.throughput))});
  }
  if (const Row* row = Find(r, "route-lockstep")) {
    const double x = Ratio(row->daemon.p50_us, row->baseline.p50_us);
    t.push_back({"route-only lock-step p50 / echo p50", "<= 1.25", x, x <= 1.25, ""});
  }
  if (const Row* row = Find(r, "route-inference-lockstep")) {
    const double x = row->daemon.p50_us - row->baseline.p50_us;
    t.push_back({"route+inference p50 - forward p50 (us)", "<= 15", x, x <= 15, ""});
  }
  double ff = 0, acked = 0;
  std::string ff_mode, acked_mode;
  for (const auto& row : r.rows) {
    if (row.name.rfind("rewards-ff", 0) == 0 && row.daemon.throughput > ff) {
      ff = row.daemon.throughput;
      ff_mode = row.name;
    }
    if (row.name.rfind("rewards-acked-group", 0) == 0 && row.daemon.throughput > acked) {
      acked = row.daemon.throughput;
      acked_mode = row.name;
    }
  }
  if (!ff_mode.empty())
    t.push_back({"fire-and-forget rewards/s", ">= 500000", ff, ff >= 500000, ff_mode});
  if (!acked_mode.empty())
    t.push_back({"acked group-commit rewards/s", ">= 50000", acked, acked >= 50000, acked_mode});
  if (r.memory) {
    const double x = r.memory->rss_after_routes_mb;
    t.push_back({"RSS after pending decisions (MB)", "<= 150", x, x <= 150,
                 std::to_string(r.memory->decisions) + " routes"});
  }
  if (r.flat && r.flat->min_mb > 0) {
    const double x = 100.0 * (r.flat->max_mb - r.flat->min_mb) / r.flat->min_mb;
    t.push_back({"RSS spread at constant rate (%)", "<= 5", x, x <= 5,
                 std::to_string(static_cast<int>(r.flat->seconds)) + " s run"});
  }
  return t;
}

std::string Esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      o += ' ';
      continue;
    }
    o += c;
  }
  return o;
}

void JsonMeasure(std::ostream& o, const Measure& m) {
  o << "{\"what\": \"" << Esc(m.what) << "\", \"unit\": \"" << m.unit
    << "\", \"throughput_per_s\": " << m.throughput << ", \"p50_us\": " << m.p50_us
    << ", \"p99_us\": " << m.p99_us << ", \"p999_us\": " << m.p999_us << ", \"count\": " << m.count
    << ", \"errors\": " << m.errors << ", \"lost\": " << m.lost << ", \"seconds\": " << m.seconds
    << ", \"request_bytes\": " << m.request_bytes << ", \"reply_bytes\": " << m.reply_bytes << "}";
}

}  // namespace

void PrintRow(const Row& row) {
  std::printf("%-26s\n", row.name.c_str());
  PrintMeasure(row.daemon);
  PrintMeasure(row.baseline);
  std::printf("    ratio: throughput %.3f", Ratio(row.daemon.throughput, row.baseline.throughput));
  if (row.daemon.has_latency && row.baseline.has_latency) {
    std::printf("  p50 %.3f (%+.1f us)  p99 %.3f", Ratio(row.daemon.p50_us, row.baseline.p50_us),
                row.daemon.p50_us - row.baseline.p50_us,
                Ratio(row.daemon.p99_us, row.baseline.p99_us));
  }
  std::printf("\n");
  std::fflush(stdout);
}

void PrintReport(const Report& r) {
  std::printf("\n== banditd-bench summary (%d cores, %s; loadavg before %s, after %s)\n", r.nproc,
              r.cpu_model.c_str(), r.load_before.c_str(), r.load_after.c_str());
  for (const auto& row : r.rows) PrintRow(row);
  if (r.memory) {
    std::printf(
        "memory: RSS start %.1f MB, after %llu routes %.1f MB, after %llu rewards %.1f MB\n",
        r.memory->rss_start_mb, static_cast<unsigned long long>(r.memory->decisions),
        r.memory->rss_after_routes_mb, static_cast<unsigned long long>(r.memory->rewards_applied),
        r.memory->rss_after_rewards_mb);
  }
  if (r.flat) {
    std::printf(
        "flatness: %.0f s at %.0f routes/s (+1 reward each), after %.0f s warm-up RSS %.1f..%.1f "
        "MB\n",
        r.flat->seconds, r.flat->rate, r.flat->warmup_seconds, r.flat->min_mb, r.flat->max_mb);
  }
  std::printf("targets:\n");
  for (const auto& t : Targets(r)) {
    std::printf("  %-42s %-10s measured %.3f  %s %s\n", t.name.c_str(), t.goal.c_str(), t.measured,
                t.met ? "MET" : "NOT MET", t.detail.c_str());
  }
  std::fflush(stdout);
}

bool WriteJson(const Report& r, const std::string& path) {
  std::ofstream o(path);
  o << "{\n  \"command\": \"" << Esc(r.command) << "\",\n  \"machine\": {\"nproc\": " << r.nproc
    << ", \"cpu_model\": \"" << Esc(r.cpu_model) << "\", \"loadavg_before\": \""
    << Esc(r.load_before) << "\", \"loadavg_after\": \"" << Esc(r.load_after) << "\"},\n";
  o << "  \"results\": [";
  for (size_t i = 0; i < r.rows.size(); ++i) {
    const Row& row = r.rows[i];
    o << (i ? ",\n" : "\n") << "    {\"mode\": \"" << row.name << "\", \"daemon\": ";
    JsonMeasure(o, row.daemon);
    o << ",\n     \"baseline\": ";
    JsonMeasure(o, row.baseline);
    o << ",\n     \"ratio_throughput\": " << Ratio(row.daemon.throughput, row.baseline.throughput)
      << ", \"ratio_p50\": " << Ratio(row.daemon.p50_us, row.baseline.p50_us)
      << ", \"ratio_p99\": " << Ratio(row.daemon.p99_us, row.baseline.p99_us)
      << ", \"delta_p50_us\": " << row.daemon.p50_us - row.baseline.p50_us << "}";
  }
  o << "\n  ],\n";
  if (r.memory) {
    o << "  \"memory\": {\"decisions\": " << r.memory->decisions
      << ", \"rss_start_mb\": " << r.memory->rss_start_mb
      << ", \"rss_after_routes_mb\": " << r.memory->rss_after_routes_mb
      << ", \"rewards_applied\": " << r.memory->rewards_applied
      << ", \"rss_after_rewards_mb\": " << r.memory->rss_after_rewards_mb << "},\n";
  }
  if (r.flat) {
    o << "  \"rss_flatness\": {\"seconds\": " << r.flat->seconds << ", \"rate\": " << r.flat->rate
      << ", \"warmup_seconds\": " << r.flat->warmup_seconds << ", \"reward_window\": \""
      << r.flat->reward_window << "\""
      << ", \"min_mb\": " << r.flat->min_mb << ", \"max_mb\": " << r.flat->max_mb
      << ", \"routes\": " << r.flat->routes << ", \"rewards\": " << r.flat->rewards
      << ", \"samples\": [";
    for (size_t i = 0; i < r.flat->samples.size(); ++i) {
      o << (i ? ", " : "") << "[" << r.flat->samples[i].first << ", " << r.flat->samples[i].second
        << "]";
    }
    o << "]},\n";
  }
  o << "  \"targets\": [";
  const auto targets = Targets(r);
  for (size_t i = 0; i < targets.size(); ++i) {
    o << (i ? ",\n" : "\n") << "    {\"name\": \"" << Esc(targets[i].name) << "\", \"goal\": \""
      << targets[i].goal << "\", \"measured\": " << targets[i].measured
      << ", \"met\": " << (targets[i].met ? "true" : "false") << ", \"detail\": \""
      << Esc(targets[i].detail) << "\"}";
  }
  o << "\n  ]\n}\n";
  return static_cast<bool>(o);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string LoadAvg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace banditd::bench
