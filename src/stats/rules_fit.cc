// CheckStoppingRuleFits: which rule may decide in the daemon for which
// allocation. The figures behind each refusal are in docs/statistics.md.
#include <algorithm>
#include <string>

#include "banditd/stopping.h"

namespace banditd {
namespace {

// The smallest static share at which sequential was validated (99/1).
constexpr double kSequentialMinShare = 0.01;

std::string ValidRule(const StoppingSpec& spec, bool adaptive) {
  if (spec.metric == Metric::kBernoulli) {
    return spec.num_arms == 2
               ? std::string("'bernoulli_cs' (valid under any allocation)")
               : std::string(adaptive ? "one experiment per challenger with 'bernoulli_cs'"
                                      : "'sequential' (static split) or one experiment per "
                                        "challenger with 'bernoulli_cs'");
  }
  return adaptive || spec.num_arms != 2
             ? std::string("'bandit_cs' with reward_min/reward_max (two arms)")
             : std::string("'sequential' (with cap for a skewed metric) or 'bandit_cs'");
}

}  // namespace

Status CheckStoppingRuleFits(const StoppingSpec& spec, const StoppingAllocation& allocation) {
  const std::string where = "stopping rule '" + spec.name + "': ";
  if (spec.name == "naive_peeking" || spec.name == "bayes") {
    return InvalidArgument(
        where + "is a comparison rule for bandit-sim and does not control the false-decision "
                "rate (A/A: " +
        (spec.name == "bayes" ? "54%" : "35%") + " at alpha 0.05); use " +
        ValidRule(spec, allocation.adaptive));
  }
  if (allocation.adaptive && (spec.name == "fixed_horizon" || spec.name == "sequential")) {
    return InvalidArgument(where +
                           "assumes a fixed allocation, but a bandit policy adapts it to the "
                           "rewards (the arms' means are then biased and no error rate is "
                           "guaranteed); use " +
                           ValidRule(spec, true));
  }
  if (spec.name == "sequential" && !allocation.weights.empty()) {
    const double smallest =
        *std::min_element(allocation.weights.begin(), allocation.weights.end());
    if (smallest > 0 && smallest < kSequentialMinShare) {
      return InvalidArgument(where + "was validated down to a 99/1 split; a share of " +
                             std::to_string(smallest) + " is beyond it; use " +
                             ValidRule(spec, false));
    }
  }
  return Status::Ok();
}

}  // namespace banditd
