// Monte Carlo P(best) and expected loss against the two-arm closed forms and
// symmetry, plus the SRM edge cases. Tolerances: 5 Monte Carlo standard errors.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "src/stats/bayes.h"
#include "src/stats/hypothesis.h"

namespace banditd::stats {
namespace {

constexpr size_t kDraws = 200000;

TEST(BayesTest, MonteCarloBetaMatchesClosedFormsForTwoArms) {
  const std::vector<BetaPosterior> arms = {{120, 880}, {140, 860}};
  std::vector<double> p(2), loss(2);
  Rng rng(3);
  MonteCarloBeta(arms, kDraws, rng, p, loss);
  const double exact = ProbBetterBeta(arms[0], arms[1]);
  const double se = std::sqrt(exact * (1 - exact) / kDraws);
  EXPECT_NEAR(p[1], exact, 5 * se);
  EXPECT_DOUBLE_EQ(p[0] + p[1], 1.0);
  // Loss: E[max(x0 - x1, 0)], sd of the difference ~0.015, so se < 0.015 / sqrt(draws).
  const double loss_se = 0.015 / std::sqrt(static_cast<double>(kDraws));
  EXPECT_NEAR(loss[1], ExpectedLossBeta(arms[0], arms[1]), 5 * loss_se);
  EXPECT_NEAR(loss[0], ExpectedLossBeta(arms[1], arms[0]), 5 * loss_se);
}

TEST(BayesTest, MonteCarloNormalMatchesClosedFormsForTwoArms) {
  const std::vector<NormalPosterior> arms = {{1.0, 0.1}, {1.15, 0.08}};
  std::vector<double> p(2), loss(2);
  Rng rng(4);
  MonteCarloNormal(arms, kDraws, rng, p, loss);
  const double exact = ProbBetterNormal(arms[0], arms[1]);
  EXPECT_NEAR(p[1], exact, 5 * std::sqrt(exact * (1 - exact) / kDraws));
  const double loss_se = std::hypot(0.1, 0.08) / std::sqrt(static_cast<double>(kDraws));
  EXPECT_NEAR(loss[1], ExpectedLossNormal(arms[0], arms[1]), 5 * loss_se);
  EXPECT_NEAR(loss[0], ExpectedLossNormal(arms[1], arms[0]), 5 * loss_se);
}

TEST(BayesTest, IdenticalArmsShareTheProbabilityOfBeingBest) {
  const std::vector<BetaPosterior> arms(3, BetaPosterior{50, 450});
  std::vector<double> p(3), loss(3);
  Rng rng(5);
  MonteCarloBeta(arms, kDraws, rng, p, loss);
  const double se = std::sqrt(1.0 / 3 * 2.0 / 3 / kDraws);
  for (double v : p) EXPECT_NEAR(v, 1.0 / 3, 5 * se);
  EXPECT_NEAR(loss[0], loss[2], 0.1 * loss[0]);
}

TEST(BayesTest, ClosedFormsKnownValues) {
  // Uniform vs Beta(2,1): P(U > X) = 1/3; loss of choosing U = E[max(X - U, 0)] = 1/4.
  EXPECT_NEAR(ProbBetterBeta({2, 1}, {1, 1}), 1.0 / 3, 1e-15);
  EXPECT_NEAR(ExpectedLossBeta({2, 1}, {1, 1}), 0.25, 1e-15);
  // Equal normal posteriors: P = 1/2, loss = s / sqrt(2 pi) with s = sqrt(2) sd.
  EXPECT_DOUBLE_EQ(ProbBetterNormal({0, 1}, {0, 1}), 0.5);
  EXPECT_NEAR(ExpectedLossNormal({0, 1}, {0, 1}), std::sqrt(2.0) / std::sqrt(2 * M_PI), 1e-15);
}

TEST(SrmTest, PeriodsWithoutUnitsAddNoDegreesOfFreedom) {
  const std::vector<double> obs = {50, 50, 0, 0, 30, 70};
  const std::vector<double> w = {0.5, 0.5, 0.5, 0.5, 0.3, 0.7};
  const TestResult r = SrmChiSquarePerPeriod(obs, w, 2);
  EXPECT_EQ(r.df, 2.0);
  EXPECT_DOUBLE_EQ(r.statistic, 0.0);
  EXPECT_DOUBLE_EQ(r.p_value, 1.0);
}

TEST(SrmTest, UnitsOnAnArmWithZeroWeightAreAMismatch) {
  const TestResult r = SrmChiSquare(std::vector<double>{100, 3}, std::vector<double>{1, 0});
  EXPECT_TRUE(std::isinf(r.statistic));
  EXPECT_EQ(r.p_value, 0.0);
}

TEST(HypothesisTest, DegenerateInputsGiveNaNNotACrash) {
  EXPECT_TRUE(std::isnan(TwoProportionZTest({0, 10}, {0, 10}, Alternative::kTwoSided).p_value));
  EXPECT_TRUE(std::isnan(WelchTTest({1, 0, 5}, {1, 0, 5}, Alternative::kTwoSided).p_value));
  EXPECT_TRUE(std::isnan(LiftIntervalProportions({0, 10}, {3, 10}, 0.95).lo));
}

}  // namespace
}  // namespace banditd::stats
