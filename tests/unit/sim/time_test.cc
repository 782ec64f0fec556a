// Simulated time: durations, the clock, weekly cycles, novelty effects,
// lognormal revenue and the stopping rule's clock.
#include <cmath>

#include <gtest/gtest.h>

#include "sim/environment.h"
#include "sim/report.h"
#include "sim/sim_time.h"
#include "tests/unit/sim/sim_testing.h"

namespace banditd::sim {
namespace {

using testing::MustParse;

std::string ParseError(const std::string& yaml) {
  auto s = ParseScenario(yaml, "t.yaml");
  return s.ok() ? std::string("(parsed)") : s.status().message();
}

TEST(SimTimeTest, Durations) {
  EXPECT_EQ(ParseDuration("30s"), 30.0);
  EXPECT_EQ(ParseDuration("15m"), 900.0);
  EXPECT_EQ(ParseDuration("2h"), 7200.0);
  EXPECT_EQ(ParseDuration("7d"), 604800.0);
  EXPECT_EQ(ParseDuration("1w"), 604800.0);
  EXPECT_EQ(ParseDuration("1.5d"), 129600.0);
  EXPECT_EQ(ParseDuration("45"), 45.0);
  for (const char* bad : {"", "d", "-1d", "7x", "7 d", "1e400s"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

TEST(SimTimeTest, FlatTrafficStepTIsAtTOverR) {
  TrafficSpec tr{10.0, 1.0, 1.0, 0};
  EXPECT_DOUBLE_EQ(SecondsAtStep(tr, 1), 0.1);
  EXPECT_DOUBLE_EQ(SecondsAtStep(tr, 864000), 86400.0);
  EXPECT_EQ(StepsAtSeconds(tr, 14 * kSecondsPerDay), 12096000u);
}

TEST(SimTimeTest, WeeklyArrivalCycle) {
  // One request/s on weekdays, half as many at weekends, starting on a Monday.
  TrafficSpec tr{1.0, 1.0, 0.5, 0};
  const uint64_t weekdays = 5 * 86400;
  EXPECT_DOUBLE_EQ(SecondsAtStep(tr, weekdays), 5 * kSecondsPerDay);
  // Saturday's 43,200 requests take the whole day.
  EXPECT_DOUBLE_EQ(SecondsAtStep(tr, weekdays + 43200), 6 * kSecondsPerDay);
  const uint64_t week = weekdays + 86400;
  EXPECT_DOUBLE_EQ(SecondsAtStep(tr, week + 10), kSecondsPerWeek + 10);
  EXPECT_NEAR(WeekendShare(tr), 1.0 / 6.0, 1e-15);
  for (uint64_t t : {1ull, 1000ull, 500000ull, 1234567ull}) {
    EXPECT_EQ(StepsAtSeconds(tr, SecondsAtStep(tr, t)), t) << t;
  }
  EXPECT_FALSE(IsWeekend(tr, 4.9 * kSecondsPerDay));
  EXPECT_TRUE(IsWeekend(tr, 5.1 * kSecondsPerDay));
  EXPECT_TRUE(IsWeekend(tr, 6.9 * kSecondsPerDay));
  EXPECT_FALSE(IsWeekend(tr, 7.1 * kSecondsPerDay));
  tr.start_day = 5;  // a Saturday
  EXPECT_TRUE(IsWeekend(tr, 0.0));
  EXPECT_FALSE(IsWeekend(tr, 2.1 * kSecondsPerDay));
}

constexpr const char* kTimed =
    "name: t\narms: [{name: champion, mean: 0.05}, {name: challenger, mean: 0.06}]\n"
    "champion: champion\ntraffic: {requests_per_second: 10}\n"
    "environment:\n  novelty: {arm: challenger, to: 0.0475, half_life: 1d}\n"
    "  weekly: [{arm: champion, weekday: 1.0, weekend: 1.2}]\n"
    "horizon: 14d\nruns: 1\n"
    "policies:\n  - name: static\n    stopping: {name: sequential, params: {alpha: 0.05, "
    "min_duration: 7d}}\n";

TEST(SimTimeTest, ParsesTrafficNoveltyWeeklyAndDurations) {
  Scenario s = MustParse(kTimed);
  ASSERT_TRUE(s.timed());
  EXPECT_EQ(s.traffic.requests_per_second, 10.0);
  EXPECT_EQ(s.horizon, 12096000u);
  ASSERT_EQ(s.novelty.size(), 1u);
  EXPECT_EQ(s.novelty[0].arm, 1u);
  EXPECT_EQ(s.novelty[0].from, 0.06);  // the arm's rate by default
  EXPECT_EQ(s.novelty[0].half_life, 86400.0);
  ASSERT_EQ(s.weekly.size(), 1u);
  EXPECT_EQ(s.weekly[0].weekend, 1.2);
  auto md = s.contenders[0].stopping->params.GetDouble("min_duration", -1);
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(*md, 604800.0);
  EXPECT_FALSE(s.stationary_bernoulli());
}

TEST(SimTimeTest, RefusesTimeEffectsWithoutAClockAndImpossibleRates) {
  const std::string arms =
      "name: t\narms: [{name: a, mean: 0.5}, {name: b, mean: 0.9}]\nhorizon: 10\nruns: 1\n";
  EXPECT_NE(ParseError(arms + "environment: {novelty: {arm: b, to: 0.1, half_life: 2d}}\n"
                              "policies: [{name: static}]\n")
                .find("needs a 'traffic' section"),
            std::string::npos);
  EXPECT_NE(ParseError(arms + "policies:\n  - name: static\n    stopping: {name: sequential, "
                              "params: {min_duration: 7d}}\n")
                .find("'min_duration' needs simulated time"),
            std::string::npos);
  EXPECT_NE(ParseError(arms + "traffic: {requests_per_second: 1}\n"
                              "environment: {weekly: {arm: b, weekend: 1.5}}\n"
                              "policies: [{name: static}]\n")
                .find("above 1"),
            std::string::npos);
  EXPECT_NE(ParseError(arms + "traffic: {requests_per_second: 1}\n"
                              "environment: {novelty: {arm: b, to: 0.1, half_life: soon}}\n"
                              "policies: [{name: static}]\n")
                .find("'half_life' must be a duration"),
            std::string::npos);
  EXPECT_NE(ParseError(arms + "traffic: {requests_per_second: 1, start: someday}\n"
                              "policies: [{name: static}]\n")
                .find("'start' must be a day"),
            std::string::npos);
  EXPECT_NE(ParseError(arms + "engine: batched\nenvironment: {drift: [{arm: a, at: 5, mean: 1}]}\n"
                              "policies: [{name: static}]\n")
                .find("batched engine supports no drift"),
            std::string::npos);
  EXPECT_NE(ParseError(arms + "engine: batched\npolicies: [{name: discounted_thompson}]\n")
                .find("depends on the order"),
            std::string::npos);
}

TEST(SimTimeTest, NoveltyDecaysAndWeekendsScale) {
  Scenario s = MustParse(kTimed);
  Environment env(s, 0);
  EXPECT_DOUBLE_EQ(env.mean(1), 0.06);  // time 0
  // One half-life (864,000 requests at 10/s): halfway from 0.06 to 0.0475.
  env.SetTime(864000);
  EXPECT_NEAR(env.seconds(), 86400.0, 1e-6);
  EXPECT_NEAR(env.mean(1), 0.0475 + 0.0125 / 2, 1e-12);
  EXPECT_EQ(env.best_arm(), 1u);
  EXPECT_DOUBLE_EQ(env.mean(0), 0.05);  // a Tuesday
  // Saturday noon (5.5 days): the champion's weekend multiplier.
  env.SetTime(static_cast<uint64_t>(5.5 * 864000));
  EXPECT_NEAR(env.mean(0), 0.06, 1e-12);
  EXPECT_NEAR(env.mean(1), 0.0475 + 0.0125 * std::exp2(-5.5), 1e-12);
  // Per step too, drawing the step's noise.
  Environment stepped(s, 0);
  stepped.BeginStep(864000);
  EXPECT_NEAR(stepped.mean(1), 0.0475 + 0.0125 / 2, 1e-12);
  // Long run: challenger at 0.0475; champion at 0.05 x (5 + 2 x 1.2) / 7.
  EXPECT_NEAR(env.long_run_mean(1), 0.0475, 1e-15);
  EXPECT_NEAR(env.long_run_mean(0), 0.05 * 7.4 / 7.0, 1e-15);
  EXPECT_EQ(env.long_run_best_arm(), 0u);
  EXPECT_TRUE(env.long_run_best_unique());
}

TEST(SimTimeTest, LognormalArmsAndTheirMeans) {
  Scenario z = MustParse(
      "name: z\nreward: zero_inflated_lognormal\n"
      "arms: [{name: a, p: 0.2, mu: 1.0, sigma: 0.5}, {name: b, p: 0.1, mu: 2.0, sigma: 1.0}]\n"
      "horizon: 10\nruns: 1\npolicies: [{name: thompson_gaussian}]\n");
  ASSERT_EQ(z.arms.size(), 2u);
  EXPECT_NEAR(z.arms[0].mean, 0.2 * std::exp(1.0 + 0.125), 1e-12);
  EXPECT_NEAR(z.arms[1].mean, 0.1 * std::exp(2.5), 1e-12);
  Scenario b = MustParse(
      "name: b\nreward: bernoulli_lognormal\n"
      "arms: [{name: a, conversion: 0.03, value_mean: 40, value_sd: 60}]\n"
      "horizon: 10\nruns: 1\npolicies: [{name: static}]\n");
  EXPECT_NEAR(b.arms[0].mean, 0.03 * 40, 1e-9);
  EXPECT_NEAR(b.arms[0].sigma, std::sqrt(std::log(1 + 2.25)), 1e-12);
  EXPECT_NE(DescribeArms(z).find("a 0.616"), std::string::npos) << DescribeArms(z);
  // Per-step rewards: zero with probability 1 - p, else lognormal; the sample
  // mean within 5 standard errors of p exp(mu + sigma^2/2).
  Environment env(z, 3);
  const int n = 400000;
  double sum = 0, sum2 = 0, zeros = 0;
  for (int t = 1; t <= n; ++t) {
    env.BeginStep(t);
    const double r = env.Reward(1);
    sum += r;
    sum2 += r * r;
    zeros += r == 0.0;
  }
  const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
  EXPECT_NEAR(mean, z.arms[1].mean, 5 * sd / std::sqrt(n));
  EXPECT_NEAR(zeros / n, 0.9, 5 * std::sqrt(0.09 / n));
  // A policy for [0, 1] rewards is refused for revenue.
  Scenario bad = MustParse(
      "name: b\nreward: bernoulli_lognormal\n"
      "arms: [{name: a, conversion: 0.03, value_mean: 40, value_sd: 60}]\n"
      "horizon: 10\nruns: 1\npolicies: [{name: thompson}]\n");
  EXPECT_FALSE(ValidateContenders(bad, Factories::Default()).ok());
}

// Records the clock it is given before each look.
class ClockRule final : public StoppingRule {
 public:
  explicit ClockRule(std::shared_ptr<std::vector<double>> seen) : seen_(std::move(seen)) {}
  std::string_view name() const override { return "clock"; }
  void Observe(size_t, double, double) override { ++n_; }
  void SetElapsed(double seconds) override { elapsed_ = seconds; }
  StopDecision Check() override {
    seen_->push_back(elapsed_);
    StopDecision d;
    // Stop at the first look after two simulated hours, for the challenger.
    d.stop = elapsed_ >= 7200.0;
    if (d.stop) d.winner = 1;
    return d;
  }
  std::string Snapshot() const override { return {}; }
  Status Restore(std::string_view) override { return Status::Ok(); }

 private:
  std::shared_ptr<std::vector<double>> seen_;
  double elapsed_ = -1;
  uint64_t n_ = 0;
};

TEST(SimTimeTest, TheRuleGetsTheSimulatedClockInBothEngines) {
  for (const char* engine : {"per_step", "batched"}) {
    Scenario s = MustParse(std::string(kTimed) + "decision: {check_every: 5000}\nengine: " +
                           engine + "\n");
    s.horizon = 200000;
    auto seen = std::make_shared<std::vector<double>>();
    Factories f = Factories::Default();
    f.stopping = [seen](const StoppingSpec&) -> Result<std::unique_ptr<StoppingRule>> {
      return std::unique_ptr<StoppingRule>(std::make_unique<ClockRule>(seen));
    };
    auto r = RunReplication(s, 0, 0, f, Checkpoints(s.horizon, 10));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    // Look k is at step 5000 k, i.e. 500 k seconds at 10 requests/s.
    ASSERT_EQ(seen->size(), 15u) << engine;
    for (size_t k = 0; k < seen->size(); ++k) {
      EXPECT_NEAR((*seen)[k], 500.0 * static_cast<double>(k + 1), 1e-6) << engine;
    }
    EXPECT_TRUE(r->decided);
    EXPECT_EQ(r->decision_step, 75000u);
    EXPECT_NEAR(r->decision_seconds, 7500.0, 1e-6);
    // The challenger fades below the champion: promoting it is wrong.
    EXPECT_TRUE(r->wrong) << engine;
  }
}

}  // namespace
}  // namespace banditd::sim
