// banditd-bench: the load generator (docs/PERFORMANCE.md).
// Starts banditd itself (or uses --api), measures route, route+inference and
// reward ingest, and in the same run the baselines they are compared with: a
// raw ZeroMQ ROUTER echo server / PULL sink, and the model's forward called
// directly. Every measurement is bounded by --seconds and --requests.
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "tests/bench/load/flat.h"
#include "tests/bench/load/modes.h"

namespace {

using namespace banditd::bench;

std::string SelfDir() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

std::set<std::string> SplitModes(const std::string& s) {
  std::set<std::string> out;
  std::stringstream in(s);
  std::string m;
  while (std::getline(in, m, ',')) out.insert(m);
  return out;
}

// A started daemon in its own temp dir, removed on destruction.
struct Started {
  std::string dir;
  std::unique_ptr<DaemonProcess> proc;
  ~Started() {
    if (proc) proc->Stop();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

std::unique_ptr<Started> StartDaemon(const std::string& banditd, const DaemonSetup& setup) {
  auto s = std::make_unique<Started>();
  char tmpl[] = "/tmp/banditd-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return nullptr;
  s->dir = tmpl;
  auto p = DaemonProcess::Start(banditd, setup, s->dir);
  if (!p.ok()) {
    std::fprintf(stderr, "banditd-bench: %s\n", p.status().ToString().c_str());
    std::ifstream log(s->dir + "/banditd.log");
    std::cerr << log.rdbuf();
    return nullptr;
  }
  s->proc = std::move(*p);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"banditd-bench: banditd against raw ZeroMQ and raw LibTorch, in one run"};
  Options opt;
  std::string modes_arg =
      "route-lockstep,route-pipelined,inference,rewards-ff,rewards-acked,memory";
  std::string banditd = SelfDir() + "/banditd";
  std::string api, rewards_ep, json, print_config;
  uint64_t memory_decisions = 1000000;
  FlatOptions flat;
  opt.models_dir = SelfDir() + "/../models";
  app.add_option("--modes", modes_arg,
                 "comma list: route-lockstep, route-pipelined, inference, rewards-ff, "
                 "rewards-acked, memory, flat, route-scaling (pipelined routes with 1 and 2 api "
                 "I/O threads)")
      ->capture_default_str();
  app.add_option("--seconds", opt.seconds, "longest single measurement")->capture_default_str();
  app.add_option("--requests", opt.requests, "most requests per measurement")
      ->capture_default_str();
  app.add_option("--clients", opt.clients, "pipelined: DEALER clients")->capture_default_str();
  app.add_option("--inflight", opt.inflight, "pipelined: requests in flight per client")
      ->capture_default_str();
  app.add_option("--client-threads", opt.client_threads,
                 "pipelined: client threads (each drives --clients sockets)")
      ->capture_default_str();
  int io_threads = 1;
  int setup_spin_us = 0;
  app.add_option("--io-threads", io_threads,
                 "api I/O threads of the started daemon (sockets.api_extra gets N-1 endpoints; "
                 "the route-scaling mode runs 1 and 2 regardless)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--inference-spin-us", setup_spin_us,
                 "the started daemon's inference.spin_us (workers and the I/O loop busy-wait "
                 "this long instead of sleeping)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  int max_batch = 1, batch_delay_us = 0;
  app.add_option("--inference-max-batch", max_batch,
                 "> 1: the started daemon micro-batches inference (inference.batching) up to this")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--inference-batch-delay-us", batch_delay_us,
                 "with --inference-max-batch: inference.batching.max_queue_delay_us")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--batch", opt.batch, "rewards per batched `rewards` message")
      ->capture_default_str();
  app.add_option("--rewards", opt.rewards, "rewards per reward measurement")->capture_default_str();
  app.add_option("--memory-decisions", memory_decisions, "memory: routes, then rewards")
      ->capture_default_str();
  app.add_option("--flat-seconds", flat.seconds, "flat: length of the constant-rate run")
      ->capture_default_str();
  app.add_option("--flat-rate", flat.rate, "flat: routes per second (each rewarded)")
      ->capture_default_str();
  app.add_option("--flat-warmup", flat.warmup_seconds, "flat: seconds left out of min/max")
      ->capture_default_str();
  app.add_flag("--no-warmup{false}", opt.warmup,
               "send no warm-up requests to the daemon (a profile then sees exactly --requests)");
  std::string flat_window = "24h";
  app.add_option("--flat-reward-window", flat_window,
                 "flat: the daemon's reward_window (a window shorter than the run shows the "
                 "steady state of the dedupe memory)")
      ->capture_default_str();
  app.add_option("--banditd", banditd, "the daemon binary")->capture_default_str();
  app.add_option("--models", opt.models_dir, "directory with champion.pt / challenger.pt")
      ->capture_default_str();
  bool route_only = false;
  app.add_flag("--route-only", route_only,
               "the daemon gets no model experiment (LibTorch is never loaded); "
               "the inference mode is then refused");
  app.add_option("--api", api,
                 "measure a running daemon's api endpoint instead of starting one "
                 "(it needs the bench's experiments: see --print-config)");
  app.add_option("--rewards-endpoint", rewards_ep, "with --api: its rewards (PULL) endpoint");
  app.add_option("--json", json, "write the results as JSON here");
  app.add_option("--print-config", print_config,
                 "print the daemon config the bench uses (state_dir = this) and exit");
  CLI11_PARSE(app, argc, argv);

  DaemonSetup setup;
  setup.models_dir = std::filesystem::absolute(opt.models_dir).lexically_normal().string();
  opt.models_dir = setup.models_dir;
  if (route_only) setup.models_dir.clear();
  setup.io_threads = io_threads;
  setup.inference_spin_us = setup_spin_us;
  setup.inference_max_batch = max_batch;
  setup.inference_batch_delay_us = batch_delay_us;
  if (!print_config.empty()) {
    std::cout << ConfigYaml(setup, print_config);
    return 0;
  }
  const auto modes = SplitModes(modes_arg);
  if (route_only && modes.count("inference")) {
    std::fprintf(stderr, "--route-only: drop the inference mode (there is no model to call)\n");
    return 2;
  }
  Report report;
  for (int i = 0; i < argc; ++i) report.command += (i ? " " : "") + std::string(argv[i]);
  report.nproc = static_cast<int>(std::thread::hardware_concurrency());
  report.cpu_model = CpuModel();
  report.load_before = LoadAvg();
  std::printf("banditd-bench on %d cores (%s), loadavg %s\n", report.nproc,
              report.cpu_model.c_str(), report.load_before.c_str());

  Bench bench(opt);
  std::unique_ptr<Started> started;
  Target target;
  if (!api.empty()) {
    target.ep.api = api;
    target.ep.rewards = rewards_ep;
    target.label = "as-configured";
  } else {
    started = StartDaemon(banditd, setup);
    if (!started) return 1;
    target.ep = started->proc->endpoints();
    target.pid = started->proc->pid();
    target.label = "group";
  }
  auto add = [&report](std::vector<Row> rows) {
    for (auto& r : rows) report.rows.push_back(std::move(r));
  };
  if (modes.count("route-lockstep")) report.rows.push_back(bench.RouteLockstep(target));
  if (modes.count("route-pipelined")) report.rows.push_back(bench.RoutePipelined(target));
  if (modes.count("inference")) add(bench.Inference(target));
  if (modes.count("rewards-ff") && !target.ep.rewards.empty())
    add(bench.RewardsFireAndForget(target));
  if (modes.count("rewards-acked")) {
    add(bench.RewardsAcked(target));
    if (api.empty()) {
      DaemonSetup always = setup;
      always.durability = "always";
      auto d = StartDaemon(banditd, always);
      if (d) add(bench.RewardsAcked({d->proc->endpoints(), d->proc->pid(), "always"}));
    }
  }
  started.reset();  // the next modes want a fresh daemon
  if (modes.count("route-scaling") && api.empty()) {
    for (int k : {1, 2}) {
      DaemonSetup scaled = setup;
      scaled.io_threads = k;
      auto d = StartDaemon(banditd, scaled);
      if (!d) break;
      report.rows.push_back(bench.RoutePipelined({d->proc->endpoints(), d->proc->pid(), "group"},
                                                 "route-pipelined-" + std::to_string(k) + "io"));
    }
  }
  if (modes.count("memory") && api.empty()) {
    auto d = StartDaemon(banditd, setup);
    if (d)
      report.memory = MeasureMemory(bench, {d->proc->endpoints(), d->proc->pid(), "group"},
                                    memory_decisions, opt.batch);
  }
  if (modes.count("flat") && api.empty()) {
    DaemonSetup flat_setup = setup;
    flat_setup.reward_window = flat_window;
    auto d = StartDaemon(banditd, flat_setup);
    if (d) report.flat = MeasureFlat({d->proc->endpoints(), d->proc->pid(), "group"}, flat);
    if (report.flat) report.flat->reward_window = flat_window;
  }
  report.load_after = LoadAvg();
  PrintReport(report);
  if (!json.empty() && !WriteJson(report, json)) {
    std::fprintf(stderr, "banditd-bench: cannot write %s\n", json.c_str());
    return 1;
  }
  return 0;
}
