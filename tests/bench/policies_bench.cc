// Policy speed: choose, choose + update, and the allocation, for every
// registered policy with 2 and 10 arms; thompson under traffic limits; the
// contextual policies' choose, update and allocation for d = 16; and the
// Rng variates the Thompson policies spend their time in. Not run by ctest.
//   build/bin/policies_bench --benchmark_min_time=0.5
// Results and the machine they were measured on: docs/PERFORMANCE.md.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "banditd/policy.h"
#include "policies/beta_math.h"

namespace banditd {
namespace {

// A policy that has seen 2,000 rewards (one in seven a success), as in a
// running experiment; nullptr (and the benchmark skipped) if it cannot be built.
std::unique_ptr<Policy> Warm(benchmark::State& state, const std::string& name, size_t arms,
                             TrafficLimits limits = {}) {
  auto p = MakePolicy(PolicySpec{name, arms, 0, {}, limits});
  if (!p.ok()) {
    state.SkipWithError(p.status().ToString().c_str());
    return nullptr;
  }
  for (size_t i = 0; i < 2000; ++i) (*p)->Update(i % arms, (i % 7) == 0 ? 1.0 : 0.0, {});
  return std::move(p).value();
}

void BM_Choose(benchmark::State& state, std::string name) {
  auto p = Warm(state, name, static_cast<size_t>(state.range(0)));
  if (!p) return;
  Rng rng(1);
  for (auto _ : state) benchmark::DoNotOptimize(p->Choose(rng, {}));
}

// Choose, then a Bernoulli(0.1) reward for the chosen arm, from a fresh policy.
void BM_ChooseUpdate(benchmark::State& state, std::string name, TrafficLimits limits) {
  const auto arms = static_cast<size_t>(state.range(0));
  auto p = MakePolicy(PolicySpec{name, arms, 0, {}, limits});
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

// The first `range(1)` choose + update steps of a fresh policy under a 50%
// champion floor, as one iteration: the limits wrapper's early refreshes
// (one per update at first) dominate when the allocation is Monte Carlo.
void BM_LimitedStart(benchmark::State& state) {
  const auto arms = static_cast<size_t>(state.range(0));
  const auto steps = state.range(1);
  for (auto _ : state) {
    auto p = MakePolicy(PolicySpec{"thompson", arms, 0, {}, TrafficLimits{0, 0.5, 1.0}});
    Rng rng(1);
    for (int64_t t = 0; t < steps; ++t) {
      const size_t arm = (*p)->Choose(rng, {});
      (*p)->Update(arm, rng.Bernoulli(0.1) ? 1.0 : 0.0, {});
    }
  }
  state.SetItemsProcessed(state.iterations() * steps);
}

void BM_Allocation(benchmark::State& state, std::string name) {
  const auto arms = static_cast<size_t>(state.range(0));
  auto p = Warm(state, name, arms);
  if (!p) return;
  Rng rng(1);
  std::vector<double> out(arms);
  for (auto _ : state) {
    p->Allocation(rng, {}, out);
    benchmark::DoNotOptimize(out.data());
  }
}

void BM_Beta(benchmark::State& state) {
  Rng rng(1);
  const double a = static_cast<double>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(rng.Beta(a, 6 * a));
}

// Baseline: Beta as a ratio of libstdc++ gammas, a distribution object built
// per draw (what Thompson needs: new parameters at every draw).
void BM_StdBeta(benchmark::State& state) {
  Rng rng(1);
  const double a = static_cast<double>(state.range(0));
  for (auto _ : state) {
    const double x = std::gamma_distribution<double>(a, 1.0)(rng);
    const double y = std::gamma_distribution<double>(6 * a, 1.0)(rng);
    benchmark::DoNotOptimize(x / (x + y));
  }
}

void BM_StdNormal(benchmark::State& state) {
  Rng rng(1);
  for (auto _ : state) benchmark::DoNotOptimize(std::normal_distribution<double>(0.0, 1.0)(rng));
}

void BM_Normal(benchmark::State& state) {
  Rng rng(1);
  for (auto _ : state) benchmark::DoNotOptimize(rng.Normal());
}

// Two-arm Thompson allocation, P(X2 > X1), at range(0) = n successes on arm
// 1 out of 20n (a 5% rate) and arm 2 about one standard error ahead
// (P ~ 0.84), as in a running experiment; range(1) = 1 adds 0.5 to every
// parameter (non-integer: the quadrature path).
void BM_ProbBetaGreater(benchmark::State& state) {
  const double n = static_cast<double>(state.range(0));
  const double lead = std::round(std::sqrt(2 * n));
  const double h = state.range(1) ? 0.5 : 0.0;
  const double a1 = 1 + n + h, b1 = 1 + 19 * n + h, a2 = a1 + lead, b2 = b1 - lead;
  for (auto _ : state) benchmark::DoNotOptimize(policies::ProbBetaGreater(a1, b1, a2, b2));
}

// The paths ProbBetaGreater chooses between, on the posteriors above (range(1)
// selects the path): where the full sum stops paying (kMaxFullSumTerms) and
// what the window saves over it and over quadrature.
void BM_ProbBetaGreaterPath(benchmark::State& state) {
  const double n = static_cast<double>(state.range(0));
  const double lead = std::round(std::sqrt(2 * n));
  const double a1 = 1 + n, b1 = 1 + 19 * n, a2 = a1 + lead, b2 = b1 - lead;
  const auto path = state.range(1);
  if (path == 0 && n > policies::kMaxClosedFormTerms) {
    state.SkipWithError("full sum capped at kMaxClosedFormTerms");
    return;
  }
  using policies::internal::SumMethod;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        path == 2 ? policies::internal::ProbBetaGreaterQuadrature(a1, b1, a2, b2)
                  : policies::internal::ProbBetaGreaterSum(
                        a1, b1, a2, b2, path == 0 ? SumMethod::kFull : SumMethod::kWindowed));
  }
}

// Contextual policies (docs/contextual.md): contexts of length d with a
// constant first feature and standard normal others, cycled from 1,024.
std::vector<std::vector<double>> Contexts(size_t d) {
  Rng rng(17);
  std::vector<std::vector<double>> xs(1024, std::vector<double>(d));
  for (auto& x : xs) {
    x[0] = 1.0;
    for (size_t j = 1; j < d; ++j) x[j] = rng.Normal();
  }
  return xs;
}

// A contextual policy of `arms` arms and context length d after 2,000
// rewards (one in seven a success), or nullptr (benchmark skipped).
std::unique_ptr<Policy> WarmContextual(benchmark::State& state, const std::string& name,
                                       size_t arms, size_t d,
                                       const std::vector<std::vector<double>>& xs) {
  auto p = MakePolicy(PolicySpec{name, arms, d, {}, {}});
  if (!p.ok()) {
    state.SkipWithError(p.status().ToString().c_str());
    return nullptr;
  }
  for (size_t i = 0; i < 2000; ++i) {
    (*p)->Update(i % arms, (i % 7) == 0 ? 1.0 : 0.0, xs[i % xs.size()]);
  }
  return std::move(p).value();
}

// range(0) arms, range(1) context length.
void BM_ContextualChoose(benchmark::State& state, std::string name) {
  const auto arms = static_cast<size_t>(state.range(0));
  const auto xs = Contexts(static_cast<size_t>(state.range(1)));
  auto p = WarmContextual(state, name, arms, xs[0].size(), xs);
  if (!p) return;
  Rng rng(1);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(p->Choose(rng, xs[i++ & 1023]));
}

void BM_ContextualUpdate(benchmark::State& state, std::string name) {
  const auto arms = static_cast<size_t>(state.range(0));
  const auto xs = Contexts(static_cast<size_t>(state.range(1)));
  auto p = WarmContextual(state, name, arms, xs[0].size(), xs);
  if (!p) return;
  size_t i = 0;
  for (auto _ : state) {
    p->Update(i % arms, (i % 7) == 0 ? 1.0 : 0.0, xs[i & 1023]);
    ++i;
  }
}

void BM_ContextualAllocation(benchmark::State& state, std::string name) {
  const auto arms = static_cast<size_t>(state.range(0));
  const auto xs = Contexts(static_cast<size_t>(state.range(1)));
  auto p = WarmContextual(state, name, arms, xs[0].size(), xs);
  if (!p) return;
  Rng rng(1);
  std::vector<double> out(arms);
  size_t i = 0;
  for (auto _ : state) {
    p->Allocation(rng, xs[i++ & 1023], out);
    benchmark::DoNotOptimize(out.data());
  }
}

bool IsContextual(const std::string& name) {
  return !MakePolicy(PolicySpec{name, 2, 0, {}, {}}).ok() &&
         MakePolicy(PolicySpec{name, 2, 1, {}, {}}).ok();
}

int Register() {
  for (auto name : PolicyNames()) {
    const std::string n(name);
    if (IsContextual(n)) {
      benchmark::RegisterBenchmark(("contextual_choose/" + n).c_str(), BM_ContextualChoose, n)
          ->Args({2, 16})
          ->Args({10, 16});
      benchmark::RegisterBenchmark(("contextual_update/" + n).c_str(), BM_ContextualUpdate, n)
          ->Args({2, 16})
          ->Args({2, 64});
      benchmark::RegisterBenchmark(("contextual_allocation/" + n).c_str(), BM_ContextualAllocation,
                                   n)
          ->Args({2, 16})
          ->Args({10, 16});
      continue;
    }
    benchmark::RegisterBenchmark(("choose/" + n).c_str(), BM_Choose, n)->Arg(2)->Arg(10);
    benchmark::RegisterBenchmark(("choose_update/" + n).c_str(), BM_ChooseUpdate, n,
                                 TrafficLimits{})
        ->Arg(2)
        ->Arg(10);
    benchmark::RegisterBenchmark(("allocation/" + n).c_str(), BM_Allocation, n)->Arg(2)->Arg(10);
  }
  // The limits wrapper chooses from a cached projected allocation that it
  // refreshes after every update for the first 100, then every 1% of updates.
  benchmark::RegisterBenchmark("choose_update/thompson+champion_floor_0.5", BM_ChooseUpdate,
                               std::string("thompson"), TrafficLimits{0, 0.5, 1.0})
      ->Arg(2)
      ->Arg(10);
  benchmark::RegisterBenchmark("first_steps/thompson+champion_floor_0.5", BM_LimitedStart)
      ->Args({2, 10000})
      ->Args({10, 10000})
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("prob_beta_greater", BM_ProbBetaGreater)
      ->ArgsProduct({{100, 1000, 10000, 100000, 1000000, 10000000}, {0, 1}})
      ->Unit(benchmark::kMicrosecond);
  // range(1): 0 full sum, 1 windowed sum, 2 quadrature.
  benchmark::RegisterBenchmark("prob_beta_greater_path", BM_ProbBetaGreaterPath)
      ->ArgsProduct({{10, 100, 300, 500, 700, 1000, 10000, 100000, 1000000, 10000000}, {0, 1, 2}})
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("rng/beta(a,6a)", BM_Beta)->Arg(1)->Arg(100)->Arg(10000);
  benchmark::RegisterBenchmark("rng/std_beta(a,6a)", BM_StdBeta)->Arg(1)->Arg(100)->Arg(10000);
  benchmark::RegisterBenchmark("rng/normal", BM_Normal);
  benchmark::RegisterBenchmark("rng/std_normal", BM_StdNormal);
  return 0;
}
const int kRegistered = Register();

}  // namespace
}  // namespace banditd

BENCHMARK_MAIN();
