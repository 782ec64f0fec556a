#include "src/stats/betting.h"

#include <algorithm>
#include <cmath>

namespace banditd::stats {

double BettingPsi(double c) {
  // (-log(1 - c) - c) / c^2 = 1/2 + c/3 + c^2/4 + ...; the series avoids
  // cancellation for small c.
  if (c < 1e-4) return 0.5 + c / 3.0 + c * c / 4.0;
  return (-std::log1p(-c) - c) / (c * c);
}

bool BettingSums::Unflatten(const std::vector<double>& v) {
  if (v.size() != kFlatSize) return false;
  *this = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
  return true;
}

BettingDiffSequence::BettingDiffSequence(double alpha, double tune_n)
    : tune_n_(tune_n), log_threshold_(std::log(2.0 / alpha)) {}

void BettingDiffSequence::Add(Served served, double reward, double pi_treatment, double pi_control,
                              double m_treatment, double m_control) {
  AddRepeated(served, reward, 1.0, pi_treatment, pi_control, m_treatment, m_control,
              RunningVariance());
}

double BettingDiffSequence::RunningVariance() const {
  const double mean = s_.t > 0 ? s_.phi / s_.t : 0.0;
  return (0.25 + std::max(0.0, s_.phi_sq - s_.t * mean * mean)) / (s_.t + 1.0);
}

void BettingDiffSequence::AddRepeated(Served served, double reward, double count,
                                      double pi_treatment, double pi_control, double m_treatment,
                                      double m_control, double variance) {
  double phi = m_treatment - m_control;
  if (served == Served::kTreatment) phi += (reward - m_treatment) / pi_treatment;
  if (served == Served::kControl) phi -= (reward - m_control) / pi_control;

  // The stake is fixed from what was known before the draw: the variance
  // estimate, the allocation and the predictable means.
  double lambda = 0.0, psi = 0.5;
  if (pi_treatment > 0.0 && pi_control > 0.0) {
    const double bound = std::abs(m_treatment - m_control) +
                         std::max(std::max(m_treatment, 1.0 - m_treatment) / pi_treatment,
                                  std::max(m_control, 1.0 - m_control) / pi_control) +
                         1.0;
    lambda = std::min(std::sqrt(2.0 * log_threshold_ / (variance * tune_n_)),
                      kBettingTruncation / bound);
    // The largest drop lambda (phi - d) can take for d in [-1, 1] is
    // lambda * bound: psi of that is the tightest constant allowed.
    psi = BettingPsi(lambda * bound);
  }
  s_.t += count;
  s_.phi += phi * count;
  s_.phi_sq += phi * phi * count;
  s_.a0 += lambda * count;
  s_.a1 += lambda * phi * count;
  const double w = psi * lambda * lambda;
  s_.b0 += w * count;
  s_.b1 += w * phi * count;
  s_.b2 += w * phi * phi * count;
}

// L_t(d) >= log(2/alpha) on [r-, r+]; the lower bound is r+ (every d below
// it is excluded too, since the capital K_t(d) decreases in d).
double BettingDiffSequence::Lower() const {
  if (s_.b0 <= 0.0) return -1.0;
  const double beta = 2.0 * s_.b1 - s_.a0;
  const double gamma = s_.a1 - s_.b2 - log_threshold_;
  const double disc = beta * beta + 4.0 * s_.b0 * gamma;
  if (disc < 0.0) return -1.0;
  return std::clamp((beta + std::sqrt(disc)) / (2.0 * s_.b0), -1.0, 1.0);
}

// U_t(d) >= log(2/alpha) on [r-, r+]; the upper bound is r-.
double BettingDiffSequence::Upper() const {
  if (s_.b0 <= 0.0) return 1.0;
  const double beta = 2.0 * s_.b1 + s_.a0;
  const double gamma = -s_.a1 - s_.b2 - log_threshold_;
  const double disc = beta * beta + 4.0 * s_.b0 * gamma;
  if (disc < 0.0) return 1.0;
  return std::clamp((beta - std::sqrt(disc)) / (2.0 * s_.b0), -1.0, 1.0);
}

double BettingDiffSequence::Estimate() const { return s_.t > 0 ? s_.phi / s_.t : 0.0; }

double BettingDiffSequence::PValue() const {
  const double lower_side = s_.a1 - s_.b2;   // L_t(0)
  const double upper_side = -s_.a1 - s_.b2;  // U_t(0)
  return std::min(1.0, std::exp(std::log(2.0) - std::max(lower_side, upper_side)));
}

}  // namespace banditd::stats
