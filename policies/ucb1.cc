// UCB1 (Auer, Cesa-Bianchi & Fischer 2002, Figure 1): after one reward from
// every arm, choose the arm maximising mean + sqrt(2 ln t / n), t = rewards
// seen in all. No parameters. Rewards in [0, 1] (the bound assumes it).
// Allocation: the indicator of the arm Choose picks (ties: lowest index).
#include "policies/index_math.h"
#include "policies/index_policy.h"

namespace banditd::policies {
namespace {

class Ucb1 final : public IndexPolicy {
 public:
  using IndexPolicy::IndexPolicy;
  std::string_view name() const override { return "ucb1"; }
  double Index(double n, double sum, double t) const override { return Ucb1Index(n, sum, t); }
};

}  // namespace

Result<PolicyPtr> MakeUcb1(const PolicySpec& spec) {
  Status known = spec.params.CheckKnown({});
  if (!known.ok()) return known.WithContext("policy 'ucb1'");
  return PolicyPtr(std::make_unique<Ucb1>(spec.num_arms));
}

}  // namespace banditd::policies
