// The analysis of `bandit-sim analyze` as a value, computed by
// BuildReport and rendered as text or JSON. Internal to banditd_stats.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "src/stats/analyze_input.h"
#include "src/stats/hypothesis.h"

namespace banditd::stats {

struct ArmReport {
  std::string name;
  double n = 0, mean = 0, sd = 0;
  Interval ci95;  // Wilson (Bernoulli) or mean +- 1.96 sd / sqrt(n)
  double p_best = 0, expected_loss = 0;
};

struct NamedP {
  std::string name;
  double value = 0;
};

struct ComparisonReport {
  std::string arm;   // the challenger
  std::string test;  // "z-test (pooled)" or "Welch t-test"
  double statistic = 0, df = 0;
  double p_two_sided = 1, p_greater = 1, p_less = 1;
  double diff = 0;
  Interval diff_ci95;
  std::string diff_method;
  double lift = 0;
  Interval lift_ci95;
  std::string lift_method;
  double msprt_p = 1;  // always-valid p at this single look
  Interval msprt_ci95;
  double power_at_n = 0;  // power of the test for the mde at the current n
  double n_for_mde = 0;   // per arm, 80% power
};

struct SrmReport {
  double chi2 = 0, df = 0, p = 1;
  std::vector<double> weights;
};

struct RuleReport {
  std::string rule;
  bool stop = false;
  std::optional<std::string> winner;
  double p_value = 1;
  std::string reason;
};

struct Report {
  std::string file;
  std::string metric;  // "bernoulli" or "gaussian"
  double alpha = 0.05, mde = 0, tau2 = 0;
  std::string p_best_method;
  std::vector<ArmReport> arms;
  std::vector<ComparisonReport> comparisons;
  std::optional<SrmReport> srm;
  std::vector<RuleReport> rules;
};

Report BuildReport(const AnalyzeInput& in, const std::vector<double>& weights);
void RenderText(const Report& r, std::ostream& out);
void RenderJson(const Report& r, std::ostream& out);

}  // namespace banditd::stats
