// The target policy of off-policy evaluation (`bandit-sim ope --policy
// POLICY.yaml`, docs/contextual.md#off-policy-evaluation): a frozen rule that
// gives, for each logged context, the probability of every arm. Learning
// policies are evaluated frozen: as restored from a snapshot, or fitted on
// the first part of the log and then held fixed.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/policy.h"
#include "banditd/rng.h"
#include "banditd/status.h"

namespace banditd::sim::ope {

class TargetPolicy {
 public:
  enum class Kind { kStatic, kRule, kLinear, kRegistry };

  TargetPolicy() = default;
  TargetPolicy(TargetPolicy&&) = default;
  TargetPolicy& operator=(TargetPolicy&&) = default;

  Kind kind() const { return kind_; }
  // Arm names in the policy's order; logged arms are matched by name.
  const std::vector<std::string>& arms() const { return arms_; }
  // Length of the context the policy reads (0: it ignores the context).
  size_t context_dim() const { return context_dim_; }
  // Registry policies with `fit_fraction`: the share of the log (oldest
  // first) they learn from before being frozen; that part is not evaluated.
  double fit_fraction() const { return fit_fraction_; }
  // One line saying what is evaluated, for the report.
  const std::string& description() const { return description_; }

  // Whether Learn accepts `reward` (the registry policy's reward range).
  bool Accepts(double reward) const { return !policy_ || policy_->reward_range().Contains(reward); }
  // Feeds one logged reward to a registry policy (fit_fraction > 0).
  // REQUIRES: Accepts(reward).
  void Learn(size_t arm, double reward, std::span<const double> context);

  // Writes pi(a | x) for every arm into `out` (sums to 1).
  // REQUIRES: out.size() == arms().size(); x.size() == context_dim() when > 0.
  void Probabilities(std::span<const double> x, std::span<double> out);

 private:
  friend class TargetPolicyParser;

  Kind kind_ = Kind::kStatic;
  std::vector<std::string> arms_;
  size_t context_dim_ = 0;
  double epsilon_ = 0.0;  // mixes in the uniform policy: (1 - eps) pi + eps / K
  std::string description_;
  std::vector<double> weights_;  // static
  size_t feature_ = 0;           // rule: x[feature] > threshold -> above
  double threshold_ = 0.0;
  size_t above_ = 0, below_ = 0;
  std::vector<std::vector<double>> theta_;  // linear: per arm
  double temperature_ = 0.0;                // linear: 0 = argmax, else softmax
  std::unique_ptr<Policy> policy_;          // registry
  Rng rng_{0x0F5EED};                       // registry allocations estimated by Monte Carlo
  double fit_fraction_ = 0.0;
};

// Parses POLICY.yaml. `source` names the document in errors ("file:line: ...").
Result<TargetPolicy> ParseTargetPolicy(std::string_view yaml, std::string_view source);
Result<TargetPolicy> LoadTargetPolicyFile(const std::string& path);

}  // namespace banditd::sim::ope
