#include "src/stats/analyze.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "src/stats/analyze_input.h"
#include "src/stats/analyze_report.h"

namespace banditd::stats {

int RunAnalyzeCommand(const std::string& csv_path, const std::vector<double>& weights, bool json,
                      std::ostream& out, std::ostream& err) {
  std::ifstream file(csv_path, std::ios::binary);
  if (!file) {
    err << "analyze: cannot open '" << csv_path << "'\n";
    return 2;
  }
  std::stringstream buf;
  buf << file.rdbuf();
  auto parsed = ParseAnalyzeCsv(buf.str());
  if (!parsed.ok()) {
    err << "analyze: " << csv_path << ": " << parsed.status().message() << "\n";
    return 2;
  }
  if (!weights.empty()) {
    if (weights.size() != parsed->arms.size()) {
      err << "analyze: --weights has " << weights.size() << " values but the file has "
          << parsed->arms.size() << " arms\n";
      return 2;
    }
    double total = 0;
    for (double w : weights) {
      if (!std::isfinite(w) || w < 0) {
        err << "analyze: --weights must be finite and >= 0\n";
        return 2;
      }
      total += w;
    }
    if (!(total > 0)) {
      err << "analyze: --weights must not all be 0\n";
      return 2;
    }
  }
  for (const auto& a : parsed->arms) {
    if (a.n < 2) {
      err << "analyze: " << csv_path << ": arm '" << a.name << "' has n = " << a.n
          << "; every arm needs n >= 2 to be analysed\n";
      return 2;
    }
  }
  Report report = BuildReport(*parsed, weights);
  report.file = csv_path;
  if (json) {
    RenderJson(report, out);
  } else {
    RenderText(report, out);
  }
  return 0;
}

}  // namespace banditd::stats
