// Environment: the simulated truth of one replication — the arms' current
// means and this step's rewards, with drift and arm replacement.
//
// Common random numbers: every draw here comes from the replication's own
// stream and the number of draws per step never depends on what a policy
// chose, so every policy meets the same rewards, drifts, replacements and
// delays. In a contextual scenario each step first draws the context x and
// sets every arm's mean to sigmoid(theta_a · x), so best_mean()/best_arm()
// are the per-context best. Within a step all Bernoulli arms share one uniform u (arm a pays
// 1 when u < mean[a]); a policy sees one arm per step, so this coupling does
// not change any policy's behaviour, only makes comparisons sharper.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "banditd/rng.h"
#include "sim/scenario.h"

namespace banditd::sim {

class Environment {
 public:
  // The stream of replication `rep`: Rng::ForStream(scenario.seed, 2 * rep).
  Environment(const Scenario& scenario, uint64_t rep);

  // Starts step t (1-based; call with t = 1, 2, ...): applies drift and
  // replacement, then draws the step's reward noise and feedback delay.
  // Returns the arm that retired at this step, if one did.
  std::optional<size_t> BeginStep(uint64_t t);

  // The reward `arm` pays at the current step.
  double Reward(size_t arm) const {
    return bernoulli_ ? (u_ < means_[arm] ? 1.0 : 0.0) : means_[arm] + sds_[arm] * z_;
  }
  // Steps until the current step's feedback arrives (random delay only; else 0).
  uint64_t delay() const { return delay_; }

  // The current step's context (empty unless the scenario is contextual).
  std::span<const double> context() const { return context_; }

  double mean(size_t arm) const { return means_[arm]; }
  std::span<const double> means() const { return means_; }
  double best_mean() const { return best_mean_; }
  size_t best_arm() const { return best_arm_; }
  // False when two or more arms share the best mean (e.g. A/A).
  bool best_unique() const { return best_unique_; }

 private:
  void RefreshBest();

  const Scenario& s_;
  Rng rng_;
  bool bernoulli_;
  std::vector<double> means_;
  std::vector<double> sds_;
  std::vector<double> drift_from_;
  std::vector<double> context_;  // mean of the drifting arm at the drift's start
  double u_ = 0.0;
  double z_ = 0.0;
  uint64_t delay_ = 0;
  double best_mean_ = 0.0;
  size_t best_arm_ = 0;
  bool best_unique_ = true;
};

}  // namespace banditd::sim
