// banditctl's status table: the context store line appears for contextual
// experiments only, with the daemon's figures.
#include "src/ctl/render.h"

#include <cmath>

#include <gtest/gtest.h>

namespace banditd::ctl {
namespace {

wire::ExperimentReport Report() {
  wire::ExperimentReport r;
  r.name = "ctx";
  r.mode = "bandit";
  r.policy = "linucb";
  wire::ArmReport a;
  a.name = "a";
  a.n = 10;
  r.arms.push_back(a);
  return r;
}

TEST(RenderTest, ContextStoreLineOnlyForContextualExperiments) {
  RenderOptions options;
  options.ascii = true;
  wire::ExperimentReport plain = Report();
  EXPECT_EQ(StatusTable(plain, options).find("contexts"), std::string::npos);

  wire::ExperimentReport ctx = Report();
  ctx.context_store = wire::ContextStoreReport{1234, 3 * 1048576, 64 * 1048576, 7, 2};
  const std::string table = StatusTable(ctx, options);
  EXPECT_NE(table.find("contexts 1234 kept, 3.0 of 64.0 MiB, 7 evicted, 2 rewards without context"),
            std::string::npos)
      << table;
}

TEST(RenderTest, TheRuleLineShowsTheDecidingRulesOwnFigures) {
  RenderOptions options;
  options.ascii = true;
  wire::ExperimentReport r = Report();
  r.reason = "planned horizon not reached: 100 of 200 units per arm";
  wire::TestReport t;
  t.method = "sequential";
  t.rule_p_value = 0.0123;
  t.p_kind = "always-valid p (sequential, mSPRT)";
  t.looks = 42;
  t.compared_arm = "b";
  t.difference = 0.004;
  t.ci = {-0.001, NAN};  // unbounded above
  t.lift = -0.435;
  r.test = t;
  const std::string table = StatusTable(r, options);
  EXPECT_NE(table.find("reason: planned horizon not reached: 100 of 200"), std::string::npos)
      << table;
  EXPECT_NE(table.find("rule sequential  always-valid p (sequential, mSPRT) 0.0123  looks 42  "
                       "b - champion +0.004 [-0.001, +inf]  lift -43.50%"),
            std::string::npos)
      << table;
  EXPECT_EQ(table.find("fixed"), std::string::npos) << table;  // no second statistic
  r.test->method = "bernoulli_cs";
  r.test->difference_kind = "rate ratio - 1";
  r.test->difference = 0.12;
  r.test->ci = {0.01, 0.25};
  EXPECT_NE(StatusTable(r, options).find("b / champion rate ratio - 1 +0.12 [+0.01, +0.25]"),
            std::string::npos)
      << StatusTable(r, options);
  r.test.reset();
  EXPECT_NE(StatusTable(r, options).find("rule none (an operator decides)"), std::string::npos);
}

TEST(RenderTest, TheSrmLineShowsAnActiveAlarmAndHowToAcknowledgeIt) {
  RenderOptions options;
  options.ascii = true;
  wire::ExperimentReport r = Report();
  EXPECT_NE(StatusTable(r, options).find("srm -"), std::string::npos);
  wire::SrmReport s;
  s.p_value = 2.5e-10;
  s.periods = 3;
  s.requests = 1000;
  s.alarm = true;
  s.alarm_p = 2.5e-10;
  s.threshold = 0.001;
  r.srm = s;
  const std::string table = StatusTable(r, options);
  EXPECT_NE(table.find("srm p 2.5e-10  (3 periods, 1000 requests drawn)  ALARM (p 2.5e-10 < "
                       "0.001): decisions held until `banditctl ack-srm ctx`"),
            std::string::npos)
      << table;
}

}  // namespace
}  // namespace banditd::ctl
