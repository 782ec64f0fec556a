// Off-policy evaluation from banditd's decision log (`bandit-sim ope`,
// docs/contextual.md#off-policy-evaluation): joins each logged decision to
// its reward and estimates what a target policy (sim/ope_policy.h) would
// have earned, with inverse propensity scoring (IPS), self-normalised IPS
// and the doubly robust estimator, each with a 95% confidence interval and
// the effective sample size of the importance weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "banditd/status.h"
#include "sim/ope_policy.h"
#include "src/state/decision_log.h"
#include "src/state/env.h"

namespace banditd::sim::ope {

// One randomised decision with its reward, in log order.
struct LoggedSample {
  std::string decision;
  std::string arm;
  double propensity = 0.0;
  double reward = 0.0;
  std::vector<double> context;
};

struct LogData {
  std::string experiment;
  std::vector<LoggedSample> samples;
  uint64_t files = 0;
  uint64_t decisions = 0;          // D lines of the experiment
  uint64_t forced = 0;             // forced decisions (not randomised): left out
  uint64_t unrewarded = 0;         // decisions without an R line: left out (or reward 0)
  uint64_t orphan_rewards = 0;     // R lines whose decision is not in the log
  uint64_t duplicate_rewards = 0;  // further R lines of a decision: the first one counts
};

struct JoinOptions {
  std::string experiment;           // required when the log holds several
  bool unrewarded_as_zero = false;  // a decision without reward counts as reward 0
};

// Joins parsed log rows. Errors (invalid_argument, stable wording):
//   "the log has no decisions (D lines), so no propensities"
//   "decision 'ID': propensity is not a number" / "... must be in (0, 1] (got P)"
//   "no randomised decisions: all N decisions of 'EXP' were forced"
//   "no rewarded decisions: ..."
//   "the log holds several experiments (...): choose one with --experiment"
Result<LogData> JoinDecisionLog(const std::vector<state::LogRow>& rows, const JoinOptions& options);

// Reads `path` — one decision log file or a directory of decisions-*.tsv —
// and joins it. A D line without a propensity field is refused naming the
// file and line.
Result<LogData> LoadDecisionLog(state::Env& env, const std::string& path,
                                const JoinOptions& options);

struct Estimate {
  std::string name;  // "ips", "snips", "dr"
  double value = 0.0;
  double se = 0.0;  // standard error
  double lo = 0.0;  // 95% CI: value -/+ 1.96 se (normal approximation)
  double hi = 0.0;
};

struct OpeResult {
  std::string policy;        // the target policy's description
  uint64_t fitted = 0;       // samples the target learned from (not evaluated)
  uint64_t n = 0;            // samples evaluated
  double ess = 0.0;          // (sum w)^2 / sum w^2
  double mean_weight = 0.0;  // near 1 when propensities and policy are right
  double max_weight = 0.0;
  double logged_value = 0.0;        // mean reward of the evaluated samples (the logging policy)
  std::vector<Estimate> estimates;  // ips, snips, dr
};

struct EvalOptions {
  double ridge_lambda = 1.0;  // reward model penalty (DR)
  int folds = 2;              // cross-fitting folds of the reward model (DR)
};

// Estimates the target's value on `data`. Errors: a logged arm the policy
// does not name; a logged context whose length differs from the policy's
// context_dim ("decision 'ID' has a context of length L; the policy takes D").
Result<OpeResult> Evaluate(const LogData& data, TargetPolicy& policy,
                           const EvalOptions& options = {});

// The report: a terminal table, or one JSON object.
std::string FormatOpe(const LogData& data, const OpeResult& result);
std::string OpeJson(const LogData& data, const OpeResult& result);

}  // namespace banditd::sim::ope
