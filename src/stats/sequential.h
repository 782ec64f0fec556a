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

// The Gaussian-mixture asymptotic confidence sequence (Waudby-Smith, Arbour,
// Sinha, Kennedy & Ramdas, "Time-uniform central limit theory and asymptotic
// confidence sequences", Annals of Statistics 2024) for the mean of t
// observations with running mean `mean` and variance `variance`:
//   mean +- sqrt(2 (t s^2 rho^2 + 1) / (t^2 rho^2) * log(sqrt(t s^2 rho^2 + 1) / alpha)),
// rho^2 tuned to be tightest at t = tune_n:
//   rho^2 = (-2 log alpha + log(-2 log alpha + 1)) / tune_n.
// Its coverage holds uniformly over time only asymptotically, for
// observations whose variance settles and whose tails are light. IPW
// pseudo-outcomes of a bandit without a propensity floor are neither (see
// docs/statistics.md), which is why bandit_cs uses the betting confidence
// sequence of betting.h instead; these remain library routines.
double AsymptoticCsRadius(double t, double variance, double alpha, double tune_n);
// The alpha at which that boundary just touches 0, capped at 1.
double AsymptoticCsPValue(double t, double mean, double variance, double alpha, double tune_n);

}  // namespace banditd::stats
