// LinUCB and the ridge regression state it shares with lin_thompson.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "contextual_testing.h"
#include "policies/ridge.h"

namespace banditd {
namespace {

using policies::RidgeArm;
using testing::MustMakeContextual;

// A and b built directly, for comparison with the incremental state.
struct DirectRidge {
  Eigen::MatrixXd a;
  Eigen::VectorXd b;
  DirectRidge(size_t d, double lambda)
      : a(Eigen::MatrixXd::Identity(d, d) * lambda), b(Eigen::VectorXd::Zero(d)) {}
  void Add(const std::vector<double>& x, double r) {
    Eigen::Map<const Eigen::VectorXd> v(x.data(), static_cast<Eigen::Index>(x.size()));
    a += v * v.transpose();
    b += r * v;
  }
};

TEST(RidgeTest, EstimatesMatchADirectSolveOnASmallExample) {
  RidgeArm arm(3, 0.5, true);
  DirectRidge direct(3, 0.5);
  const std::vector<std::vector<double>> xs = {
      {1, 0, 2}, {1, 1, -1}, {0, 1, 0.5}, {1, 0.25, 0}, {2, -1, 1}};
  const std::vector<double> rs = {1.0, 0.0, 2.5, -1.0, 0.75};
  for (size_t i = 0; i < xs.size(); ++i) {
    arm.Update(xs[i], rs[i]);
    direct.Add(xs[i], rs[i]);
  }
  const Eigen::VectorXd theta = direct.a.fullPivLu().solve(direct.b);
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(arm.theta()(j), theta(j), 1e-12) << j;
  const std::vector<double> q = {1.0, -2.0, 0.5};
  Eigen::Map<const Eigen::VectorXd> qv(q.data(), 3);
  EXPECT_NEAR(arm.Predict(q), theta.dot(qv), 1e-12);
  EXPECT_NEAR(arm.Variance(q), qv.dot(direct.a.fullPivLu().solve(qv)), 1e-12);
  EXPECT_EQ(arm.n(), 5.0);
  EXPECT_DOUBLE_EQ(arm.reward_sum(), 3.25);
}

// After 1,000 rank-one updates the Sherman–Morrison A^-1 is the inverse of A
// and the updated Cholesky factor reproduces A (both to 1e-9, entrywise).
TEST(RidgeTest, IncrementalInverseAndCholeskyStayExactOver1000Updates) {
  const size_t d = 8;
  RidgeArm arm(d, 1.0, true);
  DirectRidge direct(d, 1.0);
  Rng rng(3);
  for (int t = 0; t < 1000; ++t) {
    std::vector<double> x(d);
    for (double& v : x) v = rng.Normal();
    const double r = rng.Normal();
    arm.Update(x, r);
    direct.Add(x, r);
  }
  const Eigen::MatrixXd inv = direct.a.inverse();
  EXPECT_LT((arm.a_inv() - inv).cwiseAbs().maxCoeff(), 1e-9);
  const Eigen::MatrixXd l = arm.chol().triangularView<Eigen::Lower>();
  EXPECT_LT((l * l.transpose() - direct.a).cwiseAbs().maxCoeff(), 1e-9 * direct.a.norm());
  const Eigen::VectorXd theta = direct.a.ldlt().solve(direct.b);
  EXPECT_LT((arm.theta() - theta).cwiseAbs().maxCoeff(), 1e-9);
}

TEST(LinUcbTest, ContextDimZeroAndBadParamsAreRefused) {
  auto zero = MakePolicy(PolicySpec{"linucb", 2, 0, {}, {}});
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().code(), Code::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("context_dim"), std::string::npos)
      << zero.status().ToString();
  for (const char* bad : {"alpha", "lambda"}) {
    Params p;
    p.Set(bad, -1.0);
    auto r = MakePolicy(PolicySpec{"linucb", 2, 3, p, {}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().ToString();
  }
  Params zero_lambda;
  zero_lambda.Set("lambda", 0.0);
  EXPECT_FALSE(MakePolicy(PolicySpec{"linucb", 2, 3, zero_lambda, {}}).ok());
  Params unknown;
  unknown.Set("v", 1.0);
  EXPECT_FALSE(MakePolicy(PolicySpec{"linucb", 2, 3, unknown, {}}).ok());
  Params ok;
  ok.Set("alpha", 0.0);
  EXPECT_TRUE(MakePolicy(PolicySpec{"linucb", 2, 3, ok, {}}).ok());
}

// The index by hand: theta^T x + alpha sqrt(x^T A^-1 x), argmax, ties lowest.
TEST(LinUcbTest, ChoosesTheLargestIndexAndReportsItAsTheAllocation) {
  Params params;
  params.Set("alpha", 2.0);
  auto p = MustMakeContextual("linucb", 2, 2, params);
  ASSERT_NE(p, nullptr);
  Rng rng(1);
  const std::vector<double> x = {1.0, 0.0};
  // Fresh: both indices are 2 * sqrt(1) = 2: the tie goes to arm 0.
  EXPECT_EQ(p->Choose(rng, x), 0u);
  // Arm 0 sees reward 0 at x: theta_0 = (0, 0), x^T A^-1 x = 1/2, index 2/sqrt 2 = 1.41
  // < arm 1's 2.
  p->Update(0, 0.0, x);
  EXPECT_EQ(p->Choose(rng, x), 1u);
  std::vector<double> alloc(2);
  p->Allocation(rng, x, alloc);
  EXPECT_EQ(alloc[0], 0.0);
  EXPECT_EQ(alloc[1], 1.0);
  // Arm 0 sees reward 4 at x: A_0 = diag(3, 1), theta_0^T x = 4/3, bonus 2/sqrt 3:
  // index 2.49 > 2.
  p->Update(0, 4.0, x);
  EXPECT_EQ(p->Choose(rng, x), 0u);
  p->Allocation(rng, x, alloc);
  EXPECT_EQ(alloc[0], 1.0);
  EXPECT_EQ(alloc[1], 0.0);
  std::vector<ArmEstimate> est(2);
  p->Estimates(est);
  EXPECT_EQ(est[0].n, 2.0);
  EXPECT_EQ(est[0].reward_sum, 4.0);
  EXPECT_EQ(est[0].mean, 2.0);
  EXPECT_EQ(est[1].n, 0.0);
  EXPECT_EQ(est[1].mean, 0.0);
  EXPECT_EQ(p->context_dim(), 2u);
  EXPECT_FALSE(p->reward_range().bounded());
}

TEST(LinUcbTest, LearnsTheArmThatIsBestInEachContext) {
  auto p = MustMakeContextual("linucb", 2, testing::FlipEnvironment::kDim);
  ASSERT_NE(p, nullptr);
  const double share = testing::CorrectShareAtEnd(*p, 5000, 1000, 21);
  EXPECT_GT(share, 0.9);
}

TEST(LinUcbTest, RestoreContinuesIdentically) {
  testing::ExpectContextualRestoreContinuesIdentically("linucb", {});
}

TEST(LinUcbTest, SnapshotRefusals) {
  testing::ExpectContextualSnapshotRefusals("linucb", "lin_thompson");
}

// Under a champion floor the limits wrapper projects the per-context allocation.
TEST(LinUcbTest, TrafficLimitsApplyPerContext) {
  auto made = MakePolicy(PolicySpec{"linucb", 2, 2, {}, TrafficLimits{0, 0.5, 1.0}});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto& p = **made;
  const std::vector<double> x = {1.0, 0.0};
  p.Update(0, 0.0, x);  // arm 1 now has the larger index at x
  Rng rng(4);
  std::vector<double> alloc(2);
  p.Allocation(rng, x, alloc);
  EXPECT_DOUBLE_EQ(alloc[0], 0.5);
  EXPECT_DOUBLE_EQ(alloc[1], 0.5);
  EXPECT_EQ(p.context_dim(), 2u);
}

}  // namespace
}  // namespace banditd
