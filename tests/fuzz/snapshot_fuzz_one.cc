#include "tests/fuzz/snapshot_fuzz_one.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include <msgpack.hpp>

#include "banditd/clock.h"
#include "src/experiment/engine.h"
#include "tests/unit/experiment/engine_fixture.h"

namespace banditd::experiment::fuzz {
namespace {

[[noreturn]] void Finding(const char* what, const Status& s = Status::Ok()) {
  std::fprintf(stderr, "snapshot fuzz property broken: %s (%s)\n", what, s.ToString().c_str());
  std::abort();
}

EngineOptions Options() {
  ExperimentOptions e = fixture::ThompsonExperiment("ctr");
  // Few Monte Carlo draws: every engine built or restored computes an
  // allocation, and the fuzzer builds many.
  e.policy.params = Params{{"allocation_draws", int64_t{100}}};
  e.stopping = StoppingSpec{};
  e.stopping->name = "sequential";
  e.stopping->params = Params{{"mde", 0.05}};
  ExperimentOptions g;
  g.name = "latency";
  g.metric = Metric::kGaussian;
  g.arms = {{"a", false}, {"b", false}, {"c", false}};
  g.policy.name = "thompson_gaussian";
  g.policy.params = Params{{"allocation_draws", int64_t{100}}};
  g.refresh_interval_ns = 0;
  ExperimentOptions c = fixture::ContextualExperiment("linucb", 2, "ctx");
  c.context_store_max_bytes = 1 << 16;
  return fixture::EngineOver({e, g, c}, 1, 2);
}

std::unique_ptr<Engine> Make(Clock& clock) {
  return fixture::CreatedOr(Engine::Create(Options(), clock), [](const Status& s) {
    Finding("the fuzz engine's options are refused", s);
  });
}

// Routes one request per experiment and rewards it.
void Exercise(Engine& eng, int value) {
  const double x[] = {1.0, 0.25};
  for (size_t i = 0; i < eng.num_experiments(); ++i) {
    const std::string& name = eng.experiment(i).name();
    auto d = eng.experiment(i).context_dim() > 0
                 ? eng.Route(name, std::nullopt, std::nullopt, std::span<const double>(x))
                 : eng.Route(name, std::nullopt, std::nullopt);
    if (!d.ok()) continue;  // e.g. a restored experiment that is paused
    auto p = eng.Prepare(std::string_view(d->id.data(), d->id.size()), value % 2);
    if (p.ok()) eng.Commit(*p);
  }
}

std::string Pack(const auto& v) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, v);
  return std::string(buf.data(), buf.size());
}

}  // namespace

// An engine and the clock it reads.
struct Fixture {
  ManualClock clock;
  std::unique_ptr<Engine> engine = Make(clock);
};

void SnapshotFuzzOne(std::string_view bytes) {
  // A refused snapshot leaves the engine unchanged (checked below), so one
  // engine serves every input until a restore succeeds: most inputs are
  // refused, and building an engine costs more than refusing one.
  static std::unique_ptr<Fixture> idle;
  static const std::string fresh = Fixture().engine->Snapshot();
  if (!idle) idle = std::make_unique<Fixture>();
  const Status s = idle->engine->Restore(bytes);
  if (!s.ok()) {
    if (s.code() != Code::kCorruption && s.code() != Code::kInvalidArgument) {
      Finding("Restore failed with a code other than corruption or invalid_argument", s);
    }
    if (idle->engine->Snapshot() != fresh) Finding("a refused snapshot changed the engine", s);
    return;
  }
  const std::unique_ptr<Fixture> f = std::move(idle);
  Exercise(*f->engine, 1);
  f->clock.Advance(int64_t{61} * 1'000'000'000);
  f->engine->Tick();
  const std::string after = f->engine->Snapshot();
  Fixture again;
  const Status s2 = again.engine->Restore(after);
  if (!s2.ok()) Finding("the snapshot of a restored engine does not restore", s2);
  if (again.engine->Snapshot() != after) Finding("a snapshot does not round-trip");
}

std::vector<std::pair<std::string, std::string>> SnapshotSeeds() {
  std::vector<std::pair<std::string, std::string>> seeds;
  ManualClock clock;
  auto eng = Make(clock);
  seeds.emplace_back("fresh", eng->Snapshot());
  for (int i = 0; i < 30; ++i) Exercise(*eng, i);
  seeds.emplace_back("rewarded", eng->Snapshot());
  // Past the window: a horizon, an emptier ledger.
  clock.Advance(int64_t{3700} * 1'000'000'000);
  eng->Tick();
  for (int i = 0; i < 5; ++i) Exercise(*eng, i);
  const std::string real = eng->Snapshot();
  seeds.emplace_back("horizon", real);
  (void)eng->experiment(0).Pause();
  seeds.emplace_back("paused", eng->Snapshot());

  seeds.emplace_back("regress_ledger_row_not_array", "\x81\xa6ledger\x91\x05");
  seeds.emplace_back("empty", "");
  seeds.emplace_back("empty_map", "\x80");
  seeds.emplace_back("root_array", "\x91\x80");
  seeds.emplace_back("truncated", real.substr(0, real.size() / 2));
  seeds.emplace_back("trailing", real + '\0');
  seeds.emplace_back("array_bomb", "\x81\xa6ledger\xdd\x3f\xff\xff\xff");
  seeds.emplace_back("map_bomb",
                     "\x81\xab"
                     "experiments\xdf\x3f\xff\xff\xff");
  seeds.emplace_back("format_2", Pack(std::map<std::string, int>{{"format", 2}}));
  seeds.emplace_back("ledger_str", Pack(std::map<std::string, std::string>{{"ledger", "x"}}));
  seeds.emplace_back("horizon_neg", Pack(std::map<std::string, int>{{"horizon", -1}}));
  seeds.emplace_back(
      "experiments_int",
      Pack(std::map<std::string, std::map<std::string, int>>{{"experiments", {{"ctr", 1}}}}));
  // One-byte mutations of the real snapshot, spread over it.
  for (size_t k = 1; k <= 8; ++k) {
    std::string m = real;
    m[k * m.size() / 9] ^= static_cast<char>(0x41);
    seeds.emplace_back("flip_" + std::to_string(k), m);
  }
  return seeds;
}

}  // namespace banditd::experiment::fuzz
