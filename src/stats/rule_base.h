// What every stopping rule shares: per-arm sufficient statistics, the
// guards (min_samples, min_successes, min_duration) and max_samples, the
// latched decision and the snapshot envelope.
//
// Units are not folded into the sums one by one: Observe and ObserveRepeated
// add to a pending group keyed by (arm, reward, propensity), and each look
// (Check) folds the groups in the order they first appeared. So `count`
// Observe calls and one ObserveRepeated call leave the same groups and the
// rules see bit-for-bit the same sums, and every plug-in value or stake a
// rule derives from the sums changes only at a look.
// Internal to banditd_stats; the rules themselves live in rules_*.cc.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "banditd/stopping.h"
#include "policies/snapshot.h"
#include "src/stats/hypothesis.h"

namespace banditd::stats {

struct ArmSums {
  double n = 0;
  double sum = 0;
  double sum_sq = 0;
  double sum_cube = 0;  // for the running skewness (sequential's guard)
};

// Parameters every rule reads. min/max_samples count units per arm for the
// A/B rules and units in total for bandit_cs (see docs/statistics.md).
struct CommonParams {
  double alpha = 0.05;
  double min_samples = 100;
  double max_samples = 0;    // 0: no maximum
  double min_successes = 0;  // per arm, Bernoulli metric only (rewards > 0 count)
  double min_duration = 0;   // seconds (SetElapsed's clock); 0: none
};

// The default of min_successes for the rules that lean on a normal
// approximation (fixed_horizon, naive_peeking, sequential): see
// docs/statistics.md, "Guards".
inline constexpr double kNormalRuleMinSuccesses = 10;

// Reads alpha, min_samples, max_samples, min_successes (default
// `default_min_successes`), min_duration (and rejects unknown keys: `known`
// lists the rule's own keys on top of those).
Result<CommonParams> ParseCommon(const StoppingSpec& spec,
                                 std::initializer_list<std::string_view> known,
                                 double default_min_successes = 0);

class RuleBase : public StoppingRule {
 public:
  RuleBase(const StoppingSpec& spec, CommonParams common);

  void Observe(size_t arm, double reward, double propensity) final;
  void ObserveRepeated(size_t arm, double reward, uint64_t count, double propensity) final;
  void SetElapsed(double seconds) final { elapsed_ = seconds; }
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
  // The reward the rule keeps for a unit (a rule may clip or cap it); called
  // once per Observe/ObserveRepeated call, before grouping.
  virtual double AdmitReward(double reward, double /*count*/) { return reward; }
  // Called at a look for each pending group, before the arm's sums include
  // it (bandit_cs and bernoulli_cs need the units themselves).
  virtual void OnFold(size_t /*arm*/, double /*reward*/, double /*count*/,
                      double /*propensity*/) {}
  // Called at the end of every look (after the decision): the place to fix
  // the next units' stakes from the data seen so far.
  virtual void AfterLook() {}
  // Extra state for snapshots, written/read under the rule's own keys.
  virtual void SaveExtra(policies::SnapshotState& /*state*/) const {}
  virtual Status LoadExtra(const policies::SnapshotState& /*state*/) { return Status::Ok(); }

 private:
  struct Group {
    size_t arm;
    double reward;
    double propensity;
    double count;
  };
  void Fold();
  // Why a guard still holds the decision back ("" when none does).
  std::string Waiting(double count) const;

  StoppingSpec spec_;
  CommonParams common_;
  std::vector<ArmSums> arms_;
  std::vector<Group> pending_;
  std::unordered_map<std::string, size_t> pending_index_;  // key: the group's bytes
  double elapsed_ = 0;
  std::optional<StopDecision> final_;
};

// Picks the decision from per-challenger outcomes: a challenger that beats
// the control significantly wins (the best such by estimated mean); if every
// challenger is significantly worse, the control wins; otherwise no winner.
// better[k] / worse[k] are ignored for the control.
std::optional<size_t> PickWinner(size_t control, const std::vector<bool>& better,
                                 const std::vector<bool>& worse, const std::vector<double>& means);

std::string FormatP(double p);

// Like policies::TakeArray, but infinite values (an interval not yet bounded)
// are allowed; NaN is not.
Result<std::vector<double>> TakeBounds(const policies::SnapshotState& state, const std::string& key,
                                       size_t len);

}  // namespace banditd::stats
