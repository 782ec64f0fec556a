#include "src/state/decision_log.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>

namespace banditd::state {
namespace {

void AppendNumber(std::string& out, double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Names and ids are written verbatim; tabs and newlines (never valid in
// experiment or arm names) are replaced so a line always parses.
void AppendField(std::string& out, std::string_view s) {
  // Whole runs are appended at once: names almost never hold such bytes.
  // (A plain loop: string_view::find_first_of calls memchr once per byte.)
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '\t' && c != '\n' && c != '\r') continue;
    out.append(s.data() + run, i - run);
    out += '_';
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
}

template <typename T>
void AppendList(std::string& out, std::span<const T> xs) {
  if (xs.empty()) {
    out += '-';
    return;
  }
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i) out += ',';
    AppendNumber(out, static_cast<double>(xs[i]));
  }
}

std::string FileName(uint64_t index) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "decisions-%06llu.tsv", static_cast<unsigned long long>(index));
  return buf;
}

bool ParseIndex(std::string_view name, uint64_t* index) {
  if (name.size() != 20 || name.substr(0, 10) != "decisions-" || name.substr(16) != ".tsv") {
    return false;
  }
  auto r = std::from_chars(name.data() + 10, name.data() + 16, *index);
  return r.ec == std::errc() && r.ptr == name.data() + 16;
}

}  // namespace

Result<std::unique_ptr<DecisionLog>> DecisionLog::Open(Env& env, std::string dir,
                                                       DecisionLogOptions options, Clock& clock) {
  std::unique_ptr<DecisionLog> log(new DecisionLog(env, std::move(dir), options, clock));
  auto files = DecisionLogFiles(env, log->dir_);
  if (!files.ok()) return files.status();
  // Always start a new file: a crash may have left the last one mid-line.
  // The files of earlier runs count towards retention, oldest first.
  std::vector<std::pair<uint64_t, std::string>> old;
  for (const auto& f : *files) {
    uint64_t index = 0;
    if (!ParseIndex(f, &index)) continue;
    log->file_index_ = std::max(log->file_index_, index + 1);
    old.emplace_back(index, f);
  }
  std::sort(old.begin(), old.end());
  for (const auto& [index, name] : old) {
    auto info = env.Stat(log->dir_ + "/" + name);
    if (!info.ok()) continue;  // gone meanwhile, or unreadable: not ours to manage
    log->closed_.push_back(ClosedFile{name, info->size, info->mtime_ns});
    log->closed_bytes_ += info->size;
  }
  BANDITD_RETURN_IF_ERROR(log->OpenNext());
  log->ApplyRetention(0);
  log->buf_.text().reserve(options.buffer_bytes + 4096);
  return log;
}

DecisionLog::~DecisionLog() {
  (void)Flush();
  if (file_) (void)file_->Close();
}

std::string_view DecisionLogStateName(DecisionLogState state) {
  static constexpr std::string_view kNames[] = {"writing", "disk_reserve", "write_error"};
  return kNames[static_cast<size_t>(state)];
}

// Closes the current file (it joins the closed files retention manages) and
// opens the next one. The new file is written to only in Write.
Status DecisionLog::OpenNext() {
  if (file_) {
    (void)file_->Close();
    file_.reset();
    uint64_t bytes = file_bytes_;
    if (file_torn_) {  // a partial write could not be cut off: its true size
      auto info = env_.Stat(dir_ + "/" + file_name_);
      if (info.ok()) bytes = info->size;
    }
    closed_.push_back(ClosedFile{file_name_, bytes, clock_.WallNanos()});
    closed_bytes_ += bytes;
  }
  file_name_ = FileName(file_index_++);
  file_bytes_ = 0;
  file_torn_ = false;
  // A fresh name: appending and creating are the same, and after cutting off
  // a failed write the next one lands at the new end.
  auto f = env_.OpenAppendable(dir_ + "/" + file_name_);
  if (!f.ok()) return f.status();
  file_ = std::move(f).value();
  return Status::Ok();
}

void DecisionLog::ApplyRetention(uint64_t incoming) {
  const int64_t now = clock_.WallNanos();
  while (!closed_.empty()) {
    const ClosedFile& oldest = closed_.front();
    const bool too_old = options_.max_age_ns > 0 && now - oldest.mtime_ns > options_.max_age_ns;
    const bool too_big = total_bytes() + incoming > options_.max_bytes;
    if (!too_old && !too_big) return;
    if (!RemoveOldest()) return;  // tried again at the next flush
  }
}

