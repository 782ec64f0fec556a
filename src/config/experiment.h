// The experiments[] section of the config. Internal to src/config.
#pragma once

#include <string>

#include "banditd/status.h"
#include "src/config/config.h"
#include "src/config/yaml_reader.h"

namespace banditd::config {

// Reads and validates one experiments[i] entry. Relative model paths resolve
// against `model_dir`; with `check_files`, model files must exist.
Status LoadExperiment(const YamlNode& node, const std::string& model_dir, bool check_files,
                      ExperimentConfig* out);

// Stopping-rule names the config accepts.
inline constexpr std::string_view kStoppingRules[] = {
    "fixed_horizon", "naive_peeking", "sequential", "bayes", "bandit_cs", "bernoulli_cs"};

// The StoppingSpec of an experiment's `stopping:` map: the rule and params as
// configured, num_arms and control from the experiment's arms and champion,
// its metric. One function, so the daemon's check at load and
// `bandit-sim analyze --rule` build the same rule.
StoppingSpec MakeStoppingSpec(const std::string& rule, const Params& params, size_t num_arms,
                              size_t control, Metric metric);

// Resolves `path` against `base` unless it is absolute; the result is normalised.
std::string ResolvePath(const std::string& base, const std::string& path);

}  // namespace banditd::config
