// PNG plots of a simulation, drawn by gnuplot: regret against
// T on a log axis with the Lai–Robbins slope line, and the best arm's share
// of traffic over time. The data and the gnuplot scripts stay beside the PNGs
// (plots/) so a figure can be redrawn or restyled.
#pragma once

#include <string>
#include <vector>

#include "banditd/status.h"
#include "sim/engine.h"

namespace banditd::sim {

// Writes regret[-VARIANT].png and allocation[-VARIANT].png per result into
// `dir`. Fails with kFailedPrecondition when gnuplot is not installed.
Result<std::vector<std::string>> WritePlots(const std::vector<ScenarioResult>& results,
                                            const std::string& dir);

}  // namespace banditd::sim
