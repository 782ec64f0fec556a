// Scenario: what bandit-sim simulates, as read from a scenario YAML file
// (docs/simulation.md documents every key). Parsing validates everything up
// front and names the offending key and its line, so a long run never dies
// half-way on a typo.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/policy.h"
#include "banditd/status.h"
#include "banditd/stopping.h"
#include "sim/contextual.h"
#include "sim/sim_time.h"

namespace banditd::sim {

// kLognormal: revenue per request, zero-inflated lognormal — 0 with
// probability 1 - p, else exp(N(mu, sigma^2)). The scenario names it
// `zero_inflated_lognormal` (p, mu, sigma) or `bernoulli_lognormal`
// (conversion, value_mean, value_sd: the same law, parameterised as a
// conversion rate times an order value).
enum class RewardKind { kBernoulli, kGaussian, kLognormal };

struct ArmSpec {
  std::string name;
  double mean = 0.0;  // the mean reward (lognormal: p * exp(mu + sigma^2 / 2))
  double sd = 1.0;    // Gaussian rewards only
  double p = 0.0;     // lognormal only: probability of a non-zero reward
  double mu = 0.0;    // lognormal only: log-scale location and scale of the value
  double sigma = 0.0;
  bool lognormal = false;

  // The part of the arm that time scales (weekly cycle, novelty): the
  // Bernoulli / Gaussian mean, or the lognormal arm's p.
  double rate() const { return lognormal ? p : mean; }
  // The mean of a non-zero lognormal reward (1 for the other kinds).
  double value_mean() const { return lognormal ? std::exp(mu + sigma * sigma / 2) : 1.0; }
};

// The rate of `arm` moves with the day of the week: multiplied by `weekday`
// on Monday to Friday and by `weekend` on Saturday and Sunday.
struct WeeklyRateSpec {
  size_t arm = 0;
  double weekday = 1.0;
  double weekend = 1.0;
};

// A novelty (or learning) effect: the rate of `arm` decays exponentially
// from `from` at time 0 to `to`, halving its distance to `to` every
// `half_life` seconds.
struct NoveltySpec {
  size_t arm = 0;
  double from = 0.0;
  double to = 0.0;
  double half_life = 0.0;  // seconds, > 0
};

// per_step: one step at a time (exact common random numbers across
// contenders). batched: between two refreshes of the allocation the counts
// per arm and their successes are drawn at once (docs/simulation.md,
// "Batched engine").
enum class EngineKind { kPerStep, kBatched };

// Initial arm means drawn per replication from Beta(a, b) (a > 0 enables it).
struct RandomArms {
  double a = 0.0;
  double b = 0.0;
};

// The mean of `arm` moves to `mean`: at once at step `start` (start == end),
// or linearly from its value at `start` to `mean` at `end`.
struct DriftSpec {
  size_t arm = 0;
  uint64_t start = 0;
  uint64_t end = 0;
  double mean = 0.0;
};

// With probability `prob` per step, one arm (uniformly chosen) retires and is
// replaced by a fresh arm whose mean is drawn from Beta(a, b).
//
// Two readings of what the learner does at a replacement (Chapelle & Li 2011
// do not say; docs/simulation.md compares them on their Table 1):
// * `notice`: kAtOnce (default) — the policy forgets the retired arm at the
//   replacement step; kNextDelivery — the policy learns of the replacement
//   only with the next feedback delivery (with batches: at the end of the
//   batch), and until then serves the new arm under the retired arm's learned
//   state, as a model refreshed only at delivery time would.
// * `pending`: kDrop (default) — the retired arm's undelivered rewards are
//   discarded; kDeliver — they are still delivered, to the slot, i.e. counted
//   for the arm that replaced it (after the reset, under kNextDelivery).
struct ReplacementSpec {
  enum class Notice { kAtOnce, kNextDelivery };
  enum class Pending { kDrop, kDeliver };
  double prob = 0.0;
  double a = 1.0;
  double b = 1.0;
  Notice notice = Notice::kAtOnce;
  Pending pending = Pending::kDrop;
};

// Feedback delay: none; in batches delivered every `every` steps
// (Chapelle & Li 2011, Table 1); or after a random Geometric delay of `mean` steps.
struct DelaySpec {
  enum class Kind { kNone, kBatch, kRandom };
  Kind kind = Kind::kNone;
  uint64_t every = 1;
  double mean = 0.0;
};

// One line of the comparison: a policy, optionally with a stopping rule.
struct ContenderSpec {
  std::string label;
  PolicySpec policy;
  std::optional<StoppingSpec> stopping;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string variant;  // "key=value" for sweep variants, else empty
  RewardKind reward = RewardKind::kBernoulli;
  std::vector<ArmSpec> arms;
  RandomArms random_arms;
  size_t champion = 0;
  uint64_t horizon = 0;
  uint64_t runs = 0;
  uint64_t seed = 1;
  std::vector<DriftSpec> drift;
  TrafficSpec traffic;  // simulated time; disabled unless the file has `traffic`
  std::vector<WeeklyRateSpec> weekly;
  std::vector<NoveltySpec> novelty;
  EngineKind engine = EngineKind::kPerStep;
  ReplacementSpec replacement;
  DelaySpec delay;
  std::vector<ContenderSpec> contenders;
  uint64_t check_every = 1000;      // steps between looks of the stopping rules
  uint64_t propensity_every = 100;  // steps between refreshes of the logged propensities
  bool promote_on_decision = true;  // after a decision all traffic goes to the winner
  // With a stopping rule: route like the daemon, drawing the arm from the
  // allocation weights (refreshed every propensity_every steps), so the logged
  // propensity is exact; false: Policy::Choose per step, propensity from the
  // last refreshed allocation (approximate between refreshes).
  bool route_by_weights = true;
  int checkpoints_per_decade = 20;  // resolution of curves.csv
  // Contextual scenarios: per-step contexts and per-arm logistic truths
  // (sim/contextual.h); every contender's PolicySpec gets context_dim = dim().
  ContextSpec context;

  size_t num_arms() const { return arms.size(); }
  bool contextual() const { return context.enabled(); }
  bool timed() const { return traffic.enabled(); }
  // Stationary Bernoulli arms with fixed means: the Lai–Robbins bound applies.
  bool stationary_bernoulli() const {
    return reward == RewardKind::kBernoulli && drift.empty() && replacement.prob == 0.0 &&
           random_arms.a == 0.0 && !contextual() && weekly.empty() && novelty.empty();
  }
};

// Parses a scenario document. A `sweep` section expands into one Scenario per
// value (in file order); otherwise the result holds one Scenario. `source`
// names the document in error messages ("file.yaml:12: ...").
Result<std::vector<Scenario>> ParseScenario(std::string_view yaml, std::string_view source);

// Reads and parses a scenario file.
Result<std::vector<Scenario>> LoadScenarioFile(const std::string& path);

}  // namespace banditd::sim
