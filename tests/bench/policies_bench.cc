// choose + update for every policy with 2 and 10 arms.
//   build/bin/policies_bench --benchmark_filter=. --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <string>

#include "banditd/policy.h"

namespace banditd {
namespace {

void BM_Choose(benchmark::State& state, std::string name) {
  const auto arms = static_cast<size_t>(state.range(0));
  auto p = MakePolicy(PolicySpec{name, arms, 0, {}, {}});
  if (!p.ok()) {
    state.SkipWithError(p.status().ToString().c_str());
    return;
  }
  Rng rng(1);
  for (size_t i = 0; i < 2000; ++i) (*p)->Update(i % arms, (i % 7) == 0 ? 1.0 : 0.0, {});
  for (auto _ : state) benchmark::DoNotOptimize((*p)->Choose(rng, {}));
}

void BM_ChooseUpdate(benchmark::State& state, std::string name) {
  const auto arms = static_cast<size_t>(state.range(0));
  auto p = MakePolicy(PolicySpec{name, arms, 0, {}, {}});
  if (!p.ok()) {
    state.SkipWithError(p.status().ToString().c_str());
    return;
  }
  Rng rng(1);
  for (auto _ : state) {
    const size_t arm = (*p)->Choose(rng, {});
    (*p)->Update(arm, rng.Bernoulli(0.1) ? 1.0 : 0.0, {});
  }
}

int Register() {
  for (auto name : PolicyNames()) {
    const std::string n(name);
    benchmark::RegisterBenchmark(("choose/" + n).c_str(), BM_Choose, n)->Arg(2)->Arg(10);
    benchmark::RegisterBenchmark(("choose_update/" + n).c_str(), BM_ChooseUpdate, n)
        ->Arg(2)
        ->Arg(10);
  }
  return 0;
}
const int kRegistered = Register();

}  // namespace
}  // namespace banditd

BENCHMARK_MAIN();
