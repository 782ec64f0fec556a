#include "policies/beta_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/quadrature/tanh_sinh.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>

namespace banditd::policies {
namespace {

double LogBeta(double a, double b) {
  return boost::math::lgamma(a) + boost::math::lgamma(b) - boost::math::lgamma(a + b);
}

bool IsSmallInteger(double x) { return x == std::floor(x) && x <= kMaxClosedFormTerms; }

// Evan Miller's sum: P(Y2 > Y1) with Y1 ~ Beta(a1,b1), Y2 ~ Beta(a2,b2), a2 integer.
// Term i+1 = term i * (a1+i)/(a1+b1+b2+i) * (b2+i)/(1+i), so only term 0 needs
// log-beta functions. Terms are carried as scaled * exp(log_scale) so that
// neither a tiny first term nor a long run of large ones under/overflows.
double MillerSum(double a1, double b1, double a2, double b2) {
  constexpr double kBig = 1e200;
  const double log_big = std::log(kBig);
  double log_scale = LogBeta(a1, b1 + b2) - std::log(b2) - LogBeta(1, b2) - LogBeta(a1, b1);
  double term = 1.0;
  double sum = 1.0;
  const auto n = static_cast<long>(a2);
  for (long i = 0; i + 1 < n; ++i) {
    const double di = static_cast<double>(i);
    term *= (a1 + di) / (a1 + b1 + b2 + di) * (b2 + di) / (1.0 + di);
    sum += term;
    if (sum > kBig) {
      sum /= kBig;
      term /= kBig;
      log_scale += log_big;
    } else if (sum < 1.0 / kBig) {
      sum *= kBig;
      term *= kBig;
      log_scale -= log_big;
    }
  }
  return std::exp(log_scale + std::log(sum));
}

double Quadrature(double a1, double b1, double a2, double b2) {
  boost::math::beta_distribution<double> x1(a1, b1);
  // Integrate over the central mass of X1; what lies outside is < 2e-15.
  const double lo = boost::math::quantile(x1, 1e-15);
  const double hi = boost::math::quantile(boost::math::complement(x1, 1e-15));
  auto f = [&](double x) { return boost::math::pdf(x1, x) * boost::math::ibetac(a2, b2, x); };
  // tanh-sinh copes with the endpoint singularities of shapes below 1.
  thread_local boost::math::quadrature::tanh_sinh<double> integrator;
  const double p = integrator.integrate(f, lo, hi, /*tolerance=*/1e-10);
  return std::clamp(p, 0.0, 1.0);
}

}  // namespace

double ProbBetaGreater(double a1, double b1, double a2, double b2) {
  // Candidates: direct sums over a2 or b1, complement sums over a1 or b2.
  // P(X2 > X1) = P(1-X1 > 1-X2), and 1-Xi ~ Beta(bi, ai).
  struct Form {
    double terms;
    bool complement;
    double p[4];
  };
  const Form forms[] = {
      {a2, false, {a1, b1, a2, b2}},  // sum over a2
      {b1, false, {b2, a2, b1, a1}},  // P(1-X1 > 1-X2): sum over b1
      {a1, true, {a2, b2, a1, b1}},   // 1 - P(X1 > X2): sum over a1
      {b2, true, {b1, a1, b2, a2}},   // 1 - P(1-X2 > 1-X1): sum over b2
  };
  const Form* best = nullptr;
  for (const auto& f : forms) {
    if (IsSmallInteger(f.terms) && (best == nullptr || f.terms < best->terms)) best = &f;
  }
  if (best == nullptr) return Quadrature(a1, b1, a2, b2);
  const double s = MillerSum(best->p[0], best->p[1], best->p[2], best->p[3]);
  return std::clamp(best->complement ? 1.0 - s : s, 0.0, 1.0);
}

void MonteCarloProbBest(std::span<const double> alpha, std::span<const double> beta, size_t draws,
                        Rng& rng, std::span<double> out) {
  std::fill(out.begin(), out.end(), 0.0);
  const size_t k = alpha.size();
  for (size_t d = 0; d < draws; ++d) {
    size_t best = 0;
    double best_v = -1.0;
    for (size_t i = 0; i < k; ++i) {
      const double v = rng.Beta(alpha[i], beta[i]);
      if (v > best_v) {
        best_v = v;
        best = i;
      }
    }
    out[best] += 1.0;
  }
  for (auto& o : out) o /= static_cast<double>(draws);
}

}  // namespace banditd::policies
