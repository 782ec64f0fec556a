// stats_validate: the full-size validation of the stopping rules (opt-in,
// not a ctest entry). Prints the table in docs/statistics.md.
//   build/bin/stats_validate [replications] [aa_replications]
// The last table is bandit-sim's A/A scenario (sim/scenarios/aa.yaml,
// contender thompson_cs) reproduced here with the rule alone: 200,000 units
// per replication, aa_replications (default 2000) of them.
#include <cstdio>
#include <cstdlib>

#include "src/stats/validation.h"

namespace {

void Row(const banditd::stats::RuleOutcome& o, bool aa) {
  using banditd::stats::WilsonUpper;
  const double wins = aa ? o.treatment_wins + o.control_wins : o.treatment_wins;
  std::printf("| %-32s | %6.4f | %6.4f | %10.0f |\n", o.label.c_str(), wins / o.runs,
              WilsonUpper(wins, o.runs), o.mean_units_per_arm());
}

}  // namespace

int main(int argc, char** argv) {
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
