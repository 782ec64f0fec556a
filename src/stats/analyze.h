// `bandit-sim analyze FILE.csv [--weights w1,w2,...] [--json]`: every
// applicable test, interval, P(best), expected loss, SRM check and what each
// stopping rule would decide, from per-arm sufficient statistics
// (CSV header arm,n,sum,sum_sq; the first data row is the control).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace banditd::stats {

// Returns the process exit code: 0 when the analysis was printed to `out`,
// 2 when the file or the weights are unusable (the reason goes to `err`).
// `weights` empty: no SRM test.
int RunAnalyzeCommand(const std::string& csv_path, const std::vector<double>& weights, bool json,
                      std::ostream& out, std::ostream& err);

}  // namespace banditd::stats
