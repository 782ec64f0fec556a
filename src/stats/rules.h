// Factories of the built-in stopping rules (registry in rules_registry.cc).
#pragma once

#include <memory>

#include "banditd/stopping.h"

namespace banditd::stats {

Result<std::unique_ptr<StoppingRule>> MakeFixedHorizon(const StoppingSpec& spec);
Result<std::unique_ptr<StoppingRule>> MakeNaivePeeking(const StoppingSpec& spec);
Result<std::unique_ptr<StoppingRule>> MakeSequential(const StoppingSpec& spec);
Result<std::unique_ptr<StoppingRule>> MakeBayes(const StoppingSpec& spec);
Result<std::unique_ptr<StoppingRule>> MakeBanditCs(const StoppingSpec& spec);
Result<std::unique_ptr<StoppingRule>> MakeBernoulliCs(const StoppingSpec& spec);

}  // namespace banditd::stats
