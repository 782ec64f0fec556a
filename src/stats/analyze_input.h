// Parsing of the per-arm sufficient statistics that `bandit-sim analyze`
// reads: a CSV file with header columns arm,n,sum,sum_sq (any order), one
// row per arm, the first data row being the control.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "banditd/status.h"
#include "banditd/stopping.h"

namespace banditd::stats {

struct ArmRow {
  std::string name;
  double n = 0;
  double sum = 0;
  double sum_sq = 0;
};

struct AnalyzeInput {
  std::vector<ArmRow> arms;  // arms[0] is the control
  // Bernoulli when every arm has sum_sq == sum (0/1 rewards); real-valued otherwise.
  Metric metric = Metric::kBernoulli;
};

// CSV helpers shared by the analyze inputs: the comma-separated fields of a
// line, trimmed of blanks; a finite number, or an error naming the line and
// column.
std::vector<std::string_view> SplitCsvFields(std::string_view line);
Result<double> ParseCsvNumber(std::string_view field, size_t line, std::string_view column);

// Parses and validates the CSV text; errors name the line and the problem
// (missing columns, n < 0, sum > n for a Bernoulli metric, NaN, ...).
Result<AnalyzeInput> ParseAnalyzeCsv(std::string_view text);

}  // namespace banditd::stats
