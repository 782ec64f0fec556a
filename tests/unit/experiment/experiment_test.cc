#include "src/experiment/experiment.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "tests/unit/experiment/engine_fixture.h"

namespace banditd::experiment {
namespace {

ExperimentOptions TwoArms(Mode mode = Mode::kBandit) {
  ExperimentOptions o;
  o.name = "ctr";
  o.mode = mode;
  o.arms = {{"champion", true}, {"challenger", true}};
  o.champion = 0;
  o.policy.name = "thompson";
  o.refresh_interval_ns = 0;  // recompute on every tick
  return o;
}

std::unique_ptr<Experiment> Make(const ExperimentOptions& o) {
  return fixture::CreatedOr(Experiment::Create(o),
                            [](const Status& s) { ADD_FAILURE() << s.ToString(); });
}

DecisionRef RefFor(const Experiment& e, const RouteChoice& c) {
  DecisionRef r;
  r.tag = e.tag();
  r.epoch = e.epoch();
  r.arm = static_cast<uint8_t>(c.arm);
  r.flags = c.forced ? DecisionRef::kForcedFlag : 0;
  r.propensity = static_cast<float>(c.propensity);
  return r;
}

TEST(ExperimentTest, RoutesWithTheAllocationsPropensity) {
  auto e = Make(TwoArms());
  Rng rng(1);
  e->Tick(rng, 0);
  // Untrained Thompson over two arms: 50/50.
  EXPECT_NEAR(e->weights()[0], 0.5, 1e-12);
  auto c = e->Route(std::nullopt, std::nullopt, rng);
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->propensity, 0.5, 1e-12);
  EXPECT_FALSE(c->forced);
  EXPECT_EQ(e->counters()[c->arm].requests, 1u);
}

TEST(ExperimentTest, LearnsFromRewardsAndShiftsTraffic) {
  auto e = Make(TwoArms());
  Rng rng(2);
  const double truth[] = {0.05, 0.15};
  for (int t = 0; t < 5000; ++t) {
    e->Tick(rng, t);
    auto c = e->Route(std::nullopt, std::nullopt, rng);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(e->ApplyReward(RefFor(*e, *c), rng.Bernoulli(truth[c->arm]) ? 1.0 : 0.0).ok());
  }
  e->Tick(rng, 5000);
  EXPECT_GT(e->weights()[1], 0.95);
  EXPECT_EQ(e->state(), ExperimentState::kRunning);
}

TEST(ExperimentTest, StickyUnitsUseTheTableShareAsPropensity) {
  auto o = TwoArms();
  o.policy.name = "thompson";
  auto e = Make(o);
  Rng rng(3);
  e->Tick(rng, 0);
  auto a = e->Route(std::string_view("user-17"), std::nullopt, rng);
  for (int i = 0; i < 100; ++i) {
    auto b = e->Route(std::string_view("user-17"), std::nullopt, rng);
    ASSERT_EQ(b->arm, a->arm);
    EXPECT_NEAR(b->propensity, 0.5, 1.0 / AllocationTable::kSlots);
  }
}

TEST(ExperimentTest, ForcedArmHasPropensityOneAndDoesNotTeachThePolicy) {
  auto e = Make(TwoArms());
  Rng rng(4);
  auto c = e->Route(std::nullopt, std::string_view("challenger"), rng);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->arm, 1u);
  EXPECT_EQ(c->propensity, 1.0);
  EXPECT_TRUE(c->forced);
  ASSERT_TRUE(e->ApplyReward(RefFor(*e, *c), 1.0).ok());
  std::vector<ArmEstimate> est(2);
  e->policy().Estimates(est);
  EXPECT_EQ(est[1].n, 0.0);            // the policy did not learn from it
  EXPECT_EQ(e->counters()[1].n, 1.0);  // but it is counted
  EXPECT_EQ(e->Route(std::nullopt, std::string_view("nope"), rng).status().code(),
            Code::kBadRequest);
}

TEST(ExperimentTest, InvalidRewardValuesAreRefusedAndChangeNothing) {
  auto e = Make(TwoArms());
  Rng rng(5);
  auto c = e->Route(std::nullopt, std::nullopt, rng);
  const auto ref = RefFor(*e, *c);
  for (double v : {std::numeric_limits<double>::quiet_NaN(),
                   std::numeric_limits<double>::infinity(), -0.5, 1.5}) {
    EXPECT_EQ(e->ApplyReward(ref, v).code(), Code::kInvalidValue) << v;
  }
  EXPECT_EQ(e->counters()[c->arm].n, 0.0);
  auto g = TwoArms();
  g.metric = Metric::kGaussian;
  g.policy.name = "thompson_gaussian";
  auto eg = Experiment::Create(g);
  if (eg.ok()) {  // real-valued metric: any finite value
    EXPECT_TRUE((*eg)->ApplyReward(RefFor(**eg, *c), 12.5).ok());
  }
}

// bernoulli_cs counts successes: a fractional reward (which a Beta policy
// would take) is refused rather than counted as a success or a failure.
TEST(ExperimentTest, BernoulliCsTakesOnlyZeroOrOne) {
  auto o = TwoArms();
  StoppingSpec spec;
  spec.name = "bernoulli_cs";
  o.stopping = spec;
  auto e = Make(o);
  Rng rng(5);
  auto c = e->Route(std::nullopt, std::nullopt, rng);
  const auto ref = RefFor(*e, *c);
  const Status s = e->ApplyReward(ref, 0.5);
  EXPECT_EQ(s.code(), Code::kInvalidValue);
  EXPECT_NE(s.message().find("0 or 1"), std::string::npos) << s.ToString();
  EXPECT_EQ(e->counters()[c->arm].n, 0.0);
  EXPECT_TRUE(e->ApplyReward(ref, 1.0).ok());
  EXPECT_EQ(e->counters()[c->arm].n, 1.0);
  // Without that rule the same experiment takes a fractional reward.
  auto plain = Make(TwoArms());
  auto c2 = plain->Route(std::nullopt, std::nullopt, rng);
  EXPECT_TRUE(plain->ApplyReward(RefFor(*plain, *c2), 0.5).ok());
}

