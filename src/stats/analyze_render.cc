// Text and JSON renderings of the analyze report.
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

#include "src/stats/analyze_report.h"

#include "src/stats/json_text.h"

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

std::string JCi(Interval i) { return "[" + JsonNumber(i.lo) + ", " + JsonNumber(i.hi) + "]"; }

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
  out << "{\n  \"file\": " << JsonString(r.file) << ",\n  \"metric\": " << JsonString(r.metric)
      << ",\n  \"control\": " << JsonString(r.arms[0].name)
      << ",\n  \"alpha\": " << JsonNumber(r.alpha) << ",\n  \"mde\": " << JsonNumber(r.mde)
      << ",\n  \"tau2\": " << JsonNumber(r.tau2)
      << ",\n  \"p_best_method\": " << JsonString(r.p_best_method) << ",\n  \"arms\": [";
  for (size_t i = 0; i < r.arms.size(); ++i) {
    const auto& a = r.arms[i];
    out << (i ? "," : "") << "\n    {\"name\": " << JsonString(a.name)
        << ", \"n\": " << JsonNumber(a.n) << ", \"mean\": " << JsonNumber(a.mean)
        << ", \"sd\": " << JsonNumber(a.sd) << ", \"ci95\": " << JCi(a.ci95)
        << ", \"p_best\": " << JsonNumber(a.p_best)
        << ", \"expected_loss\": " << JsonNumber(a.expected_loss) << "}";
  }
  out << "\n  ],\n  \"comparisons\": [";
  for (size_t i = 0; i < r.comparisons.size(); ++i) {
    const auto& c = r.comparisons[i];
    out << (i ? "," : "") << "\n    {\"arm\": " << JsonString(c.arm)
        << ", \"test\": " << JsonString(c.test) << ", \"statistic\": " << JsonNumber(c.statistic)
        << ", \"df\": " << (c.df > 0 ? JsonNumber(c.df) : "null")
        << ", \"p_two_sided\": " << JsonNumber(c.p_two_sided)
        << ", \"p_greater\": " << JsonNumber(c.p_greater)
        << ", \"p_less\": " << JsonNumber(c.p_less) << ", \"diff\": " << JsonNumber(c.diff)
        << ", \"diff_ci95\": " << JCi(c.diff_ci95)
        << ", \"diff_method\": " << JsonString(c.diff_method)
        << ", \"lift\": " << JsonNumber(c.lift) << ", \"lift_ci95\": " << JCi(c.lift_ci95)
        << ", \"lift_method\": " << JsonString(c.lift_method)
        << ", \"always_valid_p\": " << JsonNumber(c.msprt_p)
        << ", \"always_valid_ci95\": " << JCi(c.msprt_ci95)
        << ", \"power_at_n\": " << JsonNumber(c.power_at_n)
        << ", \"n_per_arm_for_mde\": " << JsonNumber(c.n_for_mde) << "}";
  }
  out << "\n  ],\n  \"srm\": ";
  if (r.srm) {
    out << "{\"chi2\": " << JsonNumber(r.srm->chi2) << ", \"df\": " << JsonNumber(r.srm->df)
        << ", \"p_value\": " << JsonNumber(r.srm->p) << ", \"weights\": [";
    for (size_t i = 0; i < r.srm->weights.size(); ++i)
      out << (i ? ", " : "") << JsonNumber(r.srm->weights[i]);
    out << "]}";
  } else {
    out << "null";
  }
  out << ",\n  \"stopping_rules\": [";
  for (size_t i = 0; i < r.rules.size(); ++i) {
    const auto& d = r.rules[i];
    out << (i ? "," : "") << "\n    {\"rule\": " << JsonString(d.rule)
        << ", \"stop\": " << (d.stop ? "true" : "false")
        << ", \"winner\": " << (d.winner ? JsonString(*d.winner) : "null")
        << ", \"p_value\": " << JsonNumber(d.p_value)
        << ", \"compared_arm\": " << (d.compared_arm ? JsonString(*d.compared_arm) : "null")
        << ", \"difference\": " << JsonNumber(d.difference) << ", \"interval\": " << JCi(d.ci)
        << ", \"reason\": " << JsonString(d.reason) << "}";
  }
  out << "\n  ]\n}\n";
}

}  // namespace banditd::stats
