#include "banditd/params.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace banditd {
namespace {

TEST(ParamsTest, TypedReadsWithDefaults) {
  Params p{{"a", 2.5},
           {"n", int64_t{3}},
           {"on", true},
           {"s", std::string("x")},
           {"v", std::vector<double>{1, 2}}};
  EXPECT_EQ(*p.GetDouble("a", 0), 2.5);
  EXPECT_EQ(*p.GetDouble("n", 0), 3.0);  // an integer where a number is asked
  EXPECT_EQ(*p.GetInt("n", 0), 3);
  EXPECT_TRUE(*p.GetBool("on", false));
  EXPECT_EQ(*p.GetString("s", ""), "x");
  EXPECT_EQ(p.GetDoubles("v", {})->size(), 2u);
  EXPECT_EQ(*p.GetDouble("missing", 9.0), 9.0);
}

TEST(ParamsTest, WrongTypesAreErrorsNamingTheKey) {
  Params p{{"a", std::string("zero")}, {"x", std::numeric_limits<double>::quiet_NaN()}, {"f", 1.5}};
  auto a = p.GetDouble("a", 0);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("'a'"), std::string::npos);
  EXPECT_FALSE(p.GetDouble("x", 0).ok());  // NaN is not a valid parameter
  EXPECT_FALSE(p.GetInt("f", 0).ok());     // 1.5 is not an integer
  EXPECT_FALSE(p.GetBool("a", false).ok());
}

TEST(ParamsTest, UnknownKeysAreRefused) {
  Params p{{"epsilon", 0.1}, {"epsilom", 0.2}};
  Status s = p.CheckKnown({"epsilon"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("epsilom"), std::string::npos);
  EXPECT_TRUE((Params{{"epsilon", 0.1}}.CheckKnown({"epsilon"}).ok()));
}

}  // namespace
}  // namespace banditd
