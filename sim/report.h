// The report of a simulation: aggregates per-replication results into a
// summary and curves, and writes them as a terminal table, summary.csv,
// curves.csv and PNG plots (plots.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "banditd/status.h"
#include "sim/engine.h"

namespace banditd::sim {

struct MeanCi {
  double mean = 0.0;
  double lo = 0.0;  // 95% confidence interval of the mean (Student t, n - 1 df)
  double hi = 0.0;
};

// Mean and 95% CI of `xs`; with one value the interval is that value.
MeanCi MeanWithCi(std::span<const double> xs);

struct SummaryRow {
  std::string scenario, variant, label, stopping;
  uint64_t runs = 0, horizon = 0;
  MeanCi regret;
  double best_arm_share = 0.0;  // share of all pulls that went to a best arm
  double worse_pulls = 0.0;     // mean pulls of a worse arm ("users exposed to the worse model")
  double lr_slope = 0.0;        // Lai–Robbins slope; NaN when not applicable
  double measured_slope = 0.0;  // d regret / d ln T over the last decade; NaN when too short
  double slope_ratio = 0.0;     // measured / Lai–Robbins; NaN when not applicable
  // 95% CI of the measured slope and of the ratio. The least-squares slope is
  // linear in the curve, so the slope of the mean curve is the mean of the
  // runs' own slopes: the interval is MeanWithCi of those. NaN with the slope.
  double slope_lo = 0.0, slope_hi = 0.0;
  double ratio_lo = 0.0, ratio_hi = 0.0;
  // Stopping rules (NaN / empty without one).
  std::string decision;            // the most frequent outcome and its share, e.g. "arm1 (93%)"
  double decided_share = 0.0;      // runs that stopped within the horizon
  double time_to_decision = 0.0;   // mean step of the decision, over decided runs
  double time_to_correct = 0.0;    // mean step of the decision, over runs that picked the best arm
  double worse_to_decision = 0.0;  // mean worse-arm pulls before the decision (or the horizon)
  double error_rate = 0.0;         // runs that declared a winner other than the unique best arm
  double correct_rate = 0.0;  // runs that named the unique best arm (the power, when one is better)
  // Timed scenarios (NaN otherwise): mean simulated days to the decision,
  // over decided runs and over runs that named the best arm.
  double days_to_decision = 0.0;
  double days_to_correct = 0.0;
  double error_lo = 0.0, error_hi = 0.0;  // Wilson 95% interval of error_rate
  // The arms' true means (and, for lognormal rewards, their parameters),
  // printed under the table's header. Long-run means in timed scenarios.
  std::string arms;
};

// Wilson score 95% interval of k successes in n trials.
std::pair<double, double> WilsonInterval(double k, double n);

// One line describing the arms' means: "champion 0.05, challenger 0.055";
// lognormal arms as "champion 1.2 (p 0.03 x E[value] 40)"; timed scenarios
// give the long-run means (novelty decayed, weekly cycle averaged).
std::string DescribeArms(const Scenario& s);

struct CurvePoint {
  uint64_t t = 0;
  MeanCi regret;
  double best_arm_share = 0.0;  // share of pulls since the previous point that went to a best arm
};

// Lai & Robbins (1985): regret grows at least like ln T times
// sum over suboptimal arms a of (mu* - mu_a) / KL(mu_a, mu*), Bernoulli KL.
double LaiRobbinsSlope(std::span<const double> means);
// Bernoulli Kullback–Leibler divergence KL(p, q).
double BernoulliKl(double p, double q);
// Least-squares slope of y against ln t over the points with t >= t_max / 10.
double SlopeOverLastDecade(std::span<const uint64_t> t, std::span<const double> y);

std::vector<SummaryRow> Summarize(const ScenarioResult& result);
std::vector<std::vector<CurvePoint>> Curves(const ScenarioResult& result);  // per contender

// The terminal table of the summary rows.
std::string FormatTable(const std::vector<SummaryRow>& rows);

// Writes summary.csv and curves.csv into `dir` (created if needed), and the
// PNG plots when `plots` is set. Returns the paths written.
Result<std::vector<std::string>> WriteReport(const std::vector<ScenarioResult>& results,
                                             const std::string& dir, bool plots);

}  // namespace banditd::sim
