// The one list of built-in policies. Adding a policy: write policies/NAME.cc
// with a Make* factory, declare it in builtin.h, add a row here.
//
// The `rewards` column is the one statement of each policy's reward domain
// (docs/policies.md "Reward domain"): Policy::reward_range() reads it, the
// config loader refuses a metric it does not cover, and the daemon refuses a
// reward outside it with invalid_value.
#include <array>
#include <optional>
#include <string>

#include "policies/builtin.h"

namespace banditd {
namespace {

struct Entry {
  std::string_view name;
  Result<policies::PolicyPtr> (*make)(const PolicySpec&);
  RewardRange rewards;
};

// [0, 1]: the Beta-Bernoulli family, and index policies whose confidence
// bounds assume bounded rewards. Any finite value: Gaussian and
// distribution-free policies.
constexpr RewardRange kUnit = RewardRange::Unit();
constexpr RewardRange kReal = RewardRange::Real();

constexpr std::array kRegistry = {
    Entry{"thompson", &policies::MakeThompson, kUnit},
    Entry{"thompson_gaussian", &policies::MakeThompsonGaussian, kReal},
    Entry{"ucb1", &policies::MakeUcb1, kUnit},
    Entry{"kl_ucb", &policies::MakeKlUcb, kUnit},
    Entry{"epsilon_greedy", &policies::MakeEpsilonGreedy, kReal},
    Entry{"static", &policies::MakeStatic, kReal},
    Entry{"discounted_thompson", &policies::MakeDiscountedThompson, kUnit},
    Entry{"sliding_window_thompson", &policies::MakeSlidingWindowThompson, kUnit},
    Entry{"linucb", &policies::MakeLinUcb, kReal},
    Entry{"lin_thompson", &policies::MakeLinThompson, kReal},
};

constexpr auto kNames = [] {
  std::array<std::string_view, kRegistry.size()> names{};
  for (size_t i = 0; i < kRegistry.size(); ++i) names[i] = kRegistry[i].name;
  return names;
}();

}  // namespace

std::span<const std::string_view> PolicyNames() { return kNames; }

std::optional<RewardRange> PolicyRewardRange(std::string_view name) {
  for (const auto& entry : kRegistry) {
    if (entry.name == name) return entry.rewards;
  }
  return std::nullopt;
}

RewardRange Policy::reward_range() const {
  return PolicyRewardRange(name()).value_or(RewardRange::Real());
}

Result<std::unique_ptr<Policy>> MakePolicy(const PolicySpec& spec) {
  if (spec.num_arms == 0) return InvalidArgument("policy '" + spec.name + "': empty arm list");
  for (const auto& entry : kRegistry) {
    if (entry.name != spec.name) continue;
    BANDITD_RETURN_IF_ERROR(policies::CheckLimits(spec.limits, spec.num_arms)
                                .WithContext("policy '" + spec.name + "'"));
    BANDITD_ASSIGN_OR_RETURN(auto made, entry.make(spec));
    if (!spec.limits.active()) return made;
    return policies::WrapWithLimits(std::move(made), spec.limits);
  }
  std::string known;
  for (auto n : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
  return InvalidArgument("unknown policy '" + spec.name + "' (known: " + known + ")");
}

}  // namespace banditd
