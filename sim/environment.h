// Environment: the simulated truth of one replication — the arms' current
// means and this step's rewards, with drift, arm replacement and, when the
// scenario models time, the weekly cycle and novelty effects.
//
// Common random numbers: every draw here comes from the replication's own
// stream and the number of draws per step never depends on what a policy
// chose, so every policy meets the same rewards, drifts, replacements and
// delays. In a contextual scenario each step first draws the context x and
// sets every arm's mean to sigmoid(theta_a · x), so best_mean()/best_arm()
// are the per-context best. Within a step all Bernoulli arms share one uniform u (arm a pays
// 1 when u < mean[a]); a policy sees one arm per step, so this coupling does
// not change any policy's behaviour, only makes comparisons sharper. Lognormal
// arms share u (a non-zero reward when u < p[a]) and one normal z (the value
// exp(mu[a] + sigma[a] z)) the same way.
//
// Time (scenario.traffic): step t happens at SecondsAtStep(t); an arm's rate
// is its base rate (or its novelty curve) times its weekday / weekend
// multiplier. Time draws nothing, so it keeps the coupling above.
//
// The batched engine (engine.cc) uses SetTime and the Draw* calls instead of
// BeginStep / Reward: it draws per-arm counts, which cannot be coupled across
// contenders that route differently.
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

  // Starts step t (1-based; call with t = 1, 2, ...): applies drift,
  // replacement and time, then draws the step's reward noise and feedback
  // delay. Returns the arm that retired at this step, if one did.
  std::optional<size_t> BeginStep(uint64_t t);

  // The reward `arm` pays at the current step.
  double Reward(size_t arm) const {
    switch (kind_) {
      case RewardKind::kBernoulli:
        return u_ < means_[arm] ? 1.0 : 0.0;
      case RewardKind::kGaussian:
        return means_[arm] + sds_[arm] * z_;
      case RewardKind::kLognormal:
        return u_ < rates_[arm] ? std::exp(mus_[arm] + sigmas_[arm] * z_) : 0.0;
    }
    return 0.0;
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

  // Simulated seconds of the current step (0 unless the scenario is timed).
  double seconds() const { return seconds_; }
  bool timed() const { return s_.timed(); }

  // The arm whose mean reward is best in the long run: after every novelty
  // effect has decayed, averaged over a week's requests (so a weekend-only
  // advantage counts for the weekend's share of the traffic). Without time
  // it is best_arm() of the initial means. A decision is judged against it
  // in a timed scenario: promoting an arm for a lift that fades is wrong.
  size_t long_run_best_arm() const { return lr_best_arm_; }
  bool long_run_best_unique() const { return lr_best_unique_; }
  double long_run_mean(size_t arm) const { return lr_means_[arm]; }

  // The batched engine: sets the rates to those of step t (drawing nothing).
  // REQUIRES: no drift, replacement or context (the scenario parser refuses
  // them with `engine: batched`).
  void SetTime(uint64_t t);
  // Units among `n` served by `arm` at the current rates that pay a non-zero
  // reward (Bernoulli: a click; lognormal: a purchase). Binomial(n, rate).
  uint64_t DrawSuccesses(size_t arm, uint64_t n);
  // One non-zero reward of `arm`: a lognormal value, or a Gaussian reward.
  double DrawValue(size_t arm);

 private:
  void ApplyTime(uint64_t t);
  void RefreshBest();

  const Scenario& s_;
  Rng rng_;
  RewardKind kind_;
  std::vector<double> means_;
  std::vector<double> sds_;
  std::vector<double> rates_;      // Bernoulli / Gaussian: the mean; lognormal: p
  std::vector<double> base_rates_;  // before time effects
  std::vector<double> mus_, sigmas_, value_means_;
  std::vector<double> weekday_mult_, weekend_mult_;
  std::vector<double> drift_from_;  // mean of the drifting arm at the drift's start
  std::vector<double> context_;
  std::vector<double> lr_means_;
  double u_ = 0.0;
  double z_ = 0.0;
  double seconds_ = 0.0;
  uint64_t delay_ = 0;
  double best_mean_ = 0.0;
  size_t best_arm_ = 0;
  bool best_unique_ = true;
  size_t lr_best_arm_ = 0;
  bool lr_best_unique_ = true;
};

}  // namespace banditd::sim