bool DecisionLog::RemoveOldest() {
  const ClosedFile& oldest = closed_.front();
  const std::string path = dir_ + "/" + oldest.name;
  // A file someone else deleted is forgotten, not counted.
  const bool gone = env_.Stat(path).status().code() == Code::kNotFound;
  if (!gone) {
    if (!env_.Remove(path).ok()) return false;
    ++stats_.files_removed;
    stats_.bytes_removed += oldest.bytes;
  }
  closed_bytes_ -= oldest.bytes;
  closed_.erase(closed_.begin());
  return true;
}

bool DecisionLog::HasReserve(uint64_t incoming, uint64_t margin) {
  auto free = env_.FreeBytes(dir_);
  // Unknown free space does not stop the log: a write that fails does.
  return !free.ok() || *free >= options_.min_free_bytes + margin + incoming;
}

bool DecisionLog::ReadyToResume() {
  const int64_t now = clock_.MonoNanos();
  if (now < next_retry_ns_) return false;
  next_retry_ns_ = now + retry_backoff_ns_;
  if (!HasReserve(buf_.text().size(), options_.resume_margin())) return false;
  if (!file_ || file_torn_) {
    Status s = OpenNext();
    if (!s.ok()) {
      ++stats_.write_errors;
      return false;
    }
  }
  gap_note_ = "# " + std::to_string(gap_dropped_) + " lines dropped from " +
              std::to_string(gap_from_ns_) + " to " + std::to_string(clock_.WallNanos()) +
              " ns: " + std::string(DecisionLogStateName(state_)) + "\n";
  return true;
}

void DecisionLog::SetState(DecisionLogState state, std::string message) {
  if (state != DecisionLogState::kWriting) {
    gap_from_ns_ = clock_.WallNanos();
    gap_dropped_ = 0;
    dropped_since_stop_ = 0;
    retry_backoff_ns_ = options_.retry_interval_ns;
    next_retry_ns_ = clock_.MonoNanos() + retry_backoff_ns_;
  }
  state_ = state;
  on_probation_ = false;
  // Changes are rate-limited by the retry interval; the cap only guards a
  // caller that never takes them.
  if (events_.size() < 64) events_.push_back(DecisionLogEvent{state, std::move(message)});
}

void DecisionLog::DropLines(uint64_t n) {
  stats_.lines += n;
  dropped_since_stop_ += n;
  gap_dropped_ += n;
  (state_ == DecisionLogState::kStoppedDiskReserve ? stats_.dropped_disk_reserve
                                                   : stats_.dropped_write_error) += n;
}

void DecisionLog::DropBuffer() {
  DropLines(pending_lines());
  buf_.Clear();
  appended_lines_ = 0;
}

DecisionLogStats DecisionLog::stats() const {
  DecisionLogStats s = stats_;
  s.lines = lines();
  s.bytes = total_bytes();
  s.files = closed_.size() + (file_ ? 1 : 0);
  return s;
}

void LineBuffer::Head(char kind, int64_t wall_ns, std::string_view exp) {
  buf_ += kind;
  buf_ += '\t';
  AppendInt(buf_, wall_ns);
  Field(exp);
}

void LineBuffer::Field(std::string_view s) {
  buf_ += '\t';
  AppendField(buf_, s);
}

void LineBuffer::Decision(const DecisionLine& d) {
  Head('D', d.wall_ns, d.exp);
  buf_ += '\t';
  AppendInt(buf_, d.epoch);
  Field(d.decision);
  Field(d.arm);
  buf_ += '\t';
  const double propensity = d.propensity;
  if (propensity != last_propensity_) {
    auto r = std::to_chars(last_propensity_text_,
                           last_propensity_text_ + sizeof last_propensity_text_, propensity);
    last_propensity_len_ = static_cast<size_t>(r.ptr - last_propensity_text_);
    last_propensity_ = propensity;
  }
  buf_.append(last_propensity_text_, last_propensity_len_);
  buf_ += d.forced ? "\t1\t" : "\t0\t";
  uint64_t unit_hash = d.unit_hash;
  if (unit_hash == 0) {
    buf_ += '-';
  } else {
    char hex[16];
    for (int i = 15; i >= 0; --i, unit_hash >>= 4) hex[i] = "0123456789abcdef"[unit_hash & 0xf];
    buf_.append(hex, sizeof hex);
  }
  buf_ += '\t';
  AppendList(buf_, d.context);
  buf_ += '\t';
  AppendList(buf_, d.output);
  EndLine();
}

void LineBuffer::Reward(int64_t wall_ns, std::string_view exp, std::string_view decision,
                        std::string_view arm, double value) {
  Head('R', wall_ns, exp);
  Field(decision);
  Field(arm);
  buf_ += '\t';
  AppendNumber(buf_, value);
  EndLine();
}

