// The engine with a contextual policy: context validation, the
// context store, late rewards, the WAL record's context, snapshot + replay.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/experiment/engine.h"
#include "tests/unit/experiment/engine_fixture.h"

namespace banditd::experiment {
namespace {

constexpr size_t kDim = 3;

EngineOptions Options(size_t store_bytes = ContextStore::kDefaultMaxBytes) {
  ExperimentOptions e = fixture::ContextualExperiment("linucb", kDim);
  e.context_store_max_bytes = store_bytes;
  ExperimentOptions plain;
  plain.name = "plain";
  plain.arms = {{"a", false}, {"b", false}};
  plain.policy.name = "thompson";
  return fixture::EngineOver({e, plain}, 7, 11);
}

std::unique_ptr<Engine> Make(Clock& clock, const EngineOptions& o = Options()) {
  return fixture::CreatedOr(Engine::Create(o, clock),
                            [](const Status& s) { ADD_FAILURE() << s.ToString(); });
}

std::string Id(const Decision& d) { return std::string(d.id.data(), d.id.size()); }

// Context (1, x, z): a constant, a binary feature that flips the best arm, a
// distractor.
std::vector<double> Context(Rng& rng) {
  return {1.0, rng.Bernoulli(0.5) ? 1.0 : 0.0, rng.Uniform()};
}

double TrueMean(size_t arm, const std::vector<double>& x) {
  const bool flipped = x[1] > 0.5;
  return (arm == 1) != flipped ? 0.7 : 0.3;
}

std::string PolicyState(const Engine& e) { return e.experiment(0).policy().Snapshot(); }

TEST(EngineContextTest, RefusesBadContextsAndChangesNothing) {
  ManualClock clock;
  auto eng = Make(clock);
  const std::vector<double> short_ctx = {1.0, 0.0};
  const std::vector<double> nan_ctx = {1.0, std::nan(""), 0.0};
  const std::vector<double> inf_ctx = {1.0, 0.0, std::numeric_limits<double>::infinity()};
  for (auto ctx :
       {std::optional<std::span<const double>>(), std::optional<std::span<const double>>(short_ctx),
        std::optional<std::span<const double>>(nan_ctx),
        std::optional<std::span<const double>>(inf_ctx)}) {
    auto d = eng->Route("ctx", std::nullopt, std::nullopt, ctx);
    EXPECT_EQ(d.status().code(), Code::kBadContext);
  }
  EXPECT_NE(eng->Route("ctx", std::nullopt, std::nullopt, short_ctx)
                .status()
                .message()
                .find("takes a context of 3 numbers, got 2"),
            std::string::npos);
  for (const auto& c : eng->experiment(0).counters()) EXPECT_EQ(c.requests, 0u);
  EXPECT_EQ(eng->experiment(0).contexts().entries(), 0u);

  // A forced route needs no context and keeps none (it never teaches).
  auto forced = eng->Route("ctx", std::nullopt, std::string_view("challenger"));
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(eng->experiment(0).contexts().entries(), 0u);
  // A non-contextual experiment ignores a context and keeps none.
  auto plain = eng->Route("plain", std::nullopt, std::nullopt, short_ctx);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(eng->experiment(1).contexts().entries(), 0u);
}

TEST(EngineContextTest, LateRewardsUpdateWithTheirDecisionsContexts) {
  ManualClock clock;
  auto eng = Make(clock);
  auto policy = MakePolicy(PolicySpec{"linucb", 2, kDim, {}, {}});
  ASSERT_TRUE(policy.ok());
  Rng rng(3);
  std::vector<Decision> decisions;
  std::vector<std::vector<double>> contexts;
  for (int i = 0; i < 50; ++i) {
    contexts.push_back(Context(rng));
    auto d = eng->Route("ctx", std::nullopt, std::nullopt, contexts.back());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->ref.propensity, 1.0f);  // LinUCB is deterministic given the context
    decisions.push_back(*d);
  }
  EXPECT_EQ(eng->experiment(0).contexts().entries(), 50u);
  // Rewards arrive in reverse order; each must update with its own context.
  for (int i = 49; i >= 0; --i) {
    const double r = (i % 3 == 0) ? 1.0 : 0.0;
    auto p = eng->Prepare(Id(decisions[i]), r);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->context, contexts[i]);
    eng->Commit(*p);
    (*policy)->Update(decisions[i].ref.arm, r, contexts[i]);
  }
  EXPECT_EQ(PolicyState(*eng), (*policy)->Snapshot());
  EXPECT_EQ(eng->experiment(0).contexts().entries(), 0u);
  EXPECT_EQ(eng->experiment(0).contexts().bytes(), 0u);
  EXPECT_EQ(eng->experiment(0).rewards_without_context(), 0u);
}

