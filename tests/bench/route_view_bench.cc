// The per-request work of an api I/O thread without its sockets: decode the
// route frame, decide from the published view (DecideFromView), encode the
// reply, format the decision-log line, count. Run with 1 and 2 threads: the
// threads share only the read-only view (each counts on its own cache
// lines), so with a core each the rate should double (docs/PERFORMANCE.md,
// "More than one core"). An owner thread would republish the view about once
// a second; here it is published once.
#include <benchmark/benchmark.h>

#include "banditd/clock.h"
#include "src/experiment/engine.h"
#include "src/protocol/decoder.h"
#include "src/protocol/encoder.h"
#include "src/server/route_view.h"
#include "src/state/decision_log.h"

namespace banditd::server {
namespace {

struct Shared {
  Shared() {
    experiment::EngineOptions o;
    experiment::ExperimentOptions e;
    e.name = "route";
    e.mode = Mode::kAb;
    e.arms = {{"a", false}, {"b", false}};
    e.policy.name = "static";
    o.experiments.push_back(e);
    o.decision_key.fill(9);
    engine = std::move(experiment::Engine::Create(o, clock).value());
    board = std::make_unique<ViewBoard>(1, kMaxThreads);
    board->Publish(0, std::make_unique<RouteView>(engine->experiment(0), kMaxThreads, false));
    wire::RouteRequest route;
    route.exp = "route";
    wire::Request req;
    req.op = wire::Op::kRoute;
    req.id = std::string_view("\xcf\x00\x00\x00\x00\x00\x00\x00\x07", 9);
    req.body = route;
    protocol::EncodeRequest(req, &frame);
  }
  static constexpr size_t kMaxThreads = 8;
  SystemClock clock;
  std::unique_ptr<experiment::Engine> engine;
  std::unique_ptr<ViewBoard> board;
  std::string frame;
};

Shared& Get() {
  static Shared shared;
  return shared;
}

void BM_IoThreadRoutePath(benchmark::State& state) {
  Shared& s = Get();
  const size_t reader = static_cast<size_t>(state.thread_index());
  protocol::Decoder decoder;
  experiment::DecisionKey key;
  key.fill(9);
  experiment::DecisionCodec codec(key);
  Rng rng(1000 + reader);
  std::string out;
  state::LineBuffer lines;
  uint32_t seq = 0;
  constexpr int kRound = 256;  // requests per Enter/Leave, as a full burst
  for (auto _ : state) {
    s.board->Enter(reader);
    for (int i = 0; i < kRound; ++i) {
      wire::Request req;
      if (!decoder.Decode(s.frame, &req).ok()) state.SkipWithError("decode");
      const RouteView* view = s.board->Get(0);
      ViewDecision d;
      DecideFromView(*view, std::nullopt, std::nullopt, 77 + static_cast<uint32_t>(reader), ++seq,
                     s.clock.WallNanos(), rng, codec, &d);
      const std::string_view id(d.id.data(), d.id.size());
      protocol::EncodeRouteReply(
          wire::RouteReply{req.id, id, view->arms()[d.ref.arm], d.ref.propensity, d.ref.epoch,
                           std::nullopt, std::nullopt},
          &out);
      view->Count(reader, d.ref.arm, false);
      lines.Decision({.wall_ns = 0,
                      .exp = "route",
                      .epoch = d.ref.epoch,
                      .decision = id,
                      .arm = view->arms()[d.ref.arm],
                      .propensity = d.ref.propensity,
                      .forced = false,
                      .unit_hash = 0,
                      .context = {},
                      .output = {}});
      benchmark::DoNotOptimize(out.data());
    }
    s.board->Leave(reader);
    if (lines.text().size() > (64 << 10)) lines.Clear();  // handed over, in the daemon
  }
  state.SetItemsProcessed(state.iterations() * kRound);
}
BENCHMARK(BM_IoThreadRoutePath)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace banditd::server

BENCHMARK_MAIN();
