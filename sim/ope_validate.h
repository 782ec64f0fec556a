// Validation of the off-policy estimators by simulation (`bandit-sim
// ope-validate`, docs/contextual.md#off-policy-evaluation): in a contextual
// scenario whose truth is known, log decisions under a uniform and under a
// Thompson-sampling logging policy into real decision-log files (the
// daemon's DecisionLog writer), estimate a target policy's value from them
// with the same code as `bandit-sim ope`, and count how often each 95% CI
// covers the target's true value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "banditd/status.h"
#include "sim/scenario.h"

namespace banditd::sim::ope {

struct ValidateOptions {
  uint64_t reps = 200;         // replications per logging policy
  uint64_t decisions = 10000;  // logged decisions per replication
  uint64_t seed = 1;
  unsigned threads = 0;            // 0: every core
  std::string work_dir;            // where the logs are written (removed after each replication)
  uint64_t truth_draws = 2000000;  // Monte Carlo contexts for the true value
  double thompson_floor = 0.1;     // the Thompson logger's traffic limits keep every arm >= this
  uint64_t refresh_every = 100;    // Thompson logger: decisions between allocation refreshes
};

struct CoverageRow {
  std::string logger;     // "uniform" or "thompson"
  std::string estimator;  // "ips", "snips", "dr"
  uint64_t reps = 0;
  uint64_t covered = 0;  // replications whose 95% CI holds the true value
  double mean_estimate = 0.0;
  double rmse = 0.0;
  double mean_width = 0.0;  // mean CI width
  double mean_ess = 0.0;
};

struct ValidateResult {
  double truth = 0.0;     // the target's value, E_x[sum_a pi(a|x) mu_a(x)]
  double truth_se = 0.0;  // its Monte Carlo standard error
  std::string target;     // the target's description
  std::vector<CoverageRow> rows;
};

// REQUIRES: scenario.contextual(). `target_yaml` is a POLICY.yaml document
// (sim/ope_policy.h) whose arms are the scenario's; it may not use
// fit_fraction.
Result<ValidateResult> RunOpeValidation(const Scenario& scenario, const std::string& target_yaml,
                                        const ValidateOptions& options);

std::string FormatValidation(const ValidateResult& result, const ValidateOptions& options);

}  // namespace banditd::sim::ope
