#include "src/experiment/status_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "banditd/rng.h"
#include "src/stats/bayes.h"
#include "src/stats/dist.h"

namespace banditd::experiment {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kZ95 = 1.959963984540054;
constexpr size_t kMonteCarloDraws = 20000;

}  // namespace

std::array<double, 2> MeanInterval95(Metric metric, const ArmSums& arm) {
  const double n = arm.n;
  if (!(n >= 0)) return {kNaN, kNaN};
  if (metric == Metric::kBernoulli) {
    // Wilson's interval written without dividing by n, so that n = 0 gives
    // its limit [0, 1]: center (x + z^2/2) / (n + z^2), half-width
    // z / (n + z^2) * sqrt(x (n - x) / n + z^2 / 4).
    const double x = std::clamp(arm.sum, 0.0, n);
    const double z2 = kZ95 * kZ95;
    const double center = (x + z2 / 2) / (n + z2);
    const double spread = n > 0 ? x * (n - x) / n : 0.0;
    const double half = kZ95 / (n + z2) * std::sqrt(spread + z2 / 4);
    // At x = 0 (x = n) the lower (upper) end is 0 (1) exactly; rounding
    // would leave 5.55e-17 there.
    return {x == 0 ? 0.0 : std::max(0.0, center - half),
            x == n ? 1.0 : std::min(1.0, center + half)};
  }
  if (n < 2) return {kNaN, kNaN};
  const double mean = arm.sum / n;
  const double var = std::max(0.0, (arm.sum_sq - n * mean * mean) / (n - 1));
  const double t = boost::math::quantile(
      boost::math::complement(stats::internal::StudentT(n - 1), 0.025));
  const double half = t * std::sqrt(var / n);
  return {mean - half, mean + half};
}

std::vector<double> ProbBest(Metric metric, std::span<const ArmSums> arms) {
  const size_t k = arms.size();
  std::vector<double> p(k, kNaN), loss(k, 0.0);
  if (k == 0) return p;
  if (k == 1) {
    p[0] = 1.0;
    return p;
  }
  Rng rng(1);
  if (metric == Metric::kBernoulli) {
    std::vector<stats::BetaPosterior> post(k);
    for (size_t i = 0; i < k; ++i) {
      const double x = std::clamp(arms[i].sum, 0.0, arms[i].n);
      post[i] = {1 + x, 1 + arms[i].n - x};
    }
    if (k == 2) {
      p[1] = stats::ProbBetterBeta(post[0], post[1]);
      p[0] = 1 - p[1];
    } else {
      stats::MonteCarloBeta(post, kMonteCarloDraws, rng, p, loss);
    }
    return p;
  }
  std::vector<stats::NormalPosterior> post(k);
  for (size_t i = 0; i < k; ++i) {
    const ArmSums& a = arms[i];
    if (a.n < 2) return std::vector<double>(k, kNaN);
    const double mean = a.sum / a.n;
    const double var = std::max(0.0, (a.sum_sq - a.n * mean * mean) / (a.n - 1));
    post[i] = {mean, std::sqrt(var / a.n)};
  }
  if (k == 2) {
    p[1] = stats::ProbBetterNormal(post[0], post[1]);
    p[0] = 1 - p[1];
  } else {
    stats::MonteCarloNormal(post, kMonteCarloDraws, rng, p, loss);
  }
  for (double& x : p) {
    if (!std::isfinite(x)) x = kNaN;  // both posteriors without spread
  }
  return p;
}

double Lift(double mean_t, double mean_c) {
  if (!std::isfinite(mean_t) || !std::isfinite(mean_c) || mean_c == 0) return kNaN;
  return (mean_t - mean_c) / std::fabs(mean_c);
}

}  // namespace banditd::experiment
