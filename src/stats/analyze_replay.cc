#include "src/stats/analyze_replay.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "banditd/vocabulary.h"
#include "src/stats/analyze_input.h"
#include "src/stats/json_text.h"

namespace banditd::stats {
namespace {

Status LineError(size_t line, const std::string& what) {
  return InvalidArgument("line " + std::to_string(line) + ": " + what);
}

std::string_view TrimLine(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

enum Column { kT, kArm, kReward, kPropensity, kLook, kNumColumns };
constexpr std::array<std::string_view, kNumColumns> kColumnNames = {"t", "arm", "reward",
                                                                    "propensity", "look"};

std::string Num(double v, const char* fmt = "%.6g") {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string ParamText(const ParamValue& v, bool json) {
  struct Visitor {
    bool json;
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      if (!std::isfinite(d)) return json ? "null" : Num(d);
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, d);  // as written: 0.05, not 0.05000...03
      return std::string(buf, r.ptr);
    }
    std::string operator()(const std::string& s) const { return json ? JsonString(s) : s; }
    std::string operator()(const std::vector<double>& xs) const {
      std::string out = "[";
      for (size_t i = 0; i < xs.size(); ++i) out += (i ? ", " : "") + (*this)(xs[i]);
      return out + "]";
    }
  };
  return std::visit(Visitor{json}, v);
}

std::string ParamsText(const Params& p, bool json) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : p.values()) {
    out += (first ? "" : ", ") + (json ? JsonString(key) : key) + ": " + ParamText(value, json);
    first = false;
  }
  return out + "}";
}

std::string ArmName(const EventFile& f, const std::optional<size_t>& arm) {
  return arm ? f.arms[*arm] : "-";
}

void RenderText(const ReplayOptions& o, const EventFile& f, const StoppingSpec& spec,
                const ReplayResult& r, std::ostream& out) {
  out << "replay of " << o.events_path << ": " << f.events.size() << " events, " << f.arms.size()
      << " arms (";
  for (size_t i = 0; i < f.arms.size(); ++i) {
    out << (i ? ", " : "") << f.arms[i] << (i == spec.control ? " [control]" : "");
  }
  out << "), " << NameOf(spec.metric) << " metric\n"
      << "rule " << spec.name << " " << ParamsText(spec.params, false) << ", looking "
      << (o.look_every > 0 ? "every " + std::to_string(o.look_every) + " events"
                           : std::string("where the file's look column says"))
      << "\n";
  auto row = [&](const ReplayLook& l) {
    const StopDecision& d = l.decision;
    out << "  look " << l.look << ": events " << l.events << ", t " << Num(l.t) << " s, p "
        << Num(d.p_value) << ", " << ArmName(f, d.compared_arm) << " - " << f.arms[spec.control]
        << " = " << Num(d.difference) << ", interval [" << Num(d.ci_lo) << ", " << Num(d.ci_hi)
        << "], " << (d.stop ? "STOP" : "continue") << "\n";
  };
  if (o.trace) {
    out << "\nlooks:\n";
    for (const auto& l : r.looks) row(l);
  }
  out << "\n";
  if (r.looks.empty()) {
    out << "no look: the file has " << r.events << " events and no look in them\n";
    return;
  }
  const ReplayLook& last = r.looks.back();
  const StopDecision& d = last.decision;
  if (d.stop) {
    out << "decision: STOP at look " << last.look << " (after " << last.events << " of " << r.events
        << " events, t " << Num(last.t) << " s): winner "
        << (d.winner ? "'" + f.arms[*d.winner] + "'" : std::string("none")) << "\n";
  } else {
    out << "decision: none after " << r.looks.size() << " looks (" << r.events
        << " events); the last look:\n";
  }
  out << "  p " << Num(d.p_value) << "\n";
  if (d.compared_arm) {
    out << "  " << f.arms[*d.compared_arm] << " - " << f.arms[spec.control] << " = "
        << Num(d.difference) << ", interval [" << Num(d.ci_lo) << ", " << Num(d.ci_hi) << "]\n";
  }
  out << "  reason: " << d.reason << "\n";
}

