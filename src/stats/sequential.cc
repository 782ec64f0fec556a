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

IpwConfidenceSequence::IpwConfidenceSequence(double alpha, double tune_n) : alpha_(alpha) {
  const double l = -2.0 * std::log(alpha);
  rho2_ = (l + std::log(l + 1.0)) / tune_n;
}

void IpwConfidenceSequence::Add(Served served, double reward, double propensity, double m_control,
                                double m_treatment) {
  double phi = m_treatment - m_control;
  if (served == Served::kTreatment) phi += (reward - m_treatment) / propensity;
  if (served == Served::kControl) phi -= (reward - m_control) / propensity;
  t_ += 1;
  sum_ += phi;
  sum_sq_ += phi * phi;
}

double IpwConfidenceSequence::variance() const {
  if (t_ < 2) return std::numeric_limits<double>::infinity();
  const double m = sum_ / t_;
  return std::max(0.0, sum_sq_ / t_ - m * m);
}

Interval IpwConfidenceSequence::Current() const {
  const double inf = std::numeric_limits<double>::infinity();
  if (t_ < 2) return {-inf, inf};
  const double g = t_ * variance() * rho2_ + 1.0;
  const double half = std::sqrt(2.0 * g / (t_ * t_ * rho2_) * std::log(std::sqrt(g) / alpha_));
  return {mean() - half, mean() + half};
}

double IpwConfidenceSequence::PValue() const {
  if (t_ < 2) return 1.0;
  // Solve half-width(alpha) = |mean| for alpha:
  //   alpha = sqrt(g) * exp(-mean^2 t^2 rho^2 / (2 g)).
  const double g = t_ * variance() * rho2_ + 1.0;
  const double m = mean();
  const double log_p = 0.5 * std::log(g) - m * m * t_ * t_ * rho2_ / (2.0 * g);
  return std::min(1.0, std::exp(log_p));
}

}  // namespace banditd::stats
