// Human output of banditctl: the status table and the allocation bars of
// `watch`. Pure functions of the decoded report, so they are easy to check.
#pragma once

#include <span>
#include <string>

#include "banditd/wire.h"

namespace banditd::ctl {

struct RenderOptions {
  int bar_width = 24;
  bool ascii = false;  // '#'/'.' instead of block characters
};

// A bar `share` (clamped to [0, 1]) of `width` cells.
std::string Bar(double share, const RenderOptions& options);

// The status table of one experiment: a header line, one row per arm
// (n, mean, ci95, allocation with its bar, p_best, p99 ms, errors), then the
// state/winner/reason line and the test line.
std::string StatusTable(const wire::ExperimentReport& report, const RenderOptions& options);

// One `watch` frame: per experiment a title line and one bar per arm.
// Every line of the frame is returned; the caller redraws in place.
std::string WatchFrame(std::span<const wire::ExperimentReport> reports,
                       const RenderOptions& options, const std::string& clock_text);

}  // namespace banditd::ctl
