// Gaussian Thompson sampling with unknown variance: each arm's rewards are
// modelled as Normal(μ, 1/τ) with a Normal-Gamma prior on (μ, τ)
// (policies/normal_gamma.h). A choice draws, per arm, a precision τ from its
// Gamma posterior and then a mean from Normal(μn, 1/(κn τ)), and takes the
// arm with the largest draw (ties: lowest index).
//
// Parameters (the defaults are a weak prior for rewards of order 1; scale
// beta0 with the reward variance you expect):
//   mu0    prior mean, finite, default 0
//   kappa0 pseudo-observations behind mu0, > 0, default 0.01
//   alpha0 shape of the precision prior, > 0, default 1
//   beta0  rate of the precision prior, > 0, default 1
//   allocation_draws  Monte Carlo draws for more than two arms, default 20,000
// Allocation: P(arm is best). A draw's marginal law is Student's t with 2αn
// degrees of freedom, location μn and scale sqrt(βn / (αn κn)). Two arms:
// P(T1 > T0) = ∫ f0(x) P(T1 > x) dx by adaptive Gauss–Kronrod quadrature
// over the narrower law's standardised variable (tolerance 1e-8). A law with
// at least 200 degrees of freedom is replaced by its normal limit (its cdf is
// then within 8e-4 of the t's, so the share moves < 8e-4 per law replaced,
// < 2e-3 in all: below the Monte Carlo error of 20,000 draws); with both
// replaced the share is Φ((μ1 − μ0) / sqrt(s0² + s1²)), with one, it is the
// t's scale mixture of normals integrated over its Gamma mixing variable. More arms: Monte Carlo over `allocation_draws` joint draws;
// each share's standard error is at most 0.5/sqrt(draws) (0.0036 at the
// default). Estimates report the posterior mean μn. Rewards: any finite value.
//
// State per arm: count n, running mean and sum of squared deviations m2
// (Welford's update, numerically stable for large rewards).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include <boost/math/distributions/students_t.hpp>
#include <boost/math/quadrature/exp_sinh.hpp>
#include <boost/math/quadrature/gauss_kronrod.hpp>

#include "policies/arm_stats.h"
#include "policies/builtin.h"
#include "policies/normal_gamma.h"

namespace banditd::policies {
namespace {

constexpr int kVersion = 1;

// Degrees of freedom from which the normal limit replaces the t law: from
// 200 on, sup |F_t - Φ| < 8e-4 at the same scale (so P(best) moves < 2e-3).
constexpr double kNormalDf = 200;

// Double precision throughout (Boost's default computes in long double, 5x
// slower, for precision the allocation does not need).
using NoPromotion = boost::math::policies::policy<boost::math::policies::promote_double<false>>;

// The density of Student's t with df degrees of freedom, its normalising
// constant computed once (Boost's pdf recomputes a beta function at every
// point the quadrature visits).
class TDensity {
 public:
  explicit TDensity(double df)
      : df_(df), exponent_(-(df + 1.0) / 2.0),
        norm_(std::exp(std::lgamma((df + 1.0) / 2.0) - std::lgamma(df / 2.0)) /
              std::sqrt(df * std::numbers::pi)) {}
  double operator()(double z) const { return norm_ * std::pow(1.0 + z * z / df_, exponent_); }

