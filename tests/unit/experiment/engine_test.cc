#include "src/experiment/engine.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "tests/unit/experiment/engine_fixture.h"

namespace banditd::experiment {
namespace {

EngineOptions Options() {
  ExperimentOptions search = fixture::ThompsonExperiment("search");
  search.arms = {{"a", false}, {"b", false}, {"c", false}};
  return fixture::EngineOver({fixture::ThompsonExperiment(), search}, 3, 42);
}

std::unique_ptr<Engine> Make(Clock& clock, EngineOptions o = Options()) {
  return fixture::CreatedOr(Engine::Create(o, clock),
                            [](const Status& s) { ADD_FAILURE() << s.ToString(); });
}

std::string Id(const Decision& d) { return std::string(d.id.data(), d.id.size()); }

TEST(EngineTest, RouteThenRewardRoundTrip) {
  ManualClock clock;
  auto eng = Make(clock);
  auto d = eng->Route("ctr", std::nullopt, std::nullopt);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->experiment, 0u);
  auto p = eng->Prepare(Id(*d), 1.0);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  eng->Commit(*p);
  EXPECT_EQ(eng->experiment(0).counters()[d->ref.arm].n, 1.0);
  EXPECT_EQ(eng->experiment(0).counters()[d->ref.arm].reward_sum, 1.0);
}

TEST(EngineTest, RefusalsCarryTheirCodes) {
  ManualClock clock;
  auto eng = Make(clock);
  EXPECT_EQ(eng->Route("nope", std::nullopt, std::nullopt).status().code(),
            Code::kUnknownExperiment);
  auto d = eng->Route("ctr", std::nullopt, std::nullopt);
  const std::string id = Id(*d);
  EXPECT_EQ(eng->Prepare("garbage", 1.0).status().code(), Code::kUnknownDecision);
  EXPECT_EQ(eng->Prepare(id, std::nan("")).status().code(), Code::kInvalidValue);
  EXPECT_EQ(eng->Prepare(id, std::numeric_limits<double>::infinity()).status().code(),
            Code::kInvalidValue);
  EXPECT_EQ(eng->Prepare(id, 2.0).status().code(), Code::kInvalidValue);  // bernoulli

  auto p = eng->Prepare(id, 1.0);
  ASSERT_TRUE(p.ok());
  // A second reward while the first is being written, and after it is applied.
  EXPECT_EQ(eng->Prepare(id, 1.0).status().code(), Code::kDuplicateReward);
  eng->Commit(*p);
  EXPECT_EQ(eng->Prepare(id, 0.0).status().code(), Code::kDuplicateReward);
  EXPECT_EQ(eng->experiment(0).counters()[d->ref.arm].n, 1.0);  // counted once

  // An abandoned reward (its WAL write failed) may be sent again.
  auto d2 = eng->Route("ctr", std::nullopt, std::nullopt);
  auto p2 = eng->Prepare(Id(*d2), 1.0);
  ASSERT_TRUE(p2.ok());
  eng->Abandon(*p2);
  EXPECT_TRUE(eng->Prepare(Id(*d2), 1.0).ok());
}

TEST(EngineTest, RewardsAfterTheWindowExpire) {
  ManualClock clock;
  auto eng = Make(clock);
  auto d = eng->Route("ctr", std::nullopt, std::nullopt);
  clock.Advance(3601LL * 1'000'000'000);
  EXPECT_EQ(eng->Prepare(Id(*d), 1.0).status().code(), Code::kExpiredDecision);
}

TEST(EngineTest, DecisionOfAnExperimentNoLongerConfigured) {
  ManualClock clock;
  auto eng = Make(clock);
  auto d = eng->Route("search", std::nullopt, std::nullopt);
  EngineOptions only_ctr = Options();
  only_ctr.experiments.pop_back();
  auto other = Make(clock, only_ctr);  // same key, "search" removed
  EXPECT_EQ(other->Prepare(Id(*d), 1.0).status().code(), Code::kUnknownExperiment);
}

TEST(EngineTest, WalRecordRoundTrip) {
  ManualClock clock;
  auto eng = Make(clock);
  auto d = eng->Route("search", std::nullopt, std::string_view("b"));
  auto p = eng->Prepare(Id(*d), 0.25);
  ASSERT_TRUE(p.ok());
  auto back = Engine::DecodeReward(Engine::EncodeReward(*p));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ref.key(), p->ref.key());
  EXPECT_EQ(back->ref.arm, 1);
  EXPECT_EQ(back->ref.flags, DecisionRef::kForcedFlag);
  EXPECT_EQ(back->value, 0.25);
  EXPECT_EQ(Engine::DecodeReward("short").status().code(), Code::kCorruption);
}

// Snapshot, then replay of the rewards logged after it, rebuilds the same
// state as an engine that never stopped; replayed duplicates count once.
TEST(EngineTest, SnapshotPlusReplayEqualsUninterrupted) {
  ManualClock clock;
  auto live = Make(clock);
  Rng truth(5);
  std::vector<std::string> wal_after_snapshot;
  std::string snapshot;
  for (int i = 0; i < 2000; ++i) {
    auto d = live->Route("ctr", std::nullopt, std::nullopt);
    auto p = live->Prepare(Id(*d), truth.Bernoulli(d->ref.arm == 1 ? 0.2 : 0.1) ? 1.0 : 0.0);
    ASSERT_TRUE(p.ok());
    live->Commit(*p);
    if (i >= 1000) wal_after_snapshot.push_back(Engine::EncodeReward(*p));
    if (i == 999) snapshot = live->Snapshot();
    if (i % 50 == 0) live->Tick();
  }
  auto restarted = Make(clock);
  ASSERT_TRUE(restarted->Restore(snapshot).ok());
  for (const auto& rec : wal_after_snapshot) restarted->Replay(*Engine::DecodeReward(rec));
  for (const auto& rec : wal_after_snapshot) restarted->Replay(*Engine::DecodeReward(rec));
  for (size_t arm = 0; arm < 2; ++arm) {
    EXPECT_EQ(restarted->experiment(0).counters()[arm].n, live->experiment(0).counters()[arm].n);
    EXPECT_EQ(restarted->experiment(0).counters()[arm].reward_sum,
              live->experiment(0).counters()[arm].reward_sum);
  }
  std::vector<ArmEstimate> a(2), b(2);
  live->experiment(0).policy().Estimates(a);
  restarted->experiment(0).policy().Estimates(b);
  for (size_t arm = 0; arm < 2; ++arm) {
    EXPECT_EQ(a[arm].n, b[arm].n);
    EXPECT_EQ(a[arm].mean, b[arm].mean);
  }
  EXPECT_EQ(restarted->ledger().size(), live->ledger().size());
}

TEST(EngineTest, RestoreRefusesAMismatchedSnapshot) {
  ManualClock clock;
  auto eng = Make(clock);
  EXPECT_EQ(eng->Restore("\x01\x02").code(), Code::kCorruption);
  // The same experiment name with a different arm count.
  EngineOptions o = Options();
  o.experiments[0].arms.push_back({"third", false});
  auto other = Make(clock, o);
  Status s = other->Restore(eng->Snapshot());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ctr"), std::string::npos);
}

// The state is kept by arm position: reordered or renamed arms, or another
// champion, would hand one arm's data and win to another. Refused, naming
// both lists and the remedy; the same arms load.
TEST(EngineTest, RestoreRefusesReorderedRenamedArmsOrAnotherChampion) {
  ManualClock clock;
  auto eng = Make(clock);
  for (int i = 0; i < 50; ++i) {
    auto d = eng->Route("ctr", std::nullopt, std::nullopt);
    ASSERT_TRUE(d.ok());
    auto p = eng->Prepare(Id(*d), d->ref.arm == 1 ? 1.0 : 0.0);
    ASSERT_TRUE(p.ok());
    eng->Commit(*p);
  }
  const std::string snap = eng->Snapshot();
  auto with = [&](auto change) {
    EngineOptions o = Options();
    change(o.experiments[0]);
    return Make(clock, o)->Restore(snap);
  };
  const Status reordered = with([](ExperimentOptions& x) { std::swap(x.arms[0], x.arms[1]); });
  EXPECT_EQ(reordered.code(), Code::kInvalidArgument);
  EXPECT_NE(reordered.message().find("is for the arms [champion, challenger], the config lists "
                                     "[challenger, champion]"),
            std::string::npos)
      << reordered.message();
  EXPECT_NE(reordered.message().find("new name"), std::string::npos);
  const Status renamed = with([](ExperimentOptions& x) { x.arms[1].name = "contender"; });
  EXPECT_EQ(renamed.code(), Code::kInvalidArgument);
  const Status champion = with([](ExperimentOptions& x) { x.champion = 1; });
  EXPECT_EQ(champion.code(), Code::kInvalidArgument);
  EXPECT_NE(champion.message().find("champion of an experiment with state cannot change"),
            std::string::npos)
      << champion.message();
  EXPECT_TRUE(with([](ExperimentOptions&) {}).ok());
}

}  // namespace
}  // namespace banditd::experiment
