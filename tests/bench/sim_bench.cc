// Simulator throughput: steps (choose + reward + update + bookkeeping) per
// second on one core, for the engine driving the shipped Thompson sampler,
// next to the bare policy loop so the engine's own overhead is visible.
// Run: build/bin/sim_bench (docs/simulation.md records the figures).
#include <benchmark/benchmark.h>

#include "sim/engine.h"
#include "sim/scenario.h"

namespace banditd::sim {
namespace {

Scenario Make(const std::string& arms, uint64_t horizon) {
  auto s = ParseScenario("name: bench\narms: " + arms + "\nhorizon: " + std::to_string(horizon) +
                             "\nruns: 1\npolicies: [{name: thompson}]\n",
                         "bench");
  if (!s.ok()) std::abort();
  return s->front();
}

void EngineSteps(benchmark::State& state, const std::string& arms) {
  const uint64_t horizon = 1'000'000;
  const Scenario s = Make(arms, horizon);
  const Factories f = Factories::Default();
  const auto checkpoints = Checkpoints(horizon, s.checkpoints_per_decade);
  uint64_t rep = 0;
  for (auto _ : state) {
    auto r = RunReplication(s, 0, rep++, f, checkpoints);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * horizon));
}

void BM_Engine_Thompson_2Arm(benchmark::State& state) {
  EngineSteps(state, "[{mean: 0.05}, {mean: 0.055}]");
}
BENCHMARK(BM_Engine_Thompson_2Arm)->Unit(benchmark::kMillisecond);

void BM_Engine_Thompson_10Arm(benchmark::State& state) {
  EngineSteps(state, "{count: 10, best: 0.5, mean: 0.4}");
}
BENCHMARK(BM_Engine_Thompson_10Arm)->Unit(benchmark::kMillisecond);

// The policy alone: Choose + a Bernoulli reward + Update, no engine.
void BM_PolicyLoop_Thompson_2Arm(benchmark::State& state) {
  auto p = MakePolicy(PolicySpec{"thompson", 2, 0, {}, {}});
  if (!p.ok()) std::abort();
  Rng rng(1);
  const double means[2] = {0.05, 0.055};
  for (auto _ : state) {
    const size_t arm = (*p)->Choose(rng, {});
    (*p)->Update(arm, rng.Uniform() < means[arm] ? 1.0 : 0.0, {});
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_PolicyLoop_Thompson_2Arm);

// The whole engine on every core: 8 replications of 1e6 steps per iteration.
void BM_Scenario_Thompson_2Arm_AllCores(benchmark::State& state) {
  Scenario s = Make("[{mean: 0.05}, {mean: 0.055}]", 1'000'000);
  s.runs = 8;
  for (auto _ : state) {
    auto r = RunScenario(s, RunOptions{0, false, ""}, Factories::Default());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 8'000'000));
}
BENCHMARK(BM_Scenario_Thompson_2Arm_AllCores)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace banditd::sim

BENCHMARK_MAIN();
