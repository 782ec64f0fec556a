// The simulation engine: runs every contender of a scenario for every
// replication, in parallel, on the daemon's own Policy and StoppingRule
// objects.
//
// Determinism: replication r of every contender draws its environment from
// Rng::ForStream(seed, 2r) and its policy's choices from
// Rng::ForStream(seed, 2r + 1) (common random numbers across contenders);
// each (contender, replication) result lands in its own slot and the report
// reduces the slots in a fixed order, so the output for a seed is identical
// whatever the thread count.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "banditd/policy.h"
#include "banditd/stopping.h"
#include "sim/scenario.h"

namespace banditd::sim {

using PolicyFactory = std::function<Result<std::unique_ptr<Policy>>(const PolicySpec&)>;
using StoppingFactory = std::function<Result<std::unique_ptr<StoppingRule>>(const StoppingSpec&)>;

// How contenders are built; tests inject fakes, bandit-sim uses the registries.
struct Factories {
  PolicyFactory policy;
  StoppingFactory stopping;
  static Factories Default();
};

// The outcome of one replication of one contender.
struct RepResult {
  double regret = 0.0;       // pseudo-regret: sum over t of best mean - chosen mean
  uint64_t best_pulls = 0;   // pulls of an arm with the best mean at that step
  uint64_t worse_pulls = 0;  // pulls of an arm below the best mean
  uint64_t worse_pulls_to_decision = 0;
  bool decided = false;  // the stopping rule stopped within the horizon
  uint64_t decision_step = 0;
  double decision_seconds = 0.0;      // simulated time of the decision (timed scenarios)
  int64_t winner = -1;                // -1: stopped without a winner, or undecided
  bool wrong = false;                 // declared a winner that is not the unique best arm
  std::vector<double> regret_at;      // cumulative regret at each checkpoint
  std::vector<double> best_share_at;  // best-arm share of pulls since the previous checkpoint
};

struct ContenderResult {
  std::string label;
  std::string stopping;  // rule name, empty when none
  std::vector<RepResult> reps;
};

struct ScenarioResult {
  Scenario scenario;
  std::vector<uint64_t> checkpoints;  // steps at which curves are sampled, ends at the horizon
  std::vector<ContenderResult> contenders;
};

struct RunOptions {
  unsigned threads = 0;  // 0: every core
  bool progress = true;  // progress bar on stderr for runs longer than a second
  std::string label;     // shown before the progress bar
};

// Log-spaced steps (per decade as asked) from 1 to horizon, horizon included.
std::vector<uint64_t> Checkpoints(uint64_t horizon, int per_decade);

// Checks that every contender can be built (unknown names, bad parameters).
Status ValidateContenders(const Scenario& scenario, const Factories& factories);

// Runs one replication of one contender. `steps_done`, when given, is
// advanced as the run goes (for the progress bar).
Result<RepResult> RunReplication(const Scenario& scenario, size_t contender, uint64_t rep,
                                 const Factories& factories,
                                 const std::vector<uint64_t>& checkpoints,
                                 std::atomic<uint64_t>* steps_done = nullptr);

// The batched engine's replication (engine: batched; batched.cc): the same
// contract as RunReplication, which calls it for such scenarios.
Result<RepResult> RunBatchedReplication(const Scenario& scenario, size_t contender, uint64_t rep,
                                        const Factories& factories,
                                        const std::vector<uint64_t>& checkpoints,
                                        std::atomic<uint64_t>* steps_done = nullptr);

class Environment;
// Fills the decision fields of `out` for a stop at step t (both engines).
// `seconds`: the simulated time of step t (0 when time is not modelled).
void RecordDecision(const StopDecision& d, uint64_t t, double seconds, const Environment& env,
                    RepResult* out);

// Runs the whole scenario.
Result<ScenarioResult> RunScenario(const Scenario& scenario, const RunOptions& options,
                                   const Factories& factories);

}  // namespace banditd::sim
