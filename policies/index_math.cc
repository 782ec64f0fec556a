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

double KlUcbBound(double p, double n, double budget) {
  const double d = budget / n;
  if (!(d > 0.0) || p >= 1.0) return std::min(p, 1.0);
  if (p <= 0.0) return -std::expm1(-d);  // kl(0, q) = -ln(1 - q): closed form
  // Bracket [lo, hi] with f(lo) <= 0 < f(hi), f(q) = kl(p, q) - d.
  double lo = p;
  double hi = std::min(1.0, p + std::sqrt(d / 2.0));  // Pinsker: kl >= 2 (q - p)^2
  if (hi >= 1.0 && KlBernoulli(p, std::nextafter(1.0, 0.0)) <= d) return 1.0;
  double q = hi < 1.0 ? hi : 0.5 * (lo + hi);
  for (int iter = 0; iter < 200; ++iter) {
    const double f = KlBernoulli(p, q) - d;
    if (f > 0.0) {
      hi = q;
    } else {
      lo = q;
    }
    if (hi - lo <= 1e-12) break;
    const double slope = (q - p) / (q * (1.0 - q));  // d kl(p, q) / dq
    double next = slope > 0.0 ? q - f / slope : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::fabs(next - q) <= 1e-13) {
      q = next;
      break;
    }
    q = next;
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
