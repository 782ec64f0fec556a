// Linear Thompson sampling (Agrawal & Goyal 2013, "Thompson sampling for
// contextual bandits with linear payoffs"), disjoint form: each arm a has a
// ridge regression (policies/ridge.h) with A_a = lambda I + sum x x^T,
// b_a = sum r x, theta_a = A_a^-1 b_a, and the posterior
//   theta~_a ~ N(theta_a, v^2 A_a^-1)
// (the exact posterior for Gaussian noise of s.d. v and a N(0, v^2/lambda I)
// prior). A choice draws theta~_a for every arm and takes the largest
// theta~_a^T x. The choice depends on theta~_a only through the scalar
// theta~_a^T x ~ N(theta_a^T x, v^2 x^T A_a^-1 x), independent across arms,
// so Choose draws that scalar: the same distribution of choices as drawing
// the full vector, with one normal per arm instead of d. x^T A_a^-1 x is
// ||L_a^-1 x||^2 for the Cholesky factor A_a = L_a L_a^T, kept by rank-one
// updates: O(d^2) per arm and per reward, no inversion on the request path.
//
// Parameters: v (> 0, default 0.5: the largest s.d. of a reward in [0, 1];
// larger explores more), lambda (> 0, default 1.0), allocation_draws (Monte
// Carlo draws of the allocation for more than two arms, default 20,000:
// standard error <= 0.5/sqrt(draws) = 0.0036 per arm; two arms are exact:
// P(arm 1) = Phi((m1 - m0) / sqrt(s0^2 + s1^2))).
#include <cmath>
#include <string>
#include <vector>

#include "policies/builtin.h"
#include "policies/ridge.h"
#include "policies/snapshot.h"

namespace banditd::policies {
namespace {

class LinThompson final : public RidgePolicy {
 public:
  LinThompson(size_t arms, size_t dim, double v, double lambda, size_t draws)
      : RidgePolicy(arms, dim, lambda, true), v_(v), draws_(draws) {}

  std::string_view name() const override { return "lin_thompson"; }

  size_t Choose(Rng& rng, std::span<const double> context) const override {
    size_t best = 0;
    double best_v = -INFINITY;
    for (size_t i = 0; i < arms_.size(); ++i) {
      const double v =
          arms_[i].Predict(context) + v_ * std::sqrt(arms_[i].Variance(context)) * rng.Normal();
      if (v > best_v) {
        best_v = v;
        best = i;
      }
    }
    return best;
  }

  void Allocation(Rng& rng, std::span<const double> context, std::span<double> out) const override {
    const size_t k = arms_.size();
    std::vector<double> mean(k), sd(k);
    for (size_t i = 0; i < k; ++i) {
      mean[i] = arms_[i].Predict(context);
      sd[i] = v_ * std::sqrt(arms_[i].Variance(context));
    }
    if (k == 1) {
      out[0] = 1.0;
      return;
    }
    if (k == 2) {
      const double s = std::hypot(sd[0], sd[1]);
      if (s > 0.0) {
        // Phi(z) = erfc(-z / sqrt 2) / 2.
        out[1] = 0.5 * std::erfc(-(mean[1] - mean[0]) / s / std::sqrt(2.0));
      } else {
        out[1] = mean[1] > mean[0] ? 1.0 : 0.0;  // ties go to the lower index, as in Choose
      }
      out[0] = 1.0 - out[1];
      return;
    }
    std::vector<double> hits(k, 0.0);
    for (size_t t = 0; t < draws_; ++t) {
      size_t best = 0;
      double best_v = -INFINITY;
      for (size_t i = 0; i < k; ++i) {
        const double v = mean[i] + sd[i] * rng.Normal();
        if (v > best_v) {
          best_v = v;
          best = i;
        }
      }
      hits[best] += 1.0;
    }
    for (size_t i = 0; i < k; ++i) out[i] = hits[i] / static_cast<double>(draws_);
  }

 private:
  double v_;
  size_t draws_;
};

}  // namespace

Result<PolicyPtr> MakeLinThompson(const PolicySpec& spec) {
  auto made = [&]() -> Result<PolicyPtr> {
    BANDITD_RETURN_IF_ERROR(spec.params.CheckKnown({"v", "lambda", "allocation_draws"}));
    BANDITD_RETURN_IF_ERROR(CheckContextDim(spec));
    BANDITD_ASSIGN_OR_RETURN(auto v, spec.params.GetDouble("v", 0.5));
    if (!std::isfinite(v) || v <= 0.0) {
      return InvalidArgument("v must be finite and > 0 (got " + std::to_string(v) + ")");
    }
    BANDITD_ASSIGN_OR_RETURN(auto lambda, ParseLambda(spec));
    BANDITD_ASSIGN_OR_RETURN(auto draws, spec.params.GetInt("allocation_draws", 20000));
    if (draws < 100 || draws > 10'000'000) {
      return InvalidArgument("allocation_draws must be in [100, 10000000]");
    }
    return PolicyPtr(std::make_unique<LinThompson>(spec.num_arms, spec.context_dim, v, lambda,
                                                   static_cast<size_t>(draws)));
  }();
  if (!made.ok()) return made.status().WithContext("policy 'lin_thompson'");
  return made;
}

}  // namespace banditd::policies
