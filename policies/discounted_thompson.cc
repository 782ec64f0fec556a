// Discounted Thompson sampling for drifting Bernoulli rewards (Raj & Kalyani
// 2017, "Taming non-stationary bandits: a Bayesian approach", Algorithm 2):
// at every reward, every arm's success and failure counts are multiplied by
// γ, then the rewarded arm's counts get r and 1 − r. An arm's mean has the
// posterior Beta(prior_alpha + S, prior_beta + F); a choice draws one value
// per arm and takes the largest (ties: lowest index). Old evidence fades with
// weight γ^age, so the effective memory is about 1/(1 − γ) rewards.
//
// Parameters:
//   gamma       discount in (0, 1], default 0.999 (γ = 1 is plain Thompson)
//   prior_alpha, prior_beta  > 0, default 1
//   allocation_draws  Monte Carlo draws for more than two arms, default 20,000
// Allocation: P(arm is best) under the discounted posteriors: exact for two
// arms (ProbBetaGreater), Monte Carlo otherwise with standard error at most
// 0.5/sqrt(draws) per arm. Rewards in [0, 1]. Estimates report the effective
// (discounted) count and sum and the posterior mean.
#include <string>
#include <vector>

#include "policies/arm_stats.h"
#include "policies/beta_math.h"
#include "policies/builtin.h"

namespace banditd::policies {
namespace {

constexpr int kVersion = 1;

struct DiscountedConfig {
  double gamma;
  double prior_alpha;
  double prior_beta;
  size_t draws;
};

Result<DiscountedConfig> Parse(const PolicySpec& spec) {
  const Params& p = spec.params;
  BANDITD_RETURN_IF_ERROR(p.CheckKnown({"gamma", "prior_alpha", "prior_beta", "allocation_draws"}));
  BANDITD_ASSIGN_OR_RETURN(auto gamma, GetInRange(p, "gamma", 0.999, 0.0, 1.0, /*open_lo=*/true));
  BANDITD_ASSIGN_OR_RETURN(auto a, GetInRange(p, "prior_alpha", 1.0, 0.0, kInf, /*open_lo=*/true));
  BANDITD_ASSIGN_OR_RETURN(auto b, GetInRange(p, "prior_beta", 1.0, 0.0, kInf, /*open_lo=*/true));
  BANDITD_ASSIGN_OR_RETURN(auto draws, GetAllocationDraws(p));
  return DiscountedConfig{gamma, a, b, draws};
}

class DiscountedThompson final : public Policy {
 public:
  DiscountedThompson(const DiscountedConfig& c, size_t arms)
      : cfg_(c),
        s_(arms, 0.0),
        f_(arms, 0.0),
        alpha_(arms, c.prior_alpha),
        beta_(arms, c.prior_beta) {}

  std::string_view name() const override { return "discounted_thompson"; }
  size_t num_arms() const override { return s_.size(); }

  size_t Choose(Rng& rng, std::span<const double>) const override {
    return ChooseBeta(alpha_, beta_, rng);
  }

  void Update(size_t arm, double reward, std::span<const double>) override {
    for (size_t i = 0; i < num_arms(); ++i) {
      // Counts below 1e-200 are flushed to 0 before they decay into
      // subnormals, whose arithmetic is slow on common CPUs.
      s_[i] = s_[i] * cfg_.gamma < 1e-200 ? 0.0 : s_[i] * cfg_.gamma;
      f_[i] = f_[i] * cfg_.gamma < 1e-200 ? 0.0 : f_[i] * cfg_.gamma;
    }
    s_[arm] += reward;
    f_[arm] += 1.0 - reward;
    Derive();
  }

  void Allocation(Rng& rng, std::span<const double>, std::span<double> out) const override {
    BetaProbBest(alpha_, beta_, cfg_.draws, rng, out);
  }

  void Estimates(std::span<ArmEstimate> out) const override {
    for (size_t i = 0; i < num_arms(); ++i) {
      out[i] = ArmEstimate{s_[i] + f_[i], s_[i], alpha_[i] / (alpha_[i] + beta_[i])};
    }
  }

  std::string Snapshot() const override {
    SnapshotState s;
    s.arrays["s"] = s_;
    s.arrays["f"] = f_;
    return EncodeSnapshot(name(), kVersion, num_arms(), s);
  }

  Status Restore(std::string_view bytes) override {
    BANDITD_ASSIGN_OR_RETURN(auto s, DecodeSnapshot(bytes, name(), kVersion, num_arms()));
    BANDITD_ASSIGN_OR_RETURN(auto succ, TakeArray(s, "s", num_arms()));
    BANDITD_ASSIGN_OR_RETURN(auto fail, TakeArray(s, "f", num_arms()));
    for (size_t i = 0; i < num_arms(); ++i) {
      if ((succ)[i] < 0.0 || (fail)[i] < 0.0) {
        return Status(Code::kCorruption, "snapshot: negative discounted count");
      }
    }
    s_ = std::move(succ);
    f_ = std::move(fail);
    Derive();
    return Status::Ok();
  }

 private:
  void Derive() {
    for (size_t i = 0; i < num_arms(); ++i) {
      alpha_[i] = cfg_.prior_alpha + s_[i];
      beta_[i] = cfg_.prior_beta + f_[i];
    }
  }

  DiscountedConfig cfg_;
  std::vector<double> s_;  // discounted successes
  std::vector<double> f_;  // discounted failures
  std::vector<double> alpha_;
  std::vector<double> beta_;
};

}  // namespace

Result<PolicyPtr> MakeDiscountedThompson(const PolicySpec& spec) {
  auto c = Parse(spec);
  if (!c.ok()) return c.status().WithContext("policy 'discounted_thompson'");
  return PolicyPtr(std::make_unique<DiscountedThompson>(*c, spec.num_arms));
}

}  // namespace banditd::policies
