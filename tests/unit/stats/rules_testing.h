// What the stopping-rule tests share: building a rule and feeding it
// deterministic units.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "banditd/stopping.h"

namespace banditd::rules_testing {

inline std::unique_ptr<StoppingRule> Make(const std::string& name, Params params, size_t arms = 2,
                                   Metric metric = Metric::kBernoulli) {
  StoppingSpec spec{name, arms, 0, metric, std::move(params)};
  auto made = MakeStoppingRule(spec);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? std::move(made).value() : nullptr;
}

// `common` plus what each rule needs: the planned effect where it uses one.
inline Params With(std::string_view name, Params common) {
  if (name == "fixed_horizon") {
    common.Set("mde", 0.02);
    common.Set("baseline", 0.1);
  }
  if (name == "sequential" || name == "bayes") common.Set("mde", 0.02);
  return common;
}

// Feeds `n` units per arm with exactly round(rate * n) successes each, in an
// interleaved order so every prefix is close to the target rates.
inline void Feed(StoppingRule& rule, const std::vector<double>& rates, int n, double propensity = 0.5) {
  for (int i = 0; i < n; ++i) {
    for (size_t arm = 0; arm < rates.size(); ++arm) {
      const double before = std::floor(rates[arm] * i);
      const double after = std::floor(rates[arm] * (i + 1));
      rule.Observe(arm, after > before ? 1.0 : 0.0, propensity);
    }
  }
}

}  // namespace banditd::rules_testing
