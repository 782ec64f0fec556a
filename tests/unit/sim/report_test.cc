#include "sim/report.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/unit/sim/sim_testing.h"

namespace banditd::sim {
namespace {

TEST(ReportTest, MeanWithStudentTInterval) {
  const std::vector<double> xs{1, 2, 3, 4, 5};
  MeanCi m = MeanWithCi(xs);
  EXPECT_DOUBLE_EQ(m.mean, 3.0);
  // se = sqrt(2.5 / 5) = 0.70711; t(0.975, 4 df) = 2.77645.
  EXPECT_NEAR(m.lo, 3.0 - 2.77645 * 0.70711, 1e-4);
  EXPECT_NEAR(m.hi, 3.0 + 2.77645 * 0.70711, 1e-4);
  const std::vector<double> one{7};
  EXPECT_EQ(MeanWithCi(one).lo, 7.0);
}

TEST(ReportTest, LaiRobbinsSlope) {
  EXPECT_DOUBLE_EQ(BernoulliKl(0.3, 0.3), 0.0);
  // KL(0.4, 0.5) = 0.4 ln 0.8 + 0.6 ln 1.2 = 0.0201355.
  EXPECT_NEAR(BernoulliKl(0.4, 0.5), 0.0201355, 1e-6);
  const std::vector<double> means{0.5, 0.4, 0.4};
  EXPECT_NEAR(LaiRobbinsSlope(means), 2 * 0.1 / 0.0201355, 1e-3);
  const std::vector<double> equal{0.5, 0.5};
  EXPECT_EQ(LaiRobbinsSlope(equal), 0.0);
}

TEST(ReportTest, SlopeOverTheLastDecadeOnly) {
  std::vector<uint64_t> t;
  std::vector<double> y;
  for (uint64_t x : {1, 10, 100, 1000, 2000, 5000, 10000}) {
    t.push_back(x);
    // Slope 3 in the last decade; wild before it.
    y.push_back(x >= 1000 ? 3.0 * std::log(static_cast<double>(x)) + 2.0 : 1e6);
  }
  EXPECT_NEAR(SlopeOverLastDecade(t, y), 3.0, 1e-9);
}

TEST(ReportTest, SlopeIntervalComesFromTheRunsOwnSlopes) {
  // Three hand-made runs whose regret grows like a * ln t over the last decade
  // (slopes 40, 50, 66): the mean curve's slope is their mean, and its 95% CI
  // is the Student t interval of the three.
  ScenarioResult result;
  result.scenario = testing::MustParse(
      "name: slopes\narms: [{name: a, mean: 0.4}, {name: b, mean: 0.5}]\n"
      "horizon: 10000\nruns: 3\npolicies: [{name: thompson}]\n");
  result.checkpoints = {10, 100, 1000, 2000, 5000, 10000};
  ContenderResult c;
  c.label = "ts";
  for (double a : {40.0, 50.0, 66.0}) {
    RepResult r;
    for (uint64_t t : result.checkpoints) {
      r.regret_at.push_back(a * std::log(static_cast<double>(t)) + (t < 1000 ? 1e4 * a : 7.0));
      r.best_share_at.push_back(1.0);
    }
    r.regret = r.regret_at.back();
    c.reps.push_back(r);
  }
  result.contenders.push_back(c);
  const auto rows = Summarize(result);
  ASSERT_EQ(rows.size(), 1u);
  const std::vector<double> slopes{40.0, 50.0, 66.0};
  const MeanCi want = MeanWithCi(slopes);
  EXPECT_NEAR(rows[0].measured_slope, 52.0, 1e-9);
  EXPECT_NEAR(rows[0].slope_lo, want.lo, 1e-9);
  EXPECT_NEAR(rows[0].slope_hi, want.hi, 1e-9);
  EXPECT_LT(rows[0].slope_lo, 52.0);
  const double lr = LaiRobbinsSlope(std::vector<double>{0.4, 0.5});
  EXPECT_NEAR(rows[0].slope_ratio, 52.0 / lr, 1e-9);
  EXPECT_NEAR(rows[0].ratio_lo, want.lo / lr, 1e-9);
  EXPECT_NEAR(rows[0].ratio_hi, want.hi / lr, 1e-9);
  EXPECT_NE(FormatTable(rows).find("ratio 95% CI"), std::string::npos);
}

std::vector<std::vector<std::string>> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    rows.push_back(cells);
  }
  return rows;
}

