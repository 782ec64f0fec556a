// Bernoulli KL-UCB (Garivier & Cappé 2011): after one reward from every arm,
// choose the arm maximising
//   max { q in [p̂, 1] : n · kl(p̂, q) <= ln t + c · ln ln t },
// p̂ = the arm's mean, n its count, t = rewards seen in all, kl the Bernoulli
// divergence; solved to 1e-10 (KlUcbBound). Parameter c >= 0, default 0 (the
// paper's analysis takes c = 3, its experiments c = 0). Rewards in [0, 1].
// Allocation: the indicator of the arm Choose picks (ties: lowest index).
#include "policies/index_math.h"
#include "policies/index_policy.h"

namespace banditd::policies {
namespace {

class KlUcb final : public IndexPolicy {
 public:
  KlUcb(size_t arms, double c) : IndexPolicy(arms), c_(c) {}
  std::string_view name() const override { return "kl_ucb"; }
  double Index(double n, double sum, double t) const override {
    const double p = std::clamp(sum / n, 0.0, 1.0);
    return KlUcbBound(p, n, KlUcbBudget(t, c_));
  }

 private:
  double c_;
};

Result<double> Parse(const PolicySpec& spec) {
  BANDITD_RETURN_IF_ERROR(spec.params.CheckKnown({"c"}));
  return GetInRange(spec.params, "c", 0.0, 0.0, 1e6);
}

}  // namespace

Result<PolicyPtr> MakeKlUcb(const PolicySpec& spec) {
  auto c = Parse(spec);
  if (!c.ok()) return c.status().WithContext("policy 'kl_ucb'");
  return PolicyPtr(std::make_unique<KlUcb>(spec.num_arms, *c));
}

}  // namespace banditd::policies
