// bandit-sim: compare bandit policies and stopping rules by simulation
// (docs/simulation.md). Subcommands: run, validate, analyze (src/stats;
// with --rule, a replay of events through the daemon's rule),
// export-events (those events from the decision log), live (drives a running banditd), ope and ope-validate (off-policy
// evaluation from the decision log, docs/contextual.md).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <iostream>

#include "banditd/stopping.h"
#include "sim/engine.h"
#include "sim/live.h"
#include "sim/ope.h"
#include "sim/ope_policy.h"
#include "sim/ope_validate.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "src/config/stopping_flags.h"
#include "src/state/env.h"
#include "src/stats/analyze.h"
#include "src/stats/analyze_replay.h"
#include "src/stats/decision_events.h"

namespace {

using banditd::sim::Scenario;

struct RunFlags {
  std::string scenario;
  std::optional<uint64_t> runs, horizon, seed;
  unsigned threads = 0;
  std::string out;
  bool no_plots = false;
  bool quiet = false;
};

int Fail(const banditd::Status& s) {
  std::fprintf(stderr, "bandit-sim: %s\n", s.ToString().c_str());
  return 1;
}

banditd::Result<std::vector<Scenario>> Load(const RunFlags& f) {
  auto loaded = banditd::sim::LoadScenarioFile(f.scenario);
  if (!loaded.ok()) return loaded.status();
  for (auto& s : *loaded) {
    if (f.runs) s.runs = *f.runs;
    if (f.horizon) s.horizon = *f.horizon;
    if (f.seed) s.seed = *f.seed;
  }
  return loaded;
}

// Prints, for each contender with a stopping rule, whether the daemon's
// config would let that rule decide for that allocation
// (CheckStoppingRuleFits): the static policy is the daemon's `mode: ab` with
// the same weights, every other policy an adaptive `mode: bandit`. The
// simulator itself runs every rule; this only says which runs describe a
// configuration the daemon accepts (scripts/validity-grid reads it).
void PrintDaemonFit(const Scenario& s) {
  for (const auto& c : s.contenders) {
    if (!c.stopping) continue;
    banditd::StoppingAllocation allocation;
    allocation.adaptive = c.policy.name != "static";
    if (!allocation.adaptive) {
      auto w = c.policy.params.GetDoubles("weights", {});
      if (w.ok() && !w->empty()) {
        double total = 0;
        for (double x : *w) total += x;
        for (double x : *w) allocation.weights.push_back(total > 0 ? x / total : x);
      }
    }
    const banditd::Status fits = banditd::CheckStoppingRuleFits(*c.stopping, allocation);
    std::printf("daemon-fit\t%s\t%s\t%s\t%s\n", s.variant.c_str(), c.label.c_str(),
                fits.ok() ? "accepted" : "refused", fits.ok() ? "" : fits.message().c_str());
  }
}

int Run(const RunFlags& f) {
  auto scenarios = Load(f);
  if (!scenarios.ok()) return Fail(scenarios.status());
  const auto factories = banditd::sim::Factories::Default();
  for (const auto& s : *scenarios) {
    if (auto st = banditd::sim::ValidateContenders(s, factories); !st.ok()) return Fail(st);
  }
  std::vector<banditd::sim::ScenarioResult> results;
  for (const auto& s : *scenarios) {
    banditd::sim::RunOptions options;
    options.threads = f.threads;
    options.progress = !f.quiet;
    options.label = s.name + (s.variant.empty() ? "" : " [" + s.variant + "]");
    auto r = banditd::sim::RunScenario(s, options, factories);
    if (!r.ok()) return Fail(r.status());
    results.push_back(std::move(r).value());
  }
  std::vector<banditd::sim::SummaryRow> rows;
  for (const auto& r : results) {
    for (auto& row : banditd::sim::Summarize(r)) rows.push_back(std::move(row));
  }
  std::fputs(banditd::sim::FormatTable(rows).c_str(), stdout);
  const std::string out = f.out.empty() ? "sim-out/" + scenarios->front().name : f.out;
  auto written = banditd::sim::WriteReport(results, out, !f.no_plots);
  if (!written.ok()) return Fail(written.status());
  std::printf("\nwrote:");
  for (const auto& p : *written) std::printf(" %s", p.c_str());
  std::printf("\n");
  return 0;
}

struct OpeFlags {
  std::string log, policy, experiment, unrewarded = "skip";
  bool json = false;
  banditd::sim::ope::EvalOptions eval;
};

int Ope(const OpeFlags& f) {
  namespace ope = banditd::sim::ope;
  if (f.unrewarded != "skip" && f.unrewarded != "zero") {
    return Fail(banditd::InvalidArgument("--unrewarded must be skip or zero"));
  }
  auto policy = ope::LoadTargetPolicyFile(f.policy);
  if (!policy.ok()) return Fail(policy.status());
  ope::JoinOptions join;
  join.experiment = f.experiment;
  join.unrewarded_as_zero = f.unrewarded == "zero";
  auto data = ope::LoadDecisionLog(banditd::state::Env::Posix(), f.log, join);
  if (!data.ok()) return Fail(data.status());
  auto result = ope::Evaluate(*data, *policy, f.eval);
  if (!result.ok()) return Fail(result.status());
  std::fputs((f.json ? ope::OpeJson(*data, *result) : ope::FormatOpe(*data, *result)).c_str(),
             stdout);
  return 0;
}

struct OpeValidateFlags {
  std::string scenario = "sim/scenarios/contextual_flip.yaml";
  std::string target = "sim/scenarios/ope/flip_target.yaml";
  banditd::sim::ope::ValidateOptions options;
};

int OpeValidate(OpeValidateFlags f) {
  namespace ope = banditd::sim::ope;
  auto scenarios = banditd::sim::LoadScenarioFile(f.scenario);
  if (!scenarios.ok()) return Fail(scenarios.status());
  std::ifstream in(f.target);
  if (!in) return Fail(banditd::Status(banditd::Code::kNotFound, "cannot open '" + f.target + "'"));
  const std::string target((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const bool own_dir = f.options.work_dir.empty();
  if (own_dir) {
    f.options.work_dir =
        (std::filesystem::temp_directory_path() / ("bandit-sim-ope-" + std::to_string(::getpid())))
            .string();
  }
  auto r = ope::RunOpeValidation(scenarios->front(), target, f.options);
  if (own_dir) {
    std::error_code ec;
    std::filesystem::remove_all(f.options.work_dir, ec);
  }
  if (!r.ok()) return Fail(r.status());
  std::fputs(ope::FormatValidation(*r, f.options).c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bandit-sim: compare bandit policies and stopping rules by simulation"};
  app.require_subcommand(1);

  RunFlags flags;
  auto* run = app.add_subcommand("run", "run a scenario file and write its report");
  run->add_option("scenario", flags.scenario, "scenario YAML file")->required();
  run->add_option("--runs", flags.runs, "replications (overrides the file)");
  run->add_option("--horizon", flags.horizon, "steps per replication (overrides the file)");
  run->add_option("--seed", flags.seed, "seed (overrides the file)");
  run->add_option("--threads", flags.threads, "worker threads (default: every core)");
  run->add_option("--out", flags.out, "report directory (default: sim-out/<scenario name>)");
  run->add_flag("--no-plots", flags.no_plots, "skip the PNG plots");
  run->add_flag("--quiet", flags.quiet, "no progress bar");

  auto* validate = app.add_subcommand("validate", "check a scenario file and its policies");
  validate->add_option("scenario", flags.scenario, "scenario YAML file")->required();
  bool daemon_fit = false;
  validate->add_flag("--daemon-fit", daemon_fit,
                     "also print, per contender, whether the daemon's config accepts its "
                     "stopping rule for its allocation (tab-separated)");

  std::string csv;
  std::vector<double> weights;
  bool json = false;
  auto* analyze = app.add_subcommand(
      "analyze",
      "tests, intervals and rule decisions from per-arm sums (CSV: arm,n,sum,sum_sq); with "
      "--rule, a replay of events (CSV: t,arm,reward,propensity[,look])");
  analyze
      ->add_option("file", csv, "CSV of per-arm sufficient statistics (or events, with --rule)")
      ->required();
  analyze->add_option("--weights", weights, "planned traffic weights, for the SRM check")
      ->delimiter(',');
  analyze->add_flag("--json", json, "JSON output");
  // Replay (--rule): the file is an event CSV t,arm,reward,propensity[,look].
  banditd::config::StoppingFlags rule_flags;
  banditd::stats::ReplayOptions replay;
  analyze->add_option("--rule", rule_flags.rule,
                      "replay the events in FILE through this stopping rule, built as the "
                      "daemon builds it");
  analyze->add_option("--alpha", rule_flags.alpha, "the rule's alpha (stopping.params.alpha)");
  analyze->add_option("--mde", rule_flags.mde, "the rule's mde (stopping.params.mde)");
  analyze->add_option("--tau2", rule_flags.tau2, "the rule's tau2 (stopping.params.tau2)");
  analyze->add_option("--param", rule_flags.params,
                      "key=value: any other stopping.params entry (repeatable), e.g. "
                      "min_samples=1000");
  analyze->add_option("--metric", rule_flags.metric, "the experiment's metric")
      ->capture_default_str();
  analyze->add_option("--arms", replay.arms,
                      "the experiment's arms in config order (default: as they first appear)")
      ->delimiter(',');
  analyze->add_option("--control", replay.control, "the champion (default: the first arm)");
  analyze->add_option("--look-every", replay.look_every,
                      "look after every N events (refresh.every_rewards; default: the file's "
                      "look column)");
  analyze->add_flag("--trace", replay.trace, "print every look, not only the decision");

  std::string export_log, export_out;
  banditd::stats::ExportOptions export_opts;
  std::optional<uint16_t> export_epoch;
  auto* export_events = app.add_subcommand(
      "export-events",
      "the events a stopping rule saw, from banditd's decision log (CSV for analyze --rule)");
  export_events
      ->add_option("log", export_log, "the state dir (decisions-*.tsv) or one decision log file")
      ->required();
  export_events->add_option("--experiment", export_opts.experiment,
                            "the experiment (needed when the log holds several)");
  export_events->add_option("--epoch", export_epoch, "the epoch (default: the newest logged)");
  export_events->add_option("--out", export_out, "write the CSV here (default: stdout)");

  banditd::sim::LiveOptions live_opts;
  std::string live_scenario;
  auto* live = app.add_subcommand(
      "live", "drive a running banditd with simulated users and check its counts");
  live->add_option("--scenario", live_scenario, "scenario YAML file with a `live:` map");
  live->add_option("--endpoint", live_opts.endpoint, "the daemon's api endpoint")
      ->capture_default_str();
  live->add_option("--ground-truth", live_opts.ground_truth,
                   "ground_truth.json of the models (written by banditd-make-models)")
      ->required();
  live->add_option("--experiment", live_opts.experiment, "experiment name")->capture_default_str();
  live->add_option("--requests", live_opts.max_requests, "most route requests");
  live->add_option("--seconds", live_opts.max_seconds, "most seconds of traffic");
  live->add_option("--concurrency", live_opts.concurrency, "requests in flight");
  live->add_option("--seed", live_opts.seed, "seed of the simulated users");

  OpeFlags ope_flags;
  auto* ope = app.add_subcommand(
      "ope", "estimate a target policy's value from banditd's decision log (IPS, SNIPS, DR)");
  ope->add_option("--log", ope_flags.log, "a decision log file or the directory of decisions-*.tsv")
      ->required();
  ope->add_option("--policy", ope_flags.policy, "the target policy (POLICY.yaml)")->required();
  ope->add_option("--experiment", ope_flags.experiment,
                  "the experiment to evaluate (needed when the log holds several)");
  ope->add_option("--unrewarded", ope_flags.unrewarded,
                  "decisions without a reward: skip (default) or zero (count as reward 0)");
  ope->add_option("--folds", ope_flags.eval.folds, "cross-fitting folds of DR's reward model")
      ->capture_default_str();
  ope->add_option("--lambda", ope_flags.eval.ridge_lambda, "ridge penalty of DR's reward model")
      ->capture_default_str();
  ope->add_flag("--json", ope_flags.json, "JSON output");

  OpeValidateFlags ov;
  auto* ope_validate = app.add_subcommand(
      "ope-validate",
      "coverage of the OPE confidence intervals by simulation (uniform and Thompson logging)");
  ope_validate->add_option("--scenario", ov.scenario, "a contextual scenario (the truth)")
      ->capture_default_str();
  ope_validate->add_option("--target", ov.target, "the target policy (POLICY.yaml)")
      ->capture_default_str();
  ope_validate->add_option("--reps", ov.options.reps, "replications per logging policy")
      ->capture_default_str();
  ope_validate->add_option("--decisions", ov.options.decisions, "logged decisions per replication")
      ->capture_default_str();
  ope_validate->add_option("--seed", ov.options.seed, "seed")->capture_default_str();
  ope_validate->add_option("--threads", ov.options.threads, "worker threads (default: every core)");
  ope_validate
      ->add_option("--thompson-floor", ov.options.thompson_floor,
                   "the Thompson logger's least share of any arm (traffic limits)")
      ->capture_default_str();
  ope_validate->add_option("--work-dir", ov.options.work_dir,
                           "where the logs are written (default: a temporary directory)");

  CLI11_PARSE(app, argc, argv);

  if (*ope) return Ope(ope_flags);
  if (*ope_validate) return OpeValidate(ov);

  if (*run) return Run(flags);
  if (*validate) {
    auto scenarios = Load(flags);
    if (!scenarios.ok()) return Fail(scenarios.status());
    const auto factories = banditd::sim::Factories::Default();
    for (const auto& s : *scenarios) {
      if (auto st = banditd::sim::ValidateContenders(s, factories); !st.ok()) return Fail(st);
      if (daemon_fit) PrintDaemonFit(s);
    }
    std::printf("%s: ok (%zu variant%s)\n", flags.scenario.c_str(), scenarios->size(),
                scenarios->size() == 1 ? "" : "s");
    return 0;
  }
  if (*analyze) {
    if (rule_flags.rule.empty()) {
      for (const char* f : {"--alpha", "--mde", "--tau2", "--param", "--metric", "--arms",
                            "--control", "--look-every", "--trace"}) {
        if (analyze->count(f) > 0) {
          std::fprintf(stderr, "analyze: %s replays events and needs --rule\n", f);
          return 2;
        }
      }
      return banditd::stats::RunAnalyzeCommand(csv, weights, json, std::cout, std::cerr);
    }
    if (!weights.empty()) {
      std::fprintf(stderr, "analyze: --weights is for per-arm sums, not with --rule\n");
      return 2;
    }
    replay.events_path = csv;
    replay.json = json;
    return banditd::stats::RunReplayCommand(
        replay,
        [&](size_t num_arms, size_t control) {
          return banditd::config::StoppingSpecFromFlags(rule_flags, num_arms, control);
        },
        std::cout, std::cerr);
  }
  if (*export_events) {
    export_opts.epoch = export_epoch;
    auto r = banditd::stats::ExportEvents(banditd::state::Env::Posix(), export_log, export_opts);
    if (!r.ok()) return Fail(r.status());
    if (export_out.empty()) {
      std::fputs(r->csv.c_str(), stdout);
    } else {
      std::ofstream f(export_out, std::ios::binary);
      f << r->csv;
      if (!f.flush()) return Fail(banditd::Status(banditd::Code::kIoError,
                                                  "cannot write '" + export_out + "'"));
    }
    std::string arms;
    for (const auto& a : r->arms) arms += (arms.empty() ? "" : ",") + a;
    std::fprintf(stderr,
                 "export-events: experiment %s epoch %u: %llu events (arms %s); left out: %llu "
                 "forced, %llu of other epochs, %llu earlier without a decision line, %llu "
                 "repeated rewards; %llu looks marked\n",
                 r->experiment.c_str(), static_cast<unsigned>(r->epoch),
                 static_cast<unsigned long long>(r->events), arms.c_str(),
                 static_cast<unsigned long long>(r->forced),
                 static_cast<unsigned long long>(r->other_epochs),
                 static_cast<unsigned long long>(r->early_orphans),
                 static_cast<unsigned long long>(r->duplicates),
                 static_cast<unsigned long long>(r->looks));
    return 0;
  }
  if (*live) {
    if (!live_scenario.empty()) {
      // The file sets the defaults; flags given on the command line win.
      banditd::sim::LiveOptions base;
      base.endpoint = live_opts.endpoint;
      base.ground_truth = live_opts.ground_truth;
      auto loaded = banditd::sim::LoadLiveScenario(live_scenario, base);
      if (!loaded.ok()) return Fail(loaded.status());
      if (live->count("--experiment")) loaded->experiment = live_opts.experiment;
      if (live->count("--requests")) loaded->max_requests = live_opts.max_requests;
      if (live->count("--seconds")) loaded->max_seconds = live_opts.max_seconds;
      if (live->count("--concurrency")) loaded->concurrency = live_opts.concurrency;
      if (live->count("--seed")) loaded->seed = live_opts.seed;
      live_opts = *loaded;
    }
    return banditd::sim::RunLive(live_opts, std::cout, std::cerr);
  }
  return 1;
}
