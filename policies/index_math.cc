#include "policies/index_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace banditd::policies {

double Ucb1Index(double n, double sum, double t) {
  return sum / n + std::sqrt(2.0 * std::log(t) / n);
}

double KlBernoulli(double p, double q) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double kl = 0.0;
  if (p > 0.0) kl += q > 0.0 ? p * std::log(p / q) : kInf;
  if (p < 1.0) kl += q < 1.0 ? (1.0 - p) * std::log((1.0 - p) / (1.0 - q)) : kInf;
  return std::max(kl, 0.0);
}

double KlUcbUpperBound(double p, double n, double budget) {
  const double d = budget / n;
  if (!(d > 0.0) || p >= 1.0) return std::min(p, 1.0);
  if (p <= 0.0) return -std::expm1(-d);  // exact: kl(0, q) = -ln(1 - q)
  const double pinsker = p + std::sqrt(d / 2.0);
  const double low_p = p + d + std::sqrt(d * d + 2.0 * p * d);  // (q - p)^2 = 2 q d
  const double high_p = p + std::sqrt(2.0 * (1.0 - p) * d);     // (q - p)^2 = 2 (1 - p) d
  const double bound = std::min({pinsker, low_p, high_p});
  if (bound < 1.0) return bound;
  return 1.0 - (1.0 - p) * std::exp(-(d - p * std::log(p)) / (1.0 - p));
}

double KlUcbBound(double p, double n, double budget) {
  const double d = budget / n;
  if (!(d > 0.0) || p >= 1.0) return std::min(p, 1.0);
  if (p <= 0.0) return -std::expm1(-d);  // kl(0, q) = -ln(1 - q): closed form
  // Bracket [lo, hi] with f(lo) <= 0 <= f(hi), f(q) = kl(p, q) - d; Newton's
  // iterates from hi fall monotonically onto the root.
  double lo = p;
  double hi = std::min(1.0, KlUcbUpperBound(p, n, budget));
  if (!(hi > lo)) return std::max(hi, lo);  // the root sits within rounding of p or 1
  double q = hi;
  for (int iter = 0; iter < 200; ++iter) {
    const double f = KlBernoulli(p, q) - d;
    if (f > 0.0) {
      hi = q;
    } else {
      lo = q;
    }
    if (hi - lo <= 1e-12) break;
    const double slope = (q - p) / (q * (1.0 - q));  // d kl(p, q) / dq
    const double step = slope > 0.0 ? f / slope : std::numeric_limits<double>::quiet_NaN();
    if (std::fabs(step) <= 1e-13) break;  // quadratic convergence: error ~ step^2
    q -= step;
    if (!(q > lo && q < hi)) q = 0.5 * (lo + hi);  // Newton left the bracket: bisect
  }
  return q;
}

double KlUcbBudget(double t, double c) {
  if (!(t > 1.0)) return 0.0;
  const double log_t = std::log(t);
  const double log_log_t = log_t > 1.0 ? std::log(log_t) : 0.0;
  return std::max(0.0, log_t + c * log_log_t);
}

}  // namespace banditd::policies
