// An experiment with a contextual policy: per-request allocation from the
// context, its propensity, sticky units, lifecycle states, reported weights.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/experiment/experiment.h"
#include "tests/unit/experiment/engine_fixture.h"

namespace banditd::experiment {
namespace {

ExperimentOptions Contextual(const std::string& policy) {
  return fixture::ContextualExperiment(policy, 2);
}

std::unique_ptr<Experiment> Make(const ExperimentOptions& o) {
  return fixture::CreatedOr(Experiment::Create(o),
                            [](const Status& s) { ADD_FAILURE() << s.ToString(); });
}

// Teaches the policy that the challenger wins when x[1] = 1 and loses
// otherwise.
void Teach(Experiment& e, int n) {
  for (int i = 0; i < n; ++i) {
    const std::vector<double> x = {1.0, static_cast<double>(i % 2)};
    for (size_t arm = 0; arm < 2; ++arm) {
      DecisionRef ref;
      ref.tag = e.tag();
      ref.arm = static_cast<uint8_t>(arm);
      const double r = (arm == 1) == (i % 2 == 1) ? 1.0 : 0.0;
      ASSERT_TRUE(e.ApplyReward(ref, r, x).ok());
    }
  }
}

TEST(ExperimentContextTest, PropensityIsThePolicysAllocationForTheContext) {
  auto e = Make(Contextual("lin_thompson"));
  Teach(*e, 20);  // a little data: both arms keep some probability
  Rng rng(1);
  const std::vector<double> x = {1.0, 1.0};
  std::vector<double> expected(2);
  e->policy().Allocation(rng, x, expected);  // exact for two arms
  ASSERT_GT(expected[1], 0.5);
  ASSERT_LT(expected[1], 1.0);
  std::vector<int> count(2, 0);
  constexpr int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i) {
    auto c = e->Route(std::nullopt, std::nullopt, std::span<const double>(x), rng);
    ASSERT_TRUE(c.ok());
    EXPECT_DOUBLE_EQ(c->propensity, expected[c->arm]);
    ++count[c->arm];
  }
  // Binomial standard error at n = 20000 is at most 0.0036; 5 SE.
  EXPECT_NEAR(static_cast<double>(count[1]) / kDraws, expected[1], 0.018);
  // The reported weights are the mean per-request allocation.
  e->Tick(rng, 1);
  EXPECT_NEAR(e->weights()[1], expected[1], 1e-12);
}

TEST(ExperimentContextTest, RoutesByContextAndUnitsAreSticky) {
  auto e = Make(Contextual("lin_thompson"));
  Teach(*e, 20);
  Rng rng(2);
  const std::vector<double> x = {1.0, 1.0};
  for (int u = 0; u < 50; ++u) {
    const std::string unit = "user-" + std::to_string(u);
    auto first = e->Route(unit, std::nullopt, std::span<const double>(x), rng);
    ASSERT_TRUE(first.ok());
    for (int again = 0; again < 5; ++again) {
      auto c = e->Route(unit, std::nullopt, std::span<const double>(x), rng);
      ASSERT_TRUE(c.ok());
      EXPECT_EQ(c->arm, first->arm);
    }
  }
  // LinUCB after the same lessons: the context decides the arm.
  auto ucb = Make(Contextual("linucb"));
  Teach(*ucb, 200);
  const std::vector<double> x0 = {1.0, 0.0};
  auto c1 = ucb->Route(std::nullopt, std::nullopt, std::span<const double>(x), rng);
  auto c0 = ucb->Route(std::nullopt, std::nullopt, std::span<const double>(x0), rng);
  ASSERT_TRUE(c1.ok() && c0.ok());
  EXPECT_EQ(c1->arm, 1u);
  EXPECT_EQ(c0->arm, 0u);
  EXPECT_EQ(c1->propensity, 1.0);
}

TEST(ExperimentContextTest, PausedExperimentServesTheChampionButStillChecksTheContext) {
  auto e = Make(Contextual("linucb"));
  Teach(*e, 200);
  ASSERT_TRUE(e->Pause().ok());
  Rng rng(3);
  const std::vector<double> x = {1.0, 1.0};
  auto c = e->Route(std::nullopt, std::nullopt, std::span<const double>(x), rng);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->arm, 0u);
  EXPECT_EQ(c->propensity, 1.0);
  const std::vector<double> wrong = {1.0};
  EXPECT_EQ(
      e->Route(std::nullopt, std::nullopt, std::span<const double>(wrong), rng).status().code(),
      Code::kBadContext);
  // A forced route may carry no context; one it carries must be valid.
  EXPECT_TRUE(e->Route(std::nullopt, std::string_view("challenger"), rng).ok());
  EXPECT_EQ(
      e->Route(std::nullopt, std::string_view("challenger"), std::span<const double>(wrong), rng)
          .status()
          .code(),
      Code::kBadContext);
}

TEST(ExperimentContextTest, ARewardWithoutContextCountsButDoesNotTeach) {
  auto e = Make(Contextual("linucb"));
  const std::string before = e->policy().Snapshot();
  DecisionRef ref;
  ref.tag = e->tag();
  ref.arm = 1;
  ASSERT_TRUE(e->ApplyReward(ref, 1.0).ok());
  EXPECT_EQ(e->policy().Snapshot(), before);
  EXPECT_EQ(e->counters()[1].n, 1.0);
  EXPECT_EQ(e->rewards_without_context(), 1u);
}

TEST(ExperimentContextTest, ANewEpochClearsTheStore) {
  auto e = Make(Contextual("linucb"));
  e->contexts().Put(1, 100, std::vector<double>{1.0, 0.0});
  ASSERT_EQ(e->contexts().entries(), 1u);
  e->NewEpoch("model reloaded");
  EXPECT_EQ(e->contexts().entries(), 0u);
}

TEST(ExperimentContextTest, TooSmallAStoreIsRefused) {
  ExperimentOptions o = Contextual("linucb");
  o.context_store_max_bytes = 1000;
  EXPECT_EQ(Experiment::Create(o).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace banditd::experiment
