// The views the extra I/O threads route from (src/server/route_view.h): a
// view copies the allocation it was made from, a retired view is freed only
// once no reader can hold it, and the requests readers count end up in the
// experiment's counters exactly once — never in a later epoch's.
#include "src/server/route_view.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "banditd/clock.h"

namespace banditd::server {
namespace {

using experiment::Engine;
using experiment::EngineOptions;
using experiment::ExperimentOptions;

std::unique_ptr<Engine> MakeEngine(Clock& clock) {
  EngineOptions o;
  ExperimentOptions e;
  e.name = "ab";
  e.mode = Mode::kAb;
  e.arms = {{"a", false}, {"b", false}};
  e.policy.name = "static";
  e.policy.params.Set("weights", std::vector<double>{0.25, 0.75});
  o.experiments.push_back(e);
  o.decision_key.fill(1);
  o.seed = 7;
  auto engine = Engine::Create(o, clock);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return std::move(engine).value();
}

uint64_t Requests(const experiment::Experiment& e) {
  return e.counters()[0].requests + e.counters()[1].requests;
}

TEST(RouteViewTest, CopiesTheAllocation) {
  ManualClock clock;
  auto engine = MakeEngine(clock);
  const auto& x = engine->experiment(0);
  RouteView v(x, 2, /*any_model=*/false);
  EXPECT_EQ(v.tag(), x.tag());
  EXPECT_EQ(v.epoch(), x.epoch());
  EXPECT_EQ(v.version(), x.allocation_version());
  ASSERT_EQ(v.weights().size(), 2u);
  EXPECT_DOUBLE_EQ(v.weights()[1], x.weights()[1]);
  EXPECT_EQ(v.arms(), (std::vector<std::string>{"a", "b"}));
  for (uint64_t h : {0ull, 1ull << 63, ~0ull, 0x123456789abcdefull}) {
    EXPECT_EQ(v.table().ArmForHash(h), x.table().ArmForHash(h));
  }
  EXPECT_EQ(v.hasher().Hash("unit-1"), x.UnitHash("unit-1"));
  EXPECT_FALSE(v.contextual());
}

TEST(RouteViewTest, ARetiredViewLivesUntilEveryReaderLeft) {
  ManualClock clock;
  auto engine = MakeEngine(clock);
  ViewBoard board(1, 2);
  board.Publish(0, std::make_unique<RouteView>(engine->experiment(0), 2, false));
  board.Enter(0);
  const RouteView* held = board.Get(0);
  ASSERT_NE(held, nullptr);
  held->Count(0, 1, false);
  // Reader 1 is out (never entered): only reader 0 can hold the old view.
  board.Publish(0, std::make_unique<RouteView>(engine->experiment(0), 2, false));
  board.Reclaim(*engine);
  EXPECT_EQ(board.retired(), 1u) << "freed while reader 0 may still use it";
  EXPECT_EQ(held->tag(), engine->experiment(0).tag());  // still readable
  board.Leave(0);
  board.Reclaim(*engine);
  EXPECT_EQ(board.retired(), 0u);
  // Its count was folded when it was freed.
  EXPECT_EQ(engine->experiment(0).counters()[1].requests, 1u);

  // A reader that entered after the retirement does not hold it back.
  board.Enter(1);
  EXPECT_NE(board.Get(0), held);
  board.Publish(0, std::make_unique<RouteView>(engine->experiment(0), 2, false));
  board.Reclaim(*engine);
  EXPECT_EQ(board.retired(), 1u);  // reader 1 entered before this one retired
  board.Enter(1);                  // a new round: it has seen the newest
  board.Reclaim(*engine);
  EXPECT_EQ(board.retired(), 0u);
  board.Leave(1);
}

TEST(RouteViewTest, CountsAreFoldedOnceAndNeverIntoALaterEpoch) {
  ManualClock clock;
  auto engine = MakeEngine(clock);
  auto& x = engine->experiment(0);
  ViewBoard board(1, 1);
  board.Publish(0, std::make_unique<RouteView>(x, 1, false));
  board.Enter(0);
  const RouteView* v = board.Get(0);
  for (int i = 0; i < 5; ++i) v->Count(0, 0, false);
  v->Count(0, 1, true);
  board.Reclaim(*engine);
  board.Reclaim(*engine);  // nothing new: nothing added
  EXPECT_EQ(x.counters()[0].requests, 5u);
  EXPECT_EQ(x.counters()[1].requests, 1u);
  EXPECT_EQ(x.counters()[1].forced, 1u);
  // Counted after the experiment moved to a new epoch: dropped, like every
  // other counter of the old epoch.
  v->Count(0, 0, false);
  x.NewEpoch("reload");
  board.Leave(0);
  board.Publish(0, std::make_unique<RouteView>(x, 1, false));
  board.Reclaim(*engine);
  EXPECT_EQ(board.retired(), 0u);
  EXPECT_EQ(Requests(x), 0u);
}

// Two readers route from whatever view is current while the owner keeps
// publishing and reclaiming: every count arrives exactly once. (Built with
// -DBANDITD_SANITIZE=ON, ASan also checks that no freed view is read.)
TEST(RouteViewTest, ConcurrentReadersLoseNoCountAndReadNoFreedView) {
  SystemClock clock;
  auto engine = MakeEngine(clock);
  auto& x = engine->experiment(0);
  ViewBoard board(1, 2);
  board.Publish(0, std::make_unique<RouteView>(x, 2, false));
  constexpr int kPerRound = 10;
  std::atomic<int> bad_tags{0};
  std::atomic<int> started{0};
  std::atomic<bool> stop{false};
  uint64_t counted[2] = {0, 0};
  std::vector<std::thread> readers;
  for (size_t r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      started.fetch_add(1);
      // Until the owner is done: every publish below overlaps the readers.
      while (!stop.load()) {
        board.Enter(r);
        for (int k = 0; k < kPerRound; ++k) {
          const RouteView* v = board.Get(0);
          if (v->tag() != x.tag() || v->weights().size() != 2) bad_tags.fetch_add(1);
          v->Count(r, static_cast<size_t>(k % 2), false);
        }
        board.Leave(r);
        counted[r] += kPerRound;
      }
    });
  }
  while (started.load() < 2) std::this_thread::yield();
  for (int i = 0; i < 2000; ++i) {
    board.Publish(0, std::make_unique<RouteView>(x, 2, false));
    board.Reclaim(*engine);
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  board.Reclaim(*engine);
  EXPECT_EQ(board.retired(), 0u);
  EXPECT_EQ(bad_tags.load(), 0);
  EXPECT_GT(counted[0] + counted[1], 0u);
  EXPECT_EQ(Requests(x), counted[0] + counted[1]);
  EXPECT_EQ(x.counters()[0].requests, x.counters()[1].requests);
}

}  // namespace
}  // namespace banditd::server
