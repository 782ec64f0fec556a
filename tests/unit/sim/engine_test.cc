#include "sim/engine.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "sim/environment.h"
#include "tests/unit/sim/sim_testing.h"

namespace banditd::sim {
namespace {

using testing::Event;
using testing::MustParse;

void ExpectSameReps(const RepResult& a, const RepResult& b) {
  EXPECT_EQ(a.regret, b.regret);
  EXPECT_EQ(a.best_pulls, b.best_pulls);
  EXPECT_EQ(a.worse_pulls, b.worse_pulls);
  EXPECT_EQ(a.regret_at, b.regret_at);
  EXPECT_EQ(a.best_share_at, b.best_share_at);
  EXPECT_EQ(a.decided, b.decided);
  EXPECT_EQ(a.decision_step, b.decision_step);
}

constexpr const char* kTwoThompsons =
    "name: two\narms: [{mean: 0.3}, {mean: 0.35}, {mean: 0.4}]\nhorizon: 3000\nruns: 9\nseed: 5\n"
    "environment: {replacement: {prob: 0.002}, delay: {mean: 4}}\n"
    "policies:\n  - {name: thompson, label: a}\n  - {name: thompson, label: b}\n"
    "  - {name: thompson, label: c, params: {prior_alpha: 5}}\n";

TEST(EngineTest, IdenticalResultsWhateverTheThreadCount) {
  Scenario s = MustParse(kTwoThompsons);
  RunOptions one{1, false, ""}, three{3, false, ""};
  auto a = RunScenario(s, one, Factories::Default());
  auto b = RunScenario(s, three, Factories::Default());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  for (size_t c = 0; c < 3; ++c) {
    ASSERT_EQ(a->contenders[c].reps.size(), 9u);
    for (size_t r = 0; r < 9; ++r)
      ExpectSameReps(a->contenders[c].reps[r], b->contenders[c].reps[r]);
  }
}

TEST(EngineTest, CommonRandomNumbersAcrossContenders) {
  Scenario s = MustParse(kTwoThompsons);
  auto res = RunScenario(s, RunOptions{2, false, ""}, Factories::Default());
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  int differs_from_c = 0;
  for (size_t r = 0; r < 9; ++r) {
    // Same policy, same replication: the same rewards and the same choices.
    ExpectSameReps(res->contenders[0].reps[r], res->contenders[1].reps[r]);
    differs_from_c += res->contenders[0].reps[r].regret != res->contenders[2].reps[r].regret;
    // Different replications are different.
    if (r > 0) {
      EXPECT_NE(res->contenders[0].reps[r].regret, res->contenders[0].reps[0].regret);
    }
  }
  EXPECT_GT(differs_from_c, 0);
}

TEST(EngineTest, RegretIsTheSumOfGaps) {
  Scenario s = MustParse(
      "name: g\narms: [{mean: 0.5}, {mean: 0.2}]\nhorizon: 1000\nruns: 2\n"
      "policies: [{name: thompson}]\n");
  auto log = std::make_shared<std::vector<Event>>();
  auto r = RunReplication(s, 0, 0, testing::RecordingFactories(1, log), Checkpoints(1000, 10));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->regret, 0.3 * 1000, 1e-9);
  EXPECT_EQ(r->worse_pulls, 1000u);
  EXPECT_EQ(r->best_pulls, 0u);
  EXPECT_NEAR(r->regret_at.back(), 300.0, 1e-9);
  EXPECT_NEAR(r->regret_at.front(), 0.3, 1e-12);  // the first checkpoint is step 1
  EXPECT_EQ(r->best_share_at.back(), 0.0);
}

TEST(EngineTest, BatchedFeedbackArrivesEveryDeltaSteps) {
  Scenario s = MustParse(
      "name: b\narms: [{mean: 0.5}, {mean: 0.2}]\nhorizon: 95\nruns: 1\n"
      "environment: {delay: {every: 10}}\npolicies: [{name: thompson}]\n");
  auto log = std::make_shared<std::vector<Event>>();
  auto r = RunReplication(s, 0, 0, testing::RecordingFactories(-1, log), Checkpoints(95, 10));
  ASSERT_TRUE(r.ok());
  size_t chooses = 0, updates = 0;
  for (const auto& e : *log) {
    if (e.kind == Event::kChoose) ++chooses;
    if (e.kind == Event::kUpdate) {
      ++updates;
      // Every update of a batch comes right after the 10th, 20th, ... choice.
      EXPECT_EQ(chooses % 10, 0u) << "update after " << chooses << " choices";
      EXPECT_LE(updates, chooses);
    }
  }
  EXPECT_EQ(chooses, 95u);
  EXPECT_EQ(updates, 90u);  // the last 5 rewards are still pending at the horizon
}

TEST(EngineTest, RandomDelayDeliversLaterInOrder) {
  Scenario s = MustParse(
      "name: b\narms: [{mean: 0.5}, {mean: 0.2}]\nhorizon: 5000\nruns: 1\n"
      "environment: {delay: {mean: 30}}\npolicies: [{name: thompson}]\n");
  auto log = std::make_shared<std::vector<Event>>();
  auto r = RunReplication(s, 0, 0, testing::RecordingFactories(-1, log), Checkpoints(5000, 10));
  ASSERT_TRUE(r.ok());
  // Replay the environment to know each step's delay (common random numbers).
  Environment env(s, 0);
  std::vector<uint64_t> due;
  for (uint64_t t = 1; t <= 5000; ++t) {
    env.BeginStep(t);
    due.push_back(t + env.delay());
  }
  size_t chooses = 0, updates = 0;
  for (const auto& e : *log) {
    if (e.kind == Event::kChoose) ++chooses;
    if (e.kind == Event::kUpdate) ++updates;
  }
  uint64_t expected = 0;
  for (uint64_t d : due) expected += d <= 5000;
  EXPECT_EQ(updates, expected);
  // Before step t's choice, exactly the rewards due before t have arrived.
  chooses = 0;
  updates = 0;
  for (const auto& e : *log) {
    if (e.kind == Event::kChoose) {
      ++chooses;
      uint64_t arrived = 0;
      for (size_t i = 0; i + 1 < chooses; ++i) arrived += due[i] < chooses;
      ASSERT_EQ(updates, arrived) << "before step " << chooses;
      if (chooses > 200) break;
    }
    if (e.kind == Event::kUpdate) ++updates;
  }
}

TEST(EngineTest, ReplacementRebuildsThePolicyWithoutTheRetiredArm) {
  Scenario s = MustParse(
      "name: r\narms: {count: 4, beta: [2, 2]}\nhorizon: 3000\nruns: 1\nseed: 3\n"
      "environment: {replacement: {prob: 0.005}}\npolicies: [{name: thompson}]\n");
  auto log = std::make_shared<std::vector<Event>>();
  auto r = RunReplication(s, 0, 0, testing::RecordingFactories(-1, log), Checkpoints(3000, 10));
  ASSERT_TRUE(r.ok());
  Environment env(s, 0);
  std::vector<size_t> retired;
  for (uint64_t t = 1; t <= 3000; ++t) {
    if (auto a = env.BeginStep(t)) retired.push_back(*a);
  }
  ASSERT_GT(retired.size(), 5u);
  // One policy at the start plus one per replacement; each rebuilt policy is
  // fed again every earlier reward except those of arms that have retired since.
  std::vector<std::vector<Event>> lives(1);
  for (const auto& e : *log) {
    if (e.kind == Event::kMake) {
      if (!lives.back().empty()) lives.emplace_back();
      continue;
    }
    lives.back().push_back(e);
  }
  ASSERT_EQ(lives.size(), retired.size() + 1);
  std::vector<std::vector<int>> alive_rewards;  // per arm: rewards fed since its birth
  std::vector<int> count(4, 0);
  for (size_t life = 0; life < lives.size(); ++life) {
    if (life > 0) {
      count[retired[life - 1]] = 0;
      // The replay at the start of this life: exactly the survivors' counts.
      std::vector<int> replayed(4, 0);
      for (const auto& e : lives[life]) {
        if (e.kind != Event::kUpdate) break;
        ++replayed[e.arm];
      }
      EXPECT_EQ(replayed, count) << "life " << life;
      EXPECT_EQ(replayed[retired[life - 1]], 0);
      bool in_replay = true;
      for (const auto& e : lives[life]) {
        if (e.kind == Event::kChoose) in_replay = false;
        if (!in_replay && e.kind == Event::kUpdate) ++count[e.arm];
      }
    } else {
      for (const auto& e : lives[0]) {
        if (e.kind == Event::kUpdate) ++count[e.arm];
      }
    }
  }
}

// Replays the replication's environment: the step of every replacement and
// the arm that retired.
std::vector<std::pair<uint64_t, size_t>> Replacements(const Scenario& s, uint64_t horizon) {
  Environment env(s, 0);
  std::vector<std::pair<uint64_t, size_t>> out;
  for (uint64_t t = 1; t <= horizon; ++t) {
    if (auto a = env.BeginStep(t)) out.emplace_back(t, *a);
  }
  return out;
}

// The readings of ReplacementSpec under batches of 10: when the policy is
// rebuilt (forgets the retired arm) and which rewards reach it.
TEST(EngineTest, ReplacementReadingsUnderBatches) {
  constexpr uint64_t kHorizon = 3000, kEvery = 10;
  for (const char* notice : {"at_once", "next_delivery"}) {
    for (const char* pending : {"drop", "deliver"}) {
      SCOPED_TRACE(std::string(notice) + " / " + pending);
      Scenario s =
          MustParse(std::string("name: r\narms: {count: 4, beta: [2, 2]}\nhorizon: 3000\nruns: 1\n"
                                "seed: 3\nenvironment: {replacement: {prob: 0.005, notice: ") +
                    notice + ", pending: " + pending +
                    "}, delay: {every: 10}}\npolicies: [{name: thompson}]\n");
      auto log = std::make_shared<std::vector<Event>>();
      auto r =
          RunReplication(s, 0, 0, testing::RecordingFactories(-1, log), Checkpoints(kHorizon, 10));
      ASSERT_TRUE(r.ok());
      const auto repl = Replacements(s, kHorizon);
      ASSERT_GT(repl.size(), 5u);
      const bool at_once = std::string(notice) == "at_once";
      // Rebuilds, as the number of choices made before each; a rebuild
      // forgets the arms retired since the previous one and replays the
      // rewards delivered to the others, which are not deliveries.
      std::vector<uint64_t> makes;
      uint64_t chooses = 0, delivered = 0, replay = 0;
      std::vector<size_t> arm_at(1, 0);   // arm_at[t]: the arm chosen at step t
      std::vector<uint64_t> count(4, 0);  // rewards delivered per arm since its birth
      size_t next_repl = 0;
      bool first = true;
      for (const auto& e : *log) {
        if (e.kind == Event::kMake) {
          if (!first) {
            makes.push_back(chooses);
            // at_once: the replacement of step chooses + 1; next_delivery:
            // those of the batch that ends at this step.
            const uint64_t last = at_once ? chooses + 1 : chooses;
            for (; next_repl < repl.size() && repl[next_repl].first <= last; ++next_repl)
              count[repl[next_repl].second] = 0;
            replay = 0;
            for (uint64_t c : count) replay += c;
          }
          first = false;
        } else if (e.kind == Event::kChoose) {
          ++chooses;
          arm_at.push_back(e.arm);
        } else if (replay > 0) {
          --replay;
        } else {
          ++delivered;
          ++count[e.arm];
        }
      }
      std::vector<uint64_t> expected_makes;
      for (const auto& [t, arm] : repl) {
        const uint64_t at = at_once ? t - 1 : (t + kEvery - 1) / kEvery * kEvery;
        if (expected_makes.empty() || expected_makes.back() != at) expected_makes.push_back(at);
      }
      EXPECT_EQ(makes, expected_makes);
      // Rewards that reach the policy: every reward of a full batch, except,
      // with pending: drop, those of an arm that retires later in the same
      // batch (the step of the replacement already pays the new arm).
      uint64_t expected = 0;
      for (uint64_t t = 1; t <= kHorizon - kHorizon % kEvery; ++t) {
        const uint64_t end = (t + kEvery - 1) / kEvery * kEvery;
        bool dropped = false;
        for (const auto& [u, arm] : repl) dropped |= u > t && u <= end && arm == arm_at[t];
        expected += !(dropped && std::string(pending) == "drop");
      }
      EXPECT_EQ(delivered, expected);
    }
  }
}

TEST(EngineTest, StoppingRuleDecidesAndPromotes) {
  Scenario s = MustParse(
      "name: s\narms: [{name: champion, mean: 0.1}, {name: challenger, mean: 0.2}]\n"
      "horizon: 1000\nruns: 1\ndecision: {check_every: 100, routing: choose}\n"
      "policies: [{name: thompson, stopping: {name: fake}}]\n");
  auto log = std::make_shared<std::vector<Event>>();
  auto seen = std::make_shared<std::vector<double>>();
  Factories f = testing::RecordingFactories(-1, log);
  f.stopping = [seen](const StoppingSpec& spec) -> Result<std::unique_ptr<StoppingRule>> {
    EXPECT_EQ(spec.num_arms, 2u);
    return std::unique_ptr<StoppingRule>(std::make_unique<testing::FakeRule>(250, 1, seen));
  };
  auto r = RunReplication(s, 0, 0, f, Checkpoints(1000, 10));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->decided);
  EXPECT_EQ(r->decision_step, 300u);  // the first look after 250 observations
  EXPECT_EQ(r->winner, 1);
  EXPECT_FALSE(r->wrong);
  // Round robin until the decision (150 pulls of the worse arm), the winner after.
  EXPECT_EQ(r->worse_pulls, 150u);
  EXPECT_EQ(r->worse_pulls_to_decision, 150u);
  EXPECT_EQ(seen->size(), 300u);
  for (double p : *seen) EXPECT_DOUBLE_EQ(p, 0.5);

