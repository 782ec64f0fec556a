// The one list of stopping rules. Adding a rule: write its factory in a
// rules_*.cc file, declare it in rules.h, add a row here.
#include <array>
#include <string>

#include "src/stats/rules.h"

namespace banditd {
namespace {

struct Entry {
  std::string_view name;
  Result<std::unique_ptr<StoppingRule>> (*make)(const StoppingSpec&);
};

constexpr std::array kRegistry = {
    Entry{"fixed_horizon", &stats::MakeFixedHorizon},
    Entry{"naive_peeking", &stats::MakeNaivePeeking},
    Entry{"sequential", &stats::MakeSequential},
    Entry{"bayes", &stats::MakeBayes},
    Entry{"bandit_cs", &stats::MakeBanditCs},
    Entry{"bernoulli_cs", &stats::MakeBernoulliCs},
};

constexpr auto kNames = [] {
  std::array<std::string_view, kRegistry.size()> names{};
  for (size_t i = 0; i < kRegistry.size(); ++i) names[i] = kRegistry[i].name;
  return names;
}();

}  // namespace

std::span<const std::string_view> StoppingRuleNames() { return kNames; }

StoppingSpec MakeStoppingSpec(std::string rule, Params params, size_t num_arms, size_t control,
                              Metric metric) {
  StoppingSpec spec;
  spec.name = std::move(rule);
  spec.num_arms = num_arms;
  spec.control = control;
  spec.metric = metric;
  spec.params = std::move(params);
  return spec;
}

Result<std::unique_ptr<StoppingRule>> MakeStoppingRule(const StoppingSpec& spec) {
  for (const auto& entry : kRegistry) {
    if (entry.name == spec.name) return entry.make(spec);
  }
  std::string known;
  for (auto n : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
  return InvalidArgument("unknown stopping rule '" + spec.name + "' (known: " + known + ")");
}

}  // namespace banditd
