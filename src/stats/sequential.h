// Anytime-valid inference: results that stay valid however often the data are
// looked at and whenever the experiment is stopped.
#pragma once

#include <cstddef>

#include "src/stats/hypothesis.h"

namespace banditd::stats {

// mSPRT with a normal mixture (Johari, Pekelis & Walsh, "Always valid
// inference: continuous monitoring of A/B tests", Operations Research 2022).
// With the estimate d = mean_t - mean_c, its variance v = s_t^2/n_t + s_c^2/n_c
// and the mixing distribution N(theta0, tau2) over the true difference, the
// mixture likelihood ratio against H0: difference = theta0 is
//   Lambda = sqrt(v / (v + tau2)) * exp(tau2 (d - theta0)^2 / (2 v (v + tau2))).
// The always-valid p-value is the running minimum of min(1, 1/Lambda) over
// looks; the always-valid confidence interval is the running intersection of
//   d +- sqrt(v (v + tau2) / tau2 * (log((v + tau2) / v) - 2 log alpha)).
// Variances are plug-in estimates, as in the paper's two-stream setting.
struct MsprtLook {
  double lambda = 1;   // mixture likelihood ratio at this look
  double p_value = 1;  // min(1, 1/Lambda) at this look (not yet the running min)
  Interval ci;         // this look's interval (not yet intersected)
};

// REQUIRES: v > 0, tau2 > 0, 0 < alpha < 1.
MsprtLook MsprtAt(double d, double v, double tau2, double alpha, double theta0 = 0.0);

// Confidence sequence for the difference in arm means on adaptively
// collected (bandit) data. Each rewarded unit gives the augmented IPW
// pseudo-outcome for treatment k against control c,
//   phi = m_k - m_c + 1{A=k} (Y - m_k) / pi_k - 1{A=c} (Y - m_c) / pi_c,
// where pi is the logged propensity of the served arm and m_k, m_c are the
// arms' running means from earlier units only (predictable), so each phi has
// conditional mean mu_k - mu_c whatever the allocation (Waudby-Smith, Wu,
// Ramdas, Karampatziakis & Mineiro, "Anytime-valid off-policy inference for
// contextual bandits", 2023). Their running mean is wrapped in the
// Gaussian-mixture asymptotic confidence sequence (Waudby-Smith, Arbour,
// Sinha, Kennedy & Ramdas, "Time-uniform central limit theory and asymptotic
// confidence sequences", Annals of Statistics 2024):
//   mean(phi) +- sqrt(2 (t s^2 rho^2 + 1) / (t^2 rho^2) * log(sqrt(t s^2 rho^2 + 1) / alpha)),
// with s^2 the running variance of phi and rho^2 tuned to be tightest at
// t = tune_n: rho^2 = (-2 log alpha + log(-2 log alpha + 1)) / tune_n.
// Its coverage holds uniformly over time asymptotically (approximately for
// finite samples; the simulation in docs/statistics.md measures it).
class IpwConfidenceSequence {
 public:
  IpwConfidenceSequence(double alpha, double tune_n);

  // One rewarded unit. served: kControl, kTreatment, or kOther (another arm).
  enum class Served { kControl, kTreatment, kOther };
  // REQUIRES: 0 < propensity <= 1; m_control, m_treatment computed before this unit.
  void Add(Served served, double reward, double propensity, double m_control, double m_treatment);

  double count() const { return t_; }
  double mean() const { return t_ > 0 ? sum_ / t_ : 0.0; }
  double variance() const;
  // The current interval (not intersected); infinite before two units.
  Interval Current() const;
  // The anytime-valid p-value for H0: difference = 0 at this look: the
  // alpha at which the boundary just touches 0 (the same mixture bound), capped at 1.
  double PValue() const;

  // State for snapshots: t, sum, sum of squares.
  double sum() const { return sum_; }
  double sum_sq() const { return sum_sq_; }
  void SetState(double t, double sum, double sum_sq) {
    t_ = t;
    sum_ = sum;
    sum_sq_ = sum_sq;
  }

 private:
  double alpha_;
  double rho2_;
  double t_ = 0, sum_ = 0, sum_sq_ = 0;
};

}  // namespace banditd::stats