  // A winner that is not the best arm is a wrong decision.
  f.stopping = [seen](const StoppingSpec&) -> Result<std::unique_ptr<StoppingRule>> {
    return std::unique_ptr<StoppingRule>(std::make_unique<testing::FakeRule>(10, 0, seen));
  };
  auto w = RunReplication(s, 0, 0, f, Checkpoints(1000, 10));
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->wrong);
  EXPECT_EQ(w->worse_pulls, 1000u - 50u);
}

TEST(EngineTest, ShippedStoppingRulesDecide) {
  Scenario s = MustParse(
      "name: s\narms: [{name: champion, mean: 0.2}, {name: challenger, mean: 0.5}]\n"
      "horizon: 5000\nruns: 20\ndecision: {check_every: 100}\npolicies:\n"
      "  - {name: static, label: ab, stopping: {name: fixed_horizon, params: {n_per_arm: 300}}}\n"
      // bandit_cs learns about the control only from units the control can
      // still get: without a floor, Thompson starves it after the first
      // allocation refresh (100 units), too few for a finite-sample bound.
      "  - {name: thompson, label: ts, limits: {champion_floor: 0.05},\n"
      "     stopping: {name: bandit_cs, params: {alpha: 0.05}}}\n");
  auto res = RunScenario(s, RunOptions{2, false, ""}, Factories::Default());
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  for (const auto& r : res->contenders[0].reps) {
    // 300 per arm at 50/50 is reached near step 600; a 0.3 gap is then overwhelming.
    ASSERT_TRUE(r.decided);
    EXPECT_EQ(r.winner, 1);
    EXPECT_GE(r.decision_step, 600u);
    EXPECT_LE(r.decision_step, 800u);
  }
  int ts_decided = 0;
  for (const auto& r : res->contenders[1].reps) {
    ts_decided += r.decided && r.winner == 1;
    EXPECT_FALSE(r.wrong);
  }
  EXPECT_GE(ts_decided, 15);
}

