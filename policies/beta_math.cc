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

bool IsSmallInteger(double x) { return x == std::floor(x) && x <= kMaxClosedFormTerms; }

// log Gamma(z + a) - log Gamma(z) for z > 0, a >= 0, with an absolute error
// of a few ulps of a * log(z + a). The plain lgamma difference is far worse
// when z is large (at z ~ 1e9 each lgamma is ~2e10 and their difference keeps
// only ~1e-6 absolute accuracy), and every such error lands in the relative
// error of the Miller sum. For z >= 1000 the difference is taken inside
// Stirling's series (Abramowitz & Stegun 6.1.41), where it has no
// cancellation:
//   (z - 1/2) log1p(a/z) + a log(z + a) - a + S(z + a) - S(z),
//   S(x) = 1/(12x) - 1/(360x^3) + 1/(1260x^5)  (truncation error < 1e-18 at x >= 1000).
// Below 1000 the extended-precision lgamma difference is accurate enough.
long double StirlingTail(long double x) {
  const long double x2 = x * x;
  return 1.0L / (12.0L * x) - 1.0L / (360.0L * x * x2) + 1.0L / (1260.0L * x * x2 * x2);
}

double LogGammaRatio(double z, double a) {
  if (a == 0) return 0.0;
  constexpr long double kSplit = 1000.0L;
  long double zl = z, al = a, head = 0.0L;
  if (zl < kSplit) {
    if (zl + al <= kSplit) return static_cast<double>(std::lgamma(zl + al) - std::lgamma(zl));
    head = std::lgamma(kSplit) - std::lgamma(zl);
    al -= kSplit - zl;
    zl = kSplit;
  }
  const long double tail = (zl - 0.5L) * std::log1p(al / zl) + al * std::log(zl + al) - al +
                           StirlingTail(zl + al) - StirlingTail(zl);
  return static_cast<double>(head + tail);
}

// Evan Miller's sum: P(Y2 > Y1) with Y1 ~ Beta(a1,b1), Y2 ~ Beta(a2,b2), a2 integer.
// Term i+1 = term i * (a1+i)/(a1+b1+b2+i) * (b2+i)/(1+i), so only term 0 needs
// gamma functions: B(a1, b1+b2) / (b2 B(1, b2) B(a1, b1)) = B(a1, b1+b2) / B(a1, b1)
// (since b2 B(1, b2) = 1) = Gamma(b1+b2) Gamma(a1+b1) / (Gamma(a1+b1+b2) Gamma(b1)).
// Terms are carried as scaled * exp(log_scale) so that neither a tiny first
// term nor a long run of large ones under/overflows.
double MillerSum(double a1, double b1, double a2, double b2) {
  constexpr double kBig = 1e200;
  const double log_big = std::log(kBig);
  double log_scale = LogGammaRatio(b1, a1) - LogGammaRatio(b1 + b2, a1);
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
  const double p = best->complement ? 1.0 - s : s;
  if (best->complement && p < 0.5) {
    // 1 - s loses relative accuracy as p gets small: redo it with the
    // cheapest direct (non-cancelling) sum if there is one.
    const Form* direct = nullptr;
    for (const auto& f : forms) {
      if (!f.complement && IsSmallInteger(f.terms) &&
          (direct == nullptr || f.terms < direct->terms)) {
        direct = &f;
      }
    }
    if (direct != nullptr) {
      return std::clamp(MillerSum(direct->p[0], direct->p[1], direct->p[2], direct->p[3]), 0.0,
                        1.0);
    }
  }
  return std::clamp(p, 0.0, 1.0);
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

size_t ChooseBeta(std::span<const double> alpha, std::span<const double> beta, Rng& rng) {
  size_t best = 0;
  double best_v = -1.0;
  for (size_t i = 0; i < alpha.size(); ++i) {
    const double v = rng.Beta(alpha[i], beta[i]);
    if (v > best_v) {
      best_v = v;
      best = i;
    }
  }
  return best;
}

void BetaProbBest(std::span<const double> alpha, std::span<const double> beta, size_t draws,
                  Rng& rng, std::span<double> out) {
  if (alpha.size() == 1) {
    out[0] = 1.0;
  } else if (alpha.size() == 2) {
    out[1] = ProbBetaGreater(alpha[0], beta[0], alpha[1], beta[1]);
    out[0] = 1.0 - out[1];
  } else {
    MonteCarloProbBest(alpha, beta, draws, rng, out);
  }
}

}  // namespace banditd::policies
