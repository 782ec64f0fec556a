// The Normal-Gamma conjugate model of real-valued rewards with unknown mean
// and variance (Murphy, "Conjugate Bayesian analysis of the Gaussian
// distribution", 2007, §3): precision τ ~ Gamma(α, rate β), mean
// μ | τ ~ Normal(μ0, 1 / (κ τ)).
#pragma once

#include <cmath>

#include "banditd/rng.h"

namespace banditd::policies {

struct NormalGamma {
  double mu;     // location of the mean
  double kappa;  // pseudo-observations behind mu, > 0
  double alpha;  // shape of the precision, > 0
  double beta;   // rate of the precision, > 0

  // One joint draw of the mean: τ ~ Gamma(α, 1/β), then μ ~ Normal(mu, 1/sqrt(κτ)).
  double SampleMean(Rng& rng) const {
    const double tau = rng.Gamma(alpha, 1.0 / beta);
    return mu + rng.Normal() / std::sqrt(kappa * tau);
  }
};

// The posterior after n observations with sample mean `mean` and sum of
// squared deviations `m2` (Murphy 2007, eqs. 85-89):
//   κn = κ0 + n,  μn = (κ0 μ0 + n x̄) / κn,  αn = α0 + n/2,
//   βn = β0 + m2/2 + κ0 n (x̄ − μ0)² / (2 κn).
inline NormalGamma Posterior(const NormalGamma& prior, double n, double mean, double m2) {
  const double kappa = prior.kappa + n;
  const double d = mean - prior.mu;
  return NormalGamma{(prior.kappa * prior.mu + n * mean) / kappa, kappa, prior.alpha + 0.5 * n,
                     prior.beta + 0.5 * m2 + prior.kappa * n * d * d / (2.0 * kappa)};
}

}  // namespace banditd::policies