 private:
  double df_, exponent_, norm_;
};

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

// P(T1 > T0) for the marginal laws of two posteriors' mean draws: Ti is
// mu_i + s_i t_i, t_i Student's t with df_i degrees of freedom, taken by its
// normal limit from kNormalDf on (each replacement moves the result by
// < 8e-4: integrate by parts). Every integral runs over a variable of unit
// scale, so neither the posterior means' size (revenue in cents: 1e9) nor
// how far apart the two scales are (a starved arm's 1e12 against 1e-3)
// hides the mass from the quadrature; the difference of the means is taken
// before any scaling.
double ProbMeanGreater(const NormalGamma& one, const NormalGamma& zero) {
  const double df1 = 2.0 * one.alpha, df0 = 2.0 * zero.alpha;
  const double s1 = std::sqrt(one.beta / (one.alpha * one.kappa));
  const double s0 = std::sqrt(zero.beta / (zero.alpha * zero.kappa));
  const double d = one.mu - zero.mu;
  const bool normal1 = df1 >= kNormalDf, normal0 = df0 >= kNormalDf;
  if (normal1 && normal0) return NormalCdf(d / std::hypot(s0, s1));
  double p = 0;
  if (normal0 || normal1) {
    // One t law (an arm with few rewards, e.g. the one Thompson starves),
    // one normal. The t is a scale mixture of normals: given u ~ Gamma(df/2,
    // rate df/2) (mean 1), the t arm's draw is normal with variance s_t^2/u,
    // so T1 - T0 is normal with mean d and variance s_n^2 + s_t^2/u:
    //   P = E_u[ Phi(d / sqrt(s_n^2 + s_t^2 / u)) ],
    // a smooth integrand in [0, 1] against a density of unit scale.
    const double df = normal0 ? df1 : df0;
    const double st = normal0 ? s1 : s0, sn = normal0 ? s0 : s1;
    const double h = df / 2.0;
    const double log_norm = h * std::log(h) - std::lgamma(h);
    auto integrand = [&](double u) {
      if (u <= 0) return 0.0;
      const double density = std::exp(log_norm + (h - 1.0) * std::log(u) - h * u);
      return density * NormalCdf(d / std::sqrt(sn * sn + st * st / u));
    };
    p = boost::math::quadrature::exp_sinh<double>().integrate(integrand, 1e-10);
  } else {
    // Two t laws: over the narrower one's standardised variable z, against
    // the other's cdf (its tail when it is arm 1).
    const boost::math::students_t_distribution<double, NoPromotion> t1(df1), t0(df0);
    const double inf = std::numeric_limits<double>::infinity();
    auto integrate = [&](auto integrand) {
      return boost::math::quadrature::gauss_kronrod<double, 15>::integrate(integrand, -inf, inf,
                                                                           12, 1e-8);
    };
    if (s0 <= s1) {
      const TDensity f0(df0);
      p = integrate([&](double z) {
        return f0(z) * boost::math::cdf(boost::math::complement(t1, (s0 * z - d) / s1));
      });
    } else {
      const TDensity f1(df1);
      p = integrate([&](double z) { return f1(z) * boost::math::cdf(t0, (d + s1 * z) / s0); });
    }
  }
  return std::clamp(p, 0.0, 1.0);
}

struct GaussianConfig {
  NormalGamma prior;
  size_t draws;
};

Result<GaussianConfig> Parse(const PolicySpec& spec) {
  const Params& p = spec.params;
  BANDITD_RETURN_IF_ERROR(p.CheckKnown({"mu0", "kappa0", "alpha0", "beta0", "allocation_draws"}));
  BANDITD_ASSIGN_OR_RETURN(auto mu0, GetInRange(p, "mu0", 0.0, -kInf, kInf));
  BANDITD_ASSIGN_OR_RETURN(auto kappa0, GetInRange(p, "kappa0", 0.01, 0.0, kInf, /*open_lo=*/true));
  BANDITD_ASSIGN_OR_RETURN(auto alpha0, GetInRange(p, "alpha0", 1.0, 0.0, kInf, /*open_lo=*/true));
  BANDITD_ASSIGN_OR_RETURN(auto beta0, GetInRange(p, "beta0", 1.0, 0.0, kInf, /*open_lo=*/true));
  BANDITD_ASSIGN_OR_RETURN(auto draws, GetAllocationDraws(p));
  return GaussianConfig{NormalGamma{mu0, kappa0, alpha0, beta0}, draws};
}

class ThompsonGaussian final : public Policy {
 public:
  ThompsonGaussian(const GaussianConfig& c, size_t arms)
      : prior_(c.prior), draws_(c.draws), n_(arms), mean_(arms), m2_(arms), post_(arms, prior_) {}

