// The decision log (DESIGN.md §6): every decision and every joined reward,
// appended as tab-separated lines to rotating files `decisions-<n>.tsv` in
// the state dir — the input of `bandit-sim ope` and of post-hoc analysis.
//
//   D <wall_ns> <exp> <epoch> <decision> <arm> <propensity> <forced 0|1> <unit_hash|-> <context|->
//   <output|-> R <wall_ns> <exp> <decision> <arm> <value> S <wall_ns> <exp> <decision> <arm>
//   <latency_us> <output|->      (shadow-mode outputs)
//
// Lists (context, output) are comma-separated numbers. Lines are buffered and
// written when the buffer fills or on Flush (the server flushes every second
// and at shutdown): a crash can lose the last second of the log, never the
// WAL's acknowledged rewards.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/status.h"
#include "src/state/env.h"

namespace banditd::state {

struct DecisionLogOptions {
  size_t buffer_bytes = 1 << 20;
  uint64_t rotate_bytes = 256ull << 20;
};

// Formats decision-log lines into a memory buffer; no I/O. The DecisionLog
// writes its own; each extra I/O thread of the server formats its decisions
// into one and hands the text to the log (DecisionLog::Append), so the lines
// are formatted off the thread that owns the file.
class LineBuffer {
 public:
  void Decision(int64_t wall_ns, std::string_view exp, uint16_t epoch, std::string_view decision,
                std::string_view arm, double propensity, bool forced, uint64_t unit_hash,
                std::span<const double> context, std::span<const float> output);
  void Reward(int64_t wall_ns, std::string_view exp, std::string_view decision,
              std::string_view arm, double value);
  void Shadow(int64_t wall_ns, std::string_view exp, std::string_view decision,
              std::string_view arm, double latency_us, std::span<const float> output);

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
  static Result<std::unique_ptr<DecisionLog>> Open(Env& env, std::string dir,
                                                   DecisionLogOptions options = {});
  ~DecisionLog();

  void Decision(int64_t wall_ns, std::string_view exp, uint16_t epoch, std::string_view decision,
                std::string_view arm, double propensity, bool forced, uint64_t unit_hash,
                std::span<const double> context, std::span<const float> output) {
    buf_.Decision(wall_ns, exp, epoch, decision, arm, propensity, forced, unit_hash, context,
                  output);
    MaybeFlush();
  }
  void Reward(int64_t wall_ns, std::string_view exp, std::string_view decision,
              std::string_view arm, double value) {
    buf_.Reward(wall_ns, exp, decision, arm, value);
    MaybeFlush();
  }
  void Shadow(int64_t wall_ns, std::string_view exp, std::string_view decision,
              std::string_view arm, double latency_us, std::span<const float> output) {
    buf_.Shadow(wall_ns, exp, decision, arm, latency_us, output);
    MaybeFlush();
  }
  // Appends `lines` whole lines formatted elsewhere (a LineBuffer's text).
  void Append(std::string_view text, uint64_t lines);

  // Writes the buffer out (no fsync). Errors are sticky and counted; the log
  // is best-effort and never blocks acknowledgements.
  Status Flush();
  uint64_t lines() const { return lines_ + buf_.lines(); }
  uint64_t write_errors() const { return write_errors_; }

 private:
  DecisionLog(Env& env, std::string dir, DecisionLogOptions options)
      : env_(env), dir_(std::move(dir)), options_(options) {}
  Status OpenNext();
  void MaybeFlush() {
    if (buf_.text().size() >= options_.buffer_bytes) (void)Flush();
  }

  Env& env_;
  std::string dir_;
  DecisionLogOptions options_;
  std::unique_ptr<WritableFile> file_;
  uint64_t file_index_ = 0;
  uint64_t file_bytes_ = 0;
  LineBuffer buf_;
  uint64_t lines_ = 0;  // flushed (or dropped on a write error)
  uint64_t write_errors_ = 0;
};

// One parsed line of a decision log.
struct LogRow {
  char kind = 0;  // 'D', 'R' or 'S'
  int64_t wall_ns = 0;
  std::string exp, decision, arm;
  uint16_t epoch = 0;
  double propensity = 0;        // D
  bool forced = false;          // D
  uint64_t unit_hash = 0;       // D
  std::vector<double> context;  // D
  std::vector<double> output;   // D, S
  double value = 0;             // R: the reward; S: latency in µs
};

// Parses a decision log file. kCorruption names the line for a malformed one.
Result<std::vector<LogRow>> ReadDecisionLog(std::string_view text, const std::string& name);

// The decision log files in `dir`, oldest first.
Result<std::vector<std::string>> DecisionLogFiles(Env& env, const std::string& dir);

}  // namespace banditd::state
