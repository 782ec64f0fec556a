// The demo click-through models' ground truth (torch-free, so tests and the
// simulator can use it). docs/models.md explains the figures.
//
// Each arm is a logistic model over 8 features: p(click | x) = sigmoid(w.x + b).
// Users' features are x ~ N(0, I_8). Then w.x ~ N(0, |w|^2) and the arm's
// average click-through rate is E[sigmoid(b + |w| Z)], Z ~ N(0, 1), which
// AverageCtr integrates numerically. The biases were solved so that the
// champion's CTR is 5.00% and the challenger's 5.50% (a +10% relative lift).
#pragma once

#include <array>
#include <cmath>

namespace banditd::model::demo {

inline constexpr int kFeatures = 8;

struct LogisticArm {
  const char* name;
  std::array<float, kFeatures> weights;
  float bias;
};

inline constexpr LogisticArm kChampion{
    "champion", {0.60f, -0.45f, 0.35f, 0.30f, -0.25f, 0.20f, 0.15f, -0.10f}, -3.334996f};
inline constexpr LogisticArm kChallenger{
    "challenger", {0.55f, -0.40f, 0.40f, 0.25f, -0.30f, 0.25f, 0.10f, -0.15f}, -3.212592f};

inline double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// p(click | x) for one user, in double precision.
inline double ClickProbability(const LogisticArm& arm, const float* x) {
  double z = arm.bias;
  for (int i = 0; i < kFeatures; ++i) z += static_cast<double>(arm.weights[i]) * x[i];
  return Sigmoid(z);
}

// E[sigmoid(b + s Z)], Z ~ N(0,1), s = |w|: composite Simpson's rule on
// [-12, 12] with 24,000 panels (truncation and rule error far below 1e-9).
inline double AverageCtr(const LogisticArm& arm) {
  double s2 = 0;
  for (float w : arm.weights) s2 += static_cast<double>(w) * w;
  const double s = std::sqrt(s2), lo = -12.0, hi = 12.0;
  const int n = 24000;
  const double h = (hi - lo) / n;
  auto f = [&](double z) {
    return std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI) * Sigmoid(arm.bias + s * z);
  };
  double sum = f(lo) + f(hi);
  for (int i = 1; i < n; ++i) sum += f(lo + i * h) * ((i % 2) ? 4.0 : 2.0);
  return sum * h / 3.0;
}

}  // namespace banditd::model::demo
