// Contextual scenarios (docs/contextual.md#simulation): each step draws a
// context x = (1, features...) and arm a pays Bernoulli(sigmoid(theta_a · x)),
// so the best arm depends on the context. The same truth drives the
// off-policy-evaluation validation (sim/ope_validate.h).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "banditd/rng.h"
#include "banditd/status.h"

namespace banditd::sim {

// One feature of the context: Bernoulli(a), Normal(mean a, sd b) or Uniform[a, b).
struct FeatureSpec {
  enum class Kind { kBernoulli, kNormal, kUniform };
  std::string name;
  Kind kind = Kind::kBernoulli;
  double a = 0.0;
  double b = 0.0;
};

struct ContextSpec {
  std::vector<FeatureSpec> features;       // x[1..]; x[0] is the constant 1
  std::vector<std::vector<double>> theta;  // per arm, dim() coefficients

  bool enabled() const { return !theta.empty(); }
  size_t dim() const { return features.size() + 1; }
};

inline double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Writes a fresh context into x (x.size() == spec.dim()). The number of
// uniform draws may vary (normal features use the ziggurat) but never depends
// on anything a policy did.
void DrawContext(const ContextSpec& spec, Rng& rng, std::span<double> x);

// sigmoid(theta_arm · x): the probability that `arm` pays 1 in context x.
double ContextualMean(const ContextSpec& spec, size_t arm, std::span<const double> x);

}  // namespace banditd::sim
