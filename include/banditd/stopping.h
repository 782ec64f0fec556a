// The StoppingRule interface: when has an experiment enough evidence to stop,
// and which arm won? Shared by the daemon and bandit-sim, so a simulated error
// rate is a statement about the shipped rule. Implementations live in
// src/stats/, built by name through MakeStoppingRule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/params.h"
#include "banditd/status.h"

namespace banditd {

enum class Metric { kBernoulli, kGaussian };

struct StoppingSpec {
  std::string name;  // "fixed_horizon", "naive_peeking", "sequential", "bayes", "bandit_cs",
                     // "bernoulli_cs"
  size_t num_arms = 2;  // >= 2
  size_t control = 0;   // the champion: the arm every other is compared with
  Metric metric = Metric::kBernoulli;
  Params params;  // alpha, min_samples, max_samples, ... (per rule, validated)
};

struct StopDecision {
  bool stop = false;             // true once the rule has decided
  std::optional<size_t> winner;  // the arm to promote; empty: no difference shown
  double p_value = 1.0;          // the rule's p-value (or 1 - posterior prob.) at this look
  std::string reason;            // why it stopped, or why not yet, for a human
  // The comparison p_value refers to: a challenger (the one closest to a
  // decision, or the winner), its estimated mean difference from the control,
  // and the rule's interval for that difference at level 1 - alpha/(K-1)
  // (always-valid for sequential and bandit_cs; unbounded for bayes, and
  // before the rule has looked at data). bernoulli_cs tests the rate ratio:
  // its difference and interval are the relative lift (ratio - 1).
  std::optional<size_t> compared_arm;
  double difference = 0;
  double ci_lo = -std::numeric_limits<double>::infinity();
  double ci_hi = std::numeric_limits<double>::infinity();
};

class StoppingRule {
 public:
  virtual ~StoppingRule() = default;

  virtual std::string_view name() const = 0;

  // Feeds one rewarded decision: the arm that served, its reward, and the
  // probability with which that arm was chosen (the logged propensity).
  // REQUIRES: arm < num_arms, reward finite, 0 < propensity <= 1.
  virtual void Observe(size_t arm, double reward, double propensity) = 0;

  // Feeds `count` rewarded decisions of `arm` that all paid `reward` and were
  // all drawn with `propensity` (the simulator's fast path: a Bernoulli arm's
  // units between two looks are two calls). Equivalent to `count` Observe
  // calls for every shipped rule, because their stakes and plug-in values
  // change only at a look, not between units.
  virtual void ObserveRepeated(size_t arm, double reward, uint64_t count, double propensity) {
    for (uint64_t i = 0; i < count; ++i) Observe(arm, reward, propensity);
  }

  // Whether the rule can take this reward (finite, in the metric's domain):
  // kInvalidValue with the reason when it cannot. bernoulli_cs counts
  // successes and takes only 0 or 1; the other rules take any finite value.
  virtual Status CheckReward(double /*reward*/) const { return Status::Ok(); }

  // Seconds since the experiment started, by the caller's clock (the daemon's
  // wall clock, the simulator's simulated time); set before each Check.
  // Rules with a minimum duration decide nothing before it has passed.
  virtual void SetElapsed(double /*seconds*/) {}

  // One look at the data. Once a look has returned stop == true, every later
  // look returns the same decision.
  virtual StopDecision Check() = 0;

  // Learned state as bytes, and back (same contract as Policy::Snapshot).
  virtual std::string Snapshot() const = 0;
  virtual Status Restore(std::string_view bytes) = 0;
};

// The one way to assemble a spec: the rule and params as configured (a
// config file's `stopping:` map, bandit-sim's flags or scenario), num_arms
// and control from the experiment's arms and champion, its metric. The
// daemon's check at load, the running experiment and `bandit-sim analyze
// --rule` build the same rule through it.
StoppingSpec MakeStoppingSpec(std::string rule, Params params, size_t num_arms, size_t control,
                              Metric metric);

// Builds the rule `spec` names; bad parameters come back as kInvalidArgument.
Result<std::unique_ptr<StoppingRule>> MakeStoppingRule(const StoppingSpec& spec);

// The names MakeStoppingRule accepts.
std::span<const std::string_view> StoppingRuleNames();

// How an experiment allocates its traffic, for CheckStoppingRuleFits.
struct StoppingAllocation {
  bool adaptive = false;        // a bandit policy moves the shares as it learns
  std::vector<double> weights;  // a static split's shares, when known
};

// Whether the rule `spec` names keeps its false-decision rate at alpha for
// this allocation when it decides in the daemon (docs/statistics.md, "Which
// rule where"). Refuses with kInvalidArgument and a message naming the valid
// alternative: the comparison rules (naive_peeking, bayes) anywhere; the
// fixed-n and mSPRT rules (fixed_horizon, sequential) under an adaptive
// allocation; sequential at a static split more skewed than it was
// validated for (a share below 1%). The simulator runs every rule.
Status CheckStoppingRuleFits(const StoppingSpec& spec, const StoppingAllocation& allocation);

}  // namespace banditd
