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

// Resolves `path` against `base` unless it is absolute; the result is normalised.
std::string ResolvePath(const std::string& base, const std::string& path);

}  // namespace banditd::config
