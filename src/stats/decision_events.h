// `bandit-sim export-events`: the event stream a stopping rule saw, rebuilt
// offline from the daemon's decision log (src/state/decision_log.h), as the
// CSV that `bandit-sim analyze --rule` replays (src/stats/analyze_replay.h).
//
// Each R line of the experiment is joined to its D line: the rewards of the
// chosen epoch's randomised decisions, in the order the daemon applied them
// (the order of the R lines), with t = the R line's time in seconds since the
// epoch's first logged decision, and the propensity as the rule saw it
// (the D line's value, a 32-bit float in the decision id, clamped to
// [1e-6, 1] as the daemon does). Forced decisions and other epochs are left
// out, as the daemon's rule leaves them out. The log does not record looks:
// the file has no look column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "banditd/status.h"
#include "src/state/env.h"

namespace banditd::stats {

struct ExportOptions {
  std::string experiment;         // required when the log holds several
  std::optional<uint16_t> epoch;  // default: the newest epoch in the log
};

struct ExportResult {
  // Header comment lines ("# arms: ..." among them when the log names the
  // champion), then t,arm,reward,propensity[,look].
  std::string csv;
  std::string experiment;
  uint16_t epoch = 0;
  // The champion first, then the configured order, when the log has the
  // epoch's E line; else in order of their first decision in the epoch.
  std::vector<std::string> arms;
  bool champion_known = false;
  uint64_t looks = 0;  // the rule's looks in the log (L lines): the look column marks them
  uint64_t files = 0;
  uint64_t events = 0;
  uint64_t forced = 0;        // rewards of forced decisions: left out
  uint64_t other_epochs = 0;  // rewards of other epochs' decisions: left out
  uint64_t early_orphans = 0;  // rewards logged before the epoch without a decision: left out
  uint64_t duplicates = 0;     // a decision's second R line: left out, as the daemon does
};

// Reads `path` — one decision log file or a directory of decisions-*.tsv —
// and rebuilds the epoch's events. Refuses (kInvalidArgument, naming file
// and line where there is one) a log that dropped lines (its gap notes), a
// reward in the epoch whose decision is not in the log (rotated away or
// lost), several experiments without `experiment`, and an epoch without
// rewards; unreadable files come back as their I/O or corruption errors.
Result<ExportResult> ExportEvents(state::Env& env, const std::string& path,
                                  const ExportOptions& options);

}  // namespace banditd::stats
