// The decision log: every decision and every joined reward,
// appended as tab-separated lines to rotating files `decisions-<n>.tsv` in
// the state dir — the input of `bandit-sim ope` and of post-hoc analysis.
//
//   D <wall_ns> <exp> <epoch> <decision> <arm> <propensity> <forced 0|1>
//     <unit_hash|-> <context|-> <output|->
//   R <wall_ns> <exp> <decision> <arm> <value>
//   S <wall_ns> <exp> <decision> <arm> <latency_us> <output|->   (shadow-mode outputs)
//   E <wall_ns> <exp> <epoch> <champion> <arm,arm,...>   (at start and at each new epoch)
//   L <wall_ns> <exp> <epoch> <looks>   (the stopping rule looked, having seen every R
//                                        line of the experiment above this one)
//
// Lists (context, output) are comma-separated numbers. Lines are buffered and
// written when the buffer fills or on Flush (the server flushes every second
// and at shutdown): a crash can lose the last second of the log, never the
// WAL's acknowledged rewards.
//
// The log shares the state dir with the WAL and must never take the space
// the WAL needs. Retention keeps its files within `max_bytes` and `max_age`
// (oldest removed first, never the file being written). Before each write it
// checks the filesystem's free space: below `min_free_bytes` it stops writing
// (lines are dropped and counted) until space is back; a failed write stops it
// the same way until a later write succeeds. Both checks happen per flush,
// never per line.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "banditd/clock.h"
#include "banditd/status.h"
#include "src/state/env.h"

namespace banditd::state {

struct DecisionLogOptions {
  size_t buffer_bytes = 1 << 20;
  // A file is closed after this many bytes; never more than max_bytes / 4,
  // so retention frees space in steps of at most a quarter of the budget.
  uint64_t rotate_bytes = 256ull << 20;
  // Retention: the decision-log files together stay within max_bytes, and a
  // closed file is removed once it was last written more than max_age_ns ago
  // (0: no age limit).
  uint64_t max_bytes = 1ull << 30;
  int64_t max_age_ns = int64_t{7} * 86'400 * 1'000'000'000;
  // Writing stops while the filesystem has less free space than this (plus
  // the write itself), and resumes at min_free_bytes + resume_margin().
  uint64_t min_free_bytes = 256ull << 20;
  // While stopped, free space (or the failed file) is re-checked at most this
  // often; flushes in between only drop. After a write error the interval
  // doubles with each failed retry, up to 32 times this.
  int64_t retry_interval_ns = 1'000'000'000;

  uint64_t file_bytes() const {
    return std::max<uint64_t>(1, std::min(rotate_bytes, max_bytes / 4));
  }
  // Hysteresis, so a log at the edge of the reserve does not flap.
  uint64_t resume_margin() const { return std::max<uint64_t>(buffer_bytes, min_free_bytes / 16); }
};

enum class DecisionLogState { kWriting, kStoppedDiskReserve, kStoppedWriteError };
// "writing", "disk_reserve", "write_error".
std::string_view DecisionLogStateName(DecisionLogState state);

// A change between writing and stopped, for the server to log (once per change).
struct DecisionLogEvent {
  DecisionLogState state;  // the new state
  std::string message;
};

// What retention removed and what was dropped, for /metrics.
struct DecisionLogStats {
  uint64_t lines = 0;                 // every line handed to the log
  uint64_t dropped_disk_reserve = 0;  // lines dropped while below the reserve
  uint64_t dropped_write_error = 0;   // lines dropped by or after a failed write
  uint64_t write_errors = 0;          // failed writes (including retries)
  uint64_t files_removed = 0;         // by retention
  uint64_t bytes_removed = 0;
  uint64_t bytes = 0;  // the decision-log files in the dir now
  uint64_t files = 0;
};

// One D line: a decision as the log records it.
struct DecisionLine {
  int64_t wall_ns = 0;
  std::string_view exp;
  uint16_t epoch = 0;
  std::string_view decision;  // the id as the client got it
  std::string_view arm;
  double propensity = 1.0;
  bool forced = false;        // the client named the arm
  uint64_t unit_hash = 0;     // 0: no unit
  std::span<const double> context;
  std::span<const float> output;  // the model's, when it ran
};

// Formats decision-log lines into a memory buffer; no I/O. The DecisionLog
// writes its own; each extra I/O thread of the server formats its decisions
// into one and hands the text to the log (DecisionLog::Append), so the lines
// are formatted off the thread that owns the file.
class LineBuffer {
 public:
  void Decision(const DecisionLine& d);
  void Reward(int64_t wall_ns, std::string_view exp, std::string_view decision,
              std::string_view arm, double value);
  void Shadow(int64_t wall_ns, std::string_view exp, std::string_view decision,
              std::string_view arm, double latency_us, std::span<const float> output);
  void Experiment(int64_t wall_ns, std::string_view exp, uint16_t epoch, std::string_view champion,
                  std::span<const std::string> arms);
  void Look(int64_t wall_ns, std::string_view exp, uint16_t epoch, uint64_t looks);

