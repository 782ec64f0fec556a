// stats_validate: the full-size validation of the stopping rules (opt-in,
// not a ctest entry). Prints the table in docs/statistics.md.
//   build/bin/stats_validate [replications] [aa_replications]
//   build/bin/stats_validate cells [runs] [aa|power|revenue|all]
// The last table is bandit-sim's A/A scenario (sim/scenarios/aa.yaml,
// contender thompson_cs) reproduced here with the rule alone: 200,000 units
// per replication, aa_replications (default 2000) of them.
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "src/stats/validation.h"

namespace {

void Row(const banditd::stats::RuleOutcome& o, bool aa) {
  using banditd::stats::WilsonUpper;
  const double wins = aa ? o.treatment_wins + o.control_wins : o.treatment_wins;
  std::printf("| %-32s | %6.4f | %6.4f | %10.0f |\n", o.label.c_str(), wins / o.runs,
              WilsonUpper(wins, o.runs), o.mean_units_per_arm());
}

}  // namespace

// `stats_validate cells [runs] [aa|power|revenue|all]`: the champion/challenger
// cells of docs/statistics.md (2M requests, a look every 1,000).
int RunCells(size_t runs, const std::string& which) {
  using banditd::Params;
  using banditd::stats::CellSetting;
  using banditd::stats::RuleUnderTest;
  using banditd::stats::WilsonLower;
  using banditd::stats::WilsonUpper;
  struct Alloc {
    const char* label;
    bool thompson;
    double share;
    double floor;
  };
  const Alloc allocs[] = {{"50/50", false, 0.5, 0},
                          {"90/10", false, 0.1, 0},
                          {"99/1", false, 0.01, 0},
                          {"thompson", true, 0, 0},
                          {"thompson floor 0.2", true, 0, 0.2}};
  auto print = [](const CellSetting& cell, const std::vector<banditd::stats::RuleOutcome>& out,
                  bool aa) {
    for (const auto& o : out) {
      const double wins = aa ? o.treatment_wins + o.control_wins : o.treatment_wins;
      std::printf("| %-22s | %-34s | %6.4f | [%6.4f, %6.4f] | %9.0f | %4.0f |\n", cell.label.c_str(),
                  o.label.c_str(), wins / o.runs, WilsonLower(wins, o.runs),
                  WilsonUpper(wins, o.runs), o.sum_units / o.runs,
                  aa ? 0.0 : o.control_wins);
    }
    std::fflush(stdout);
  };
  std::printf("| cell | rule | %s | Wilson 95%% | mean requests | wrong |\n|---|---|---|---|---|---|\n",
              which == "power" ? "power" : "FPR");
  const bool all = which == "all";
  if (all || which == "aa" || which == "power") {
    const bool aa = which != "power";
    for (double rate : {0.002, 0.01, 0.05}) {
      for (const Alloc& a : allocs) {
        CellSetting cell;
        cell.replications = runs;
        cell.p_control = rate;
        cell.lift = aa ? 0.0 : (rate >= 0.05 ? 0.1 : 0.2);
        cell.thompson = a.thompson;
        cell.challenger_share = a.share;
        cell.champion_floor = a.floor;
        char label[64];
        std::snprintf(label, sizeof label, "%s %.3g%%%s", a.label, 100 * rate,
                      aa ? "" : (rate >= 0.05 ? " +10%" : " +20%"));
        cell.label = label;
        const double mde = 0.5 * rate;
        std::vector<RuleUnderTest> rules = {
            {"sequential (mde 0.5 rate)", "sequential", Params{{"mde", mde}}},
            {"sequential, min_successes 0", "sequential",
             Params{{"mde", mde}, {"min_successes", 0.0}}},
            {"bernoulli_cs (prior_sd 0.2)", "bernoulli_cs", Params{}},
            {"bandit_cs (tune_n 2M)", "bandit_cs", Params{{"tune_n", cell.horizon}}},
        };
        if (!aa) {
          rules.push_back({"bernoulli_cs (prior_sd 0.05)", "bernoulli_cs",
                           Params{{"prior_sd", 0.05}}});
          rules.push_back({"bernoulli_cs (prior_sd 0.1)", "bernoulli_cs",
                           Params{{"prior_sd", 0.1}}});
          rules.push_back({"bernoulli_cs (prior_sd 0.5)", "bernoulli_cs",
                           Params{{"prior_sd", 0.5}}});
        }
        print(cell, banditd::stats::SimulateCell(cell, rules), aa);
      }
    }
  }
  if (all || which == "revenue") {
    // Zero-inflated lognormal: 5% buyers spending exp(N(0, 4)); mean
    // 0.05 e^2 = 0.369 per request.
    const double mean = 0.05 * std::exp(2.0);
    for (double share : {0.5, 0.1}) {
      CellSetting cell;
      cell.replications = runs;
      cell.p_control = 0.05;
      cell.revenue = true;
      cell.challenger_share = share;
      cell.label = share == 0.5 ? "revenue 50/50" : "revenue 90/10";
      std::vector<RuleUnderTest> rules = {
          {"sequential (mde 0.5 mean)", "sequential", Params{{"mde", 0.5 * mean}}},
          {"sequential (mde 0.25 mean)", "sequential", Params{{"mde", 0.25 * mean}}},
          {"sequential (0.5 mean, cap 100)", "sequential",
           Params{{"mde", 0.5 * mean}, {"cap", 100.0}}},
          {"sequential (0.25 mean, cap 100)", "sequential",
           Params{{"mde", 0.25 * mean}, {"cap", 100.0}}},
          {"sequential (0.25 mean, cap 30)", "sequential",
           Params{{"mde", 0.25 * mean}, {"cap", 30.0}}},
      };
      print(cell, banditd::stats::SimulateCell(cell, rules), true);
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "cells") {
    return RunCells(argc > 2 ? static_cast<size_t>(std::atoll(argv[2])) : 500,
                    argc > 3 ? argv[3] : "all");
  }
  banditd::stats::ValidationConfig c;
  if (argc > 1) c.replications = static_cast<size_t>(std::atoll(argv[1]));
  const size_t aa_reps = argc > 2 ? static_cast<size_t>(std::atoll(argv[2])) : 2000;
  std::printf(
      "replications %zu, Bernoulli control %.3g, planned effect %+.3g, alpha %.3g, look every %.0f "
      "units per arm, max %.0f per arm, min_samples %.0f per arm, seed %llu\n\n",
      c.replications, c.p_control, c.mde, c.alpha, c.look_every, c.max_per_arm, c.min_samples,
      static_cast<unsigned long long>(c.seed));
  for (int aa = 1; aa >= 0; --aa) {
    const double pt = aa ? c.p_control : c.p_control + c.mde;
    std::printf(
        aa ? "A/A (both arms %.3g): false positive rate = share of runs declaring any winner\n"
           : "A/B (treatment %.3g): power = share of runs declaring the treatment the winner\n",
        pt);
    std::printf("| %-32s | %6s | %6s | %10s |\n", "rule", aa ? "FPR" : "power", "upper95",
                "units/arm");
    std::printf("|---|---|---|---|\n");
    for (const auto& o : banditd::stats::SimulateAB(c, pt)) Row(o, aa);
    for (double floor : {0.0, 0.1}) {
      Row(banditd::stats::SimulateBanditCs(banditd::stats::ValidationBandit(c, pt, floor)), aa);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  std::printf("bandit-sim's A/A scenario (aa.yaml), %zu replications\n", aa_reps);
  std::printf("| %-32s | %6s | %6s | %10s |\n", "rule", "FPR", "upper95", "units/arm");
  std::printf("|---|---|---|---|\n");
  Row(banditd::stats::SimulateBanditCs(banditd::stats::SimAaBandit(aa_reps)), true);
  return 0;
}
