// The daemon's configuration turned into the engine's options: shared by
// the daemon's start-up and by tools and tests that rebuild an engine from a
// state directory (they must agree, or a snapshot would not restore).
#pragma once

#include "src/config/config.h"
#include "src/experiment/engine.h"

namespace banditd::server {

experiment::ExperimentOptions ToExperimentOptions(const config::ExperimentConfig& c);

// Every experiment and the reward window. The decision key and the seed are
// left for the caller: the key lives in the state directory, the seed is the
// caller's choice.
experiment::EngineOptions ToEngineOptions(const config::Config& c);

}  // namespace banditd::server
