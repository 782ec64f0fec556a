#include "policies/beta_math.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace banditd::policies {
namespace {

TEST(BetaMathTest, HandComputedCases) {
  EXPECT_NEAR(ProbBetaGreater(1, 1, 1, 1), 0.5, 1e-14);
  // X2 ~ Beta(2,1) has density 2x: P(X2 > X1) = integral of 2x * x = 2/3.
  EXPECT_NEAR(ProbBetaGreater(1, 1, 2, 1), 2.0 / 3.0, 1e-14);
  EXPECT_NEAR(ProbBetaGreater(2, 1, 1, 1), 1.0 / 3.0, 1e-14);
  // Identical posteriors are a coin flip whatever the counts.
  EXPECT_NEAR(ProbBetaGreater(37, 81, 37, 81), 0.5, 1e-12);
}

TEST(BetaMathTest, ComplementsSumToOne) {
  const double cases[][4] = {{3, 7, 5, 4}, {120, 880, 135, 865}, {0.5, 0.5, 2.5, 7.5}};
  for (const auto& c : cases) {
    EXPECT_NEAR(ProbBetaGreater(c[0], c[1], c[2], c[3]) + ProbBetaGreater(c[2], c[3], c[0], c[1]),
                1.0, 1e-10);
  }
}

// The quadrature path (non-integer parameters) and the closed form agree.
TEST(BetaMathTest, QuadratureAgreesWithClosedForm) {
  const double cases[][4] = {{3, 7, 5, 4}, {51, 951, 61, 941}, {1, 1, 9, 2}};
  for (const auto& c : cases) {
    const double exact = ProbBetaGreater(c[0], c[1], c[2], c[3]);
    const double eps = 1e-9;
    const double quad = ProbBetaGreater(c[0] + eps, c[1] + eps, c[2] + eps, c[3] + eps);
    EXPECT_NEAR(quad, exact, 1e-7);
  }
}

// Large counts: the posteriors are near normal there, so the normal
// approximation is a close check (within 1e-3) of both the long closed-form
// sum (integer counts) and the quadrature (non-integer).
TEST(BetaMathTest, LargeCountsMatchNormalApproximation) {
  const double a1 = 50'001, b1 = 950'001, a2 = 51'001, b2 = 949'001;
  EXPECT_NEAR(ProbBetaGreater(a1 + 0.5, b1 + 0.5, a2 + 0.5, b2 + 0.5),
              ProbBetaGreater(a1, b1, a2, b2), 1e-4);
  const double m1 = a1 / (a1 + b1), m2 = a2 / (a2 + b2);
  const double v1 = m1 * (1 - m1) / (a1 + b1 + 1), v2 = m2 * (1 - m2) / (a2 + b2 + 1);
  const double z = (m2 - m1) / std::sqrt(v1 + v2);
  const double normal = 0.5 * std::erfc(-z / std::sqrt(2.0));
  EXPECT_NEAR(ProbBetaGreater(a1, b1, a2, b2), normal, 1e-3);
}

TEST(BetaMathTest, MonteCarloMatchesClosedFormWithinItsBound) {
  const std::vector<double> alpha = {11, 14}, beta = {31, 29};
  std::vector<double> out(2);
  Rng rng(3);
  constexpr size_t kDraws = 200000;
  MonteCarloProbBest(alpha, beta, kDraws, rng, out);
  const double exact = ProbBetaGreater(11, 31, 14, 29);
  EXPECT_NEAR(out[1], exact, 4 * 0.5 / std::sqrt(static_cast<double>(kDraws)));
  EXPECT_NEAR(out[0] + out[1], 1.0, 1e-12);
}

}  // namespace
}  // namespace banditd::policies
