#include "sim/plots.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sim/report.h"

namespace banditd::sim {
namespace {

// A file-name-safe form of a variant such as "environment.delay.every=10".
std::string Stem(const std::string& variant) {
  if (variant.empty()) return "";
  std::string v =
      variant.substr(variant.rfind('.') == std::string::npos ? 0 : variant.rfind('.') + 1);
  std::string out = "-";
  for (char c : v) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

Result<std::vector<std::string>> WritePlots(const std::vector<ScenarioResult>& results,
                                            const std::string& dir) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    return Status(Code::kFailedPrecondition,
                  "gnuplot not found (scripts/install-deps installs it); use --no-plots");
  }
  const std::string plot_dir = dir + "/plots";
  std::error_code ec;
  std::filesystem::create_directories(plot_dir, ec);
  if (ec) return Status(Code::kIoError, "cannot create '" + plot_dir + "'");
  std::vector<std::string> written;
  for (const auto& result : results) {
    const std::string stem = Stem(result.scenario.variant);
    const std::string data = plot_dir + "/curves" + stem + ".dat";
    const auto curves = Curves(result);
    const auto rows = Summarize(result);
    {
      std::ofstream out(data);
      out << "# t";
      for (const auto& c : result.contenders) out << " regret:" << c.label;
      for (const auto& c : result.contenders) out << " best_share:" << c.label;
      out << "\n";
      for (size_t k = 0; k < result.checkpoints.size(); ++k) {
        out << result.checkpoints[k];
        for (const auto& c : curves) out << ' ' << c[k].regret.mean;
        for (const auto& c : curves) out << ' ' << c[k].best_arm_share;
        out << '\n';
      }
      if (!out) return Status(Code::kIoError, "cannot write '" + data + "'");
    }
    const size_t n = result.contenders.size();
    const std::string title =
        result.scenario.name +
        (result.scenario.variant.empty() ? "" : " (" + result.scenario.variant + ")");
    const std::string regret_png = dir + "/regret" + stem + ".png";
    const std::string alloc_png = dir + "/allocation" + stem + ".png";
    const std::string script = plot_dir + "/plots" + stem + ".gp";
    std::ofstream gp(script);
    gp << "set terminal pngcairo size 1000,650 noenhanced\nset datafile commentschars '#'\n"
       << "set key left top\nset grid\nset logscale x\nset xlabel 'T (steps)'\nset yrange [0:*]\n";
    gp << "set output " << Quote(regret_png) << "\nset title " << Quote("Regret: " + title) << "\n"
       << "set ylabel 'cumulative regret (mean over " << result.scenario.runs << " runs)'\n";
    gp << "plot ";
    for (size_t c = 0; c < n; ++c) {
      gp << (c ? ", " : "") << Quote(data) << " using 1:" << (c + 2) << " with lines lw 2 title "
         << Quote(result.contenders[c].label);
    }
    if (!rows.empty() &&
        !std::isnan(rows[0].lr_slope)) {  // the first contender has no stopping rule
      // The Lai–Robbins line with the asymptotic slope, through the first
      // contender's regret at the horizon: parallel curves are optimal.
      const double t_end = static_cast<double>(result.scenario.horizon);
      const double b = curves[0].back().regret.mean - rows[0].lr_slope * std::log(t_end);
      char slope[32];
      std::snprintf(slope, sizeof slope, "%.4g", rows[0].lr_slope);
      gp << ", (" << slope << " * log(x) + " << b << " >= 0 ? " << slope << " * log(x) + " << b
         << " : 1/0) with lines dt 2 lc rgb 'black' title "
         << Quote(std::string("Lai-Robbins slope ") + slope + " x ln T");
    }
    gp << "\nset output " << Quote(alloc_png) << "\nset title " << Quote("Allocation: " + title)
       << "\nset ylabel 'share of traffic to the best arm'\nset yrange [0:1.02]\nset key outside "
          "right top\nplot ";
    for (size_t c = 0; c < n; ++c) {
      gp << (c ? ", " : "") << Quote(data) << " using 1:" << (n + c + 2)
         << " with lines lw 2 title " << Quote(result.contenders[c].label);
    }
    gp << "\n";
    gp.close();
    const std::string cmd = "gnuplot " + Quote(script) + " 2>" + Quote(plot_dir + "/gnuplot.log");
    if (std::system(cmd.c_str()) != 0) {
      return Status(Code::kIoError, "gnuplot failed on '" + script + "' (see plots/gnuplot.log)");
    }
    written.push_back(regret_png);
    written.push_back(alloc_png);
  }
  return written;
}

}  // namespace banditd::sim
