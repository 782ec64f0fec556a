// Text and JSON renderings of the analyze report.
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

#include "src/stats/analyze_report.h"

namespace banditd::stats {
namespace {

std::string Num(double v, const char* fmt = "%.6g") {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string Ci(Interval i, const char* fmt = "%.6g") {
  return "[" + Num(i.lo, fmt) + ", " + Num(i.hi, fmt) + "]";
}

// JSON: numbers with full precision, NaN and infinities as null.
std::string J(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string JStr(const std::string& s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", ch);
      out += buf;
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

std::string JCi(Interval i) { return "[" + J(i.lo) + ", " + J(i.hi) + "]"; }

}  // namespace

void RenderText(const Report& r, std::ostream& out) {
  out << "analysis of " << r.file << ": " << r.arms.size() << " arms, " << r.metric
      << " metric, control '" << r.arms[0].name << "'\n\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %12s %12s %27s %9s %13s\n", "arm", "n", "mean", "95% CI",
                "P(best)", "exp. loss");
  out << line;
  for (const auto& a : r.arms) {
    std::snprintf(line, sizeof line, "%-16s %12.0f %12.6g %27s %9.4f %13.6g\n", a.name.c_str(), a.n,
                  a.mean, Ci(a.ci95).c_str(), a.p_best, a.expected_loss);
    out << line;
  }
  out << "P(best), expected loss: " << r.p_best_method << "\n";
  for (const auto& c : r.comparisons) {
    out << "\n" << c.arm << " vs " << r.arms[0].name << " (control):\n";
    out << "  difference     " << Num(c.diff) << "  95% CI " << Ci(c.diff_ci95) << " ("
        << c.diff_method << ")\n";
    out << "  relative lift  " << Num(100 * c.lift, "%.4g") << "%  95% CI "
        << Ci({100 * c.lift_ci95.lo, 100 * c.lift_ci95.hi}, "%.4g") << " % (" << c.lift_method
        << ")\n";
    out << "  " << c.test << ": statistic " << Num(c.statistic);
    if (c.df > 0) out << ", df " << Num(c.df);
    out << "; p two-sided " << Num(c.p_two_sided) << ", p(" << c.arm << " > control) "
        << Num(c.p_greater) << ", p(" << c.arm << " < control) " << Num(c.p_less) << "\n";
    out << "  mSPRT (tau2 " << Num(r.tau2) << "): always-valid p " << Num(c.msprt_p)
        << ", always-valid 95% CI " << Ci(c.msprt_ci95) << " (single look)\n";
    out << "  planning for mde " << Num(r.mde) << ": power at this n " << Num(c.power_at_n, "%.4f")
        << ", n per arm for 80% power " << Num(c.n_for_mde, "%.0f") << "\n";
  }
  out << "\nsample ratio mismatch: ";
  if (r.srm) {
    out << "chi2 " << Num(r.srm->chi2) << ", df " << Num(r.srm->df) << ", p " << Num(r.srm->p)
        << (r.srm->p < 0.001 ? "  <-- MISMATCH: the allocation is not what was intended" : "")
        << "\n";
  } else {
    out << "not checked (pass --weights w1,w2,... with the intended allocation)\n";
  }
  out << "\nstopping rules at this look (alpha " << Num(r.alpha) << ", mde " << Num(r.mde)
      << ", min_samples 0; fixed_horizon treats this n as planned):\n";
  for (const auto& d : r.rules) {
    std::snprintf(line, sizeof line, "  %-14s %-9s %-12s ", d.rule.c_str(),
                  d.stop ? "STOP" : "continue", d.winner ? d.winner->c_str() : "-");
    out << line << d.reason << "\n";
  }
}

void RenderJson(const Report& r, std::ostream& out) {
  out << "{\n  \"file\": " << JStr(r.file) << ",\n  \"metric\": " << JStr(r.metric)
      << ",\n  \"control\": " << JStr(r.arms[0].name) << ",\n  \"alpha\": " << J(r.alpha)
      << ",\n  \"mde\": " << J(r.mde) << ",\n  \"tau2\": " << J(r.tau2)
      << ",\n  \"p_best_method\": " << JStr(r.p_best_method) << ",\n  \"arms\": [";
  for (size_t i = 0; i < r.arms.size(); ++i) {
    const auto& a = r.arms[i];
    out << (i ? "," : "") << "\n    {\"name\": " << JStr(a.name) << ", \"n\": " << J(a.n)
        << ", \"mean\": " << J(a.mean) << ", \"sd\": " << J(a.sd) << ", \"ci95\": " << JCi(a.ci95)
        << ", \"p_best\": " << J(a.p_best) << ", \"expected_loss\": " << J(a.expected_loss) << "}";
  }
  out << "\n  ],\n  \"comparisons\": [";
  for (size_t i = 0; i < r.comparisons.size(); ++i) {
    const auto& c = r.comparisons[i];
    out << (i ? "," : "") << "\n    {\"arm\": " << JStr(c.arm) << ", \"test\": " << JStr(c.test)
        << ", \"statistic\": " << J(c.statistic) << ", \"df\": " << (c.df > 0 ? J(c.df) : "null")
        << ", \"p_two_sided\": " << J(c.p_two_sided) << ", \"p_greater\": " << J(c.p_greater)
        << ", \"p_less\": " << J(c.p_less) << ", \"diff\": " << J(c.diff)
        << ", \"diff_ci95\": " << JCi(c.diff_ci95) << ", \"diff_method\": " << JStr(c.diff_method)
        << ", \"lift\": " << J(c.lift) << ", \"lift_ci95\": " << JCi(c.lift_ci95)
        << ", \"lift_method\": " << JStr(c.lift_method) << ", \"always_valid_p\": " << J(c.msprt_p)
        << ", \"always_valid_ci95\": " << JCi(c.msprt_ci95)
        << ", \"power_at_n\": " << J(c.power_at_n) << ", \"n_per_arm_for_mde\": " << J(c.n_for_mde)
        << "}";
  }
  out << "\n  ],\n  \"srm\": ";
  if (r.srm) {
    out << "{\"chi2\": " << J(r.srm->chi2) << ", \"df\": " << J(r.srm->df)
        << ", \"p_value\": " << J(r.srm->p) << ", \"weights\": [";
    for (size_t i = 0; i < r.srm->weights.size(); ++i)
      out << (i ? ", " : "") << J(r.srm->weights[i]);
    out << "]}";
  } else {
    out << "null";
  }
  out << ",\n  \"stopping_rules\": [";
  for (size_t i = 0; i < r.rules.size(); ++i) {
    const auto& d = r.rules[i];
    out << (i ? "," : "") << "\n    {\"rule\": " << JStr(d.rule)
        << ", \"stop\": " << (d.stop ? "true" : "false")
        << ", \"winner\": " << (d.winner ? JStr(*d.winner) : "null")
        << ", \"p_value\": " << J(d.p_value) << ", \"reason\": " << JStr(d.reason) << "}";
  }
  out << "\n  ]\n}\n";
}

}  // namespace banditd::stats
