// Every routine against the committed scipy / statsmodels / mpmath reference
// tables (tests/stats/make_reference.py), at the acceptance tolerance:
// relative error <= 1e-9 wherever the reference is >= 1e-300.
#include <gtest/gtest.h>

#include "src/stats/bayes.h"
#include "src/stats/hypothesis.h"
#include "src/stats/planning.h"
#include "src/stats/sequential.h"
#include "tests/unit/stats/fixture.h"

namespace banditd::stats {
namespace {

using testing::Close;
using testing::LoadFixture;
using testing::Row;

Alternative Alt(double code) {
  return code == 1   ? Alternative::kGreater
         : code == 2 ? Alternative::kLess
                     : Alternative::kTwoSided;
}

// Each table must hold at least 50 cases (the acceptance floor).
std::vector<Row> Load(const std::string& name) {
  auto rows = LoadFixture(name);
  EXPECT_GE(rows.size(), 50u) << name;
  return rows;
}

Proportion PropC(const Row& r) { return {r.at("x_c"), r.at("n_c")}; }
Proportion PropT(const Row& r) { return {r.at("x_t"), r.at("n_t")}; }
Moments MomC(const Row& r) { return {r.at("m_c"), r.at("v_c"), r.at("n_c")}; }
Moments MomT(const Row& r) { return {r.at("m_t"), r.at("v_t"), r.at("n_t")}; }

TEST(ReferenceTest, TwoProportionZTestMatchesStatsmodels) {
  for (const auto& r : Load("ztest")) {
    const TestResult t = TwoProportionZTest(PropC(r), PropT(r), Alt(r.at("alt")));
    EXPECT_TRUE(Close(t.statistic, r.at("z"))) << r.at("x_c") << "/" << r.at("n_c");
    EXPECT_TRUE(Close(t.p_value, r.at("p")))
        << r.at("x_c") << "/" << r.at("n_c") << " alt " << r.at("alt");
  }
}

TEST(ReferenceTest, FisherExactTestMatchesScipy) {
  for (const auto& r : Load("fisher")) {
    const TestResult t = FisherExactTest(PropC(r), PropT(r), Alt(r.at("alt")));
    EXPECT_EQ(t.statistic, r.at("x_t"));
    EXPECT_TRUE(Close(t.p_value, r.at("p")))
        << r.at("x_t") << "/" << r.at("n_t") << " vs " << r.at("x_c") << "/" << r.at("n_c")
        << " alt " << r.at("alt") << ": " << t.p_value << " vs " << r.at("p");
  }
}

TEST(ReferenceTest, WilsonIntervalWithoutUnitsIsEverything) {
  const Interval i = WilsonInterval({0, 0}, 0.95);
  EXPECT_EQ(i.lo, 0.0);
  EXPECT_EQ(i.hi, 1.0);
}

TEST(ReferenceTest, WelchTTestMatchesScipy) {
  for (const auto& r : Load("welch")) {
    const TestResult t = WelchTTest(MomC(r), MomT(r), Alt(r.at("alt")));
    EXPECT_TRUE(Close(t.statistic, r.at("t")));
    EXPECT_TRUE(Close(t.df, r.at("df")));
    EXPECT_TRUE(Close(t.p_value, r.at("p"))) << "n " << r.at("n_c") << " " << r.at("n_t") << " t "
                                             << r.at("t") << " alt " << r.at("alt");
  }
}

TEST(ReferenceTest, WelchIntervalMatchesScipyQuantiles) {
  for (const auto& r : Load("welch_ci")) {
    const Interval ci = WelchDiffInterval(MomC(r), MomT(r), r.at("conf"));
    EXPECT_TRUE(Close(ci.lo, r.at("lo")));
    EXPECT_TRUE(Close(ci.hi, r.at("hi")));
  }
}

TEST(ReferenceTest, WilsonIntervalMatchesStatsmodels) {
  for (const auto& r : Load("wilson")) {
    const Interval ci = WilsonInterval({r.at("x"), r.at("n")}, r.at("conf"));
    EXPECT_TRUE(Close(ci.lo, r.at("lo"))) << r.at("x") << "/" << r.at("n");
    EXPECT_TRUE(Close(ci.hi, r.at("hi"))) << r.at("x") << "/" << r.at("n");
  }
}

TEST(ReferenceTest, NewcombeIntervalMatchesStatsmodels) {
  for (const auto& r : Load("newcombe")) {
    const Interval ci = NewcombeDiffInterval(PropC(r), PropT(r), r.at("conf"));
    EXPECT_TRUE(Close(ci.lo, r.at("lo"))) << r.at("x_c") << "/" << r.at("n_c");
    EXPECT_TRUE(Close(ci.hi, r.at("hi"))) << r.at("x_c") << "/" << r.at("n_c");
  }
}

TEST(ReferenceTest, LiftIntervalsMatch) {
  for (const auto& r : Load("lift_proportions")) {
    const Interval ci = LiftIntervalProportions(PropC(r), PropT(r), r.at("conf"));
    EXPECT_TRUE(Close(ci.lo, r.at("lo"))) << r.at("x_c") << "/" << r.at("n_c");
    EXPECT_TRUE(Close(ci.hi, r.at("hi"))) << r.at("x_c") << "/" << r.at("n_c");
  }
  for (const auto& r : Load("lift_means")) {
    const Interval ci = LiftIntervalMeans(MomC(r), MomT(r), r.at("conf"));
    EXPECT_TRUE(Close(ci.lo, r.at("lo")));
    EXPECT_TRUE(Close(ci.hi, r.at("hi")));
  }
}

TEST(ReferenceTest, SrmMatchesScipyChisquare) {
  for (const auto& r : Load("srm")) {
    const size_t k = static_cast<size_t>(r.at("k"));
    std::vector<double> o, w;
    for (size_t i = 0; i < k; ++i) {
      o.push_back(r.at("o" + std::to_string(i)));
      w.push_back(r.at("w" + std::to_string(i)));
    }
    const TestResult t = SrmChiSquare(o, w);
    EXPECT_TRUE(Close(t.statistic, r.at("chi2")));
    EXPECT_TRUE(Close(t.p_value, r.at("p"))) << "chi2 " << r.at("chi2");
    EXPECT_EQ(t.df, static_cast<double>(k - 1));
  }
  for (const auto& r : Load("srm_periods")) {
    std::vector<double> o, w;
    for (int i = 0; i < 6; ++i) {
      o.push_back(r.at("o" + std::to_string(i)));
      w.push_back(r.at("w" + std::to_string(i)));
    }
    const TestResult t = SrmChiSquarePerPeriod(o, w, 2);
    EXPECT_EQ(t.df, 3.0);  // periods x (arms - 1)
    EXPECT_TRUE(Close(t.statistic, r.at("chi2")));
    EXPECT_TRUE(Close(t.p_value, r.at("p")));
  }
}

TEST(ReferenceTest, PlanningMatchesStatsmodels) {
  for (const auto& r : Load("plan_proportions")) {
    PlanInputs in{r.at("alpha"), r.at("ratio"), Alt(r.at("alt"))};
    EXPECT_TRUE(Close(SampleSizeProportions(r.at("base_or_sd"), r.at("mde"), r.at("power"), in),
                      r.at("n")));
    EXPECT_TRUE(Close(PowerProportions(r.at("base_or_sd"), r.at("mde"), r.at("n_test"), in),
                      r.at("power_at_n_test")));
  }
  for (const auto& r : Load("plan_means")) {
    PlanInputs in{r.at("alpha"), r.at("ratio"), Alt(r.at("alt"))};
    EXPECT_TRUE(
        Close(SampleSizeMeans(r.at("base_or_sd"), r.at("mde"), r.at("power"), in), r.at("n")));
    EXPECT_TRUE(Close(PowerMeans(r.at("base_or_sd"), r.at("mde"), r.at("n_test"), in),
                      r.at("power_at_n_test")));
  }
}

TEST(ReferenceTest, MsprtMatchesTheFormula) {
  for (const auto& r : Load("msprt")) {
    const MsprtLook look = MsprtAt(r.at("d"), r.at("v"), r.at("tau2"), r.at("alpha"));
    EXPECT_TRUE(Close(look.p_value, r.at("p")));
    EXPECT_TRUE(Close(look.ci.lo, r.at("lo")));
    EXPECT_TRUE(Close(look.ci.hi, r.at("hi")));
  }
}

TEST(ReferenceTest, AsymptoticConfidenceSequenceMatchesTheFormula) {
  for (const auto& r : Load("asymptotic_cs")) {
    EXPECT_TRUE(Close(AsymptoticCsRadius(r.at("t"), r.at("var"), r.at("alpha"), r.at("tune_n")),
                      r.at("radius")));
    EXPECT_TRUE(Close(
        AsymptoticCsPValue(r.at("t"), r.at("mean"), r.at("var"), r.at("alpha"), r.at("tune_n")),
        r.at("p")));
  }
}

TEST(ReferenceTest, BetaProbabilityAndLossMatchExactSums) {
  for (const auto& r : Load("prob_better_beta")) {
    const BetaPosterior c{r.at("a_c"), r.at("b_c")}, t{r.at("a_t"), r.at("b_t")};
    EXPECT_TRUE(Close(ProbBetterBeta(c, t), r.at("p_t_better")))
        << c.alpha << "," << c.beta << " vs " << t.alpha << "," << t.beta;
    EXPECT_TRUE(Close(ExpectedLossBeta(c, t), r.at("loss_choose_t")))
        << c.alpha << "," << c.beta << " vs " << t.alpha << "," << t.beta;
    EXPECT_TRUE(Close(ExpectedLossBeta(t, c), r.at("loss_choose_c")))
        << c.alpha << "," << c.beta << " vs " << t.alpha << "," << t.beta;
  }
}

TEST(ReferenceTest, NormalProbabilityAndLossMatchScipy) {
  for (const auto& r : Load("prob_better_normal")) {
    const NormalPosterior c{r.at("m_c"), r.at("s_c")}, t{r.at("m_t"), r.at("s_t")};
    EXPECT_TRUE(Close(ProbBetterNormal(c, t), r.at("p_t_better")));
    EXPECT_TRUE(Close(ExpectedLossNormal(c, t), r.at("loss_choose_t")));
  }
}

}  // namespace
}  // namespace banditd::stats
