// `bandit-sim analyze EVENTS.csv --rule NAME ...`: replays rewarded
// decisions through the stopping rule the daemon would build, looking at the
// daemon's cadence, and prints the decision, the look it came at and the
// rule's running p and interval (docs/statistics.md, "Offline analysis").
//
// The event file is CSV with the header columns t,arm,reward,propensity and
// an optional look (any order): t is seconds since the experiment started,
// arm the arm that served, reward its reward, propensity the probability
// with which the arm was chosen, look 1 when the rule looked right after
// this event (0 otherwise). Blank lines and lines starting with '#' are
// skipped. `bandit-sim export-events` writes such a file from the daemon's
// decision log (src/stats/decision_events.h).
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/status.h"
#include "banditd/stopping.h"

namespace banditd::stats {

struct ReplayEvent {
  double t = 0;
  size_t arm = 0;  // index into EventFile::arms
  double reward = 0;
  double propensity = 1;
  bool look = false;
  size_t line = 0;  // in the file, for messages
};

struct EventFile {
  std::vector<std::string> arms;  // the declared arms, else in order of first appearance
  std::vector<ReplayEvent> events;
  bool has_look_column = false;
};

// Parses and validates the event CSV. With `declared_arms` non-empty, every
// event's arm must be one of them (and they are the arms, in that order).
// Errors name the line: missing/unknown/duplicate columns, wrong field
// counts, non-numbers, NaN/inf, t < 0, propensity outside (0, 1], look not
// 0 or 1, empty or undeclared arm names; and a file without events.
Result<EventFile> ParseEventCsv(std::string_view text,
                                const std::vector<std::string>& declared_arms = {});

struct ReplayOptions {
  std::string events_path;
  // The experiment's arms in config order (empty: as they first appear in
  // the file) and its champion (empty: the first arm).
  std::vector<std::string> arms;
  std::string control;
  // A look after every `look_every` events; 0: at the rows the file's look
  // column marks.
  uint64_t look_every = 0;
  bool trace = false;  // print every look, not only the deciding one
  bool json = false;
};

// Builds the rule's spec for `num_arms` arms with the champion at `control`
// (bandit-sim passes config::StoppingSpecFromFlags, the daemon's path).
using SpecFactory = std::function<Result<StoppingSpec>(size_t num_arms, size_t control)>;

// One look of the replay.
struct ReplayLook {
  uint64_t look = 0;    // 1-based
  uint64_t events = 0;  // events observed before it
  double t = 0;         // the elapsed seconds passed to SetElapsed
  StopDecision decision;
};

struct ReplayResult {
  std::vector<ReplayLook> looks;  // up to and including the deciding one
  uint64_t events = 0;            // events in the file
};

// Feeds the events to `rule` in order (Observe with the logged propensity)
// and looks where `look_every` (or the file) says, after SetElapsed(t);
// stops at the first look that decides.
ReplayResult Replay(const EventFile& file, uint64_t look_every, StoppingRule& rule);

// Returns the exit code: 0 when the replay was printed to `out`, 2 when the
// file, the flags or the rule's parameters are unusable (reason on `err`).
int RunReplayCommand(const ReplayOptions& options, const SpecFactory& make_spec,
                     std::ostream& out, std::ostream& err);

}  // namespace banditd::stats
