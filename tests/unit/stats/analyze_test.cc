// RunAnalyzeCommand: the report on good files (text and JSON, numbers equal
// to the library's), the SRM check, and clear errors on malformed input.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "src/stats/analyze.h"
#include "src/stats/bayes.h"
#include "src/stats/hypothesis.h"
#include "src/stats/sequential.h"

namespace banditd::stats {
namespace {

class AnalyzeTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = ::testing::TempDir() + "analyze_" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
                             std::to_string(files_++) + ".csv";
    std::ofstream(path) << text;
    return path;
  }
  int Run(const std::string& text, std::vector<double> weights = {}, bool json = false) {
    out_.str("");
    err_.str("");
    return RunAnalyzeCommand(Write(text), weights, json, out_, err_);
  }
  std::string Num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }
  // The number right after `key` in `s` (NaN when the key is missing).
  static double After(const std::string& s, const std::string& key) {
    const size_t at = s.find(key);
    return at == std::string::npos ? std::nan("")
                                   : std::strtod(s.c_str() + at + key.size(), nullptr);
  }
  std::ostringstream out_, err_;
  int files_ = 0;
};

TEST_F(AnalyzeTest, BernoulliTextReport) {
  ASSERT_EQ(Run("arm,n,sum,sum_sq\ncontrol,10000,500,500\nnew,10000,580,580\n"), 0) << err_.str();
  const std::string s = out_.str();
  EXPECT_TRUE(err_.str().empty());
  for (const char* needle : {"bernoulli metric", "control 'control'", "two-proportion z-test",
                             "Newcombe", "Katz", "mSPRT", "fixed_horizon", "naive_peeking",
                             "sequential", "bayes", "bandit_cs", "not checked (pass --weights"}) {
    EXPECT_NE(s.find(needle), std::string::npos) << needle << "\n" << s;
  }
  EXPECT_NE(s.find("0.0123202"), std::string::npos) << s;  // the z-test p, two-sided
}

TEST_F(AnalyzeTest, JsonNumbersAreTheLibrarys) {
  ASSERT_EQ(Run("arm,n,sum,sum_sq\nA,10000,500,500\nB,10000,580,580\n", {0.5, 0.5}, true), 0);
  const std::string s = out_.str();
  const double p = TwoProportionZTest({500, 10000}, {580, 10000}, Alternative::kTwoSided).p_value;
  EXPECT_NE(s.find("\"p_two_sided\": " + Num(p)), std::string::npos) << s;
  const Interval ci = NewcombeDiffInterval({500, 10000}, {580, 10000}, 0.95);
  EXPECT_NE(s.find("\"diff_ci95\": [" + Num(ci.lo) + ", " + Num(ci.hi) + "]"), std::string::npos);
  const double pb = ProbBetterBeta({501, 9501}, {581, 9421});
  EXPECT_NE(s.find("\"p_best\": " + Num(pb)), std::string::npos) << s;
  EXPECT_NE(s.find("\"srm\": {\"chi2\": 0, \"df\": 1, \"p_value\": 1"), std::string::npos) << s;
  EXPECT_NE(s.find("{\"rule\": \"naive_peeking\", \"stop\": true, \"winner\": \"B\""),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("{\"rule\": \"sequential\", \"stop\": false, \"winner\": null"),
            std::string::npos)
      << s;
  // Every rule was evaluated through its own object, at this single look.
  EXPECT_EQ(s.find("cannot evaluate"), std::string::npos) << s;
  const double v = 0.05 * 0.95 / 10000 + 0.058 * 0.942 / 10000;
  const MsprtLook look = MsprtAt(0.058 - 0.05, v, 0.005 * 0.005, 0.05);
  EXPECT_NEAR(After(s, "\"always_valid_p\": "), look.p_value, 1e-12);
  // The sequential rule itself uses the variance pooled under H0.
  const double v0 = 0.054 * 0.946 * (2.0 / 10000);
  const MsprtLook pooled = MsprtAt(0.058 - 0.05, v0, 0.005 * 0.005, 0.05);
  EXPECT_NEAR(
      After(s, "{\"rule\": \"sequential\", \"stop\": false, \"winner\": null, \"p_value\": "),
      pooled.p_value, 1e-12);
}

