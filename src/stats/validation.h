// Validation of the stopping rules by simulation, with fixed seeds: A/A
// error rates under continuous monitoring and power / sample size at a
// planned effect. Shared by the CI-sized test (tests/unit/stats) and the
// full-size opt-in tool `stats_validate` (docs/statistics.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "banditd/params.h"

namespace banditd::stats {

struct ValidationConfig {
  size_t replications = 2000;
  double max_per_arm = 20000;  // the experiment ends here (units per arm)
  double look_every = 100;     // a look after every this many units per arm
  double min_samples = 1000;   // per arm (A/B rules); twice this in total for bandit_cs
  double p_control = 0.10;     // Bernoulli rate of the control
  double mde = 0.01;           // the planned effect (absolute)
  double power = 0.8;          // fixed_horizon plans its n for this power
  double alpha = 0.05;
  uint64_t seed = 20261123;
};

struct RuleOutcome {
  std::string label;
  double runs = 0;
  double treatment_wins = 0;  // stopped declaring the treatment the winner
  double control_wins = 0;    // stopped declaring the control the winner
  double sum_units = 0;       // total units at the decision, or at the end without one
  double decided_runs = 0;    // runs that stopped before the end (any outcome)

  double any_win_rate() const { return (treatment_wins + control_wins) / runs; }
  double treatment_rate() const { return treatment_wins / runs; }
  double mean_units_per_arm() const { return sum_units / runs / 2.0; }
};

// A/B allocation (50/50, fixed): fixed_horizon, naive_peeking (with
// min_samples and with min_samples 100), sequential and bayes see the same
// data. p_treatment = p_control gives the A/A run.
std::vector<RuleOutcome> SimulateAB(const ValidationConfig& c, double p_treatment);

// A bandit experiment judged by bandit_cs: two Bernoulli arms, Thompson
// sampling (MakePolicy("thompson")) allocating, the allocation refreshed
// every `refresh_every` units and each unit drawn from it, so the logged
// propensity is exact (as the daemon routes); the rule sees every reward at
// once and looks every `look_every` units in total.
struct BanditSetting {
  std::string label;
  size_t replications = 2000;
  double p_control = 0.10;
  double p_treatment = 0.10;
  double max_total = 40000;     // units in total
  double refresh_every = 200;   // units between allocation refreshes
  double look_every = 200;      // units between looks
  double min_samples = 2000;    // bandit_cs min_samples (units in total)
  double tune_n = 40000;        // bandit_cs tune_n
  double champion_floor = 0.0;  // the policy's TrafficLimits::champion_floor (0: unclipped)
  double alpha = 0.05;
  uint64_t seed = 20261123;
};

// The validation table's setting (ValidationConfig's rates, horizon, looks
// and min_samples, Thompson refreshed at every look).
BanditSetting ValidationBandit(const ValidationConfig& c, double p_treatment,
                               double champion_floor);
// bandit-sim's A/A scenario (sim/scenarios/aa.yaml, contender thompson_cs):
// both arms 0.05, 200,000 units, allocation refreshed every 100, a look every
// 1,000, the rule's defaults (min_samples 100, tune_n 10000), unclipped.
BanditSetting SimAaBandit(size_t replications);

RuleOutcome SimulateBanditCs(const BanditSetting& s);

// The champion/challenger cells (docs/statistics.md, "Validity where
// champion/challenger tests run"): long horizons simulated in batches. At
// each look, `look_every` requests are split between the arms by one
// binomial draw from the current allocation and each arm's successes by
// another (a real-valued metric draws each buyer's reward); every rule gets
// them through ObserveRepeated with the exact propensity, then looks.
// Bernoulli rewards, or zero-inflated lognormal revenue (a buyer with
// probability `rate`, spending exp(N(0, sigma^2))).
struct CellSetting {
  std::string label;
  size_t replications = 500;
  double p_control = 0.01;     // rate (Bernoulli) or buyer rate (revenue)
  double lift = 0;             // challenger's rate = p_control * (1 + lift)
  double horizon = 2e6;        // requests in total
  double look_every = 1000;    // requests between looks
  bool thompson = false;       // false: a static split
  double challenger_share = 0.5;  // the static split's challenger share
  double champion_floor = 0;      // Thompson's TrafficLimits::champion_floor
  bool revenue = false;           // zero-inflated lognormal instead of Bernoulli
  double revenue_sigma = 2;
  uint64_t seed = 20261124;
};

struct RuleUnderTest {
  std::string label;
  std::string name;
  Params params;
};

// One outcome per rule; sum_units counts requests in total at the decision.
// Thompson's allocation is P(challenger best) under Beta(1 + s, 1 + f)
// posteriors (exact while both arms have < 200 successes, normal
// approximation of each Beta after), refreshed at every look and projected
// onto the champion floor as the shipped TrafficLimits do.
std::vector<RuleOutcome> SimulateCell(const CellSetting& cell,
                                      const std::vector<RuleUnderTest>& rules);

// Wilson score interval bounds of a rate (95%).
double WilsonUpper(double successes, double n);
double WilsonLower(double successes, double n);

}  // namespace banditd::stats
