// The per-arm figures `status` reports next to the stopping rule: each arm's
// 95% interval for its mean, its probability of being the best arm, and the
// relative lift of a challenger. Pure functions of an arm's sufficient
// statistics (n, sum, sum of squares); NaN where a figure is not defined.
#pragma once

#include <array>
#include <span>
#include <vector>

#include "banditd/stopping.h"

namespace banditd::experiment {

struct ArmSums {
  double n = 0;
  double sum = 0;
  double sum_sq = 0;
};

// 95% interval for the arm's mean. Bernoulli: the Wilson score interval,
// defined from n = 0 (where it is [0, 1]). Gaussian: mean +- t(0.975, n - 1)
// * s / sqrt(n), NaN below n = 2 (no variance yet).
std::array<double, 2> MeanInterval95(Metric metric, const ArmSums& arm);

// Posterior probability that each arm has the highest mean. Bernoulli:
// Beta(1 + successes, 1 + failures) posteriors, defined from n = 0 (equal
// arms then: 1/K each). Gaussian: N(mean, s^2 / n), NaN for every arm until
// each has n >= 2. Two arms in closed form; more by 20,000 Monte Carlo draws
// with a fixed seed (standard error <= 0.0036), so a status is reproducible.
std::vector<double> ProbBest(Metric metric, std::span<const ArmSums> arms);

// Relative lift of a treatment over the control, (mean_t - mean_c) /
// |mean_c|: positive when the treatment's mean is higher, whatever the sign
// of the means. NaN when either mean is undefined or mean_c is 0.
double Lift(double mean_t, double mean_c);

}  // namespace banditd::experiment