TEST_F(AnalyzeTest, GaussianUsesWelchAndColumnsMayComeInAnyOrder) {
  // Reward sums of squares differ from the sums: a real-valued metric.
  ASSERT_EQ(Run("sum,arm,sum_sq,n\n1000,a,3000,500\n1100,b,3500,500\n", {}, true), 0) << err_.str();
  const std::string s = out_.str();
  EXPECT_NE(s.find("\"metric\": \"gaussian\""), std::string::npos);
  const Moments a = MomentsFromSums(500, 1000, 3000), b = MomentsFromSums(500, 1100, 3500);
  const TestResult t = WelchTTest(a, b, Alternative::kTwoSided);
  EXPECT_NE(s.find("\"test\": \"Welch t-test\", \"statistic\": " + Num(t.statistic)),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("\"p_two_sided\": " + Num(t.p_value)), std::string::npos);
}

TEST_F(AnalyzeTest, SrmFlagsAMismatch) {
  ASSERT_EQ(Run("arm,n,sum,sum_sq\nA,50000,500,500\nB,52000,520,520\n", {0.5, 0.5}), 0);
  const TestResult srm = SrmChiSquare(std::vector<double>{50000, 52000}, std::vector<double>{1, 1});
  EXPECT_LT(srm.p_value, 0.001);
  EXPECT_NE(out_.str().find("MISMATCH"), std::string::npos) << out_.str();
  ASSERT_EQ(Run("arm,n,sum,sum_sq\nA,50000,500,500\nB,50100,510,510\n", {0.5, 0.5}), 0);
  EXPECT_EQ(out_.str().find("MISMATCH"), std::string::npos);
}

TEST_F(AnalyzeTest, ThreeArms) {
  ASSERT_EQ(Run("arm,n,sum,sum_sq\nA,20000,2000,2000\nB,20000,2100,2100\nC,20000,2400,2400\n"), 0);
  const std::string s = out_.str();
  EXPECT_NE(s.find("B vs A (control)"), std::string::npos);
  EXPECT_NE(s.find("C vs A (control)"), std::string::npos);
  EXPECT_NE(s.find("Monte Carlo"), std::string::npos);
}

TEST_F(AnalyzeTest, MalformedFilesGetClearErrors) {
  struct Case {
    std::string text;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"", "empty file"},
      {"arm,n,sum\nA,10,1\nB,10,2\n", "missing column 'sum_sq'"},
      {"arm,n,sum,sum_sq,extra\nA,10,1,1,0\n", "unknown column 'extra'"},
      {"arm,n,sum,sum_sq\nA,-5,1,1\nB,10,2,2\n", "n < 0"},
      {"arm,n,sum,sum_sq\nA,10,11,11\nB,10,2,2\n", "sum > n for a Bernoulli metric"},
      {"arm,n,sum,sum_sq\nA,10,nan,1\nB,10,2,2\n", "not a finite number"},
      {"arm,n,sum,sum_sq\nA,10,abc,1\nB,10,2,2\n", "not a number"},
      {"arm,n,sum,sum_sq\nA,10,1\nB,10,2,2\n", "expected 4 fields"},
      {"arm,n,sum,sum_sq\nA,10,1,1\n", "at least 2 arms"},
      {"arm,n,sum,sum_sq\nA,10,1,1\nA,10,2,2\n", "duplicate arm"},
      {"arm,n,sum,sum_sq\nA,10,5,1\nB,10,2,2\n", "impossible variance"},
      {"arm,n,sum,sum_sq\nA,10.5,1,1\nB,10,2,2\n", "not an integer"},
      {"arm,n,sum,sum_sq\nA,1,1,1\nB,10,2,2\n", "n >= 2"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Run(c.text), 2) << c.text;
    EXPECT_NE(err_.str().find(c.needle), std::string::npos) << c.needle << " | " << err_.str();
    EXPECT_TRUE(out_.str().empty());
  }
  // Errors name the line.
  Run("arm,n,sum,sum_sq\nA,10,1,1\nB,-1,2,2\n");
  EXPECT_NE(err_.str().find("line 3"), std::string::npos) << err_.str();
}

TEST_F(AnalyzeTest, BadWeightsAndMissingFile) {
  const std::string good = "arm,n,sum,sum_sq\nA,10,1,1\nB,10,2,2\n";
  EXPECT_EQ(Run(good, {0.5, 0.3, 0.2}), 2);
  EXPECT_NE(err_.str().find("--weights has 3 values"), std::string::npos);
  EXPECT_EQ(Run(good, {-1, 2}), 2);
  EXPECT_EQ(Run(good, {0, 0}), 2);
  err_.str("");
  EXPECT_EQ(RunAnalyzeCommand("/nonexistent/x.csv", {}, false, out_, err_), 2);
  EXPECT_NE(err_.str().find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace banditd::stats
