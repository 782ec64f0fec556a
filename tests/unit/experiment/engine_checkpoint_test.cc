// Checkpoints (Engine::EncodeCheckpoint / ReplayCheckpoint): a WAL of
// rewards and checkpoints, replayed over the snapshot before them, rebuilds
// the experiment as it was, bit for bit, the rule's looks and SRM tallies
// included — with rewards in flight at each checkpoint, and one of them
// dropped by the WAL.
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "banditd/rng.h"
#include "src/experiment/engine.h"
#include "tests/unit/experiment/engine_fixture.h"

namespace banditd::experiment {
namespace {

EngineOptions Options() {
  ExperimentOptions o;
  o.name = "ab";
  o.mode = Mode::kAb;
  o.arms = {{"a", false}, {"b", false}};
  o.policy.name = "static";
  o.refresh_interval_ns = 0;
  o.refresh_every_rewards = 1;
  StoppingSpec s;
  s.name = "sequential";
  s.params.Set("alpha", 0.001);
  s.params.Set("min_samples", 50.0);
  s.params.Set("tau2", 0.01);
  o.stopping = s;
  return fixture::EngineOver({o, fixture::ThompsonExperiment("other")}, 9, 7);
}

std::unique_ptr<Engine> Make(Clock& clock) {
  return fixture::CreatedOr(Engine::Create(Options(), clock),
                            [](const Status& s) { ADD_FAILURE() << s.ToString(); });
}

std::string Id(const Decision& d) { return std::string(d.id.data(), d.id.size()); }

struct Record {
  bool checkpoint = false;
  std::string bytes;
};

TEST(EngineCheckpointTest, ReplayRebuildsTheExperimentWithRewardsInFlight) {
  ManualClock clock;
  auto live = Make(clock);
  const std::string start = live->Snapshot();
  Rng truth(11);
  std::vector<Record> wal;
  std::deque<PendingReward> in_flight;  // in the WAL, not yet applied
  uint64_t dropped_key = 0;
  constexpr int kDropAt = 1260;  // in flight at the checkpoint of i = 1261
  for (int i = 0; i < 3000; ++i) {
    auto d = live->Route("ab", std::nullopt, std::nullopt);
    ASSERT_TRUE(d.ok());
    auto p = live->Prepare(Id(*d), truth.Bernoulli(d->ref.arm == 1 ? 0.32 : 0.3) ? 1.0 : 0.0);
    ASSERT_TRUE(p.ok());
    if (i == kDropAt) {
      // The WAL drops this one's write after the checkpoint below named it.
      dropped_key = p->ref.key();
    } else {
      wal.push_back({false, Engine::EncodeReward(*p)});
    }
    in_flight.push_back(*p);
    while (in_flight.size() > static_cast<size_t>(i % 9)) {  // applied once durable
      if (in_flight.front().ref.key() == dropped_key && i > kDropAt + 6) {
        live->Abandon(in_flight.front());
      } else if (in_flight.front().ref.key() != dropped_key) {
        live->Commit(in_flight.front());
      } else {
        break;
      }
      in_flight.pop_front();
    }
    if (i % 97 == 0 || i == 2999) {
      live->Tick();  // the rule looks
      std::vector<uint64_t> keys;
      for (const auto& r : in_flight) keys.push_back(r.ref.key());
      wal.push_back({true, live->EncodeCheckpoint(0, keys)});
    }
  }
  for (const auto& r : in_flight) live->Commit(r);
  ASSERT_GT(live->experiment(0).looks(), 20u);
  ASSERT_NE(dropped_key, 0u);

  auto restarted = Make(clock);
  ASSERT_TRUE(restarted->Restore(start).ok());
  for (const Record& r : wal) {
    if (r.checkpoint) {
      ASSERT_TRUE(restarted->ReplayCheckpoint(r.bytes).ok());
    } else {
      restarted->Replay(*Engine::DecodeReward(r.bytes));
    }
  }
  restarted->EndReplay();
  const Experiment& a = live->experiment(0);
  const Experiment& b = restarted->experiment(0);
  EXPECT_EQ(b.looks(), a.looks());
  EXPECT_EQ(b.counters()[0].requests, a.counters()[0].requests);  // the SRM side
  EXPECT_EQ(b.counters()[1].n, a.counters()[1].n);
  EXPECT_EQ(b.last_check().p_value, a.last_check().p_value);
  EXPECT_EQ(b.Snapshot(), a.Snapshot());
}

TEST(EngineCheckpointTest, MalformedRecordsAreCorruptionAndChangeNothing) {
  ManualClock clock;
  auto eng = Make(clock);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(eng->Route("ab", std::nullopt, std::nullopt).ok());
  const std::string before = eng->experiment(0).Snapshot();
  const std::string good = eng->EncodeCheckpoint(0, {});
  const std::vector<std::string> bad = {
      "", "\xc1", good.substr(0, good.size() / 2), good + "x",
      std::string("\x81\xa3" "exp" "\xa2" "ab"),  // no state
      std::string("\x83\xa3" "exp" "\x01" "\xa5" "state" "\xc0" "\xa9" "in_flight" "\x90")};
  for (const auto& b : bad) {
    const Status s = eng->ReplayCheckpoint(b);
    EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  }
  EXPECT_EQ(eng->experiment(0).Snapshot(), before);
  // An experiment no longer configured: ignored.
  auto other = fixture::CreatedOr(
      Engine::Create(fixture::EngineOver({fixture::ThompsonExperiment("gone")}, 9, 7), clock),
      [](const Status& s) { ADD_FAILURE() << s.ToString(); });
  EXPECT_TRUE(eng->ReplayCheckpoint(other->EncodeCheckpoint(0, {})).ok());
  EXPECT_EQ(eng->experiment(0).Snapshot(), before);
}

}  // namespace
}  // namespace banditd::experiment
