// The stopping rule of `bandit-sim analyze --rule`, from command-line flags
// read the way the daemon reads an experiment's `stopping:` map: each value
// is parsed as the YAML scalar or list it would be in the config file, and
// the spec is built by MakeStoppingSpec (banditd/stopping.h).
#pragma once

#include <string>
#include <vector>

#include "banditd/status.h"
#include "banditd/stopping.h"

namespace banditd::config {

struct StoppingFlags {
  std::string rule;                 // --rule
  std::string alpha, mde, tau2;     // --alpha, --mde, --tau2 (empty: not given)
  std::vector<std::string> params;  // --param key=value, repeatable
  std::string metric = "bernoulli";  // --metric: bernoulli (the config's default) or gaussian
};

// The params the flags set; errors (kInvalidArgument) for a --param without
// '=' or an empty key, a key given twice (--alpha and --param alpha=...
// included), and a value that is not a YAML scalar or list of numbers.
Result<Params> StoppingParamsFromFlags(const StoppingFlags& flags);

// The metric --metric names.
Result<Metric> MetricFromFlag(const std::string& name);

// The spec the daemon builds for an experiment with `num_arms` arms, the
// champion at `control` and `stopping: {rule: flags.rule, params: ...}`,
// checked by MakeStoppingRule (unknown rules and bad params are its errors).
Result<StoppingSpec> StoppingSpecFromFlags(const StoppingFlags& flags, size_t num_arms,
                                           size_t control);

}  // namespace banditd::config
