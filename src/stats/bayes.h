// Bayesian comparison of arms: the posterior probability that each arm is
// best, and the expected loss of choosing each arm (Stucchio, "Bayesian A/B
// testing at VWO", 2015): E[max_j mu_j - mu_k], the expected shortfall if arm
// k is chosen and it is not in fact the best.
//
// Bernoulli arms have Beta posteriors; real-valued arms have the normal
// approximation N(mean, variance / n) (flat prior).
#pragma once

#include <cstddef>
#include <span>

#include "banditd/rng.h"

namespace banditd::stats {

struct BetaPosterior {
  double alpha = 1;
  double beta = 1;
};

struct NormalPosterior {
  double mean = 0;
  double sd = 1;  // posterior sd of the arm mean
};

// Two arms: P(mu_t > mu_c). Closed form (Evan Miller's sum, or quadrature for
// non-integer / huge parameters) through policies::ProbBetaGreater.
double ProbBetterBeta(BetaPosterior control, BetaPosterior treatment);

// Two arms, Stucchio's closed form for Beta posteriors:
//   E[max(mu_c - mu_t, 0)] = E[mu_c] P(B(a_c+1, b_c) > B(a_t, b_t)) - E[mu_t] P(B(a_c, b_c) >
//   B(a_t+1, b_t)).
// Returns the expected loss of choosing the treatment (swap the arms for the control's).
double ExpectedLossBeta(BetaPosterior control, BetaPosterior treatment);

// Two normal arms: P(mu_t > mu_c) = Phi((m_t - m_c) / sqrt(s_t^2 + s_c^2)).
double ProbBetterNormal(NormalPosterior control, NormalPosterior treatment);

// Two normal arms: E[max(D, 0)] with D = mu_c - mu_t ~ N(m, s^2),
//   = m Phi(m/s) + s phi(m/s): the expected loss of choosing the treatment.
double ExpectedLossNormal(NormalPosterior control, NormalPosterior treatment);

// K arms by Monte Carlo with `draws` joint draws from `rng`: p_best[k] is
// the share of draws arm k wins (ties to the lower index; standard error
// <= 0.5/sqrt(draws)), loss[k] the mean of max_j x_j - x_k.
// REQUIRES: all spans the same size >= 1, draws >= 1.
void MonteCarloBeta(std::span<const BetaPosterior> arms, size_t draws, Rng& rng,
                    std::span<double> p_best, std::span<double> loss);
void MonteCarloNormal(std::span<const NormalPosterior> arms, size_t draws, Rng& rng,
                      std::span<double> p_best, std::span<double> loss);

}  // namespace banditd::stats
