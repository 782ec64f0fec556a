// Static allocation: fixed weights, the A/B-test baseline. Each choice draws
// an arm from the normalised weights, whatever the rewards say; rewards are
// only counted (for estimates and for the A/B test run on top).
//
// Parameter: weights (one per arm, each >= 0 and finite, not all 0;
// normalised to sum to 1). Default: an equal split. Rewards: any finite value.
#include <cmath>
#include <string>
#include <vector>

#include "policies/arm_stats.h"
#include "policies/builtin.h"

namespace banditd::policies {
namespace {

constexpr int kVersion = 1;

Result<std::vector<double>> ParseWeights(const PolicySpec& spec) {
  BANDITD_RETURN_IF_ERROR(spec.params.CheckKnown({"weights"}));
  BANDITD_ASSIGN_OR_RETURN(
      auto w, spec.params.GetDoubles("weights", std::vector<double>(spec.num_arms, 1.0)));
  if (w.size() != spec.num_arms) {
    return InvalidArgument("weights needs one value per arm (" + std::to_string(spec.num_arms) +
                           "), got " + std::to_string(w.size()));
  }
  double total = 0.0;
  for (double x : w) {
    if (!(x >= 0.0) || !std::isfinite(x)) {
      return InvalidArgument("weights must be finite and >= 0 (got " + std::to_string(x) + ")");
    }
    total += x;
  }
  if (!(total > 0.0) || !std::isfinite(total)) {
    return InvalidArgument("weights must not all be 0");
  }
  for (double& x : w) x /= total;
  return w;
}

class Static final : public Policy {
 public:
  explicit Static(std::vector<double> weights)
      : weights_(std::move(weights)), counts_(weights_.size()) {}

  std::string_view name() const override { return "static"; }
  size_t num_arms() const override { return weights_.size(); }

  size_t Choose(Rng& rng, std::span<const double>) const override {
    return SampleDiscrete(rng.Uniform(), weights_);
  }

  void Update(size_t arm, double reward, std::span<const double>) override {
    counts_.Add(arm, reward);
  }

  void Allocation(Rng&, std::span<const double>, std::span<double> out) const override {
    std::copy(weights_.begin(), weights_.end(), out.begin());
  }

  void Estimates(std::span<ArmEstimate> out) const override { counts_.Estimates(out); }

  std::string Snapshot() const override {
    SnapshotState s;
    counts_.Save(s);
    return EncodeSnapshot(name(), kVersion, num_arms(), s);
  }

  Status Restore(std::string_view bytes) override {
    BANDITD_ASSIGN_OR_RETURN(auto s, DecodeSnapshot(bytes, name(), kVersion, num_arms()));
    return ArmCounts::Load(s, counts_);
  }

 private:
  std::vector<double> weights_;  // normalised; the configuration, not state
  ArmCounts counts_;
};

}  // namespace

Result<PolicyPtr> MakeStatic(const PolicySpec& spec) {
  auto w = ParseWeights(spec);
  if (!w.ok()) return w.status().WithContext("policy 'static'");
  return PolicyPtr(std::make_unique<Static>(std::move(*w)));
}

}  // namespace banditd::policies
