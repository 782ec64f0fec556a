#include "src/state/decision_log.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

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
                                                       DecisionLogOptions options) {
  std::unique_ptr<DecisionLog> log(new DecisionLog(env, std::move(dir), options));
  auto files = DecisionLogFiles(env, log->dir_);
  if (!files.ok()) return files.status();
  // Always start a new file: a crash may have left the last one mid-line.
  for (const auto& f : *files) {
    uint64_t index = 0;
    if (ParseIndex(f, &index)) log->file_index_ = std::max(log->file_index_, index + 1);
  }
  BANDITD_RETURN_IF_ERROR(log->OpenNext());
  log->buf_.text().reserve(options.buffer_bytes + 4096);
  return log;
}

DecisionLog::~DecisionLog() {
  (void)Flush();
  if (file_) (void)file_->Close();
}

Status DecisionLog::OpenNext() {
  if (file_) (void)file_->Close();
  auto f = env_.OpenWritable(dir_ + "/" + FileName(file_index_++));
  if (!f.ok()) return f.status();
  file_ = std::move(f).value();
  file_bytes_ = 0;
  buf_.text() += "# banditd decision log v1\n";
  return Status::Ok();
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

void LineBuffer::Decision(int64_t wall_ns, std::string_view exp, uint16_t epoch,
                          std::string_view decision, std::string_view arm, double propensity,
                          bool forced, uint64_t unit_hash, std::span<const double> context,
                          std::span<const float> output) {
  Head('D', wall_ns, exp);
  buf_ += '\t';
  AppendInt(buf_, epoch);
  Field(decision);
  Field(arm);
  buf_ += '\t';
  if (propensity != last_propensity_) {
    auto r = std::to_chars(last_propensity_text_,
                           last_propensity_text_ + sizeof last_propensity_text_, propensity);
    last_propensity_len_ = static_cast<size_t>(r.ptr - last_propensity_text_);
    last_propensity_ = propensity;
  }
  buf_.append(last_propensity_text_, last_propensity_len_);
  buf_ += forced ? "\t1\t" : "\t0\t";
  if (unit_hash == 0) {
    buf_ += '-';
  } else {
    char hex[16];
    for (int i = 15; i >= 0; --i, unit_hash >>= 4) hex[i] = "0123456789abcdef"[unit_hash & 0xf];
    buf_.append(hex, sizeof hex);
  }
  buf_ += '\t';
  AppendList(buf_, context);
  buf_ += '\t';
  AppendList(buf_, output);
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
  buf_.text().append(text);
  lines_ += lines;
  MaybeFlush();
}

Status DecisionLog::Flush() {
  if (buf_.text().empty() || !file_) return Status::Ok();
  lines_ += buf_.lines();
  Status s = file_->Append(buf_.text());
  if (!s.ok()) {
    ++write_errors_;
    buf_.Clear();  // best effort: never grow without bound on a broken disk
    return s;
  }
  file_bytes_ += buf_.text().size();
  buf_.Clear();
  if (file_bytes_ >= options_.rotate_bytes) return OpenNext();
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
  return out;
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
