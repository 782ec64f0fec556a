#include "src/ctl/render.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace banditd::ctl {
namespace {

// printf into a std::string; every call site formats a bounded line.
template <typename... Args>
std::string Format(const char* fmt, Args... args) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof(buf), fmt, args...);
  return std::string(buf, n < 0 ? 0 : std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
}

// Undefined numbers (nil on the wire, NaN here) print as "-".
std::string Num(double v, const char* fmt) { return std::isfinite(v) ? Format(fmt, v) : "-"; }

std::string Interval(const std::array<double, 2>& ci, const char* fmt) {
  if (!std::isfinite(ci[0]) || !std::isfinite(ci[1])) return "-";
  return "[" + Format(fmt, ci[0]) + ", " + Format(fmt, ci[1]) + "]";
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string PadLeft(std::string s, size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

// A bound of the rule's interval: nil on the wire (unbounded) prints as inf.
std::string Bound(double v, bool upper) {
  if (std::isfinite(v)) return Format("%+.4g", v);
  return upper ? "+inf" : "-inf";
}

// The deciding rule's own figures: its p (named for what it is), its looks
// and its interval for the compared challenger's difference.
std::string TestLine(const wire::ExperimentReport& r) {
  if (!r.test) return "  rule none (an operator decides)\n";
  const auto& t = *r.test;
  std::string out = "  rule " + t.method + "  " + (t.p_kind.empty() ? "p" : t.p_kind) + " " +
                    Num(t.rule_p_value, "%.4g") + "  looks " + std::to_string(t.looks);
  if (t.compared_arm) {
    const std::string what = t.difference_kind == "rate ratio - 1"
                                 ? *t.compared_arm + " / champion rate ratio - 1 "
                                 : *t.compared_arm + " - champion ";
    out += "  " + what + Num(t.difference, "%+.4g") + " [" + Bound(t.ci[0], false) + ", " +
           Bound(t.ci[1], true) + "]";
    out += "  lift " + Num(t.lift * 100, "%+.2f%%");
  }
  return out + "\n";
}

std::string SrmLine(const wire::ExperimentReport& r) {
  if (!r.srm) return "  srm -  (no random draws in this mode)\n";
  const auto& s = *r.srm;
  std::string out = "  srm p " + Num(s.p_value, "%.4g") +
                    Format("  (%llu periods, %llu requests drawn)",
                           static_cast<unsigned long long>(s.periods),
                           static_cast<unsigned long long>(s.requests));
  if (!std::isnan(s.rewards_p_value) || s.rewards > 0) {
    out += "  rewards p " + Num(s.rewards_p_value, "%.4g") +
           Format(" (%llu rewards)", static_cast<unsigned long long>(s.rewards));
  }
  if (s.alarm) {
    out += "  ALARM (p " + Num(s.alarm_p, "%.3g") + " < " + Num(s.threshold, "%g") +
           "): decisions held until `banditctl ack-srm " + r.name + "`";
  }
  return out + "\n";
}

size_t NameWidth(const wire::ExperimentReport& r) {
  size_t w = 3;
  for (const auto& a : r.arms) w = std::max(w, a.name.size());
  return w;
}

}  // namespace

std::string Bar(double share, const RenderOptions& options) {
  if (!std::isfinite(share)) share = 0;
  share = std::clamp(share, 0.0, 1.0);
  const int width = std::max(1, options.bar_width);
  const int filled = static_cast<int>(std::lround(share * width));
  std::string out;
  for (int i = 0; i < width; ++i) {
    if (options.ascii) {
      out += i < filled ? '#' : '.';
    } else {
      out += i < filled ? "\u2588" : "\u2591";  // full block, light shade
    }
  }
  return out;
}

std::string StatusTable(const wire::ExperimentReport& r, const RenderOptions& options) {
  std::string out =
      Format("experiment %s  mode %s  policy %s  epoch %llu\n", r.name.c_str(), r.mode.c_str(),
             r.policy.c_str(), static_cast<unsigned long long>(r.epoch));
  const size_t nw = NameWidth(r);
  const size_t bar_cols = static_cast<size_t>(std::max(1, options.bar_width)) + 8;
  out += "  " + Pad("arm", nw) + PadLeft("n", 9) + PadLeft("mean", 9) + "  " + Pad("ci95", 19) +
         Pad("allocation", bar_cols) + PadLeft("p_best", 7) + PadLeft("p99 ms", 9) +
         PadLeft("errors", 8) + "\n";
  for (const auto& a : r.arms) {
    out += "  " + Pad(a.name, nw) + PadLeft(std::to_string(a.n), 9) +
           PadLeft(Num(a.mean, "%.4f"), 9) + "  " + Pad(Interval(a.ci95, "%.4f"), 19) +
           Bar(a.allocation, options) + PadLeft(Num(a.allocation * 100, "%.1f%%"), 7) + " " +
           PadLeft(Num(a.p_best, "%.3f"), 7) + PadLeft(Num(a.model_p99_ms, "%.2f"), 9) +
           PadLeft(std::to_string(a.errors), 8) + "\n";
  }
  out += "  state " + std::string(NameOf(r.state));
  out += "  winner " + (r.winner ? *r.winner : std::string("-"));
  out += "  reason: " + (r.reason.empty() ? std::string("(none given)") : r.reason) + "\n";
  out += TestLine(r) + SrmLine(r);
  if (r.context_store) {
    const auto& c = *r.context_store;
    out += Format(
        "  contexts %llu kept, %.1f of %.1f MiB, %llu evicted, %llu rewards without context\n",
        static_cast<unsigned long long>(c.entries), static_cast<double>(c.bytes) / 1048576.0,
        static_cast<double>(c.max_bytes) / 1048576.0, static_cast<unsigned long long>(c.evictions),
        static_cast<unsigned long long>(c.rewards_without_context));
  }
  return out;
}

std::string WatchFrame(std::span<const wire::ExperimentReport> reports,
                       const RenderOptions& options, const std::string& clock_text) {
  std::string out;
  for (const auto& r : reports) {
    out += Format("%s  %s/%s  epoch %llu  %s", r.name.c_str(), r.mode.c_str(), r.policy.c_str(),
                  static_cast<unsigned long long>(r.epoch),
                  std::string(NameOf(r.state)).c_str());
    if (r.winner) out += "  winner " + *r.winner;
    out += "  " + clock_text + "\n";
    const size_t nw = NameWidth(r);
    for (const auto& a : r.arms) {
      out += "  " + Pad(a.name, nw) + " " + Bar(a.allocation, options) +
             PadLeft(Num(a.allocation * 100, "%.1f%%"), 7) + "  n " + std::to_string(a.n) +
             "  mean " + Num(a.mean, "%.4f") + "  p_best " + Num(a.p_best, "%.3f") + "\n";
    }
  }
  return out;
}

}  // namespace banditd::ctl
