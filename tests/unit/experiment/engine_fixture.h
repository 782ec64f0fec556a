// Engine and experiment set-up shared by the experiment unit tests and the
// snapshot fuzzer (tests/fuzz/snapshot_fuzz_one.cc). Free of gtest, which the
// fuzzer does not link: each caller of CreatedOr says what a refused option
// set means to it (a test failure, the fuzzer's abort).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "banditd/status.h"
#include "src/experiment/engine.h"
#include "src/experiment/experiment.h"

namespace banditd::experiment::fixture {

// Arms "champion" and "challenger" under Beta-Bernoulli Thompson sampling,
// the allocation recomputed on every reward.
inline ExperimentOptions ThompsonExperiment(std::string name = "ctr") {
  ExperimentOptions o;
  o.name = std::move(name);
  o.arms = {{"champion", false}, {"challenger", false}};
  o.policy.name = "thompson";
  o.refresh_interval_ns = 0;
  return o;
}

// The same arms under a contextual policy (e.g. "linucb") reading `dim`
// features.
inline ExperimentOptions ContextualExperiment(std::string policy, size_t dim,
                                              std::string name = "ctx") {
  ExperimentOptions o = ThompsonExperiment(std::move(name));
  o.policy.name = std::move(policy);
  o.policy.context_dim = dim;
  return o;
}

// An engine running `experiments`, its decision key every byte `key_byte`.
inline EngineOptions EngineOver(std::vector<ExperimentOptions> experiments, unsigned char key_byte,
                                uint64_t seed, uint32_t reward_window_s = 3600) {
  EngineOptions o;
  o.experiments = std::move(experiments);
  o.reward_window_s = reward_window_s;
  o.decision_key.fill(key_byte);
  o.seed = seed;
  return o;
}

// What Engine::Create or Experiment::Create made, or null after
// `refused(status)`.
template <typename T, typename Refused>
std::unique_ptr<T> CreatedOr(Result<std::unique_ptr<T>> created, Refused&& refused) {
  if (!created.ok()) {
    refused(created.status());
    return nullptr;
  }
  return std::move(created).value();
}

}  // namespace banditd::experiment::fixture
