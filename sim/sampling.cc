#include "sim/sampling.h"

#include <algorithm>
#include <cmath>

namespace banditd::sim {
namespace {

// Below this n * min(p, 1 - p) inversion is cheap and q^n cannot underflow
// (q^n >= exp(-2 n p) >= exp(-40) for p <= 1/2).
constexpr double kInversionMax = 20.0;

// Inversion: walk the probabilities P(X = 0), P(X = 1), ... REQUIRES p <= 1/2.
uint64_t BinomialInversion(Rng& rng, uint64_t n, double p) {
  if (n == 0 || p <= 0.0) return 0;
  const double q = 1.0 - p;
  const double s = p / q;
  const double a = static_cast<double>(n + 1) * s;
  double r = std::pow(q, static_cast<double>(n));
  double u = rng.Uniform();
  uint64_t x = 0;
  while (u > r) {
    u -= r;
    ++x;
    if (x > n) return n;  // rounding left u past the total: the last value
    r *= a / static_cast<double>(x) - s;
  }
  return x;
}

}  // namespace

uint64_t Binomial(Rng& rng, uint64_t n, double p) {
  if (p <= 0.0 || n == 0) return 0;
  if (p >= 1.0) return n;
  uint64_t k = 0;
  // Recursion on the order statistic nearest the middle, until the rest is small.
  while (static_cast<double>(n) * std::min(p, 1.0 - p) >= kInversionMax) {
    const uint64_t i = n / 2 + 1;  // 1 <= i <= n
    const double x = rng.Beta(static_cast<double>(i), static_cast<double>(n + 1 - i));
    if (p < x) {
      // The i-th smallest lies above p: the successes are among the i - 1
      // below it, which are uniform on [0, x).
      n = i - 1;
      p = p / x;
    } else {
      // The i smallest are all below p; the n - i above x are uniform on (x, 1].
      k += i;
      n -= i;
      p = (p - x) / (1.0 - x);
    }
    if (n == 0) return k;
  }
  if (p <= 0.5) return k + BinomialInversion(rng, n, p);
  return k + n - BinomialInversion(rng, n, 1.0 - p);
}

void Multinomial(Rng& rng, uint64_t n, std::span<const double> weights, std::span<uint64_t> out) {
  double rest = 0.0;
  size_t last = 0;  // the last arm of positive weight takes what is left
  for (size_t i = 0; i < weights.size(); ++i) {
    rest += weights[i];
    if (weights[i] > 0.0) last = i;
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    if (i == last || n == 0) {
      out[i] = n;
      for (size_t j = i + 1; j < weights.size(); ++j) out[j] = 0;
      return;
    }
    const double p = weights[i] > 0.0 ? std::min(1.0, weights[i] / rest) : 0.0;
    out[i] = Binomial(rng, n, p);
    n -= out[i];
    rest -= weights[i];
  }
}

}  // namespace banditd::sim
