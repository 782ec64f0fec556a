#include "src/config/stopping_flags.h"

#include <cstdlib>
#include <set>

#include "banditd/vocabulary.h"
#include "src/config/experiment.h"
#include "src/config/yaml_reader.h"

namespace banditd::config {
namespace {

std::optional<std::string> ProcessEnv(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace

Result<Params> StoppingParamsFromFlags(const StoppingFlags& flags) {
  std::vector<std::pair<std::string, std::string>> kv;
  if (!flags.alpha.empty()) kv.emplace_back("alpha", flags.alpha);
  if (!flags.mde.empty()) kv.emplace_back("mde", flags.mde);
  if (!flags.tau2.empty()) kv.emplace_back("tau2", flags.tau2);
  for (const std::string& p : flags.params) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--param '" + p + "': expected key=value");
    }
    kv.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }
  // A map as the config file's `params:` would hold it, read by the same
  // YamlNode::AsParams: 1000 is an integer, 0.05 a double, [1, 2] a list.
  YAML::Node map(YAML::NodeType::Map);
  std::set<std::string> seen;
  for (const auto& [key, value] : kv) {
    if (!seen.insert(key).second) {
      return InvalidArgument("parameter '" + key + "' is given twice");
    }
    if (value.empty()) return InvalidArgument("parameter '" + key + "' has no value");
    try {
      map[key] = YAML::Load(value);
    } catch (const YAML::Exception& e) {
      return InvalidArgument("parameter '" + key + "': '" + value + "' is not a YAML value (" +
                             e.msg + ")");
    }
  }
  const EnvLookup env(&ProcessEnv);
  Params params;
  BANDITD_RETURN_IF_ERROR(YamlNode(map, "params", &env).AsParams(&params));
  return params;
}

Result<Metric> MetricFromFlag(const std::string& name) {
  if (auto metric = FromName<Metric>(name)) return *metric;
  return InvalidArgument("--metric must be bernoulli or gaussian, got '" + name + "'");
}

Result<StoppingSpec> StoppingSpecFromFlags(const StoppingFlags& flags, size_t num_arms,
                                           size_t control) {
  if (flags.rule.empty()) return InvalidArgument("--rule is required");
  auto params = StoppingParamsFromFlags(flags);
  if (!params.ok()) return params.status();
  auto metric = MetricFromFlag(flags.metric);
  if (!metric.ok()) return metric.status();
  StoppingSpec spec = MakeStoppingSpec(flags.rule, *params, num_arms, control, *metric);
  if (auto rule = MakeStoppingRule(spec); !rule.ok()) return rule.status();
  return spec;
}

}  // namespace banditd::config