TEST(EngineContextTest, AnEvictedContextCountsButDoesNotTeach) {
  ManualClock clock;
  const size_t bound = 64 * 1024;
  auto eng = Make(clock, Options(bound));
  Rng rng(4);
  std::vector<Decision> decisions;
  for (int i = 0; i < 1000; ++i) {
    auto d = eng->Route("ctx", std::nullopt, std::nullopt, Context(rng));
    ASSERT_TRUE(d.ok());
    decisions.push_back(*d);
    ASSERT_LE(eng->experiment(0).contexts().bytes(), bound);
  }
  const ContextStore& store = eng->experiment(0).contexts();
  const size_t fit = bound / (ContextStore::kEntryOverhead + 8 * kDim);
  EXPECT_EQ(store.entries(), fit);
  EXPECT_EQ(store.evictions(), 1000 - fit);

  const std::string before = PolicyState(*eng);
  auto p = eng->Prepare(Id(decisions[0]), 1.0);  // its context was evicted
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->context.empty());
  eng->Commit(*p);
  EXPECT_EQ(PolicyState(*eng), before);
  EXPECT_EQ(eng->experiment(0).rewards_without_context(), 1u);
  EXPECT_EQ(eng->experiment(0).counters()[decisions[0].ref.arm].n, 1.0);

  auto q = eng->Prepare(Id(decisions.back()), 1.0);  // still kept
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->context.size(), kDim);
  eng->Commit(*q);
  EXPECT_NE(PolicyState(*eng), before);
  EXPECT_EQ(store.entries(), fit - 1);
}

TEST(EngineContextTest, ContextsExpireWithTheRewardWindow) {
  ManualClock clock;
  auto eng = Make(clock);
  Rng rng(5);
  ASSERT_TRUE(eng->Route("ctx", std::nullopt, std::nullopt, Context(rng)).ok());
  eng->Tick();
  EXPECT_EQ(eng->experiment(0).contexts().entries(), 1u);
  clock.Advance(3700LL * 1'000'000'000);
  eng->Tick();
  EXPECT_EQ(eng->experiment(0).contexts().entries(), 0u);
  EXPECT_EQ(eng->experiment(0).contexts().evictions(), 0u);
}

TEST(EngineContextTest, WalRecordCarriesTheContext) {
  ManualClock clock;
  auto eng = Make(clock);
  const std::vector<double> ctx = {1.0, -0.0, 3.25e-300};
  auto d = eng->Route("ctx", std::nullopt, std::nullopt, ctx);
  ASSERT_TRUE(d.ok());
  auto p = eng->Prepare(Id(*d), 0.5);
  ASSERT_TRUE(p.ok());
  const std::string rec = Engine::EncodeReward(*p);
  EXPECT_EQ(rec.size(), kDecisionRefBytes + 8 + 3 + 8 * kDim);
  auto back = Engine::DecodeReward(rec);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->context, ctx);
  EXPECT_TRUE(std::signbit(back->context[1]));
  EXPECT_EQ(back->value, 0.5);
  EXPECT_EQ(back->ref.key(), p->ref.key());

  // A format-1 record (no context) still decodes.
  auto legacy = Engine::DecodeReward(rec.substr(0, kDecisionRefBytes + 8));
  ASSERT_TRUE(legacy.ok());
  EXPECT_TRUE(legacy->context.empty());
  // Damaged extensions are corruption.
  for (size_t cut : {1, 3, 8}) {
    EXPECT_EQ(Engine::DecodeReward(rec.substr(0, rec.size() - cut)).status().code(),
              Code::kCorruption);
  }
  std::string unknown = rec;
  unknown[kDecisionRefBytes + 8] = 2;
  EXPECT_EQ(Engine::DecodeReward(unknown).status().code(), Code::kCorruption);
  std::string nan = rec;
  const double q = std::numeric_limits<double>::quiet_NaN();
  std::memcpy(nan.data() + kDecisionRefBytes + 8 + 3, &q, 8);
  EXPECT_EQ(Engine::DecodeReward(nan).status().code(), Code::kCorruption);
}

