// UCB1 and KL-UCB: index formulas against hand-computed values, then the
// policies' round-robin start and highest-index choice.
#include <cmath>

#include <gtest/gtest.h>

#include "policies/index_math.h"
#include "tests/unit/policies/policy_testing.h"

namespace banditd {
namespace {

using policies::KlBernoulli;
using policies::KlUcbBound;
using policies::KlUcbBudget;
using policies::Ucb1Index;
using testing::MustMake;

void Feed(Policy& p, size_t arm, int n, int successes) {
  for (int i = 0; i < n; ++i) p.Update(arm, i < successes ? 1.0 : 0.0, {});
}

size_t Pick(const Policy& p) {
  Rng rng(0);
  return p.Choose(rng, {});
}

TEST(Ucb1Test, IndexIsMeanPlusSqrtTwoLogTOverN) {
  // 1/1 + sqrt(2 ln 3 / 1) and 1/2 + sqrt(2 ln 3 / 2), by hand.
  EXPECT_NEAR(Ucb1Index(1, 1, 3), 2.4823038073675114, 1e-14);
  EXPECT_NEAR(Ucb1Index(2, 1, 3), 1.548147073968205, 1e-14);
}

TEST(Ucb1Test, TriesEachArmOnceThenTheHighestIndex) {
  auto p = MustMake("ucb1", 3);
  EXPECT_EQ(Pick(*p), 0u);
  p->Update(0, 1.0, {});
  EXPECT_EQ(Pick(*p), 1u);
  p->Update(1, 1.0, {});
  EXPECT_EQ(Pick(*p), 2u);
  p->Update(2, 0.0, {});
  // t = 3: arms 0 and 1 tie at 1 + sqrt(2 ln 3) = 2.48: the lowest index wins.
  EXPECT_EQ(Pick(*p), 0u);
  p->Update(0, 0.0, {});
  // t = 4: arm 0: 1/2 + sqrt(2 ln 4 / 2) = 1.677; arm 1: 1 + sqrt(2 ln 4) = 2.665;
  // arm 2: 0 + 1.665.
  EXPECT_EQ(Pick(*p), 1u);
}

TEST(Ucb1Test, LessPlayedArmWinsOnItsBonus) {
  auto p = MustMake("ucb1", 2);
  Feed(*p, 0, 10, 6);  // mean 0.6: 0.6 + sqrt(2 ln 12 / 10) = 1.305
  Feed(*p, 1, 2, 1);   // mean 0.5: 0.5 + sqrt(2 ln 12 / 2) = 2.076
  EXPECT_EQ(Pick(*p), 1u);
  Rng rng(1);
  std::vector<double> a(2);
  p->Allocation(rng, {}, a);
  EXPECT_EQ(a[0], 0.0);
  EXPECT_EQ(a[1], 1.0);
  Feed(*p, 1, 40, 8);  // arm 1: 9/42 + sqrt(2 ln 52 / 42) = 0.648; arm 0: 0.6 + 0.889
  EXPECT_EQ(Pick(*p), 0u);
}

TEST(KlUcbTest, KlDivergence) {
  EXPECT_NEAR(KlBernoulli(0.5, 0.25), 0.5 * std::log(2.0) + 0.5 * std::log(0.5 / 0.75), 1e-15);
  EXPECT_EQ(KlBernoulli(0.3, 0.3), 0.0);
  EXPECT_NEAR(KlBernoulli(0.0, 0.5), std::log(2.0), 1e-15);
  EXPECT_TRUE(std::isinf(KlBernoulli(0.5, 1.0)));
}

// Reference values by bisection to machine precision (200 halvings).
TEST(KlUcbTest, BoundMatchesHandComputedRoots) {
  struct Case {
    double p, n, t, c, expected;
  };
  const Case cases[] = {
      {0.5, 10, 100, 0, 0.8879087616458613},    {0.2, 5, 20, 0, 0.7259266544009109},
      {0.9, 50, 1000, 3, 0.9968604223093133},   {0.0, 4, 10, 0, 0.437658674809651},
      {1.0 / 3.0, 3, 7, 0, 0.8414021543247366},
  };
  for (const auto& c : cases) {
    const double budget = KlUcbBudget(c.t, c.c);
    const double q = KlUcbBound(c.p, c.n, budget);
    EXPECT_NEAR(q, c.expected, 1e-10) << "p=" << c.p << " n=" << c.n;
    if (c.p > 0) {
      EXPECT_NEAR(c.n * KlBernoulli(c.p, q), budget, 1e-8);
    }
  }
  EXPECT_EQ(KlUcbBound(1.0, 5, 3.0), 1.0);
  EXPECT_EQ(KlUcbBound(0.4, 5, 0.0), 0.4);  // no budget: the mean itself
}

// The cheap bound the policy prunes with is never below the index, over a
// grid of means, counts and budgets (including means near 0 and 1).
TEST(KlUcbTest, CheapUpperBoundIsAnUpperBound) {
  for (double p : {1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999999}) {
    for (double n : {1.0, 3.0, 30.0, 1e3, 1e6}) {
      for (double t : {2.0, 10.0, 1e3, 1e7}) {
        const double budget = KlUcbBudget(t, 3.0);
        const double q = KlUcbBound(p, n, budget);
        EXPECT_GE(policies::KlUcbUpperBound(p, n, budget), q - 1e-15)
            << "p=" << p << " n=" << n << " t=" << t;
        EXPECT_GE(q, p);
        EXPECT_LE(q, 1.0);
      }
    }
  }
}

// Skipping arms by their bound leaves the pick equal to the arg-max of every
// arm's index (lowest index on ties), over 2,000 random states (seed 9).
TEST(KlUcbTest, PruningNeverChangesThePick) {
  Rng rng(9);
  for (int trial = 0; trial < 2000; ++trial) {
    const size_t k = 2 + rng.Below(9);
    auto p = MustMake("kl_ucb", k);
    std::vector<double> n(k), s(k);
    double t = 0;
    for (size_t i = 0; i < k; ++i) {
      n[i] = 1.0 + static_cast<double>(rng.Below(trial % 2 ? 30 : 3000));
      const double rate = 0.05 + 0.1 * rng.Uniform();
      for (int j = 0; j < n[i]; ++j) {
        const double r = rng.Bernoulli(rate) ? 1.0 : 0.0;
        s[i] += r;
        p->Update(i, r, {});
      }
      t += n[i];
    }
    size_t expected = 0;
    double best = -1;
    for (size_t i = 0; i < k; ++i) {
      const double v = KlUcbBound(s[i] / n[i], n[i], KlUcbBudget(t, 0.0));
      if (v > best) {
        best = v;
        expected = i;
      }
    }
    ASSERT_EQ(Pick(*p), expected) << "trial " << trial;
  }
}

TEST(KlUcbTest, BudgetIsLogTPlusCLogLogT) {
  EXPECT_DOUBLE_EQ(KlUcbBudget(100, 0), std::log(100.0));
  EXPECT_DOUBLE_EQ(KlUcbBudget(100, 3), std::log(100.0) + 3 * std::log(std::log(100.0)));
  EXPECT_DOUBLE_EQ(KlUcbBudget(2, 3), std::log(2.0));  // t < e: ln ln t taken as 0
  EXPECT_EQ(KlUcbBudget(1, 3), 0.0);
}

TEST(KlUcbTest, TriesEachArmOnceThenTheHighestIndex) {
  auto p = MustMake("kl_ucb", 3);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(Pick(*p), k);
    p->Update(k, k == 1 ? 1.0 : 0.0, {});
  }
  // Arm 1 has p̂ = 1: index 1; the others p̂ = 0: 1 - 3^(-1) = 0.667.
  EXPECT_EQ(Pick(*p), 1u);
}

TEST(KlUcbTest, ChoosesTheHighestHandComputedIndex) {
  auto p = MustMake("kl_ucb", 2);
  Feed(*p, 0, 50, 45);  // p̂ = 0.9, n = 50, t = 100
  Feed(*p, 1, 50, 40);  // p̂ = 0.8
  // By bisection: arm 0: 0.98180, arm 1: 0.93128.
  EXPECT_EQ(Pick(*p), 0u);
  auto q = MustMake("kl_ucb", 2);
  Feed(*q, 0, 90, 50);  // p̂ = 0.556, n = 90, t = 100
  Feed(*q, 1, 10, 5);   // p̂ = 0.5, n = 10: 0.8879 (table above) beats arm 0's 0.7069
  EXPECT_EQ(Pick(*q), 1u);
  EXPECT_EQ(p->reward_range().lo, 0.0);
  EXPECT_EQ(p->reward_range().hi, 1.0);
}

TEST(KlUcbTest, PlusBudgetIsLogTOverN) {
  // t = 100. Arm 0: 19 of 90; arm 1: 0 of 10. By bisection, budget ln t:
  // 0.35820 and 0.36904 (arm 1); budget ln(t/n): 0.23130 and 0.20567 (arm 0).
  EXPECT_NEAR(KlUcbBound(19.0 / 90, 90, std::log(100.0 / 90)), 0.23130, 1e-5);
  EXPECT_NEAR(KlUcbBound(0.0, 10, std::log(100.0 / 10)), 0.20567, 1e-5);
  auto plain = MustMake("kl_ucb", 2);
  auto plus = MustMake("kl_ucb", 2, Params{{"plus", true}});
  for (Policy* p : {plain.get(), plus.get()}) {
    Feed(*p, 0, 90, 19);
    Feed(*p, 1, 10, 0);
  }
  EXPECT_EQ(Pick(*plain), 1u);
  EXPECT_EQ(Pick(*plus), 0u);
  // Explicit `plus: false` is the plain policy.
  auto off = MustMake("kl_ucb", 2, Params{{"plus", false}});
  Feed(*off, 0, 90, 19);
  Feed(*off, 1, 10, 0);
  EXPECT_EQ(Pick(*off), 1u);
}

TEST(IndexPoliciesTest, ChoiceFrequenciesMatchTheIndicatorAllocation) {
  for (const char* name : {"ucb1", "kl_ucb"}) {
    auto p = MustMake(name, 3);
    Feed(*p, 0, 20, 5);
    Feed(*p, 1, 20, 10);
    Feed(*p, 2, 5, 1);
    Rng rng(3);
    testing::ExpectFrequenciesMatchAllocation(*p, rng, 100000);
  }
}

TEST(IndexPoliciesTest, SnapshotRestoreContinuesIdentically) {
  testing::ExpectRestoreContinuesIdentically("ucb1", 3, {}, {0.3, 0.5, 0.4});
  testing::ExpectRestoreContinuesIdentically("kl_ucb", 3, Params{{"c", 3.0}}, {0.3, 0.5, 0.4});
  testing::ExpectRestoreContinuesIdentically("kl_ucb", 3, Params{{"plus", true}}, {0.3, 0.5, 0.4});
}

TEST(IndexPoliciesTest, BadParametersAndSnapshotsAreRefused) {
  auto r = MakePolicy(PolicySpec{"kl_ucb", 2, 0, Params{{"c", -1.0}}, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("c must be in [0"), std::string::npos);
  r = MakePolicy(PolicySpec{"kl_ucb", 2, 0, Params{{"plus", 1.0}}, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("plus"), std::string::npos) << r.status().message();
  r = MakePolicy(PolicySpec{"ucb1", 2, 0, Params{{"c", 1.0}}, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'c'"), std::string::npos) << r.status().message();
  auto u = MustMake("ucb1", 2);
  Feed(*u, 0, 3, 1);
  const std::string before = u->Snapshot();
  EXPECT_FALSE(u->Restore(MustMake("kl_ucb", 2)->Snapshot()).ok());
  EXPECT_FALSE(u->Restore(MustMake("ucb1", 3)->Snapshot()).ok());
  EXPECT_EQ(u->Snapshot(), before);
}

}  // namespace
}  // namespace banditd
