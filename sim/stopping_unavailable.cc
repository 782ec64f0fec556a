// Linked only while the build has no banditd_stats library: stopping rules
// are then reported as unavailable instead of failing to link.
#include "banditd/stopping.h"

namespace banditd {

Result<std::unique_ptr<StoppingRule>> MakeStoppingRule(const StoppingSpec& spec) {
  return Status(
      Code::kFailedPrecondition,
      "stopping rule '" + spec.name + "': this build has no stopping rules (banditd_stats)");
}

std::span<const std::string_view> StoppingRuleNames() { return {}; }

}  // namespace banditd
