// The rewards an experiment learns from lie in its metric's domain and its
// policy's (the registry's statement, PolicyRewardRange); saved state that
// does not fit the experiment is refused with what to do about it.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "src/experiment/engine.h"
#include "src/experiment/experiment.h"
#include "tests/unit/experiment/engine_fixture.h"

namespace banditd::experiment {
namespace {

// A gaussian metric with a Beta-Bernoulli policy: the config loader refuses
// the pair, so only code that builds options itself gets here.
ExperimentOptions GaussianThompson(size_t arms = 2) {
  ExperimentOptions o;
  o.name = "g";
  o.metric = Metric::kGaussian;
  for (size_t i = 0; i < arms; ++i) o.arms.push_back({"arm" + std::to_string(i), false});
  o.policy.name = "thompson";
  o.refresh_interval_ns = 0;
  return o;
}

std::unique_ptr<Experiment> Make(const ExperimentOptions& o) {
  return fixture::CreatedOr(Experiment::Create(o),
                            [](const Status& s) { ADD_FAILURE() << s.ToString(); });
}

DecisionRef RefFor(const Experiment& e, size_t arm) {
  DecisionRef r;
  r.tag = e.tag();
  r.epoch = e.epoch();
  r.arm = static_cast<uint8_t>(arm);
  r.propensity = 0.5f;
  return r;
}

// A huge but finite reward would make the arm's sums inf for good: refused,
// and the statistics stay finite.
TEST(RewardDomainTest, HugeFiniteRewardsAreRefused) {
  ExperimentOptions o = GaussianThompson();
  o.policy.name = "thompson_gaussian";
  auto e = Make(o);
  ASSERT_NE(e, nullptr);
  for (double v : {1e308, -1e308, 1e200, 1.0000001e12}) {
    const Status s = e->ApplyReward(RefFor(*e, 0), v, {});
    EXPECT_EQ(s.code(), Code::kInvalidValue) << v;
  }
  EXPECT_TRUE(e->ApplyReward(RefFor(*e, 0), 1e12, {}).ok());
  EXPECT_TRUE(e->ApplyReward(RefFor(*e, 0), -3.5, {}).ok());
  const auto& c = e->counters()[0];
  EXPECT_EQ(c.n, 2.0);
  EXPECT_TRUE(std::isfinite(c.reward_sum));
  EXPECT_TRUE(std::isfinite(c.reward_sum_sq));
}

TEST(RewardDomainTest, ARewardOutsideThePolicysDomainNeverReachesIt) {
  auto e = Make(GaussianThompson());
  ASSERT_NE(e, nullptr);
  for (double v : {25.0, -0.5, 1.0000001}) {
    const Status s = e->ApplyReward(RefFor(*e, 0), v);
    EXPECT_EQ(s.code(), Code::kInvalidValue) << v;
    EXPECT_NE(s.message().find("policy thompson takes rewards in [0, 1]"), std::string::npos)
        << s.ToString();
  }
  EXPECT_EQ(e->counters()[0].n, 0.0);
  std::vector<ArmEstimate> est(2);
  e->policy().Estimates(est);
  EXPECT_EQ(est[0].n, 0.0);
  // Inside the domain it learns, and its state still restores.
  ASSERT_TRUE(e->ApplyReward(RefFor(*e, 0), 0.75).ok());
  EXPECT_EQ(e->counters()[0].n, 1.0);
  auto again = Make(GaussianThompson());
  EXPECT_TRUE(again->Restore(e->Snapshot()).ok());
}

TEST(RewardDomainTest, TheEngineRefusesItBeforeTheLedger) {
  ManualClock clock;
  auto eng = Engine::Create(fixture::EngineOver({GaussianThompson()}, 7, 1), clock);
  ASSERT_TRUE(eng.ok()) << eng.status().ToString();
  auto d = (*eng)->Route("g", std::nullopt, std::nullopt);
  ASSERT_TRUE(d.ok());
  const std::string id(d->id.data(), d->id.size());
  EXPECT_EQ((*eng)->Prepare(id, 25.0).status().code(), Code::kInvalidValue);
  // Refused, not recorded: the same decision still takes a valid reward.
  auto p = (*eng)->Prepare(id, 1.0);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  (*eng)->Commit(*p);
  EXPECT_EQ((*eng)->experiment(0).counters()[d->ref.arm].n, 1.0);
}

// Replaces, inside an experiment snapshot, its policy's state with `bad`
// (the same size: msgpack packs every double in 9 bytes).
std::string WithPolicyState(std::string snapshot, const std::string& good, const std::string& bad) {
  EXPECT_EQ(good.size(), bad.size());
  const size_t at = snapshot.find(good);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) snapshot.replace(at, good.size(), bad);
  return snapshot;
}

TEST(RewardDomainTest, UnusableSavedPolicyStateSaysWhatToDo) {
  auto e = Make(GaussianThompson());
  ASSERT_NE(e, nullptr);
  // What a reward of 25 did to Beta-Bernoulli state: beta = 1 - 25 < 0.
  auto fresh = MakePolicy(PolicySpec{"thompson", 2, 0, {}, {}});
  auto broken = MakePolicy(PolicySpec{"thompson", 2, 0, {}, {}});
  ASSERT_TRUE(fresh.ok() && broken.ok());
  (*broken)->Update(0, 25.0, {});
  const std::string snapshot =
      WithPolicyState(e->Snapshot(), (*fresh)->Snapshot(), (*broken)->Snapshot());
  auto restored = Make(GaussianThompson());
  const Status s = restored->Restore(snapshot);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Beta parameters must be > 0"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("give the experiment a new name to start it with fresh state"),
            std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("move state_dir aside"), std::string::npos) << s.ToString();
}

TEST(RewardDomainTest, AnArmCountChangeNamesTheRemedy) {
  auto two = Make(GaussianThompson(2));
  auto three = Make(GaussianThompson(3));
  const Status s = three->Restore(two->Snapshot());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  for (const char* part :
       {"snapshot of experiment 'g' has 2 arms, the config has 3", "configure its 2 arms again",
        "give the experiment a new name to start it with fresh state (the "
        "state saved under 'g' is dropped at the next snapshot)",
        "move state_dir aside to start every experiment fresh"}) {
    EXPECT_NE(s.message().find(part), std::string::npos) << part << "\n" << s.ToString();
  }
}

}  // namespace
}  // namespace banditd::experiment
