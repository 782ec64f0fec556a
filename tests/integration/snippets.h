// YAML experiment snippets for the integration tests' configs.
#pragma once

#include <string>

namespace banditd::itest {

// A stopping rule that does not stop during a test. bandit_cs is accepted
// for every mode and metric (fixed_horizon is refused under a bandit policy);
// the wide range only matters to a real-valued metric, which must declare one.
inline const std::string kNoStop =
    "    stopping:\n"
    "      rule: bandit_cs\n"
    "      params:\n"
    "        alpha: 0.05\n"
    "        min_samples: 100000000\n"
    "        reward_min: -1000000\n"
    "        reward_max: 1000000\n";

// The same for an A/B experiment with any number of arms (bandit_cs takes two).
inline const std::string kNoStopAb =
    "    stopping:\n"
    "      rule: fixed_horizon\n"
    "      params:\n"
    "        alpha: 0.05\n"
    "        n_per_arm: 100000000\n";

// An A/B experiment of two route-only arms `a` (champion) and `b`.
inline std::string AbRouteOnly(const std::string& name, double wa, double wb,
                               const std::string& salt = "") {
  return "  - name: " + name + "\n    mode: ab\n    weights: [" + std::to_string(wa) + ", " +
         std::to_string(wb) + "]\n" + (salt.empty() ? "" : "    salt: " + salt + "\n") +
         "    arms:\n      - name: a\n        champion: true\n      - name: b\n" + kNoStop;
}

// An experiment of two model arms `champion` and `challenger` over [8] inputs.
inline std::string TwoModels(const std::string& name, const std::string& mode,
                             const std::string& champion_file, const std::string& challenger_file,
                             const std::string& extra = "") {
  return "  - name: " + name + "\n    mode: " + mode + "\n" +
         (mode == "ab" ? "    weights: [0.5, 0.5]\n" : "") +
         "    arms:\n"
         "      - name: champion\n        champion: true\n"
         "        model: {path: " +
         champion_file +
         ", input_shape: [8]}\n"
         "      - name: challenger\n"
         "        model: {path: " +
         challenger_file + ", input_shape: [8]}\n" +
         (mode == "shadow" ? "" : kNoStop) + extra;  // shadow: no rule (it could never decide)
}

}  // namespace banditd::itest
