#include "src/stats/decision_events.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "src/state/decision_log.h"

namespace banditd::stats {
namespace {

struct Decision {
  uint16_t epoch = 0;
  double propensity = 0;
  bool forced = false;
  std::string arm;
};

void AppendNumber(std::string& out, double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  out.append(buf, r.ptr);
}

// The log's note where it dropped lines: the stream has a hole the replay
// cannot fill.
Status CheckNoGap(std::string_view text, const std::string& name) {
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line = text.substr(pos, nl == text.npos ? text.npos : nl - pos);
    ++line_no;
    if (line.starts_with("# ") && line.find(" lines dropped from ") != line.npos) {
      return InvalidArgument(name + " line " + std::to_string(line_no) +
                             ": the log dropped lines here (" + std::string(line.substr(2)) +
                             "); the rule's events cannot be rebuilt");
    }
    if (nl == text.npos) break;
    pos = nl + 1;
  }
  return Status::Ok();
}

}  // namespace

Result<ExportResult> ExportEvents(state::Env& env, const std::string& path,
                                  const ExportOptions& options) {
  size_t files = 0;
  auto read = state::ReadDecisionLogPath(env, path, CheckNoGap, &files);
  if (!read.ok()) return read.status();
  const std::vector<state::LogRow>& rows = *read;

  ExportResult out;
  out.files = files;
  out.experiment = options.experiment;
  if (out.experiment.empty()) {
    std::set<std::string> names;
    for (const auto& r : rows) {
      if (r.kind == 'D' || r.kind == 'R') names.insert(r.exp);
    }
    if (names.empty()) return InvalidArgument("the log has no decisions or rewards");
    if (names.size() > 1) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      return InvalidArgument("the log holds several experiments (" + list +
                             "): choose one with --experiment");
    }
    out.experiment = *names.begin();
  }

  std::unordered_map<std::string, Decision> decisions;
  std::optional<uint16_t> newest;
  for (const auto& r : rows) {
    if (r.kind != 'D' || r.exp != out.experiment) continue;
    decisions[r.decision] = Decision{r.epoch, r.propensity, r.forced, r.arm};
    if (!newest || r.epoch > *newest) newest = r.epoch;
  }
  if (!newest) {
    return InvalidArgument("the log has no decisions (D lines) of experiment '" + out.experiment +
                           "'");
  }
  out.epoch = options.epoch.value_or(*newest);
  // The epoch's arms, champion first, from its E line (a restart writes it
  // again: it must say the same).
  for (const auto& r : rows) {
    if (r.kind != 'E' || r.exp != out.experiment || r.epoch != out.epoch) continue;
    std::vector<std::string> arms = {r.arm};
    for (const auto& a : r.arms) {
      if (a != r.arm) arms.push_back(a);
    }
    if (out.champion_known && arms != out.arms) {
      return InvalidArgument("the log's E lines of experiment '" + out.experiment + "' epoch " +
                             std::to_string(out.epoch) +
                             " disagree on its arms or champion: the log is not one daemon's");
    }
    out.arms = std::move(arms);
    out.champion_known = true;
  }
  // The epoch's start as far as the log can tell: its first logged decision.
  std::optional<int64_t> start;
  for (const auto& r : rows) {
    if (r.kind != 'D' || r.exp != out.experiment || r.epoch != out.epoch) continue;
    start = start ? std::min(*start, r.wall_ns) : r.wall_ns;
    if (std::find(out.arms.begin(), out.arms.end(), r.arm) == out.arms.end()) {
      out.arms.push_back(r.arm);
    }
  }
  if (!start) {
    return InvalidArgument("the log has no decisions of experiment '" + out.experiment +
                           "' in epoch " + std::to_string(out.epoch));
  }

  struct Event {
    std::string line;  // without the look column
    bool look = false;
  };
  std::vector<Event> events;
  std::set<std::string> rewarded;
  for (const auto& r : rows) {
    if (r.kind == 'L' && r.exp == out.experiment && r.epoch == out.epoch) {
      // The rule looked after every reward above: mark the last one.
      ++out.looks;
      if (!events.empty()) events.back().look = true;
      continue;
    }
    if (r.kind != 'R' || r.exp != out.experiment) continue;
    const auto it = decisions.find(r.decision);
    if (it == decisions.end()) {
      // Before the epoch began it cannot be one of its rewards.
      if (r.wall_ns < *start) {
        ++out.early_orphans;
        continue;
      }
      return InvalidArgument("reward of decision '" + r.decision +
                             "' has no decision line in the log (rotated away or lost): the "
                             "rule's propensities cannot be rebuilt");
    }
    const Decision& d = it->second;
    if (r.arm != d.arm) {
      return InvalidArgument("reward of decision '" + r.decision + "' names arm '" + r.arm +
                             "' but the decision chose '" + d.arm + "': the log is inconsistent");
    }
    if (!rewarded.insert(r.decision).second) {
      ++out.duplicates;  // the daemon counts a decision's reward once
      continue;
    }
    if (d.epoch != out.epoch) {
      ++out.other_epochs;
      continue;
    }
    if (d.forced) {
      ++out.forced;
      continue;
    }
    std::string body;
    AppendNumber(body, static_cast<double>(r.wall_ns - *start) / 1e9);
    body += ',';
    body += r.arm;
    body += ',';
    AppendNumber(body, r.value);
    body += ',';
    AppendNumber(body, std::clamp(d.propensity, 1e-6, 1.0));  // as Experiment::ApplyReward
    events.push_back({std::move(body), false});
    ++out.events;
  }
  if (out.events == 0) {
    return InvalidArgument("no rewards of randomised decisions of '" + out.experiment +
                           "' in epoch " + std::to_string(out.epoch));
  }
  std::string arms;
  for (const auto& a : out.arms) arms += (arms.empty() ? "" : ",") + a;
  out.csv = "# banditd events: experiment " + out.experiment + ", epoch " +
            std::to_string(out.epoch) + "\n";
  // `analyze` takes this line as the arms' order, the control first.
  out.csv += out.champion_known
                 ? "# arms: " + arms + "\n"
                 : "# arms in order of first decision (the log names no champion): " + arms + "\n";
  out.csv += "# t: seconds since the epoch's first logged decision (wall_ns " +
             std::to_string(*start) + ")\n";
  if (out.looks > 0) {
    out.csv += "# look: 1 where the daemon's rule looked (after that reward)\n";
  }
  out.csv += out.looks > 0 ? "t,arm,reward,propensity,look\n" : "t,arm,reward,propensity\n";
  for (const Event& e : events) {
    out.csv += e.line;
    if (out.looks > 0) out.csv += e.look ? ",1" : ",0";
    out.csv += '\n';
  }
  return out;
}

}  // namespace banditd::stats