// Hostile WAL payloads: random bytes after a valid record head decode to a
// record whose context is consistent, or to kCorruption — never a crash.
TEST(EngineContextTest, DecodeRewardSurvivesRandomTails) {
  ManualClock clock;
  auto eng = Make(clock);
  auto d = eng->Route("ctx", std::nullopt, std::nullopt, std::vector<double>{1, 2, 3});
  ASSERT_TRUE(d.ok());
  auto p = eng->Prepare(Id(*d), 1.0);
  ASSERT_TRUE(p.ok());
  const std::string head = Engine::EncodeReward(*p).substr(0, kDecisionRefBytes + 8);
  Rng rng(12);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string rec = head;
    const size_t n = rng.Below(64);
    for (size_t j = 0; j < n; ++j) rec.push_back(static_cast<char>(rng.Below(256)));
    // Often a plausible extension head, so the length checks are reached.
    if (n >= 3 && rng.Bernoulli(0.5)) {
      rec[head.size()] = 1;
      rec[head.size() + 1] = static_cast<char>((n - 3) / 8);
      rec[head.size() + 2] = 0;
    }
    auto r = Engine::DecodeReward(rec);
    if (r.ok()) {
      ++decoded;
      EXPECT_EQ(rec.size(), head.size() + (r->context.empty() ? 0 : 3 + 8 * r->context.size()));
      for (double v : r->context) EXPECT_TRUE(std::isfinite(v));
    } else {
      EXPECT_EQ(r.status().code(), Code::kCorruption);
    }
  }
  EXPECT_GT(decoded, 100);  // the valid shapes were exercised too
}