void RenderJson(const ReplayOptions& o, const EventFile& f, const StoppingSpec& spec,
                const ReplayResult& r, std::ostream& out) {
  auto look = [&](const ReplayLook& l) {
    const StopDecision& d = l.decision;
    return "{\"look\": " + std::to_string(l.look) + ", \"events\": " + std::to_string(l.events) +
           ", \"t\": " + JsonNumber(l.t) + ", \"stop\": " + (d.stop ? "true" : "false") +
           ", \"winner\": " + (d.winner ? JsonString(f.arms[*d.winner]) : "null") +
           ", \"p_value\": " + JsonNumber(d.p_value) + ", \"compared_arm\": " +
           (d.compared_arm ? JsonString(f.arms[*d.compared_arm]) : "null") +
           ", \"difference\": " + JsonNumber(d.difference) + ", \"interval\": [" +
           JsonNumber(d.ci_lo) + ", " + JsonNumber(d.ci_hi) +
           "], \"reason\": " + JsonString(d.reason) + "}";
  };
  out << "{\n  \"file\": " << JsonString(o.events_path)
      << ",\n  \"rule\": " << JsonString(spec.name)
      << ",\n  \"params\": " << ParamsText(spec.params, true) << ",\n  \"metric\": "
      << JsonString(NameOf(spec.metric))
      << ",\n  \"control\": " << JsonString(f.arms[spec.control]) << ",\n  \"arms\": [";
  for (size_t i = 0; i < f.arms.size(); ++i) out << (i ? ", " : "") << JsonString(f.arms[i]);
  out << "],\n  \"events\": " << r.events
      << ",\n  \"look_every\": " << (o.look_every > 0 ? std::to_string(o.look_every) : "null")
      << ",\n  \"looks\": " << r.looks.size()
      << ",\n  \"decision\": " << (r.looks.empty() ? "null" : look(r.looks.back()));
  if (o.trace) {
    out << ",\n  \"trace\": [";
    for (size_t i = 0; i < r.looks.size(); ++i) {
      out << (i ? "," : "") << "\n    " << look(r.looks[i]);
    }
    out << "\n  ]";
  }
  out << "\n}\n";
}

}  // namespace

Result<EventFile> ParseEventCsv(std::string_view text,
                                const std::vector<std::string>& declared_arms) {
  EventFile f;
  f.arms = declared_arms;
  std::array<int, kNumColumns> index;
  index.fill(-1);
  size_t header_fields = 0;
  bool have_header = false;
  bool listed = !declared_arms.empty();  // by --arms or a '# arms:' line
  size_t line_no = 0;
  for (size_t pos = 0; pos <= text.size();) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line =
        TrimLine(text.substr(pos, nl == text.npos ? text.npos : nl - pos));
    pos = nl == text.npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line.front() == '#') {
      // export-events names the arms, the control first: the order unless
      // --arms gives one.
      constexpr std::string_view kArmsLine = "# arms: ";
      if (line.starts_with(kArmsLine) && declared_arms.empty() && !have_header) {
        f.arms.clear();
        for (auto a : SplitCsvFields(line.substr(kArmsLine.size()))) {
          if (a.empty() || std::find(f.arms.begin(), f.arms.end(), a) != f.arms.end()) {
            return LineError(line_no, "bad '# arms:' line");
          }
          f.arms.emplace_back(a);
        }
        listed = true;
      }
      continue;
    }
    const auto fields = SplitCsvFields(line);
    if (!have_header) {
      for (size_t i = 0; i < fields.size(); ++i) {
        const auto it = std::find(kColumnNames.begin(), kColumnNames.end(), fields[i]);
        if (it == kColumnNames.end()) {
          return LineError(line_no, "unknown column '" + std::string(fields[i]) +
                                        "' (expected t,arm,reward,propensity[,look])");
        }
        int& slot = index[static_cast<size_t>(it - kColumnNames.begin())];
        if (slot >= 0) return LineError(line_no, "duplicate column '" + std::string(*it) + "'");
        slot = static_cast<int>(i);
      }
      for (size_t c = 0; c < kLook; ++c) {
        if (index[c] < 0) {
          return LineError(line_no, "missing column '" + std::string(kColumnNames[c]) +
                                        "' (expected header t,arm,reward,propensity[,look])");
        }
      }
      f.has_look_column = index[kLook] >= 0;
      header_fields = fields.size();
      have_header = true;
      continue;
    }
    if (fields.size() != header_fields) {
      return LineError(line_no, "expected " + std::to_string(header_fields) + " fields, found " +
                                    std::to_string(fields.size()));
    }
    auto field = [&](Column c) { return fields[static_cast<size_t>(index[c])]; };
    ReplayEvent e;
    e.line = line_no;
    const std::string arm(field(kArm));
    if (arm.empty()) return LineError(line_no, "empty arm name");
    auto it = std::find(f.arms.begin(), f.arms.end(), arm);
    if (it == f.arms.end()) {
      if (listed) {
        return LineError(line_no, "arm '" + arm + "' is not one of --arms or the '# arms:' line");
      }
      it = f.arms.insert(f.arms.end(), arm);
    }
    e.arm = static_cast<size_t>(it - f.arms.begin());
    double* targets[] = {&e.t, &e.reward, &e.propensity};
    const Column numeric[] = {kT, kReward, kPropensity};
    for (size_t i = 0; i < 3; ++i) {
      auto v = ParseCsvNumber(field(numeric[i]), line_no, kColumnNames[numeric[i]]);
      if (!v.ok()) return v.status();
      *targets[i] = *v;
    }
    if (e.t < 0) return LineError(line_no, "t < 0 (seconds since the experiment started)");
    if (!f.events.empty() && e.t < f.events.back().t) {
      return LineError(line_no, "t goes backwards (" + std::string(field(kT)) +
                                    " after line " + std::to_string(f.events.back().line) +
                                    "): events must be in the order the daemon applied them");
    }
    if (!(e.propensity > 0 && e.propensity <= 1)) {
      return LineError(line_no,
                       "propensity " + std::string(field(kPropensity)) + " is not in (0, 1]");
    }
    if (f.has_look_column) {
      const std::string_view look = field(kLook);
      if (look != "0" && look != "1") {
        return LineError(line_no, "look must be 0 or 1, got '" + std::string(look) + "'");
      }
      e.look = look == "1";
    }
    f.events.push_back(e);
  }
  if (!have_header) {
    return InvalidArgument("empty file: expected a header 't,arm,reward,propensity[,look]'");
  }
  if (f.events.empty()) return InvalidArgument("the file has a header but no events");
  return f;
}

