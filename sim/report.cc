#include "sim/report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include <boost/math/distributions/students_t.hpp>

#include "sim/environment.h"
#include "sim/plots.h"

namespace banditd::sim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Num(double v, int precision = 6) {
  if (std::isnan(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

std::string Csv(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string ArmName(const Scenario& s, int64_t arm) {
  return arm >= 0 && static_cast<size_t>(arm) < s.arms.size() ? s.arms[arm].name
                                                              : "arm" + std::to_string(arm);
}

}  // namespace

std::pair<double, double> WilsonInterval(double k, double n) {
  if (n <= 0) return {kNaN, kNaN};
  const double z = 1.959963984540054;
  const double p = k / n;
  const double den = 1.0 + z * z / n;
  const double centre = (p + z * z / (2.0 * n)) / den;
  const double half = z * std::sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / den;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::string DescribeArms(const Scenario& s) {
  std::string out;
  char buf[160];
  // The long-run means come from an environment of replication 0 (they
  // depend only on the scenario unless arms are drawn per replication).
  const bool drawn = s.random_arms.a > 0.0;
  if (drawn) return "arms drawn per replication from Beta";
  Environment env(s, 0);
  for (size_t a = 0; a < s.arms.size(); ++a) {
    const ArmSpec& arm = s.arms[a];
    const double mean = s.timed() ? env.long_run_mean(a) : arm.mean;
    if (arm.lognormal) {
      std::snprintf(buf, sizeof buf, "%s %.6g (p %.4g x E[value] %.4g; mu %.4g, sigma %.4g)",
                    arm.name.c_str(), mean, mean / arm.value_mean(), arm.value_mean(), arm.mu,
                    arm.sigma);
    } else {
      std::snprintf(buf, sizeof buf, "%s %.6g", arm.name.c_str(), mean);
    }
    out += (out.empty() ? "" : ", ") + std::string(buf);
  }
  return (s.timed() ? "long-run means: " : "means: ") + out;
}

MeanCi MeanWithCi(std::span<const double> xs) {
  MeanCi out;
  if (xs.empty()) return {kNaN, kNaN, kNaN};
  double sum = 0;
  for (double x : xs) sum += x;
  out.mean = sum / static_cast<double>(xs.size());
  if (xs.size() < 2) {
    out.lo = out.hi = out.mean;
    return out;
  }
  double ss = 0;
  for (double x : xs) ss += (x - out.mean) * (x - out.mean);
  const double n = static_cast<double>(xs.size());
  const double se = std::sqrt(ss / (n - 1.0) / n);
  const boost::math::students_t t(n - 1.0);
  const double q = boost::math::quantile(t, 0.975);
  out.lo = out.mean - q * se;
  out.hi = out.mean + q * se;
  return out;
}

double BernoulliKl(double p, double q) {
  auto term = [](double a, double b) { return a > 0.0 ? a * std::log(a / b) : 0.0; };
  return term(p, q) + term(1.0 - p, 1.0 - q);
}

double LaiRobbinsSlope(std::span<const double> means) {
  double best = 0.0;
  for (double m : means) best = std::max(best, m);
  if (best >= 1.0) return kNaN;  // KL to a sure arm is infinite: the bound is 0 and uninformative
  double slope = 0.0;
  for (double m : means) {
    if (m < best) slope += (best - m) / BernoulliKl(m, best);
  }
  return slope;
}

double SlopeOverLastDecade(std::span<const uint64_t> t, std::span<const double> y) {
  if (t.empty() || t.size() != y.size()) return kNaN;
  const double t_min = static_cast<double>(t.back()) / 10.0;
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (static_cast<double>(t[i]) < t_min) continue;
    const double x = std::log(static_cast<double>(t[i]));
    sx += x;
    sy += y[i];
    sxx += x * x;
    sxy += x * y[i];
    n += 1;
  }
  const double den = n * sxx - sx * sx;
  if (n < 3 || den <= 0) return kNaN;
  return (n * sxy - sx * sy) / den;
}

std::vector<std::vector<CurvePoint>> Curves(const ScenarioResult& result) {
  std::vector<std::vector<CurvePoint>> out;
  for (const auto& c : result.contenders) {
    std::vector<CurvePoint> curve(result.checkpoints.size());
    std::vector<double> xs(c.reps.size());
    for (size_t k = 0; k < result.checkpoints.size(); ++k) {
      double share = 0;
      for (size_t r = 0; r < c.reps.size(); ++r) {
        xs[r] = c.reps[r].regret_at[k];
        share += c.reps[r].best_share_at[k];
      }
      curve[k].t = result.checkpoints[k];
      curve[k].regret = MeanWithCi(xs);
      curve[k].best_arm_share = share / static_cast<double>(c.reps.size());
    }
    out.push_back(std::move(curve));
  }
  return out;
}

std::vector<SummaryRow> Summarize(const ScenarioResult& result) {
  const Scenario& s = result.scenario;
  std::vector<double> means;
  for (const auto& a : s.arms) means.push_back(a.mean);
  const double lr = s.stationary_bernoulli() ? LaiRobbinsSlope(means) : kNaN;
  const std::string arms = s.contextual() ? std::string() : DescribeArms(s);
  std::vector<SummaryRow> rows;
  for (const auto& c : result.contenders) {
    SummaryRow row;
    row.scenario = s.name;
    row.variant = s.variant;
    row.label = c.label;
    row.stopping = c.stopping;
    row.runs = c.reps.size();
    row.horizon = s.horizon;
    std::vector<double> regret, run_slopes;
    double best = 0, worse = 0;
    for (const auto& r : c.reps) {
      regret.push_back(r.regret);
      run_slopes.push_back(SlopeOverLastDecade(result.checkpoints, r.regret_at));
      best += static_cast<double>(r.best_pulls);
      worse += static_cast<double>(r.worse_pulls);
    }
    const double n = static_cast<double>(c.reps.size());
    row.regret = MeanWithCi(regret);
    row.best_arm_share = best / (n * static_cast<double>(s.horizon));
    row.worse_pulls = worse / n;
    // With a stopping rule the policy stops learning at the decision: no slope to compare.
    row.lr_slope = c.stopping.empty() ? lr : kNaN;
    const double lr_row = row.lr_slope;
    // A least-squares slope is linear in the curve: the mean of the runs'
    // slopes is the slope of the mean curve, and their spread gives its CI.
    const MeanCi slope_ci = MeanWithCi(run_slopes);  // NaN when a run has no slope
    row.measured_slope = slope_ci.mean;
    row.slope_lo = slope_ci.lo;
    row.slope_hi = slope_ci.hi;
    const bool no_ratio = std::isnan(lr_row) || lr_row <= 0;
    row.slope_ratio = no_ratio ? kNaN : row.measured_slope / lr_row;
    row.ratio_lo = no_ratio ? kNaN : row.slope_lo / lr_row;
    row.ratio_hi = no_ratio ? kNaN : row.slope_hi / lr_row;
    if (!c.stopping.empty()) row.measured_slope = row.slope_lo = row.slope_hi = kNaN;
    row.decided_share = row.time_to_decision = row.time_to_correct = kNaN;
    row.worse_to_decision = row.error_rate = row.correct_rate = kNaN;
    row.days_to_decision = row.days_to_correct = row.error_lo = row.error_hi = kNaN;
    row.arms = arms;
    if (!c.stopping.empty()) {
      std::map<std::string, int> outcomes;
      double decided = 0, ttd = 0, correct = 0, ttc = 0, wrong = 0, wtd = 0, sd = 0, sc = 0;
      for (const auto& r : c.reps) {
        wtd += static_cast<double>(r.worse_pulls_to_decision);
        if (!r.decided) {
          ++outcomes["undecided"];
          continue;
        }
        ++outcomes[r.winner >= 0 ? ArmName(s, r.winner) : "no winner"];
        decided += 1;
        ttd += static_cast<double>(r.decision_step);
        sd += r.decision_seconds;
        if (r.wrong) wrong += 1;
        if (r.winner >= 0 && !r.wrong) {
          correct += 1;
          ttc += static_cast<double>(r.decision_step);
          sc += r.decision_seconds;
        }
      }
      std::string top;
      int top_n = -1;
      for (const auto& [name, k] : outcomes) {
        if (k > top_n) top = name, top_n = k;
      }
      char buf[32];
      std::snprintf(buf, sizeof buf, " (%.0f%%)", 100.0 * top_n / n);
      row.decision = top + buf;
      row.decided_share = decided / n;
      row.time_to_decision = decided > 0 ? ttd / decided : kNaN;
      row.time_to_correct = correct > 0 ? ttc / correct : kNaN;
      row.worse_to_decision = wtd / n;
      row.error_rate = wrong / n;
      row.correct_rate = correct / n;
      std::tie(row.error_lo, row.error_hi) = WilsonInterval(wrong, n);
      if (s.timed()) {
        row.days_to_decision = decided > 0 ? sd / decided / kSecondsPerDay : kNaN;
        row.days_to_correct = correct > 0 ? sc / correct / kSecondsPerDay : kNaN;
      }
      // With contexts no single arm is best: a winner can be neither right nor wrong.
      if (result.scenario.contextual()) {
        row.time_to_correct = row.error_rate = row.correct_rate = kNaN;
        row.error_lo = row.error_hi = kNaN;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string FormatTable(const std::vector<SummaryRow>& rows) {
  std::string out;
  char buf[512];
  bool any_stop = false, any_lr = false, any_days = false;
  for (const auto& r : rows) {
    any_stop = any_stop || !r.stopping.empty();
    any_lr = any_lr || !std::isnan(r.lr_slope);
    any_days = any_days || (!r.stopping.empty() && !std::isnan(r.days_to_decision));
  }
  std::string last_header;
  for (const auto& r : rows) {
    const std::string header = r.scenario + (r.variant.empty() ? "" : "  [" + r.variant + "]");
    if (header != last_header) {
      std::snprintf(buf, sizeof buf, "\n%s  (runs %llu, horizon %llu)\n", header.c_str(),
                    static_cast<unsigned long long>(r.runs),
                    static_cast<unsigned long long>(r.horizon));
      out += buf;
      if (!r.arms.empty()) out += "  " + r.arms + "\n";
      std::snprintf(buf, sizeof buf, "  %-22s %12s %25s %9s %12s", "policy", "regret", "95% CI",
                    "best arm", "worse pulls");
      out += buf;
      if (any_lr) {
        std::snprintf(buf, sizeof buf, " %8s %8s %6s %15s", "LR slope", "slope", "ratio",
                      "ratio 95% CI");
        out += buf;
      }
      if (any_stop) {
        std::snprintf(buf, sizeof buf, "  %-16s %-22s %8s %10s %10s %11s", "rule", "decision",
                      "decided", "t decide", "t correct", "wrong dec.");
        out += buf;
        if (any_days) {
          std::snprintf(buf, sizeof buf, " %16s %9s", "wrong 95% CI", "d decide");
          out += buf;
        }
      }
      out += "\n";
      last_header = header;
    }
    std::snprintf(buf, sizeof buf, "  %-22s %12.1f  [%10.1f, %10.1f] %8.1f%% %12.1f",
                  r.label.c_str(), r.regret.mean, r.regret.lo, r.regret.hi,
                  100.0 * r.best_arm_share, r.worse_pulls);
    out += buf;
    if (any_lr) {
      char ratio[24] = "", ci[40] = "";
      if (!std::isnan(r.slope_ratio)) std::snprintf(ratio, sizeof ratio, "%.3f", r.slope_ratio);
      if (!std::isnan(r.ratio_lo))
        std::snprintf(ci, sizeof ci, "[%.3f, %.3f]", r.ratio_lo, r.ratio_hi);
      std::snprintf(buf, sizeof buf, " %8s %8s %6s %15s", Num(r.lr_slope, 4).c_str(),
                    Num(r.measured_slope, 4).c_str(), ratio, ci);
      out += buf;
    }
    if (any_stop && !r.stopping.empty()) {
      char wrong[32] = "-";  // NaN: no single best arm (contextual scenarios)
      if (!std::isnan(r.error_rate))
        std::snprintf(wrong, sizeof wrong, "%.2f%%", 100.0 * r.error_rate);
      std::snprintf(buf, sizeof buf, "  %-16s %-22s %7.1f%% %10s %10s %11s", r.stopping.c_str(),
                    r.decision.c_str(), 100.0 * r.decided_share,
                    Num(std::round(r.time_to_decision), 10).c_str(),
                    Num(std::round(r.time_to_correct), 10).c_str(), wrong);
      out += buf;
      if (any_days) {
        char ci[40] = "", days[24] = "";
        if (!std::isnan(r.error_lo))
          std::snprintf(ci, sizeof ci, "[%.1f%%, %.1f%%]", 100 * r.error_lo, 100 * r.error_hi);
        if (!std::isnan(r.days_to_decision))
          std::snprintf(days, sizeof days, "%.2f", r.days_to_decision);
        std::snprintf(buf, sizeof buf, " %16s %9s", ci, days);
        out += buf;
      }
    }
    out += "\n";
  }
  return out;
}

Result<std::vector<std::string>> WriteReport(const std::vector<ScenarioResult>& results,
                                             const std::string& dir, bool plots) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Code::kIoError, "cannot create '" + dir + "': " + ec.message());
  std::vector<std::string> written;
  const std::string summary_path = dir + "/summary.csv";
  const std::string curves_path = dir + "/curves.csv";
  std::ofstream summary(summary_path), curves(curves_path);
  if (!summary || !curves) return Status(Code::kIoError, "cannot write into '" + dir + "'");
  summary << "scenario,variant,policy,stopping,runs,horizon,regret_mean,regret_ci95_lo,"
             "regret_ci95_hi,best_arm_share,worse_pulls_mean,lai_robbins_slope,measured_slope,"
             "slope_ratio,decision,decided_share,time_to_decision_mean,"
             "time_to_correct_decision_mean,worse_pulls_to_decision_mean,error_rate,correct_rate,"
             "measured_slope_ci95_lo,measured_slope_ci95_hi,slope_ratio_ci95_lo,"
             "slope_ratio_ci95_hi,days_to_decision_mean,days_to_correct_decision_mean,"
             "error_rate_ci95_lo,error_rate_ci95_hi\n";
  curves << "scenario,variant,policy,t,regret_mean,regret_ci95_lo,regret_ci95_hi,best_arm_share\n";
  for (const auto& result : results) {
    for (const auto& r : Summarize(result)) {
      summary << Csv(r.scenario) << ',' << Csv(r.variant) << ',' << Csv(r.label) << ','
              << Csv(r.stopping) << ',' << r.runs << ',' << r.horizon << ','
              << Num(r.regret.mean, 10) << ',' << Num(r.regret.lo, 10) << ','
              << Num(r.regret.hi, 10) << ',' << Num(r.best_arm_share) << ','
              << Num(r.worse_pulls, 10) << ',' << Num(r.lr_slope) << ',' << Num(r.measured_slope)
              << ',' << Num(r.slope_ratio) << ',' << Csv(r.decision) << ',' << Num(r.decided_share)
              << ',' << Num(r.time_to_decision, 10) << ',' << Num(r.time_to_correct, 10) << ','
              << Num(r.worse_to_decision, 10) << ',' << Num(r.error_rate) << ','
              << Num(r.correct_rate) << ',' << Num(r.slope_lo) << ',' << Num(r.slope_hi) << ','
              << Num(r.ratio_lo) << ',' << Num(r.ratio_hi) << ',' << Num(r.days_to_decision)
              << ',' << Num(r.days_to_correct) << ',' << Num(r.error_lo) << ','
              << Num(r.error_hi) << '\n';
    }
    const auto all = Curves(result);
    for (size_t c = 0; c < all.size(); ++c) {
      for (const auto& p : all[c]) {
        curves << Csv(result.scenario.name) << ',' << Csv(result.scenario.variant) << ','
               << Csv(result.contenders[c].label) << ',' << p.t << ',' << Num(p.regret.mean, 10)
               << ',' << Num(p.regret.lo, 10) << ',' << Num(p.regret.hi, 10) << ','
               << Num(p.best_arm_share) << '\n';
      }
    }
  }
  summary.close();
  curves.close();
  if (!summary || !curves)
    return Status(Code::kIoError, "writing the report into '" + dir + "' failed");
  written.push_back(summary_path);
  written.push_back(curves_path);
  if (plots) {
    auto pngs = WritePlots(results, dir);
    if (!pngs.ok()) return pngs.status();
    for (auto& p : *pngs) written.push_back(std::move(p));
  }
  return written;
}

}  // namespace banditd::sim
