#include "banditd/status.h"

#include <gtest/gtest.h>

namespace banditd {
namespace {

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s(Code::kInvalidValue, "reward is NaN");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidValue);
  EXPECT_EQ(s.ToString(), "invalid_value: reward is NaN");
  EXPECT_EQ(s.WithContext("rewards[3]").message(), "rewards[3]: reward is NaN");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

TEST(StatusTest, WireCodeSpellingsAreStable) {
  EXPECT_EQ(CodeName(Code::kBadRequest), "bad_request");
  EXPECT_EQ(CodeName(Code::kUnknownOp), "unknown_op");
  EXPECT_EQ(CodeName(Code::kUnknownExperiment), "unknown_experiment");
  EXPECT_EQ(CodeName(Code::kUnknownDecision), "unknown_decision");
  EXPECT_EQ(CodeName(Code::kExpiredDecision), "expired_decision");
  EXPECT_EQ(CodeName(Code::kDuplicateReward), "duplicate_reward");
  EXPECT_EQ(CodeName(Code::kInvalidValue), "invalid_value");
  EXPECT_EQ(CodeName(Code::kInvalidInput), "invalid_input");
  EXPECT_EQ(CodeName(Code::kBadContext), "bad_context");
  EXPECT_EQ(CodeName(Code::kModelError), "model_error");
  EXPECT_EQ(CodeName(Code::kOverloaded), "overloaded");
  EXPECT_EQ(CodeName(Code::kUnauthorized), "unauthorized");
  EXPECT_EQ(CodeName(Code::kInternal), "internal");
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> good(7);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  EXPECT_TRUE(good.status().ok());
  Result<int> bad(Status(Code::kNotFound, "nope"));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace banditd