ReplayResult Replay(const EventFile& file, uint64_t look_every, StoppingRule& rule) {
  ReplayResult r;
  r.events = file.events.size();
  for (size_t i = 0; i < file.events.size(); ++i) {
    const ReplayEvent& e = file.events[i];
    rule.Observe(e.arm, e.reward, e.propensity);
    const uint64_t seen = i + 1;
    const bool look = look_every > 0 ? seen % look_every == 0 : e.look;
    if (!look) continue;
    rule.SetElapsed(e.t);
    ReplayLook l;
    l.look = r.looks.size() + 1;
    l.events = seen;
    l.t = e.t;
    l.decision = rule.Check();
    r.looks.push_back(std::move(l));
    if (r.looks.back().decision.stop) break;
  }
  return r;
}

int RunReplayCommand(const ReplayOptions& o, const SpecFactory& make_spec, std::ostream& out,
                     std::ostream& err) {
  std::ifstream in(o.events_path, std::ios::binary);
  if (!in) {
    err << "analyze: cannot open '" << o.events_path << "'\n";
    return 2;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  for (size_t i = 0; i < o.arms.size(); ++i) {
    if (o.arms[i].empty() || std::find(o.arms.begin(), o.arms.begin() + static_cast<long>(i),
                                       o.arms[i]) != o.arms.begin() + static_cast<long>(i)) {
      err << "analyze: --arms must list distinct, non-empty arm names\n";
      return 2;
    }
  }
  auto file = ParseEventCsv(buf.str(), o.arms);
  if (!file.ok()) {
    err << "analyze: " << o.events_path << ": " << file.status().message() << "\n";
    return 2;
  }
  if (o.look_every == 0 && !file->has_look_column) {
    err << "analyze: " << o.events_path
        << " has no look column: say when the rule looks with --look-every N\n";
    return 2;
  }
  size_t control = 0;
  if (!o.control.empty()) {
    const auto it = std::find(file->arms.begin(), file->arms.end(), o.control);
    if (it == file->arms.end()) {
      err << "analyze: --control '" << o.control << "' is not an arm of " << o.events_path
          << (o.arms.empty() ? "" : " (--arms)") << "\n";
      return 2;
    }
    control = static_cast<size_t>(it - file->arms.begin());
  }
  auto spec = make_spec(file->arms.size(), control);
  if (!spec.ok()) {
    err << "analyze: " << spec.status().message() << "\n";
    return 2;
  }
  if (spec->metric == Metric::kBernoulli) {
    // The daemon refuses such rewards for a bernoulli experiment.
    for (const auto& e : file->events) {
      if (e.reward < 0 || e.reward > 1) {
        err << "analyze: " << o.events_path << ": line " << e.line << ": reward " << e.reward
            << " is outside [0, 1], which a bernoulli metric takes (--metric gaussian?)\n";
        return 2;
      }
    }
  }
  auto rule = MakeStoppingRule(*spec);
  if (!rule.ok()) {
    err << "analyze: " << rule.status().message() << "\n";
    return 2;
  }
  for (const auto& e : file->events) {  // what the daemon would refuse (invalid_value)
    if (Status s = (*rule)->CheckReward(e.reward); !s.ok()) {
      err << "analyze: " << o.events_path << ": line " << e.line << ": " << s.message() << "\n";
      return 2;
    }
  }
  const ReplayResult r = Replay(*file, o.look_every, **rule);
  if (o.json) {
    RenderJson(o, *file, *spec, r, out);
  } else {
    RenderText(o, *file, *spec, r, out);
  }
  return 0;
}

}  // namespace banditd::stats
