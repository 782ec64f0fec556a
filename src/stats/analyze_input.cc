#include "src/stats/analyze_input.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

namespace banditd::stats {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::string_view> SplitCsvFields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    out.push_back(
        Trim(line.substr(start, comma == std::string_view::npos ? line.npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

namespace {

Status LineError(size_t line, const std::string& what) {
  return InvalidArgument("line " + std::to_string(line) + ": " + what);
}

}  // namespace

Result<double> ParseCsvNumber(std::string_view field, size_t line, std::string_view column) {
  const std::string s(field);
  if (s.empty()) return LineError(line, "empty value in column '" + std::string(column) + "'");
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) {
    return LineError(line, "column '" + std::string(column) + "': '" + s + "' is not a number");
  }
  if (!std::isfinite(v) || errno == ERANGE) {
    return LineError(line,
                     "column '" + std::string(column) + "': '" + s + "' is not a finite number");
  }
  return v;
}

Result<AnalyzeInput> ParseAnalyzeCsv(std::string_view text) {
  std::vector<std::pair<size_t, std::string_view>> lines;
  size_t line_no = 0;
  for (size_t pos = 0; pos <= text.size();) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line = text.substr(pos, nl == text.npos ? text.npos : nl - pos);
    ++line_no;
    if (!Trim(line).empty() && Trim(line).front() != '#') lines.emplace_back(line_no, line);
    if (nl == text.npos) break;
    pos = nl + 1;
  }
  if (lines.empty()) return InvalidArgument("empty file: expected a header 'arm,n,sum,sum_sq'");

  static constexpr std::array<std::string_view, 4> kColumns = {"arm", "n", "sum", "sum_sq"};
  std::array<int, 4> index = {-1, -1, -1, -1};
  const auto header = SplitCsvFields(lines[0].second);
  for (size_t i = 0; i < header.size(); ++i) {
    const auto it = std::find(kColumns.begin(), kColumns.end(), header[i]);
    if (it == kColumns.end()) {
      return LineError(lines[0].first, "unknown column '" + std::string(header[i]) +
                                           "' (expected arm,n,sum,sum_sq)");
    }
    const size_t c = static_cast<size_t>(it - kColumns.begin());
    if (index[c] >= 0)
      return LineError(lines[0].first, "duplicate column '" + std::string(header[i]) + "'");
    index[c] = static_cast<int>(i);
  }
  for (size_t c = 0; c < kColumns.size(); ++c) {
    if (index[c] < 0) {
      return LineError(lines[0].first, "missing column '" + std::string(kColumns[c]) +
                                           "' (expected header arm,n,sum,sum_sq)");
    }
  }

  AnalyzeInput in;
  std::set<std::string> names;
  for (size_t r = 1; r < lines.size(); ++r) {
    const size_t ln = lines[r].first;
    const auto fields = SplitCsvFields(lines[r].second);
    if (fields.size() != header.size()) {
      return LineError(ln, "expected " + std::to_string(header.size()) + " fields, found " +
                               std::to_string(fields.size()));
    }
    ArmRow row;
    row.name = std::string(fields[static_cast<size_t>(index[0])]);
    if (row.name.empty()) return LineError(ln, "empty arm name");
    if (!names.insert(row.name).second) return LineError(ln, "duplicate arm '" + row.name + "'");
    double* targets[3] = {&row.n, &row.sum, &row.sum_sq};
    for (size_t c = 1; c < 4; ++c) {
      auto v = ParseCsvNumber(fields[static_cast<size_t>(index[c])], ln, kColumns[c]);
      if (!v.ok()) return v.status();
      *targets[c - 1] = *v;
    }
    if (row.n < 0) return LineError(ln, "arm '" + row.name + "': n < 0");
    if (row.n != std::floor(row.n))
      return LineError(ln, "arm '" + row.name + "': n is not an integer");
    if (row.sum_sq < 0) return LineError(ln, "arm '" + row.name + "': sum_sq < 0");
    if (row.sum == row.sum_sq && row.sum > row.n) {
      return LineError(ln,
                       "arm '" + row.name + "': sum > n for a Bernoulli metric (sum == sum_sq)");
    }
    // Cauchy-Schwarz: sum^2 <= n * sum_sq (a little slack for rounding in the file).
    if (row.sum * row.sum > row.n * row.sum_sq * (1 + 1e-9) + 1e-300) {
      return LineError(ln, "arm '" + row.name + "': sum_sq < sum^2 / n (impossible variance)");
    }
    in.arms.push_back(row);
  }
  if (in.arms.size() < 2) {
    return InvalidArgument("need at least 2 arms (a control and a challenger), found " +
                           std::to_string(in.arms.size()));
  }
  bool bernoulli = true;
  for (const auto& a : in.arms) bernoulli = bernoulli && a.sum == a.sum_sq;
  in.metric = bernoulli ? Metric::kBernoulli : Metric::kGaussian;
  if (bernoulli) {
    for (size_t r = 0; r < in.arms.size(); ++r) {
      const auto& a = in.arms[r];
      if (a.sum > a.n) {
        return LineError(lines[r + 1].first,
                         "arm '" + a.name + "': sum > n for a Bernoulli metric (sum == sum_sq)");
      }
      if (a.sum < 0)
        return LineError(lines[r + 1].first,
                         "arm '" + a.name + "': sum < 0 for a Bernoulli metric");
    }
  }
  return in;
}

}  // namespace banditd::stats
