// bandit-sim: compare bandit policies and stopping rules by simulation
// (docs/simulation.md). Subcommands: run, validate, analyze (src/stats);
// live is not built yet.
#include <cstdio>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <iostream>

#include "sim/engine.h"
#include "sim/live.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "src/stats/analyze.h"

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

  std::string csv;
  std::vector<double> weights;
  bool json = false;
  auto* analyze = app.add_subcommand(
      "analyze", "tests, intervals and rule decisions from per-arm sums (CSV: arm,n,sum,sum_sq)");
  analyze->add_option("file", csv, "CSV of per-arm sufficient statistics")->required();
  analyze->add_option("--weights", weights, "planned traffic weights, for the SRM check")
      ->delimiter(',');
  analyze->add_flag("--json", json, "JSON output");

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

  CLI11_PARSE(app, argc, argv);

  if (*run) return Run(flags);
  if (*validate) {
    auto scenarios = Load(flags);
    if (!scenarios.ok()) return Fail(scenarios.status());
    const auto factories = banditd::sim::Factories::Default();
    for (const auto& s : *scenarios) {
      if (auto st = banditd::sim::ValidateContenders(s, factories); !st.ok()) return Fail(st);
    }
    std::printf("%s: ok (%zu variant%s)\n", flags.scenario.c_str(), scenarios->size(),
                scenarios->size() == 1 ? "" : "s");
    return 0;
  }
  if (*analyze) return banditd::stats::RunAnalyzeCommand(csv, weights, json, std::cout, std::cerr);
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
