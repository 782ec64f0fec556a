// The YAML side of contextual scenarios (sim/contextual.h), used by the
// scenario parser.
#pragma once

#include <yaml-cpp/yaml.h>

#include "banditd/status.h"
#include "sim/contextual.h"
#include "sim/yaml_util.h"

namespace banditd::sim {

// Parses the scenario's `context` map ({features: [...]}) into spec->features.
// A feature is {name, bernoulli: p} | {name, normal: [mean, sd]} |
// {name, uniform: [lo, hi]}, with an optional `count: n` that repeats it
// (named name1..namen).
Status ParseContextFeatures(const YamlReader& r, const YAML::Node& node, ContextSpec* spec);

// Parses an arm's `theta` (a list of spec->dim() numbers) and appends it.
Status ParseArmTheta(const YamlReader& r, const YAML::Node& node, ContextSpec* spec);

}  // namespace banditd::sim
