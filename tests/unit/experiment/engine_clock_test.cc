// Reward de-duplication when the wall clock steps: neither a step while
// running nor a clock that is behind after a restart lets a rewarded decision
// be rewarded again.
#include <atomic>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/experiment/engine.h"
#include "tests/unit/experiment/engine_fixture.h"

namespace banditd::experiment {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr uint32_t kWindow = 3600;

// A clock whose wall time can step (as NTP or an operator steps it) while
// the monotonic time does not.
class SteppingClock final : public Clock {
 public:
  int64_t MonoNanos() const override { return mono_; }
  int64_t WallNanos() const override { return wall_; }
  void Advance(int64_t ns) {
    mono_ += ns;
    wall_ += ns;
  }
  void StepWall(int64_t ns) { wall_ += ns; }

 private:
  int64_t mono_ = 5 * kSecond;
  int64_t wall_ = int64_t{1'700'000'000} * kSecond;
};

std::unique_ptr<Engine> Make(Clock& clock) {
  return fixture::CreatedOr(
      Engine::Create(fixture::EngineOver({fixture::ThompsonExperiment()}, 9, 3, kWindow), clock),
      [](const Status& s) { ADD_FAILURE() << s.ToString(); });
}

double Rewards(const Engine& e) {
  return e.experiment(0).counters()[0].n + e.experiment(0).counters()[1].n;
}

// Routes and rewards 100 decisions; returns their ids.
std::vector<std::string> RewardHundred(Engine& eng) {
  std::vector<std::string> ids;
  const double before = Rewards(eng);
  for (int i = 0; i < 100; ++i) {
    auto d = eng.Route("ctr", std::nullopt, std::nullopt);
    EXPECT_TRUE(d.ok());
    ids.emplace_back(d->id.data(), d->id.size());
    auto p = eng.Prepare(ids.back(), 1.0);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (p.ok()) eng.Commit(*p);
  }
  EXPECT_EQ(Rewards(eng), before + 100.0);
  return ids;
}

// Rewards every id again: each must be refused as a duplicate or expired.
void ExpectAllRefused(Engine& eng, const std::vector<std::string>& ids) {
  const double before = Rewards(eng);
  for (const auto& id : ids) {
    auto p = eng.Prepare(id, 1.0);
    ASSERT_FALSE(p.ok()) << "a rewarded decision was accepted again";
    EXPECT_TRUE(p.status().code() == Code::kDuplicateReward ||
                p.status().code() == Code::kExpiredDecision)
        << p.status().ToString();
  }
  EXPECT_EQ(Rewards(eng), before);
}

TEST(EngineClockTest, WallStepForwardPastTheWindowAndBackRefusesRewardedDecisions) {
  SteppingClock clock;
  auto eng = Make(clock);
  const auto ids = RewardHundred(*eng);
  clock.StepWall(int64_t{2} * kWindow * kSecond);
  clock.Advance(61 * kSecond);
  eng->Tick();
  eng->Tick();
  clock.StepWall(-int64_t{2} * kWindow * kSecond);
  clock.Advance(61 * kSecond);
  eng->Tick();
  ExpectAllRefused(*eng, ids);
  for (const auto& id : ids) {
    EXPECT_EQ(eng->Prepare(id, 1.0).status().code(), Code::kDuplicateReward);
  }
}

// A step of the wall clock does not move the engine's time: a decision stays
// rewardable for the whole window, and new decisions carry the engine's time.
TEST(EngineClockTest, WallStepDoesNotMoveTheRewardWindow) {
  SteppingClock clock;
  auto eng = Make(clock);
  const uint32_t start = eng->NowSeconds();
  auto d = eng->Route("ctr", std::nullopt, std::nullopt);
  clock.StepWall(int64_t{10} * kWindow * kSecond);
  clock.Advance(61 * kSecond);
  eng->Tick();
  EXPECT_EQ(eng->NowSeconds(), start + 61);
  auto p = eng->Prepare(std::string(d->id.data(), d->id.size()), 1.0);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  eng->Commit(*p);
  EXPECT_EQ(eng->Route("ctr", std::nullopt, std::nullopt)->ref.issued_s, start + 61);
}

// Monotonic time passing the window expires the decisions (they are refused
// as expired), and stepping the wall clock back does not reopen them.
TEST(EngineClockTest, ExpiredDecisionsStayExpiredWhenTheWallClockStepsBack) {
  SteppingClock clock;
  auto eng = Make(clock);
  const auto ids = RewardHundred(*eng);
  clock.Advance(int64_t{kWindow + 120} * kSecond);
  eng->Tick();
  EXPECT_EQ(eng->ledger().size(), 0u);
  clock.StepWall(-int64_t{kWindow + 120} * kSecond);
  ExpectAllRefused(*eng, ids);
  for (const auto& id : ids) {
    EXPECT_EQ(eng->Prepare(id, 1.0).status().code(), Code::kExpiredDecision);
  }
}

// After a restart with the clock set back past the window, the snapshot's
// horizon refuses the decisions the ledger forgot, and its entries refuse
// the ones it kept.
TEST(EngineClockTest, RestartWithTheClockSetBackRefusesRewardedDecisions) {
  SteppingClock clock;
  auto eng = Make(clock);
  const auto forgotten = RewardHundred(*eng);
  clock.Advance(int64_t{kWindow + 120} * kSecond);
  const auto kept = RewardHundred(*eng);
  eng->Tick();
  EXPECT_EQ(eng->ledger().size(), 100u);
  EXPECT_GT(eng->ledger().horizon_s(), 0u);
  const std::string snapshot = eng->Snapshot();

  SteppingClock behind;  // the first run's start: a whole window behind
  auto restarted = Make(behind);
  ASSERT_TRUE(restarted->Restore(snapshot).ok());
  EXPECT_EQ(restarted->ledger().horizon_s(), eng->ledger().horizon_s());
  for (const auto& id : forgotten) {
    EXPECT_EQ(restarted->Prepare(id, 1.0).status().code(), Code::kExpiredDecision);
  }
  // The kept ones were issued 3720 s "in the future" of this clock.
  for (const auto& id : kept) {
    EXPECT_EQ(restarted->Prepare(id, 1.0).status().code(), Code::kUnknownDecision);
  }
  EXPECT_EQ(Rewards(*restarted), 200.0);
  // Within the skew tolerance, they are duplicates.
  behind.Advance(int64_t{kWindow + 120 - RewardLedger::kMaxSkewSeconds} * kSecond);
  auto again = Make(behind);
  ASSERT_TRUE(again->Restore(snapshot).ok());
  ExpectAllRefused(*again, forgotten);
  ExpectAllRefused(*again, kept);
  for (const auto& id : kept) {
    EXPECT_EQ(again->Prepare(id, 1.0).status().code(), Code::kDuplicateReward);
  }
}

// WAL replay applies a logged reward even when its decision is older than
// the horizon (it passed the checks when logged; the snapshot lacks it), and
// skips one already in the ledger.
TEST(EngineClockTest, ReplayIsNotRefusedByTheHorizon) {
  SteppingClock clock;
  auto eng = Make(clock);
  auto d = eng->Route("ctr", std::nullopt, std::nullopt);
  auto p = eng->Prepare(std::string(d->id.data(), d->id.size()), 1.0);
  ASSERT_TRUE(p.ok());
  const std::string record = Engine::EncodeReward(*p);
  clock.Advance(int64_t{kWindow + 120} * kSecond);
  eng->Tick();
  ASSERT_GT(eng->ledger().horizon_s(), d->ref.issued_s);
  const std::string snapshot = eng->Snapshot();

  auto restarted = Make(clock);
  ASSERT_TRUE(restarted->Restore(snapshot).ok());
  restarted->Replay(*Engine::DecodeReward(record));
  restarted->Replay(*Engine::DecodeReward(record));
  EXPECT_EQ(Rewards(*restarted), 1.0);
}

}  // namespace
}  // namespace banditd::experiment
