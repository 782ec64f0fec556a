#include "src/telemetry/fd_limit.h"

#include <sys/resource.h>

#include <gtest/gtest.h>

namespace banditd::telemetry {
namespace {

class FdLimitTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0); }
  void TearDown() override { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  void SetSoft(rlim_t soft) {
    rlimit rl = saved_;
    rl.rlim_cur = soft;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
  }
  rlimit saved_{};
};

TEST_F(FdLimitTest, RaisesTheSoftLimitToTheHardLimit) {
  if (saved_.rlim_max == RLIM_INFINITY || saved_.rlim_max <= 256) {
    GTEST_SKIP() << "needs a finite hard limit above 256";
  }
  SetSoft(256);
  const FdLimits l = RaiseFdLimit();
  EXPECT_TRUE(l.error.empty()) << l.error;
  EXPECT_EQ(l.soft_before, 256u);
  EXPECT_EQ(l.soft, saved_.rlim_max);
  EXPECT_EQ(l.hard, saved_.rlim_max);
  rlimit now{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, saved_.rlim_max);
}

TEST_F(FdLimitTest, HttpCapIsAtMostAQuarterOfTheSoftLimit) {
  SetSoft(100);
  EXPECT_EQ(HttpConnectionCap(64), 25u);
  EXPECT_EQ(HttpConnectionCap(10), 10u);
  SetSoft(4);
  EXPECT_EQ(HttpConnectionCap(64), 1u);
}

}  // namespace
}  // namespace banditd::telemetry
