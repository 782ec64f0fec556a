// Validation of the stopping rules by simulation, with fixed seeds: A/A
// error rates under continuous monitoring and power / sample size at a
// planned effect. Shared by the CI-sized test (tests/unit/stats) and the
// full-size opt-in tool `stats_validate` (docs/statistics.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

// Thompson-sampling allocation (MakePolicy("thompson"), weights refreshed at
// every look, each arm kept within [floor, 1 - floor] by the policy's traffic
// limits) with the bandit_cs rule fed the logged propensities.
RuleOutcome SimulateBanditCs(const ValidationConfig& c, double p_treatment, double floor);

// Wilson score interval bounds of a rate (95%).
double WilsonUpper(double successes, double n);
double WilsonLower(double successes, double n);

}  // namespace banditd::stats
