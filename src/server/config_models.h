// Loading the models a config names, with errors that point at the config
// key to fix: both start-up (Daemon::Init) and `banditd --check` use it, so
// --check refuses what start-up would.
#pragma once

#include <memory>
#include <string>

#include "banditd/model.h"
#include "banditd/status.h"
#include "src/config/config.h"

namespace banditd::server {

// The model options of arm `a` of experiment `e`. REQUIRES: the arm has a model.
model::ModelOptions ModelOptionsFor(const config::ExperimentConfig& e, const config::ArmConfig& a);

// Loads (and warms up on zeros of the configured input_shape) the model of
// config.experiments[e].arms[a]. An error keeps its code and is prefixed by
// the key at fault: `experiments[e].arms[a].model.input_shape` when the model
// does not run on that shape, `.sha256` for a pin mismatch, `.path` when the
// file is missing or not a TorchScript module.
Result<std::shared_ptr<const model::Model>> LoadArmModel(const config::Config& config, size_t e,
                                                         size_t a, int warmup_runs = 3);

// Loads every configured model once (one warm-up forward each) and drops it.
Status CheckModels(const config::Config& config);

}  // namespace banditd::server
