// banditctl's status table: the context store line appears for contextual
// experiments only, with the daemon's figures.
#include "src/ctl/render.h"

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

}  // namespace
}  // namespace banditd::ctl
