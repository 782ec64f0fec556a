#include "src/stats/sequential.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace banditd::stats {

MsprtLook MsprtAt(double d, double v, double tau2, double alpha, double theta0) {
  MsprtLook look;
  const double dev = d - theta0;
  const double log_lambda =
      0.5 * std::log(v / (v + tau2)) + tau2 * dev * dev / (2.0 * v * (v + tau2));
  look.lambda = std::exp(log_lambda);
  look.p_value = std::min(1.0, std::exp(-log_lambda));
  const double half =
      std::sqrt(v * (v + tau2) / tau2 * (std::log1p(tau2 / v) - 2.0 * std::log(alpha)));
  look.ci = {d - half, d + half};
  return look;
}

namespace {

double Rho2(double alpha, double tune_n) {
  const double l = -2.0 * std::log(alpha);
  return (l + std::log(l + 1.0)) / tune_n;
}

}  // namespace

double AsymptoticCsRadius(double t, double variance, double alpha, double tune_n) {
  const double rho2 = Rho2(alpha, tune_n);
  const double g = t * variance * rho2 + 1.0;
  return std::sqrt(2.0 * g / (t * t * rho2) * std::log(std::sqrt(g) / alpha));
}

double AsymptoticCsPValue(double t, double mean, double variance, double alpha, double tune_n) {
  // Solve radius(a) = |mean| for a: a = sqrt(g) exp(-mean^2 t^2 rho^2 / (2 g)).
  const double rho2 = Rho2(alpha, tune_n);
  const double g = t * variance * rho2 + 1.0;
  const double log_p = 0.5 * std::log(g) - mean * mean * t * t * rho2 / (2.0 * g);
  return std::min(1.0, std::exp(log_p));
}

}  // namespace banditd::stats
