// Posterior comparisons of Beta-distributed arm means: the allocation of
// Beta-Bernoulli Thompson sampling is the probability that each arm is best.
#pragma once

#include <cstddef>
#include <span>

#include "banditd/rng.h"

namespace banditd::policies {

// P(X2 > X1) for independent X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2).
// REQUIRES: all parameters > 0 and finite.
//
// Exact closed form (Evan Miller, "Formulas for Bayesian A/B testing", 2015)
//   P = sum_{i=0}^{a2-1} B(a1+i, b1+b2) / ((b2+i) B(1+i, b2) B(a1, b1))
// summed over whichever of the four parameters is an integer and cheapest
// (the other three forms follow from symmetry). Its terms are a unimodal pmf,
// so past kMaxFullSumTerms terms the sum starts from its last term and stops
// once the terms left are provably below 1e-17 of it: a window of a few
// standard deviations, ~sqrt(count) terms instead of count (at 1e5 successes
// per arm ~20x cheaper; docs/statistics.md, "Accuracy of P(best)"). When no
// form costs at most kMaxClosedFormTerms steps — non-integer parameters —
// tanh-sinh quadrature of f1(x) * (1 - I_x(a2, b2)) over the central
// 1 - 2e-15 of X1's mass, with relative tolerance 1e-10.
double ProbBetaGreater(double a1, double b1, double a2, double b2);

inline constexpr double kMaxClosedFormTerms = 2'000'000;
// Measured crossover (tests/bench/policies_bench.cc, prob_beta_greater_path):
// the full sum is cheaper up to about this many terms.
inline constexpr double kMaxFullSumTerms = 400;

namespace internal {
// The paths ProbBetaGreater chooses between, for tests and benchmarks.
enum class SumMethod {
  kFull,      // every term of the cheapest form
  kWindowed,  // from the last term down, stopped at the 1e-17 bound
  kAuto,      // kFull for forms of at most kMaxFullSumTerms terms, else kWindowed
};
// Miller's sum by `method`; NaN when no parameter is an integer whose form
// costs at most kMaxClosedFormTerms steps.
double ProbBetaGreaterSum(double a1, double b1, double a2, double b2, SumMethod method);
double ProbBetaGreaterQuadrature(double a1, double b1, double a2, double b2);
}  // namespace internal

// Monte Carlo estimate of P(arm k is best) for K independent Beta arms:
// `draws` joint samples, the share of draws each arm wins (ties to the lower
// index). Each component's standard error is at most 0.5 / sqrt(draws).
// REQUIRES: alpha.size() == beta.size() == out.size() >= 1, draws >= 1.
void MonteCarloProbBest(std::span<const double> alpha, std::span<const double> beta, size_t draws,
                        Rng& rng, std::span<double> out);

// Thompson's choice among Beta posteriors: one draw per arm, the largest
// wins (ties to the lower index). REQUIRES: alpha.size() == beta.size() >= 1.
size_t ChooseBeta(std::span<const double> alpha, std::span<const double> beta, Rng& rng);

// P(arm k is best) for Beta posteriors: 1 for a single arm, the closed form
// for two, MonteCarloProbBest with `draws` draws for more.
void BetaProbBest(std::span<const double> alpha, std::span<const double> beta, size_t draws,
                  Rng& rng, std::span<double> out);

}  // namespace banditd::policies