void LineBuffer::Experiment(int64_t wall_ns, std::string_view exp, uint16_t epoch,
                            std::string_view champion, std::span<const std::string> arms) {
  Head('E', wall_ns, exp);
  Field(std::to_string(epoch));
  Field(champion);
  buf_ += '\t';
  for (size_t i = 0; i < arms.size(); ++i) {
    if (i > 0) buf_ += ',';
    buf_ += arms[i];
  }
  EndLine();
}

void LineBuffer::Look(int64_t wall_ns, std::string_view exp, uint16_t epoch, uint64_t looks) {
  Head('L', wall_ns, exp);
  Field(std::to_string(epoch));
  Field(std::to_string(looks));
  EndLine();
}

void LineBuffer::Shadow(int64_t wall_ns, std::string_view exp, std::string_view decision,
                        std::string_view arm, double latency_us, std::span<const float> output) {
  Head('S', wall_ns, exp);
  Field(decision);
  Field(arm);
  buf_ += '\t';
  AppendNumber(buf_, latency_us);
  buf_ += '\t';
  AppendList(buf_, output);
  EndLine();
}

void DecisionLog::Append(std::string_view text, uint64_t lines) {
  if (state_ != DecisionLogState::kWriting) return DropLines(lines);
  buf_.text().append(text);
  appended_lines_ += lines;
  MaybeFlush();
}

Status DecisionLog::Flush() {
  // Room for the file header and a gap note besides the buffer.
  constexpr uint64_t kPrefixSlack = 256;
  ApplyRetention(buf_.text().empty() ? 0 : buf_.text().size() + kPrefixSlack);
  if (state_ == DecisionLogState::kWriting) {
    if (buf_.text().empty()) return Status::Ok();
    if (!HasReserve(buf_.text().size(), 0)) {
      auto free = env_.FreeBytes(dir_);
      SetState(DecisionLogState::kStoppedDiskReserve,
               "decision log stopped: " + std::to_string(free.ok() ? *free : 0) +
                   " bytes free in " + dir_ + ", below the reserve of " +
                   std::to_string(options_.min_free_bytes) +
                   " bytes (decision_log.min_free_bytes) kept for the WAL; lines are dropped "
                   "and counted until space is back");
      DropBuffer();
      return Status::Ok();
    }
  } else if (!ReadyToResume()) {
    DropBuffer();
    return Status::Ok();
  }
  const DecisionLogState was = state_;
  const bool has_lines = pending_lines() > 0;
  Status s = Write();
  if (!s.ok()) {
    if (was == DecisionLogState::kWriting && !on_probation_) {
      SetState(DecisionLogState::kStoppedWriteError,
               "decision log stopped: " + s.ToString() +
                   "; lines are dropped and counted until a write succeeds");
    } else {  // a failed retry, or the error is back: stopped, quietly, retried less often
      state_ = DecisionLogState::kStoppedWriteError;
      on_probation_ = false;
      if (was == DecisionLogState::kWriting) gap_from_ns_ = clock_.WallNanos();
      retry_backoff_ns_ = std::min(retry_backoff_ns_ * 2, 32 * options_.retry_interval_ns);
      next_retry_ns_ = clock_.MonoNanos() + retry_backoff_ns_;
    }
    DropBuffer();
    return s;
  }
  if (was == DecisionLogState::kStoppedDiskReserve) {
    SetState(DecisionLogState::kWriting, ResumedMessage(was));
  } else if (was == DecisionLogState::kStoppedWriteError) {
    state_ = DecisionLogState::kWriting;
    on_probation_ = true;
  }
  if (on_probation_ && has_lines) {
    SetState(DecisionLogState::kWriting, ResumedMessage(DecisionLogState::kStoppedWriteError));
  }
  if (file_bytes_ >= options_.file_bytes()) {
    Status r = OpenNext();
    if (!r.ok()) {
      file_torn_ = true;  // no file: the next write attempt opens one
      SetState(DecisionLogState::kStoppedWriteError,
               "decision log stopped: " + r.ToString() +
                   "; lines are dropped and counted until a write succeeds");
      return r;
    }
  }
  return Status::Ok();
}

std::string DecisionLog::ResumedMessage(DecisionLogState was) const {
  return "decision log writing again after " + std::string(DecisionLogStateName(was)) + ": " +
         std::to_string(dropped_since_stop_) + " lines were dropped";
}