  std::string& text() { return buf_; }
  const std::string& text() const { return buf_; }
  // Whole lines formatted since the last Clear().
  uint64_t lines() const { return lines_; }
  void Clear() {
    buf_.clear();
    lines_ = 0;
  }

 private:
  // "<kind>\t<wall_ns>\t<exp>", then "\t<s>" per field.
  void Head(char kind, int64_t wall_ns, std::string_view exp);
  void Field(std::string_view s);
  void EndLine() {
    buf_ += '\n';
    ++lines_;
  }

  std::string buf_;
  uint64_t lines_ = 0;
  // The last propensity written and its text: an allocation changes only when
  // it is refreshed, so most decisions repeat it, and shortest round-trip
  // formatting of a double is the costliest part of a line.
  double last_propensity_ = std::numeric_limits<double>::quiet_NaN();
  char last_propensity_text_[32] = {};
  size_t last_propensity_len_ = 0;
};

class DecisionLog {
 public:
  // Time (file ages, the retry interval) comes from `clock`.
  static Result<std::unique_ptr<DecisionLog>> Open(Env& env, std::string dir,
                                                   DecisionLogOptions options = {},
                                                   Clock& clock = SystemClock::Instance());
  ~DecisionLog();

  void Decision(const DecisionLine& d) {
    if (state_ != DecisionLogState::kWriting) return DropLines(1);
    buf_.Decision(d);
    MaybeFlush();
  }
  void Reward(int64_t wall_ns, std::string_view exp, std::string_view decision,
              std::string_view arm, double value) {
    if (state_ != DecisionLogState::kWriting) return DropLines(1);
    buf_.Reward(wall_ns, exp, decision, arm, value);
    MaybeFlush();
  }
  void Shadow(int64_t wall_ns, std::string_view exp, std::string_view decision,
              std::string_view arm, double latency_us, std::span<const float> output) {
    if (state_ != DecisionLogState::kWriting) return DropLines(1);
    buf_.Shadow(wall_ns, exp, decision, arm, latency_us, output);
    MaybeFlush();
  }
  void Experiment(int64_t wall_ns, std::string_view exp, uint16_t epoch, std::string_view champion,
                  std::span<const std::string> arms) {
    if (state_ != DecisionLogState::kWriting) return DropLines(1);
    buf_.Experiment(wall_ns, exp, epoch, champion, arms);
    MaybeFlush();
  }
  void Look(int64_t wall_ns, std::string_view exp, uint16_t epoch, uint64_t looks) {
    if (state_ != DecisionLogState::kWriting) return DropLines(1);
    buf_.Look(wall_ns, exp, epoch, looks);
    MaybeFlush();
  }
  // Appends `lines` whole lines formatted elsewhere (a LineBuffer's text).
  void Append(std::string_view text, uint64_t lines);

  // Applies retention, then writes the buffer out (no fsync) unless stopped
  // (then it is dropped and counted). The error of a failed write is
  // returned; the log is best-effort and never blocks acknowledgements.
  Status Flush();
  uint64_t lines() const { return stats_.lines + pending_lines(); }
  uint64_t write_errors() const { return stats_.write_errors; }
  DecisionLogState state() const { return state_; }
  DecisionLogStats stats() const;
  // The state changes since the last call, oldest first.
  std::vector<DecisionLogEvent> TakeEvents() { return std::exchange(events_, {}); }