  std::string_view name() const override { return "thompson_gaussian"; }
  size_t num_arms() const override { return n_.size(); }

  size_t Choose(Rng& rng, std::span<const double>) const override {
    size_t best = 0;
    double best_v = post_[0].SampleMean(rng);
    for (size_t i = 1; i < post_.size(); ++i) {
      const double v = post_[i].SampleMean(rng);
      if (v > best_v) {
        best_v = v;
        best = i;
      }
    }
    return best;
  }

  void Update(size_t arm, double reward, std::span<const double>) override {
    // Welford: mean and m2 = sum of squared deviations from the mean.
    n_[arm] += 1.0;
    const double delta = reward - mean_[arm];
    mean_[arm] += delta / n_[arm];
    m2_[arm] += delta * (reward - mean_[arm]);
    post_[arm] = Posterior(prior_, n_[arm], mean_[arm], m2_[arm]);
  }

  void Allocation(Rng& rng, std::span<const double> context, std::span<double> out) const override {
    std::fill(out.begin(), out.end(), 0.0);
    if (num_arms() == 1) {
      out[0] = 1.0;
      return;
    }
    if (num_arms() == 2) {
      out[1] = ProbMeanGreater(post_[1], post_[0]);
      out[0] = 1.0 - out[1];
      return;
    }
    for (size_t d = 0; d < draws_; ++d) out[Choose(rng, context)] += 1.0;
    for (double& o : out) o /= static_cast<double>(draws_);
  }

  void Estimates(std::span<ArmEstimate> out) const override {
    for (size_t i = 0; i < num_arms(); ++i) {
      out[i] = ArmEstimate{n_[i], n_[i] * mean_[i], post_[i].mu};
    }
  }

  std::string Snapshot() const override {
    SnapshotState s;
    s.arrays["n"] = n_;
    s.arrays["mean"] = mean_;
    s.arrays["m2"] = m2_;
    return EncodeSnapshot(name(), kVersion, num_arms(), s);
  }

  Status Restore(std::string_view bytes) override {
    BANDITD_ASSIGN_OR_RETURN(auto s, DecodeSnapshot(bytes, name(), kVersion, num_arms()));
    BANDITD_ASSIGN_OR_RETURN(auto n, TakeArray(s, "n", num_arms()));
    BANDITD_ASSIGN_OR_RETURN(auto mean, TakeArray(s, "mean", num_arms()));
    BANDITD_ASSIGN_OR_RETURN(auto m2, TakeArray(s, "m2", num_arms()));
    for (size_t i = 0; i < num_arms(); ++i) {
      if ((n)[i] < 0.0 || (m2)[i] < 0.0) {
        return Status(Code::kCorruption, "snapshot: negative count or sum of squares");
      }
    }
    n_ = std::move(n);
    mean_ = std::move(mean);
    m2_ = std::move(m2);
    for (size_t i = 0; i < num_arms(); ++i) post_[i] = Posterior(prior_, n_[i], mean_[i], m2_[i]);
    return Status::Ok();
  }

 private:
  NormalGamma prior_;
  size_t draws_;
  std::vector<double> n_;
  std::vector<double> mean_;
  std::vector<double> m2_;
  std::vector<NormalGamma> post_;  // derived from the above, kept for Choose
};

}  // namespace

Result<PolicyPtr> MakeThompsonGaussian(const PolicySpec& spec) {
  auto c = Parse(spec);
  if (!c.ok()) return c.status().WithContext("policy 'thompson_gaussian'");
  return PolicyPtr(std::make_unique<ThompsonGaussian>(*c, spec.num_arms));
}

}  // namespace banditd::policies