TEST(EngineTest, WeightRoutingLogsTheExactPropensity) {
  Scenario s = MustParse(
      "name: w\narms: [{name: champion, mean: 0.1}, {name: challenger, mean: 0.2}]\n"
      "horizon: 500\nruns: 1\ndecision: {check_every: 100, on_decision: continue}\n"
      "policies: [{name: thompson, stopping: {name: fake}}]\n");
  ASSERT_TRUE(s.route_by_weights);  // the default with a stopping rule
  auto log = std::make_shared<std::vector<Event>>();
  auto seen = std::make_shared<std::vector<double>>();
  Factories f = testing::RecordingFactories(1, log);  // allocation: all on arm 1
  f.stopping = [seen](const StoppingSpec&) -> Result<std::unique_ptr<StoppingRule>> {
    return std::unique_ptr<StoppingRule>(std::make_unique<testing::FakeRule>(1000000, 1, seen));
  };
  auto r = RunReplication(s, 0, 0, f, Checkpoints(500, 10));
  ASSERT_TRUE(r.ok());
  // Arms are drawn from the weights, never from Choose; each propensity is its weight.
  for (const auto& e : *log) EXPECT_NE(e.kind, Event::kChoose);
  EXPECT_EQ(r->best_pulls, 500u);
  ASSERT_EQ(seen->size(), 500u);
  for (double p : *seen) EXPECT_EQ(p, 1.0);
}

