// Model hosting against its physical limit:
//   - RawForward: the same TorchScript forward called directly (no checks);
//   - ModelForward: through banditd::model::Model (validation + guard);
//   - PoolRoundTrip: submit to the inference pool and wait for the result on
//     the completion queue's eventfd, as the I/O thread does (lock-step);
//   - PoolThroughput: 64 requests kept in flight, micro-batching off vs on.
// Latency benchmarks report p50/p99 (µs) as counters.
//
//   build/bin/model_bench --benchmark_min_time=2 --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <poll.h>

#include <algorithm>
#include <chrono>

#include "banditd/model.h"
#include "banditd/rng.h"
#include "src/model/raw_forward.h"

namespace banditd::model {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string ModelFile(const char* name) { return std::string(BANDITD_MODELS_DIR) + "/" + name; }

std::vector<float> Features(uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(8);
  for (float& v : x) v = static_cast<float>(rng.Normal());
  return x;
}

std::shared_ptr<const Model> Champion() {
  ModelOptions o;
  o.name = "champion";
  o.path = ModelFile("champion.pt");
  o.input_shape = {8};
  auto m = LoadModel(o);
  if (!m.ok()) return nullptr;
  return *m;
}

// Per-iteration latencies -> p50/p99 counters in microseconds.
class Latencies {
 public:
  void Add(SteadyClock::duration d) { ns_.push_back(static_cast<double>(d.count())); }
  void Report(benchmark::State& state) {
    if (ns_.empty()) return;
    std::sort(ns_.begin(), ns_.end());
    auto q = [&](double p) { return ns_[static_cast<size_t>(p * (ns_.size() - 1))] / 1e3; };
    state.counters["p50_us"] = q(0.50);
    state.counters["p99_us"] = q(0.99);
  }

 private:
  std::vector<double> ns_;
};

void BM_RawForward(benchmark::State& state) {
  auto raw = internal::RawForward::Load(ModelFile("champion.pt"));
  if (!raw.ok()) return state.SkipWithError(raw.status().ToString().c_str());
  auto x = Features(1);
  std::vector<float> out;
  for (int i = 0; i < 100; ++i) (*raw)->Run(x, &out);  // the profiling executor settles
  Latencies lat;
  for (auto _ : state) {
    const auto t0 = SteadyClock::now();
    (*raw)->Run(x, &out);
    lat.Add(SteadyClock::now() - t0);
  }
  lat.Report(state);
}

void BM_ModelForward(benchmark::State& state) {
  auto m = Champion();
  if (!m) return state.SkipWithError("cannot load champion.pt");
  auto x = Features(1);
  std::vector<float> out;
  for (int i = 0; i < 100; ++i) (void)m->Forward(x, &out);
  Latencies lat;
  for (auto _ : state) {
    const auto t0 = SteadyClock::now();
    if (!m->Forward(x, &out).ok()) return state.SkipWithError("forward failed");
    lat.Add(SteadyClock::now() - t0);
  }
  lat.Report(state);
}

// Waits on the eventfd like the I/O loop's zmq_poll would, then drains.
void WaitOne(CompletionQueue& cq, std::vector<InferenceResult>* got) {
  while (got->empty()) {
    pollfd p{cq.fd(), POLLIN, 0};
    ::poll(&p, 1, -1);
    cq.Drain(got);
  }
}

// range(0): worker spin before sleeping, µs.
void BM_PoolRoundTrip(benchmark::State& state) {
  auto m = Champion();
  if (!m) return state.SkipWithError("cannot load champion.pt");
  auto slot = std::make_shared<ModelSlot>(m);
  CompletionQueue cq;
  InferencePool pool(PoolOptions{.workers = 1, .spin = std::chrono::microseconds(state.range(0))});
  const auto x = Features(1);
  std::vector<InferenceResult> got;
  Latencies lat;
  for (int i = 0; i < 100; ++i) {
    (void)pool.Submit({slot, x, 0, cq.Callback()});
    WaitOne(cq, &got);
    got.clear();
  }
  for (auto _ : state) {
    const auto t0 = SteadyClock::now();
    if (!pool.Submit({slot, x, 0, cq.Callback()}).ok()) return state.SkipWithError("refused");
    WaitOne(cq, &got);
    lat.Add(SteadyClock::now() - t0);
    if (!got[0].status.ok()) return state.SkipWithError("forward failed");
    got.clear();
  }
  lat.Report(state);
}

// range(0): workers, range(1): max_batch (1 = off), range(2): max delay µs.
// 64 requests always in flight; one iteration = 64 completions.
void BM_PoolThroughput(benchmark::State& state) {
  auto m = Champion();
  if (!m) return state.SkipWithError("cannot load champion.pt");
  auto slot = std::make_shared<ModelSlot>(m);
  CompletionQueue cq;
  constexpr int kInFlight = 64;
  InferencePool pool(PoolOptions{.workers = static_cast<int>(state.range(0)),
                                 .queue_capacity = kInFlight,
                                 .max_batch = static_cast<size_t>(state.range(1)),
                                 .max_delay = std::chrono::microseconds(state.range(2))});
  const auto x = Features(2);
  std::vector<InferenceResult> got;
  for (int i = 0; i < kInFlight; ++i) (void)pool.Submit({slot, x, 0, cq.Callback()});
  int64_t done = 0, batches = 0, served = 0;
  for (auto _ : state) {
    int completed = 0;
    while (completed < kInFlight) {
      got.clear();
      WaitOne(cq, &got);
      for (auto& r : got) {
        if (!r.status.ok()) return state.SkipWithError(r.status.ToString().c_str());
        batches += 1;
        served += r.batch_size;
        (void)pool.Submit({slot, x, 0, cq.Callback()});  // keep 64 in flight
      }
      completed += static_cast<int>(got.size());
    }
    done += completed;
  }
  state.SetItemsProcessed(done);
  // Mean batch size seen by a request (batch-size weighted).
  state.counters["mean_batch"] = batches ? static_cast<double>(served) / batches : 0;
}

BENCHMARK(BM_RawForward)->UseRealTime();
BENCHMARK(BM_ModelForward)->UseRealTime();
BENCHMARK(BM_PoolRoundTrip)->ArgName("spin_us")->Arg(0)->Arg(50)->UseRealTime();
BENCHMARK(BM_PoolThroughput)
    ->ArgNames({"workers", "max_batch", "delay_us"})
    ->Args({1, 1, 0})
    ->Args({2, 1, 0})
    ->Args({1, 64, 0})
    ->Args({2, 64, 0})
    ->Args({2, 32, 100})
    ->UseRealTime();

}  // namespace
}  // namespace banditd::model

int main(int argc, char** argv) {
  // As the daemon does at start-up: one intra-op thread per worker.
  if (!banditd::model::SetTorchThreads(1).ok()) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
