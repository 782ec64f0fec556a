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

using internal::ProbBetaGreaterSum;
using internal::SumMethod;

// Relative difference, for probabilities that may be tiny.
double RelDiff(double x, double ref) { return std::fabs(x - ref) / ref; }

// Arm 1 with n successes in 20n trials, arm 2 with `z` standard errors more
// (or fewer) successes in as many trials.
struct Case {
  double a1, b1, a2, b2;
};
Case Posteriors(double n, double z) {
  const double lead = std::round(z * std::sqrt(2 * n));
  return {1 + n, 1 + 19 * n, 1 + n + lead, 1 + 19 * n - lead};
}

// Around the crossover kMaxFullSumTerms, where ProbBetaGreater switches from
// the full sum to the windowed one, the two agree (and so nothing jumps),
// from the far tails to near 1.
TEST(BetaMathTest, WindowedSumAgreesWithFullSumAroundTheCrossover) {
  for (const double n : {kMaxFullSumTerms - 2, kMaxFullSumTerms - 1, kMaxFullSumTerms,
                         kMaxFullSumTerms + 1, 2 * kMaxFullSumTerms, 5000.0}) {
    for (const double z : {-12.0, -3.0, -0.5, 0.0, 0.7, 3.0, 8.0}) {
      const Case c = Posteriors(n, z);
      const double full = ProbBetaGreaterSum(c.a1, c.b1, c.a2, c.b2, SumMethod::kFull);
      const double windowed = ProbBetaGreaterSum(c.a1, c.b1, c.a2, c.b2, SumMethod::kWindowed);
      ASSERT_GT(full, 1e-300) << n << " " << z;
      EXPECT_LE(RelDiff(windowed, full), 1e-10) << n << " " << z;
      EXPECT_LE(RelDiff(ProbBetaGreater(c.a1, c.b1, c.a2, c.b2), full), 1e-10) << n << " " << z;
    }
  }
}

// Very unequal counts (a handful of successes against a million, and a
// thousand against a million): both paths, in both orders. With a
// non-integer small arm the only forms left are the long ones, so the
// windowed sum then walks a million-term series.
TEST(BetaMathTest, WindowedSumAgreesWithFullSumAtVeryUnequalCounts) {
  const Case cases[] = {{6, 96, 1'000'001, 19'000'001},
                        {6, 20, 1'000'001, 19'000'001},
                        {1'001, 19'001, 1'000'001, 19'000'001},
                        {1'001, 19'001, 50'001, 949'001},
                        {5.5, 95.5, 1'000'001, 19'000'001},
                        {1'000.5, 19'000.5, 1'000'001, 19'000'001}};
  for (const auto& c : cases) {
    for (const bool swap : {false, true}) {
      const Case d = swap ? Case{c.a2, c.b2, c.a1, c.b1} : c;
      const double full = ProbBetaGreaterSum(d.a1, d.b1, d.a2, d.b2, SumMethod::kFull);
      const double windowed = ProbBetaGreaterSum(d.a1, d.b1, d.a2, d.b2, SumMethod::kWindowed);
      EXPECT_LE(RelDiff(windowed, full), 1e-10) << d.a1 << "," << d.b1 << " vs " << d.a2;
      EXPECT_LE(RelDiff(ProbBetaGreater(d.a1, d.b1, d.a2, d.b2), full), 1e-10) << d.a1;
    }
  }
}

// Counts past the reference fixtures (which stop near 2e4 trials per arm):
// Miller's direct sum over every term in __float128 arithmetic (gamma
// functions by libquadmath's lgammaq), computed once offline.
TEST(BetaMathTest, LargeCountsMatchQuadPrecisionSums) {
  const double cases[][5] = {
      {100001, 1900001, 100448, 1899554, 0.84717730534438196},
      {100001, 1900001, 98001, 1902001, 2.0110110441274261e-06},
      {1000001, 19000001, 1001415, 18998587, 0.84743157845666583},
      {1000001, 19000001, 1010001, 18990001, 0.99999999999977174},
      {6, 96, 1000001, 19000001, 0.39300258158593715},
      {1001, 19001, 1000001, 19000001, 0.49224662456572904},
      {50001, 950001, 45001, 955001, 2.2864226286567542e-62},
  };
  for (const auto& c : cases) {
    EXPECT_LE(RelDiff(ProbBetaGreater(c[0], c[1], c[2], c[3]), c[4]), 1e-10)
        << c[0] << "," << c[1] << " vs " << c[2] << "," << c[3];
  }
}

// Where the posteriors are not extreme the quadrature (the non-integer path)
// agrees with the windowed sum to its own tolerance.
TEST(BetaMathTest, QuadratureAgreesWithWindowedSumAtLargeCounts) {
  for (const double n : {1e4, 1e5, 1e6}) {
    for (const double z : {-2.0, 0.0, 1.0, 3.0}) {
      const Case c = Posteriors(n, z);
      EXPECT_LE(RelDiff(internal::ProbBetaGreaterQuadrature(c.a1, c.b1, c.a2, c.b2),
                        ProbBetaGreaterSum(c.a1, c.b1, c.a2, c.b2, SumMethod::kWindowed)),
                1e-8)
          << n << " " << z;
    }
  }
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