// A live engine against one recovered from a snapshot plus the WAL records
// written after it. Rewards are delayed, so decisions made before the
// snapshot are rewarded after it, from the WAL with the contexts they carry.
// The policies must end byte-for-byte equal. Then a graceful restart (a
// snapshot at the end, as at shutdown): the decisions still waiting for their
// rewards are rewarded from the restored context store.
TEST(EngineContextTest, SnapshotPlusReplayEqualsUninterrupted) {
  ManualClock clock;
  auto live = Make(clock);
  Rng traffic(6), truth(7);
  std::vector<std::string> wal_after_snapshot;
  std::string snapshot;
  std::vector<std::pair<std::string, double>> pending;  // (decision id, reward)
  constexpr size_t kDelay = 40;
  auto reward_oldest = [&](Engine& eng, std::vector<std::string>* wal) {
    auto p = eng.Prepare(pending.front().first, pending.front().second);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->context.size(), kDim);
    if (wal) wal->push_back(Engine::EncodeReward(*p));
    eng.Commit(*p);
    pending.erase(pending.begin());
  };
  for (int i = 0; i < 1500; ++i) {
    const auto x = Context(traffic);
    auto d = live->Route("ctx", std::nullopt, std::nullopt, x);
    ASSERT_TRUE(d.ok());
    pending.emplace_back(Id(*d), truth.Bernoulli(TrueMean(d->ref.arm, x)) ? 1.0 : 0.0);
    if (pending.size() > kDelay) reward_oldest(*live, i >= 1000 ? &wal_after_snapshot : nullptr);
    if (i == 999) {
      snapshot = live->Snapshot();
      EXPECT_EQ(live->experiment(0).contexts().entries(), kDelay);
    }
    if (i % 50 == 0) live->Tick();
  }
  auto recovered = Make(clock);
  ASSERT_TRUE(recovered->Restore(snapshot).ok());
  EXPECT_EQ(recovered->experiment(0).contexts().entries(), kDelay);
  for (const auto& rec : wal_after_snapshot) recovered->Replay(*Engine::DecodeReward(rec));
  EXPECT_EQ(PolicyState(*recovered), PolicyState(*live));
  EXPECT_EQ(recovered->experiment(0).contexts().entries(), 0u);  // all used by the replay
  EXPECT_EQ(recovered->experiment(0).rewards_without_context(), 0u);

  // Graceful restart.
  auto restarted = Make(clock);
  ASSERT_TRUE(restarted->Restore(live->Snapshot()).ok());
  EXPECT_EQ(restarted->experiment(0).contexts().Serialize(),
            live->experiment(0).contexts().Serialize());
  EXPECT_EQ(restarted->experiment(0).contexts().entries(), kDelay);
  auto pending_copy = pending;
  while (!pending.empty()) reward_oldest(*live, nullptr);
  pending = pending_copy;
  while (!pending.empty()) reward_oldest(*restarted, nullptr);
  EXPECT_EQ(PolicyState(*restarted), PolicyState(*live));
  EXPECT_EQ(restarted->experiment(0).rewards_without_context(), 0u);
}

// Decisions made after the last snapshot have no stored context after a
// crash: their rewards count but do not teach (documented in contextual.md).
TEST(EngineContextTest, AfterACrashUnsnapshottedDecisionsHaveNoContext) {
  ManualClock clock;
  auto live = Make(clock);
  Rng rng(8);
  const std::string snapshot = live->Snapshot();
  auto d = live->Route("ctx", std::nullopt, std::nullopt, Context(rng));
  ASSERT_TRUE(d.ok());
  auto recovered = Make(clock);
  ASSERT_TRUE(recovered->Restore(snapshot).ok());
  auto p = recovered->Prepare(Id(*d), 1.0);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->context.empty());
  recovered->Commit(*p);
  EXPECT_EQ(recovered->experiment(0).rewards_without_context(), 1u);
  EXPECT_EQ(recovered->experiment(0).counters()[d->ref.arm].n, 1.0);
}

TEST(EngineContextTest, LearnsTheContextDependentBestArm) {
  ManualClock clock;
  auto eng = Make(clock);
  Rng traffic(9), truth(10);
  std::vector<std::pair<std::string, double>> pending;
  int best = 0, scored = 0;
  for (int i = 0; i < 3000; ++i) {
    const auto x = Context(traffic);
    auto d = eng->Route("ctx", std::nullopt, std::nullopt, x);
    ASSERT_TRUE(d.ok());
    if (i >= 2500) {
      ++scored;
      best += TrueMean(d->ref.arm, x) > 0.5 ? 1 : 0;
    }
    pending.emplace_back(Id(*d), truth.Bernoulli(TrueMean(d->ref.arm, x)) ? 1.0 : 0.0);
    if (pending.size() > 100) {  // rewards come 100 decisions late
      auto p = eng->Prepare(pending.front().first, pending.front().second);
      ASSERT_TRUE(p.ok());
      eng->Commit(*p);
      pending.erase(pending.begin());
    }
  }
  // Fixed seeds; a context-blind policy can reach at most 50% here.
  EXPECT_GT(best, scored * 9 / 10) << best << " of " << scored;
}

}  // namespace
}  // namespace banditd::experiment