// Writes the header (new file), the gap note and the buffer. A failed write
// is cut off so the file still ends with a whole line.
Status DecisionLog::Write() {
  std::string prefix;
  if (file_bytes_ == 0) prefix = "# banditd decision log v1\n";
  prefix += gap_note_;
  Status s = file_ ? Status::Ok() : Status(Code::kIoError, "no decision log file open");
  if (s.ok() && !prefix.empty()) s = file_->Append(prefix);
  if (s.ok()) s = file_->Append(buf_.text());
  if (!s.ok()) {
    ++stats_.write_errors;
    if (file_ && !env_.Truncate(dir_ + "/" + file_name_, file_bytes_).ok()) file_torn_ = true;
    return s;
  }
  file_bytes_ += prefix.size() + buf_.text().size();
  if (!gap_note_.empty()) {
    gap_note_.clear();
    gap_dropped_ = 0;
  }
  stats_.lines += pending_lines();
  buf_.Clear();
  appended_lines_ = 0;
  return Status::Ok();
}

Result<std::vector<std::string>> DecisionLogFiles(Env& env, const std::string& dir) {
  auto names = env.List(dir);
  if (!names.ok()) return names.status();
  std::vector<std::string> out;
  for (const auto& n : *names) {
    uint64_t index;
    if (ParseIndex(n, &index)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());  // fixed-width indexes: oldest first
  return out;
}

Result<std::vector<LogRow>> ReadDecisionLogPath(Env& env, const std::string& path,
                                                const LogFileCheck& check, size_t* files_read) {
  std::vector<std::string> files;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    auto names = DecisionLogFiles(env, path);
    if (!names.ok()) return names.status();
    for (const auto& n : *names) files.push_back(path + "/" + n);
    if (files.empty()) {
      return Status(Code::kNotFound, "no decision log files (decisions-*.tsv) in '" + path + "'");
    }
  } else {
    files.push_back(path);
  }
  std::vector<LogRow> rows;
  for (const auto& f : files) {
    auto text = env.ReadFile(f);
    if (!text.ok()) return text.status().WithContext("reading the decision log");
    if (check) BANDITD_RETURN_IF_ERROR(check(*text, f));
    auto parsed = ReadDecisionLog(*text, f);
    if (!parsed.ok()) return parsed.status();
    for (auto& r : *parsed) rows.push_back(std::move(r));
  }
  *files_read = files.size();
  return rows;
}

namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? s.size() - start : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

template <typename T>
bool ParseNum(std::string_view s, T* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool ParseList(std::string_view s, std::vector<double>* out) {
  out->clear();
  if (s == "-") return true;
  for (auto part : Split(s, ',')) {
    double v;
    if (!ParseNum(part, &v)) return false;
    out->push_back(v);
  }
  return true;
}

}  // namespace

Result<std::vector<LogRow>> ReadDecisionLog(std::string_view text, const std::string& name) {
  std::vector<LogRow> rows;
  size_t line_no = 0;
  for (auto line : Split(text, '\n')) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const auto f = Split(line, '\t');
    LogRow r;
    r.kind = f[0].size() == 1 ? f[0][0] : 0;
    bool ok = f.size() >= 2 && ParseNum(f[1], &r.wall_ns);
    if (ok && r.kind == 'D' && f.size() == 11) {
      r.exp = f[2];
      ok = ParseNum(f[3], &r.epoch);
      r.decision = f[4];
      r.arm = f[5];
      ok = ok && ParseNum(f[6], &r.propensity) && (f[7] == "0" || f[7] == "1");
      r.forced = f[7] == "1";
      if (ok && f[8] != "-") {
        auto res = std::from_chars(f[8].data(), f[8].data() + f[8].size(), r.unit_hash, 16);
        ok = res.ec == std::errc();
      }
      ok = ok && ParseList(f[9], &r.context) && ParseList(f[10], &r.output);
    } else if (ok && r.kind == 'R' && f.size() == 6) {
      r.exp = f[2];
      r.decision = f[3];
      r.arm = f[4];
      ok = ParseNum(f[5], &r.value);
    } else if (ok && r.kind == 'E' && f.size() == 6) {
      r.exp = f[2];
      ok = ParseNum(f[3], &r.epoch);
      r.arm = f[4];
      for (auto a : Split(f[5], ',')) r.arms.emplace_back(a);
      ok = ok && std::find(r.arms.begin(), r.arms.end(), r.arm) != r.arms.end();
    } else if (ok && r.kind == 'L' && f.size() == 5) {
      r.exp = f[2];
      ok = ParseNum(f[3], &r.epoch) && ParseNum(f[4], &r.looks);
    } else if (ok && r.kind == 'S' && f.size() == 7) {
      r.exp = f[2];
      r.decision = f[3];
      r.arm = f[4];
      ok = ParseNum(f[5], &r.value) && ParseList(f[6], &r.output);
    } else {
      ok = false;
    }
    // A torn last line (a crash mid-write) is skipped; anywhere else it is an error.
    if (!ok) {
      const bool last = line_no >= static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
      if (last) break;
      return Status(Code::kCorruption,
                    name + " line " + std::to_string(line_no) + ": not a decision log line");
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace banditd::state
