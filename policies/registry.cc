// The one list of built-in policies. Adding a policy: write policies/NAME.cc
// with a Make* factory, declare it in builtin.h, add a row here.
#include <array>
#include <string>

#include "policies/builtin.h"

namespace banditd {
namespace {

struct Entry {
  std::string_view name;
  Result<policies::PolicyPtr> (*make)(const PolicySpec&);
};

constexpr std::array kRegistry = {
    Entry{"thompson", &policies::MakeThompson},
    Entry{"thompson_gaussian", &policies::MakeThompsonGaussian},
    Entry{"ucb1", &policies::MakeUcb1},
    Entry{"kl_ucb", &policies::MakeKlUcb},
    Entry{"epsilon_greedy", &policies::MakeEpsilonGreedy},
    Entry{"static", &policies::MakeStatic},
    Entry{"discounted_thompson", &policies::MakeDiscountedThompson},
    Entry{"sliding_window_thompson", &policies::MakeSlidingWindowThompson},
    Entry{"linucb", &policies::MakeLinUcb},
    Entry{"lin_thompson", &policies::MakeLinThompson},
};

constexpr auto kNames = [] {
  std::array<std::string_view, kRegistry.size()> names{};
  for (size_t i = 0; i < kRegistry.size(); ++i) names[i] = kRegistry[i].name;
  return names;
}();

}  // namespace

std::span<const std::string_view> PolicyNames() { return kNames; }

Result<std::unique_ptr<Policy>> MakePolicy(const PolicySpec& spec) {
  if (spec.num_arms == 0) return InvalidArgument("policy '" + spec.name + "': empty arm list");
  for (const auto& entry : kRegistry) {
    if (entry.name != spec.name) continue;
    BANDITD_RETURN_IF_ERROR(policies::CheckLimits(spec.limits, spec.num_arms)
                                .WithContext("policy '" + spec.name + "'"));
    auto made = entry.make(spec);
    if (!made.ok()) return made.status();
    if (!spec.limits.active()) return std::move(made).value();
    return policies::WrapWithLimits(std::move(made).value(), spec.limits);
  }
  std::string known;
  for (auto n : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
  return InvalidArgument("unknown policy '" + spec.name + "' (known: " + known + ")");
}

}  // namespace banditd