TEST(ReportTest, DecisionColumnsCountEachOutcome) {
  // Four hand-made replications of one contender with a stopping rule: the
  // challenger (the unique best arm) named at step 100, the champion named at
  // step 300, no winner at step 500, and no decision.
  ScenarioResult result;
  result.scenario = testing::MustParse(
      "name: outcomes\narms: [{name: champion, mean: 0.3}, {name: challenger, mean: 0.5}]\n"
      "horizon: 1000\nruns: 4\npolicies: [{name: thompson}]\n");
  result.checkpoints = {1000};
  ContenderResult c;
  c.label = "ts";
  c.stopping = "bayes";
  auto rep = [](bool decided, uint64_t step, int64_t winner, bool wrong, uint64_t worse) {
    RepResult r;
    r.decided = decided;
    r.decision_step = step;
    r.winner = winner;
    r.wrong = wrong;
    r.worse_pulls_to_decision = worse;
    r.regret_at = {0.0};
    r.best_share_at = {1.0};
    return r;
  };
  c.reps = {rep(true, 100, 1, false, 40), rep(true, 300, 0, true, 200),
            rep(true, 500, -1, false, 250), rep(false, 0, -1, false, 510)};
  result.contenders.push_back(c);
  const auto rows = Summarize(result);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_DOUBLE_EQ(rows[0].decided_share, 0.75);
  EXPECT_DOUBLE_EQ(rows[0].error_rate, 0.25);
  EXPECT_DOUBLE_EQ(rows[0].correct_rate, 0.25);
  EXPECT_DOUBLE_EQ(rows[0].time_to_decision, 300.0);
  EXPECT_DOUBLE_EQ(rows[0].time_to_correct, 100.0);
  EXPECT_DOUBLE_EQ(rows[0].worse_to_decision, 250.0);
}

TEST(ReportTest, WritesWellFormedFilesAndPlots) {
  Scenario s = testing::MustParse(
      "name: rep\narms: [{name: champion, mean: 0.3}, {name: challenger, mean: 0.5}]\n"
      "horizon: 2000\nruns: 6\nreport: {checkpoints_per_decade: 5}\n"
      "policies: [{name: thompson, label: ts}, {name: thompson, label: ts_prior, "
      "params: {prior_alpha: 3}}]\n");
  auto res = RunScenario(s, RunOptions{2, false, ""}, Factories::Default());
  ASSERT_TRUE(res.ok());
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("banditd_sim_report_" + std::to_string(getpid())))
          .string();
  std::filesystem::remove_all(dir);
  auto written = WriteReport({*res}, dir, true);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->size(), 4u);

  auto summary = ReadCsv(dir + "/summary.csv");
  ASSERT_EQ(summary.size(), 3u);  // header + 2 policies
  const auto& header = summary[0];
  EXPECT_EQ(header[0], "scenario");
  for (const auto& row : summary) ASSERT_EQ(row.size(), header.size());
  auto col = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  EXPECT_EQ(summary[1][col("policy")], "ts");
  EXPECT_EQ(summary[1][col("runs")], "6");
  const double lo = std::stod(summary[1][col("regret_ci95_lo")]);
  const double mean = std::stod(summary[1][col("regret_mean")]);
  const double hi = std::stod(summary[1][col("regret_ci95_hi")]);
  EXPECT_LE(lo, mean);
  EXPECT_LE(mean, hi);
  EXPECT_NEAR(std::stod(summary[1][col("lai_robbins_slope")]), 0.2 / BernoulliKl(0.3, 0.5), 1e-4);
  EXPECT_FALSE(summary[1][col("measured_slope")].empty());
  EXPECT_LE(std::stod(summary[1][col("slope_ratio_ci95_lo")]),
            std::stod(summary[1][col("slope_ratio")]));
  EXPECT_GE(std::stod(summary[1][col("slope_ratio_ci95_hi")]),
            std::stod(summary[1][col("slope_ratio")]));
  EXPECT_EQ(summary[1][col("decision")], "");  // no stopping rule
  EXPECT_EQ(summary[1][col("correct_rate")], "");

  auto curves = ReadCsv(dir + "/curves.csv");
  const size_t points = Checkpoints(2000, 5).size();
  ASSERT_EQ(curves.size(), 1 + 2 * points);
  for (const auto& row : curves) ASSERT_EQ(row.size(), curves[0].size());
  EXPECT_EQ(curves.back()[3], "2000");

  for (const char* png : {"/regret.png", "/allocation.png"}) {
    std::ifstream in(dir + png, std::ios::binary);
    char magic[8] = {};
    in.read(magic, 8);
    EXPECT_EQ(std::string(magic + 1, 3), "PNG") << png;
  }
  const std::string table = FormatTable(Summarize(*res));
  EXPECT_NE(table.find("ts_prior"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace banditd::sim
