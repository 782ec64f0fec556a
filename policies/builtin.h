// Factories of the built-in policies. Each policy's class lives in an
// anonymous namespace in its own file; only these functions are visible, and
// registry.cc lists them in one explicit table. A factory validates the spec
// (parameters, arm count) and builds the policy, or returns kInvalidArgument.
#pragma once

#include <memory>

#include "banditd/policy.h"

namespace banditd::policies {

using PolicyPtr = std::unique_ptr<Policy>;

Result<PolicyPtr> MakeThompson(const PolicySpec& spec);
Result<PolicyPtr> MakeThompsonGaussian(const PolicySpec& spec);
Result<PolicyPtr> MakeUcb1(const PolicySpec& spec);
Result<PolicyPtr> MakeKlUcb(const PolicySpec& spec);
Result<PolicyPtr> MakeEpsilonGreedy(const PolicySpec& spec);
Result<PolicyPtr> MakeStatic(const PolicySpec& spec);
Result<PolicyPtr> MakeDiscountedThompson(const PolicySpec& spec);
Result<PolicyPtr> MakeSlidingWindowThompson(const PolicySpec& spec);
// Contextual (spec.context_dim >= 1): policies/linucb.cc, policies/lin_thompson.cc.
Result<PolicyPtr> MakeLinUcb(const PolicySpec& spec);
Result<PolicyPtr> MakeLinThompson(const PolicySpec& spec);

// Wraps `inner` so that its choices and reported allocation respect `limits`
// (see ProjectOntoLimits). REQUIRES: limits valid for inner->num_arms().
PolicyPtr WrapWithLimits(PolicyPtr inner, const TrafficLimits& limits);

// Validates limits for a policy of `num_arms` arms.
Status CheckLimits(const TrafficLimits& limits, size_t num_arms);

// Projects an allocation onto the limits, in place: the champion's share is
// raised to the floor (the challengers shrink in proportion), then every
// challenger above the ceiling is cut to it and the excess goes to the
// champion. REQUIRES: CheckLimits(limits, p.size()).ok(), p sums to 1.
void ProjectOntoLimits(const TrafficLimits& limits, std::span<double> p);

}  // namespace banditd::policies