 private:
  struct ClosedFile {
    std::string name;
    uint64_t bytes;
    int64_t mtime_ns;
  };

  DecisionLog(Env& env, std::string dir, DecisionLogOptions options, Clock& clock)
      : env_(env), dir_(std::move(dir)), options_(options), clock_(clock) {}
  Status OpenNext();
  void MaybeFlush() {
    if (buf_.text().size() >= options_.buffer_bytes) (void)Flush();
  }
  // While stopped, lines are counted as dropped instead of formatted.
  void DropLines(uint64_t n);
  uint64_t pending_lines() const { return appended_lines_ + buf_.lines(); }
  uint64_t total_bytes() const { return closed_bytes_ + file_bytes_; }
  // Removes closed files, oldest first, while they are older than max_age or
  // the files plus `incoming` bytes exceed max_bytes.
  void ApplyRetention(uint64_t incoming);
  bool RemoveOldest();
  // Stopped: whether to try writing again now (the retry interval passed and
  // the reason is gone).
  bool ReadyToResume();
  bool HasReserve(uint64_t incoming, uint64_t margin);
  Status Write();
  // Drops the buffered lines, counted under the current stop's reason.
  void DropBuffer();
  void SetState(DecisionLogState state, std::string message);
  std::string ResumedMessage(DecisionLogState was) const;

  Env& env_;
  std::string dir_;
  DecisionLogOptions options_;
  Clock& clock_;
  std::unique_ptr<WritableFile> file_;
  std::string file_name_;
  uint64_t file_index_ = 0;
  uint64_t file_bytes_ = 0;         // intact bytes of the current file
  bool file_torn_ = false;          // a failed write left a partial line in it
  std::vector<ClosedFile> closed_;  // oldest first
  uint64_t closed_bytes_ = 0;
  std::string gap_note_;  // a comment line on the lines dropped, written on resuming
  LineBuffer buf_;
  uint64_t appended_lines_ = 0;  // in buf_, appended whole by Append
  DecisionLogState state_ = DecisionLogState::kWriting;
  uint64_t dropped_since_stop_ = 0;  // for the message when it resumes
  int64_t gap_from_ns_ = 0;          // wall time: the gap the next note describes
  uint64_t gap_dropped_ = 0;
  // Writing again after a write error, announced once a write of lines
  // succeeds: a disk that takes a short note but not a buffer does not make
  // the log flap between stopped and writing.
  bool on_probation_ = false;
  int64_t retry_backoff_ns_ = 0;  // doubles while retries fail, up to 32 intervals
  int64_t next_retry_ns_ = 0;     // monotonic
  DecisionLogStats stats_;
  std::vector<DecisionLogEvent> events_;
};

// One parsed line of a decision log.
struct LogRow {
  char kind = 0;  // 'D', 'R', 'S', 'E' or 'L'
  int64_t wall_ns = 0;
  std::string exp, decision, arm;
  uint16_t epoch = 0;
  double propensity = 0;        // D
  bool forced = false;          // D
  uint64_t unit_hash = 0;       // D
  std::vector<double> context;  // D
  std::vector<double> output;   // D, S
  double value = 0;             // R: the reward; S: latency in µs
  std::vector<std::string> arms;  // E: every arm in configured order (`arm`: the champion)
  uint64_t looks = 0;             // L
};

// Parses a decision log file. kCorruption names the line for a malformed one.
Result<std::vector<LogRow>> ReadDecisionLog(std::string_view text, const std::string& name);

// The decision log files in `dir`, oldest first.
Result<std::vector<std::string>> DecisionLogFiles(Env& env, const std::string& dir);

// Every row of a decision log. `path` is one log file, or a directory whose
// decision log files are read oldest first (kNotFound when it has none).
// `check`, when given, vets each file's text before it is parsed. Sets
// `*files_read` to the number of files read.
using LogFileCheck = std::function<Status(std::string_view text, const std::string& file)>;
Result<std::vector<LogRow>> ReadDecisionLogPath(Env& env, const std::string& path,
                                                const LogFileCheck& check, size_t* files_read);

}  // namespace banditd::state
