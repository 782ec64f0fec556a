// Bernoulli KL-UCB (Garivier & Cappé 2011): after one reward from every arm,
// choose the arm maximising
//   max { q in [p̂, 1] : n · kl(p̂, q) <= ln t + c · ln ln t },
// p̂ = the arm's mean, n its count, t = rewards seen in all, kl the Bernoulli
// divergence; solved to 1e-10 (KlUcbBound). Parameter c >= 0, default 0 (the
// paper's analysis takes c = 3, its experiments c = 0). With `plus: true` the
// budget is ln(t/n) + c · ln ln(t/n) instead (KL-UCB+: Kaufmann 2018, whose
// asymptotic optimality for c = 0 Honda 2019 proves): an arm pulled often
// explores less, which shortens the finite-time excess over Lai & Robbins.
// Rewards in [0, 1]. Allocation: the indicator of the arm Choose picks (ties:
// lowest index).
#include "policies/index_math.h"
#include "policies/index_policy.h"

namespace banditd::policies {
namespace {

class KlUcb final : public IndexPolicy {
 public:
  KlUcb(size_t arms, double c, bool plus) : IndexPolicy(arms), c_(c), plus_(plus) {}
  std::string_view name() const override { return "kl_ucb"; }
  double Index(double n, double sum, double t) const override {
    const double p = std::clamp(sum / n, 0.0, 1.0);
    return KlUcbBound(p, n, Budget(n, t));
  }
  double IndexUpperBound(double n, double sum, double t) const override {
    const double p = std::clamp(sum / n, 0.0, 1.0);
    return KlUcbUpperBound(p, n, Budget(n, t));
  }

 private:
  double Budget(double n, double t) const { return KlUcbBudget(plus_ ? t / n : t, c_); }

  double c_;
  bool plus_;
};

struct Options {
  double c = 0.0;
  bool plus = false;
};

Result<Options> Parse(const PolicySpec& spec) {
  BANDITD_RETURN_IF_ERROR(spec.params.CheckKnown({"c", "plus"}));
  BANDITD_ASSIGN_OR_RETURN(auto c, GetInRange(spec.params, "c", 0.0, 0.0, kInf));
  BANDITD_ASSIGN_OR_RETURN(auto plus, spec.params.GetBool("plus", false));
  return Options{c, plus};
}

}  // namespace

Result<PolicyPtr> MakeKlUcb(const PolicySpec& spec) {
  auto o = Parse(spec);
  if (!o.ok()) return o.status().WithContext("policy 'kl_ucb'");
  return PolicyPtr(std::make_unique<KlUcb>(spec.num_arms, o->c, o->plus));
}

}  // namespace banditd::policies