TEST(ExperimentTest, RewardsOfAnOlderEpochAreCountedAsStale) {
  auto e = Make(TwoArms());
  Rng rng(6);
  auto c = e->Route(std::nullopt, std::nullopt, rng);
  const auto old_ref = RefFor(*e, *c);
  e->NewEpoch("challenger model reloaded");
  EXPECT_EQ(e->epoch(), 1);
  ASSERT_TRUE(e->ApplyReward(old_ref, 1.0).ok());
  EXPECT_EQ(e->stale_rewards(), 1u);
  EXPECT_EQ(e->counters()[c->arm].n, 0.0);
}

TEST(ExperimentTest, ShadowModeServesOnlyTheChampion) {
  auto e = Make(TwoArms(Mode::kShadow));
  Rng rng(7);
  e->Tick(rng, 0);
  for (int i = 0; i < 1000; ++i) {
    auto c = e->Route(std::nullopt, std::nullopt, rng);
    ASSERT_EQ(c->arm, 0u);
    ASSERT_EQ(c->propensity, 1.0);
  }
}

TEST(ExperimentTest, CanaryGivesTheChallengerAFixedShareFirst) {
  auto o = TwoArms(Mode::kCanary);
  o.canary_share = 0.1;
  o.canary_requests = 50;
  auto e = Make(o);
  Rng rng(8);
  e->Tick(rng, 0);
  EXPECT_NEAR(e->weights()[1], 0.1, 1e-12);
  while (e->counters()[1].requests < 50) {
    ASSERT_TRUE(e->Route(std::nullopt, std::nullopt, rng).ok());
  }
  e->Tick(rng, 1);
  EXPECT_NEAR(e->weights()[1], 0.5, 1e-12);  // now the bandit's own allocation
}

TEST(ExperimentTest, ErrorRateGuardrailReturnsTrafficToTheChampion) {
  auto o = TwoArms();
  o.guardrails.min_requests = 100;
  auto e = Make(o);
  Rng rng(9);
  e->Tick(rng, 0);
  for (int i = 0; i < 400; ++i) {
    auto c = e->Route(std::nullopt, std::nullopt, rng);
    e->RecordServe(c->arm, 1000, /*failed=*/c->arm == 1 && i % 4 == 0);  // 25% failures
  }
  EXPECT_TRUE(e->Tick(rng, 1));
  EXPECT_EQ(e->state(), ExperimentState::kRolledBack);
  EXPECT_NE(e->reason().find("challenger"), std::string::npos);
  EXPECT_EQ(e->weights()[0], 1.0);
  auto c = e->Route(std::nullopt, std::nullopt, rng);
  EXPECT_EQ(c->arm, 0u);
}

TEST(ExperimentTest, LatencyGuardrailTrips) {
  auto o = TwoArms();
  o.guardrails.min_requests = 100;
  o.guardrails.max_p99_ratio = 3.0;
  auto e = Make(o);
  Rng rng(10);
  for (int i = 0; i < 200; ++i) {
    e->RecordServe(0, 100'000, false);    // 0.1 ms
    e->RecordServe(1, 1'000'000, false);  // 1 ms: 10x the champion
  }
  // RecordServe does not count requests; route some so min_requests is met.
  for (int i = 0; i < 400; ++i) ASSERT_TRUE(e->Route(std::nullopt, std::nullopt, rng).ok());
  e->Tick(rng, 0);
  EXPECT_EQ(e->state(), ExperimentState::kRolledBack);
  EXPECT_NE(e->reason().find("p99"), std::string::npos);
}

TEST(ExperimentTest, OperatorLifecycle) {
  auto e = Make(TwoArms());
  Rng rng(11);
  ASSERT_TRUE(e->Pause().ok());
  EXPECT_EQ(e->state(), ExperimentState::kPaused);
  EXPECT_EQ(e->Route(std::nullopt, std::nullopt, rng)->arm, 0u);
  EXPECT_EQ(e->Pause().code(), Code::kBadRequest);
  ASSERT_TRUE(e->Resume().ok());
  EXPECT_EQ(e->state(), ExperimentState::kRunning);
  ASSERT_TRUE(e->Promote(1, "promoted by an operator").ok());
  EXPECT_EQ(e->state(), ExperimentState::kPromoted);
  EXPECT_EQ(e->winner(), std::optional<size_t>(1));
  for (int i = 0; i < 100; ++i) {
    auto c = e->Route(std::nullopt, std::nullopt, rng);
    ASSERT_EQ(c->arm, 1u);
    ASSERT_EQ(c->propensity, 1.0);
  }
  EXPECT_EQ(e->Promote(7, "x").code(), Code::kBadRequest);
}

TEST(ExperimentTest, BadOptionsAreRefused) {
  auto o = TwoArms();
  o.arms.clear();
  EXPECT_EQ(Experiment::Create(o).status().code(), Code::kInvalidArgument);
  o = TwoArms();
  o.champion = 4;
  EXPECT_EQ(Experiment::Create(o).status().code(), Code::kInvalidArgument);
  o = TwoArms();
  o.policy.name = "nope";
  auto r = Experiment::Create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("experiment 'ctr'"), std::string::npos);
}

}  // namespace
}  // namespace banditd::experiment
