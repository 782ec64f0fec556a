#include "policies/beta_math.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/quadrature/tanh_sinh.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>

namespace banditd::policies {
namespace {

// log Gamma(z + a) - log Gamma(z) for z > 0, a >= 0, with an absolute error
// of a few ulps (of long double) of a * log(z + a). The plain lgamma
// difference is far worse when z is large (at z ~ 1e9 each lgamma is ~2e10
// and their difference keeps only ~1e-6 absolute accuracy), and every such
// error lands in the relative error of the Miller sum. For z >= 1000 the
// difference is taken inside Stirling's series (Abramowitz & Stegun 6.1.41),
// where it has no cancellation:
//   (z - 1/2) log1p(a/z) + a log(z + a) - a + S(z + a) - S(z),
//   S(x) = 1/(12x) - 1/(360x^3) + 1/(1260x^5)  (truncation error < 1e-18 at x >= 1000).
// Below 1000 the extended-precision lgamma difference is accurate enough.
// The result stays in long double: the windowed sum adds four of these, each
// up to ~1e8 at a = 1e7, and a double would keep only ~1e-8 of that.
long double StirlingTail(long double x) {
  const long double x2 = x * x;
  return 1.0L / (12.0L * x) - 1.0L / (360.0L * x * x2) + 1.0L / (1260.0L * x * x2 * x2);
}

long double LogGammaRatio(long double z, long double a) {
  if (a == 0) return 0.0L;
  constexpr long double kSplit = 1000.0L;
  long double head = 0.0L;
  if (z < kSplit) {
    if (z + a <= kSplit) return std::lgamma(z + a) - std::lgamma(z);
    head = std::lgamma(kSplit) - std::lgamma(z);
    a -= kSplit - z;
    z = kSplit;
  }
  return head + (z - 0.5L) * std::log1p(a / z) + a * std::log(z + a) - a + StirlingTail(z + a) -
         StirlingTail(z);
}

// Evan Miller's sum: P(Y2 > Y1) with Y1 ~ Beta(a1,b1), Y2 ~ Beta(a2,b2), a2 integer,
//   P = sum_{i=0}^{a2-1} t_i,  t_i = B(a1+i, b1+b2) / ((b2+i) B(1+i, b2) B(a1, b1)),
// where t is the pmf of a beta-negative-binomial law (the number of successes
// of probability Y1 before the b2-th failure). Neighbouring terms differ by
//   r(i) = t_{i+1} / t_i = (a1+i)(b2+i) / ((c+i)(1+i)),  c = a1 + b1 + b2,
// and r(i) > 1 exactly when i < kMode = (a1 b2 - c) / (b1 + 1): t rises to
// one mode and falls after it. Terms are carried as scaled * exp(log_scale)
// so that neither a tiny first term nor a long run of large ones
// under/overflows.
struct Scaled {
  static constexpr double kBig = 1e100;  // leaves room for one step's ratio
  long double log_scale;
  double term = 1.0;
  double sum = 1.0;
  void Renormalise() {
    if (sum > kBig) {
      sum /= kBig;
      term /= kBig;
      log_scale += std::log(static_cast<long double>(kBig));
    }
  }
  double Value() const { return static_cast<double>(std::exp(log_scale + std::log(sum))); }
};

// log t_0 = log[B(a1, b1+b2) / B(a1, b1)] = log[Gamma(b1+b2) Gamma(a1+b1) / (Gamma(a1+b1+b2) Gamma(b1))],
// as two gamma ratios shifted by the smaller of a1 and b2: their error grows
// with the shift (each is ~shift * log(b1), and they cancel).
long double LogFirstTerm(double a1, double b1, double b2) {
  if (a1 <= b2) return LogGammaRatio(b1, a1) - LogGammaRatio(static_cast<long double>(b1) + b2, a1);
  return LogGammaRatio(b1, b2) - LogGammaRatio(static_cast<long double>(a1) + b1, b2);
}

// Every term, from t_0 up: cost a2 steps.
double FullSum(double a1, double b1, double a2, double b2) {
  Scaled s{LogFirstTerm(a1, b1, b2)};
  const double c = a1 + b1 + b2;
  const auto n = static_cast<int64_t>(a2);
  for (int64_t i = 0; i + 1 < n; ++i) {
    const double di = static_cast<double>(i);
    s.term *= (a1 + di) / (c + di) * (b2 + di) / (1.0 + di);
    s.sum += s.term;
    s.Renormalise();
    if (s.sum < 1.0 / Scaled::kBig) {
      s.sum *= Scaled::kBig;
      s.term *= Scaled::kBig;
      s.log_scale -= std::log(static_cast<long double>(Scaled::kBig));
    }
  }
  return s.Value();
}

// The same sum from the top term t_{a2-1} down, stopped once what is left is
// below kWindowTail of the sum so far. Below the mode the terms fall as i
// falls, so the i terms t_0..t_{i-1} still unsummed are each at most t_{i-1}:
// stopping when i * t_{i-1} < kWindowTail * sum bounds the relative
// truncation error by kWindowTail. Only the terms within a few standard
// deviations of the law (~sqrt(a2) at Thompson's counts) are summed, plus
// those between a2 and the mode when that lies below a2.
constexpr double kWindowTail = 1e-17;

double WindowedSum(double a1, double b1, double a2, double b2) {
  const double c = a1 + b1 + b2;
  const auto n = static_cast<int64_t>(a2);
  const long double m = static_cast<long double>(n - 1);
  // log t_{m} = log t_0 + log[(a1)_m (b2)_m / ((c)_m m!)], rising factorials as gamma ratios.
  Scaled s{LogFirstTerm(a1, b1, b2) + LogGammaRatio(a1, m) + LogGammaRatio(b2, m) -
           LogGammaRatio(c, m) - LogGammaRatio(1.0L, m)};
  for (int64_t i = n - 1; i > 0; --i) {
    const double di = static_cast<double>(i);
    // t_{i-1} = t_i / r(i-1).
    const double next = s.term * (di / (a1 + di - 1.0)) * ((c + di - 1.0) / (b2 + di - 1.0));
    if (next <= s.term && di * next < kWindowTail * s.sum) break;
    s.term = next;
    s.sum += next;
    s.Renormalise();
  }
  return s.Value();
}

// One way to write P(X2 > X1) as a Miller sum: the sum over the integer
// parameter `terms` of `p`, or 1 minus it when `complement`.
struct Form {
  double terms;
  bool complement;
  double p[4];
};

// Integer parameters up to 2^53 are exact in a double and an int64_t.
bool IsCountable(double x) { return x == std::floor(x) && x <= 9007199254740992.0; }

// Steps the windowed sum of `f` is expected to take: from a2 - 1 down to the
// mode, then ~12 standard deviations of the beta-negative-binomial law
// (infinite variance when b1 <= 2: then all of them).
double WindowedCost(const Form& f) {
  const double a1 = f.p[0], b1 = f.p[1], b2 = f.p[3], n = f.terms;
  if (b1 <= 2) return n;
  const double c = a1 + b1 + b2;
  const double mode = std::max(0.0, (a1 * b2 - c) / (b1 + 1));
  const double var =
      b2 * a1 * (b2 + b1 - 1) * (a1 + b1 - 1) / ((b1 - 2) * (b1 - 1) * (b1 - 1));
  return std::min(n, std::max(0.0, n - 1 - mode) + 12 * std::sqrt(var));
}

// The four forms: direct sums over a2 or b1, complement sums over a1 or b2.
// P(X2 > X1) = P(1-X1 > 1-X2), and 1-Xi ~ Beta(bi, ai).
struct Forms {
  Form f[4];
};
Forms AllForms(double a1, double b1, double a2, double b2) {
  return {{
      {a2, false, {a1, b1, a2, b2}},  // sum over a2
      {b1, false, {b2, a2, b1, a1}},  // P(1-X1 > 1-X2): sum over b1
      {a1, true, {a2, b2, a1, b1}},   // 1 - P(X1 > X2): sum over a1
      {b2, true, {b1, a1, b2, a2}},   // 1 - P(1-X2 > 1-X1): sum over b2
  }};
}

// Miller's sum in its cheapest form, or NaN when no form costs at most
// kMaxClosedFormTerms steps. kAuto sums a form of at most kMaxFullSumTerms
// terms in full (the windowed sum's top term costs four more gamma ratios),
// longer ones windowed. 1 - s loses relative accuracy as the result gets
// small, so a complement result below 0.5 is redone with the cheapest direct
// form, if there is one.
double Sum(double a1, double b1, double a2, double b2, internal::SumMethod method) {
  using internal::SumMethod;
  auto windowed = [&](const Form& f) {
    return method == SumMethod::kWindowed ||
           (method == SumMethod::kAuto && f.terms > kMaxFullSumTerms);
  };
  auto cost = [&](const Form& f) { return windowed(f) ? WindowedCost(f) : f.terms; };
  auto sum = [&](const Form& f) {
    return windowed(f) ? WindowedSum(f.p[0], f.p[1], f.p[2], f.p[3])
                       : FullSum(f.p[0], f.p[1], f.p[2], f.p[3]);
  };
  const Forms forms = AllForms(a1, b1, a2, b2);
  const Form* best = nullptr;
  const Form* direct = nullptr;
  double best_cost = 0, direct_cost = 0;
  for (const auto& f : forms.f) {
    if (!IsCountable(f.terms)) continue;
    const double k = cost(f);
    if (k > kMaxClosedFormTerms) continue;
    if (best == nullptr || k < best_cost) best = &f, best_cost = k;
    if (!f.complement && (direct == nullptr || k < direct_cost)) direct = &f, direct_cost = k;
  }
  if (best == nullptr) return std::numeric_limits<double>::quiet_NaN();
  const double s = sum(*best);
  if (!best->complement) return std::clamp(s, 0.0, 1.0);
  if (1.0 - s < 0.5 && direct != nullptr) return std::clamp(sum(*direct), 0.0, 1.0);
  return std::clamp(1.0 - s, 0.0, 1.0);
}

}  // namespace

namespace internal {

double ProbBetaGreaterQuadrature(double a1, double b1, double a2, double b2) {
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

double ProbBetaGreaterSum(double a1, double b1, double a2, double b2, SumMethod method) {
  return Sum(a1, b1, a2, b2, method);
}

}  // namespace internal

double ProbBetaGreater(double a1, double b1, double a2, double b2) {
  const double p = Sum(a1, b1, a2, b2, internal::SumMethod::kAuto);
  return std::isnan(p) ? internal::ProbBetaGreaterQuadrature(a1, b1, a2, b2) : p;
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