TEST(EngineTest, UnknownPolicyIsReportedByTheRegistry) {
  Scenario s = MustParse(
      "name: u\narms: [{mean: 0.1}, {mean: 0.2}]\nhorizon: 10\nruns: 1\n"
      "policies: [{name: no_such_policy}]\n");
  Status st = ValidateContenders(s, Factories::Default());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no_such_policy"), std::string::npos) << st.message();
  EXPECT_FALSE(RunScenario(s, RunOptions{1, false, ""}, Factories::Default()).ok());
}

TEST(EngineTest, ThompsonLearnsTheBetterArm) {
  Scenario s = MustParse(
      "name: l\narms: [{mean: 0.2}, {mean: 0.6}]\nhorizon: 5000\nruns: 4\n"
      "policies: [{name: thompson}]\n");
  auto res = RunScenario(s, RunOptions{2, false, ""}, Factories::Default());
  ASSERT_TRUE(res.ok());
  for (const auto& r : res->contenders[0].reps) {
    // Uniform choice would cost 0.2 * 5000 = 1000; Thompson pays a few dozen.
    EXPECT_LT(r.regret, 100.0);
    EXPECT_GT(r.best_share_at.back(), 0.95);
  }
}

TEST(EngineTest, CheckpointsAreLogSpacedAndEndAtTheHorizon) {
  auto c = Checkpoints(1000000, 10);
  EXPECT_EQ(c.front(), 1u);
  EXPECT_EQ(c.back(), 1000000u);
  for (uint64_t t : {10u, 100u, 1000u, 100000u}) {
    EXPECT_NE(std::find(c.begin(), c.end(), t), c.end()) << t;
  }
  EXPECT_LE(c.size(), 61u);  // at most 10 per decade, plus the horizon
  for (size_t i = 1; i < c.size(); ++i) EXPECT_GT(c[i], c[i - 1]);
  EXPECT_EQ(Checkpoints(1, 20), std::vector<uint64_t>{1});
}

}  // namespace
}  // namespace banditd::sim
