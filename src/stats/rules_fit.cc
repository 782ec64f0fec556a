// CheckStoppingRuleFits: which rule may decide in the daemon for which
// allocation. The figures behind each refusal are in docs/statistics.md.
#include <algorithm>
#include <string>

#include "banditd/stopping.h"

namespace banditd {
namespace {

// The smallest static share at which sequential was validated (99/1).
constexpr double kSequentialMinShare = 0.01;

// `sequential_fits`: the allocation is a static split sequential was
// validated for (so it may be recommended).
std::string ValidRule(const StoppingSpec& spec, bool sequential_fits) {
  if (spec.metric == Metric::kBernoulli) {
    return spec.num_arms == 2
               ? std::string("'bernoulli_cs' (valid under any allocation)")
               : std::string(sequential_fits ? "'sequential' (static split) or one experiment "
                                               "per challenger with 'bernoulli_cs'"
                                             : "one experiment per challenger with 'bernoulli_cs'");
  }
  if (spec.num_arms != 2) {
    return sequential_fits ? std::string("'sequential' (static split; with cap for a skewed "
                                         "metric) or one experiment per challenger with "
                                         "'bandit_cs'")
                           : std::string("one experiment per challenger with 'bandit_cs' "
                                         "(reward_min/reward_max)");
  }
  return sequential_fits ? std::string("'sequential' (with cap for a skewed metric) or 'bandit_cs'")
                         : std::string("'bandit_cs' with reward_min/reward_max");
}

}  // namespace

Status CheckStoppingRuleFits(const StoppingSpec& spec, const StoppingAllocation& allocation) {
  const std::string where = "stopping rule '" + spec.name + "': ";
  const double smallest = allocation.weights.empty()
                              ? 1.0
                              : *std::min_element(allocation.weights.begin(),
                                                  allocation.weights.end());
  const bool sequential_fits = !allocation.adaptive && smallest >= kSequentialMinShare;
  if (spec.name == "naive_peeking" || spec.name == "bayes") {
    return InvalidArgument(
        where + "is a comparison rule for bandit-sim and does not control the false-decision "
                "rate (A/A: " +
        (spec.name == "bayes" ? "54%" : "35%") + " at alpha 0.05); use " +
        ValidRule(spec, sequential_fits));
  }
  if (allocation.adaptive && (spec.name == "fixed_horizon" || spec.name == "sequential")) {
    return InvalidArgument(where +
                           "assumes a fixed allocation, but a bandit policy adapts it to the "
                           "rewards (the arms' means are then biased and no error rate is "
                           "guaranteed); use " +
                           ValidRule(spec, false));
  }
  if (smallest <= 0) {
    return InvalidArgument(where +
                           "an arm with a share of 0 gets no traffic, so the rule can never "
                           "decide; give every arm a share, or remove the arm");
  }
  if (spec.name == "sequential" && smallest < kSequentialMinShare) {
    return InvalidArgument(where + "was validated down to a 99/1 split; a share of " +
                           std::to_string(smallest) + " is beyond it; use " +
                           ValidRule(spec, false));
  }
  return Status::Ok();
}

}  // namespace banditd
