// Disjoint LinUCB (Li, Chu, Langford & Schapire 2010, "A contextual-bandit
// approach to personalized news article recommendation", Algorithm 1).
// Each arm a keeps a ridge regression of the reward on the context x:
//   A_a = lambda I + sum x x^T,  b_a = sum r x,  theta_a = A_a^-1 b_a,
// and a choice takes the arm with the largest index
//   theta_a^T x + alpha * sqrt(x^T A_a^-1 x)   (ties: lowest index).
// A_a^-1 is updated by Sherman–Morrison (policies/ridge.h): O(d^2) per
// reward and per arm scored, no inversion on the request path.
//
// Parameters: alpha (>= 0, default 1.0: width of the confidence bonus),
// lambda (> 0, default 1.0: ridge penalty). The spec's context_dim (>= 1) is
// the context length every request carries.
#include <cmath>
#include <string>
#include <vector>

#include "policies/builtin.h"
#include "policies/ridge.h"
#include "policies/snapshot.h"

namespace banditd::policies {
namespace {

class LinUcb final : public RidgePolicy {
 public:
  LinUcb(size_t arms, size_t dim, double alpha, double lambda)
      : RidgePolicy(arms, dim, lambda, false), alpha_(alpha) {}

  std::string_view name() const override { return "linucb"; }

  // The arm's upper confidence index for context x.
  double Index(size_t arm, std::span<const double> x) const {
    return arms_[arm].Predict(x) + alpha_ * std::sqrt(arms_[arm].Variance(x));
  }

  size_t Choose(Rng&, std::span<const double> context) const override {
    size_t best = 0;
    double best_v = Index(0, context);
    for (size_t i = 1; i < arms_.size(); ++i) {
      const double v = Index(i, context);
      if (v > best_v) {
        best_v = v;
        best = i;
      }
    }
    return best;
  }

  // Choose is deterministic given the context: the indicator of its arm.
  void Allocation(Rng& rng, std::span<const double> context, std::span<double> out) const override {
    std::fill(out.begin(), out.end(), 0.0);
    out[Choose(rng, context)] = 1.0;
  }

 private:
  double alpha_;
};

}  // namespace

Result<PolicyPtr> MakeLinUcb(const PolicySpec& spec) {
  auto made = [&]() -> Result<PolicyPtr> {
    BANDITD_RETURN_IF_ERROR(spec.params.CheckKnown({"alpha", "lambda"}));
    BANDITD_RETURN_IF_ERROR(CheckContextDim(spec));
    BANDITD_ASSIGN_OR_RETURN(auto alpha, spec.params.GetDouble("alpha", 1.0));
    if (!std::isfinite(alpha) || alpha < 0.0) {
      return InvalidArgument("alpha must be finite and >= 0 (got " + std::to_string(alpha) + ")");
    }
    BANDITD_ASSIGN_OR_RETURN(auto lambda, ParseLambda(spec));
    return PolicyPtr(std::make_unique<LinUcb>(spec.num_arms, spec.context_dim, alpha, lambda));
  }();
  if (!made.ok()) return made.status().WithContext("policy 'linucb'");
  return made;
}

}  // namespace banditd::policies
