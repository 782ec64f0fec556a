// What every stopping rule shares: per-arm sufficient statistics, the
// min/max sample bounds, the latched decision and the snapshot envelope.
// Internal to banditd_stats; the rules themselves live in rules_*.cc.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/stopping.h"
#include "policies/snapshot.h"
#include "src/stats/hypothesis.h"

namespace banditd::stats {

struct ArmSums {
  double n = 0;
  double sum = 0;
  double sum_sq = 0;
};

// Parameters every rule reads. min/max_samples count units per arm for the
// A/B rules and units in total for bandit_cs (see docs/statistics.md).
struct CommonParams {
  double alpha = 0.05;
  double min_samples = 100;
  double max_samples = 0;  // 0: no maximum
};

// Reads alpha, min_samples, max_samples (and rejects unknown keys: `known`
// lists the rule's own keys on top of those).
Result<CommonParams> ParseCommon(const StoppingSpec& spec,
                                 std::initializer_list<std::string_view> known);

class RuleBase : public StoppingRule {
 public:
  RuleBase(const StoppingSpec& spec, CommonParams common);

  void Observe(size_t arm, double reward, double propensity) override;
  StopDecision Check() final;
  std::string Snapshot() const final;
  Status Restore(std::string_view bytes) final;

  // The count the sample bounds apply to: the smallest arm's n by default.
  virtual double SampleCount() const;
  virtual std::string_view CountName() const { return "per arm"; }

  // Treatment-vs-control summaries for the metric.
  Proportion AsProportion(size_t arm) const { return {arms_[arm].sum, arms_[arm].n}; }
  Moments AsMoments(size_t arm) const;
  double Mean(size_t arm) const { return arms_[arm].n > 0 ? arms_[arm].sum / arms_[arm].n : 0.0; }
  // Plug-in variance of one reward from the arm (p(1-p) for Bernoulli).
  double RewardVariance(size_t arm) const;

  const StoppingSpec& spec() const { return spec_; }
  const CommonParams& common() const { return common_; }
  const std::vector<ArmSums>& arms() const { return arms_; }

 protected:
  // The rule's look when the sample bounds allow one; may set stop/winner.
  virtual StopDecision Evaluate() = 0;
  // Called before the arm's sums include the unit (bandit_cs needs this).
  virtual void OnObserve(size_t /*arm*/, double /*reward*/, double /*propensity*/) {}
  // Extra state for snapshots, written/read under the rule's own keys.
  virtual void SaveExtra(policies::SnapshotState& /*state*/) const {}
  virtual Status LoadExtra(const policies::SnapshotState& /*state*/) { return Status::Ok(); }

 private:
  StoppingSpec spec_;
  CommonParams common_;
  std::vector<ArmSums> arms_;
  std::optional<StopDecision> final_;
};

// Picks the decision from per-challenger outcomes: a challenger that beats
// the control significantly wins (the best such by estimated mean); if every
// challenger is significantly worse, the control wins; otherwise no winner.
// better[k] / worse[k] are ignored for the control.
std::optional<size_t> PickWinner(size_t control, const std::vector<bool>& better,
                                 const std::vector<bool>& worse, const std::vector<double>& means);

std::string FormatP(double p);

}  // namespace banditd::stats
