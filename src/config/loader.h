// Loading and validating the YAML configuration (docs/config.md).
//
// Every error is kInvalidArgument with the key path and line, e.g.
//   experiments[0].policy.params.prior_alpha (line 12): ... must be > 0
// and nothing is returned half-built: a Config either loads whole or not.
#pragma once

#include <string>
#include <string_view>

#include "banditd/status.h"
#include "src/config/config.h"
#include "src/config/yaml_reader.h"

namespace banditd::config {

struct LoadOptions {
  // Check that model files exist (and match their sha256 when pinned).
  // Off for tools that only read the config (e.g. banditctl endpoints).
  bool check_files = true;
  // Environment lookup for ${VAR} expansion; default: the process environment.
  EnvLookup env;
};

// Loads `path`. Relative paths inside resolve against the file's directory.
Result<Config> LoadConfigFile(const std::string& path, const LoadOptions& options = {});

// Parses YAML text; relative paths resolve against `base_dir`.
Result<Config> ParseConfig(std::string_view yaml, const std::string& base_dir,
                           const LoadOptions& options = {});

}  // namespace banditd::config
