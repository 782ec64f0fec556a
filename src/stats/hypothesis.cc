#include "src/stats/hypothesis.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "src/stats/dist.h"

namespace banditd::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double StudentPValue(double t, double df, Alternative alt) {
  if (!std::isfinite(t) || !(df > 0)) return kNaN;
  const internal::StudentT dist(df);
  switch (alt) {
    case Alternative::kGreater:
      return boost::math::cdf(boost::math::complement(dist, t));
    case Alternative::kLess:
      return boost::math::cdf(dist, t);
    case Alternative::kTwoSided:
      break;
  }
  return std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(dist, std::fabs(t))));
}

// Two-sided critical value z_{(1+c)/2}.
double NormalCrit(double confidence) { return internal::NormIsf((1.0 - confidence) / 2.0); }

}  // namespace

double NormalPValue(double z, Alternative alt) {
  if (!std::isfinite(z)) return kNaN;
  switch (alt) {
    case Alternative::kGreater:
      return internal::NormSf(z);
    case Alternative::kLess:
      return internal::NormCdf(z);
    case Alternative::kTwoSided:
      break;
  }
  return std::min(1.0, 2.0 * internal::NormSf(std::fabs(z)));
}

Moments MomentsFromSums(double n, double sum, double sum_sq) {
  Moments m;
  m.n = n;
  m.mean = sum / n;
  // Centered form: sum_sq - sum^2/n, computed as sum_sq - mean * sum.
  m.variance = n > 1 ? std::max(0.0, (sum_sq - m.mean * sum) / (n - 1)) : kNaN;
  return m;
}

TestResult TwoProportionZTest(Proportion control, Proportion treatment, Alternative alt) {
  TestResult r;
  const double pt = treatment.successes / treatment.n;
  const double pc = control.successes / control.n;
  const double pooled = (treatment.successes + control.successes) / (treatment.n + control.n);
  const double se = std::sqrt(pooled * (1.0 - pooled) * (1.0 / treatment.n + 1.0 / control.n));
  r.statistic = se > 0 ? (pt - pc) / se : kNaN;
  r.p_value = NormalPValue(r.statistic, alt);
  r.df = std::numeric_limits<double>::infinity();
  return r;
}

TestResult WelchTTest(Moments control, Moments treatment, Alternative alt) {
  TestResult r;
  const double vt = treatment.variance / treatment.n;
  const double vc = control.variance / control.n;
  r.df = (vt + vc) * (vt + vc) / (vt * vt / (treatment.n - 1) + vc * vc / (control.n - 1));
  const double se = std::sqrt(vt + vc);
  r.statistic = se > 0 ? (treatment.mean - control.mean) / se : kNaN;
  r.p_value = StudentPValue(r.statistic, r.df, alt);
  return r;
}

Interval WilsonInterval(Proportion p, double confidence) {
  const double z = NormalCrit(confidence);
  const double z2 = z * z;
  const double q = p.successes / p.n;
  const double denom = 1.0 + z2 / p.n;
  const double center = (q + z2 / (2.0 * p.n)) / denom;
  const double dist = z * std::sqrt(q * (1.0 - q) / p.n + z2 / (4.0 * p.n * p.n)) / denom;
  return {center - dist, center + dist};
}

Interval NewcombeDiffInterval(Proportion control, Proportion treatment, double confidence) {
  const Interval wt = WilsonInterval(treatment, confidence);
  const Interval wc = WilsonInterval(control, confidence);
  const double pt = treatment.successes / treatment.n;
  const double pc = control.successes / control.n;
  const double diff = pt - pc;
  return {diff - std::hypot(pt - wt.lo, wc.hi - pc), diff + std::hypot(pc - wc.lo, wt.hi - pt)};
}

Interval WelchDiffInterval(Moments control, Moments treatment, double confidence) {
  const double vt = treatment.variance / treatment.n;
  const double vc = control.variance / control.n;
  const double df =
      (vt + vc) * (vt + vc) / (vt * vt / (treatment.n - 1) + vc * vc / (control.n - 1));
  if (!(df > 0)) return {kNaN, kNaN};
  const double t = boost::math::quantile(
      boost::math::complement(internal::StudentT(df), (1.0 - confidence) / 2.0));
  const double half = t * std::sqrt(vt + vc);
  const double diff = treatment.mean - control.mean;
  return {diff - half, diff + half};
}

Interval LiftIntervalProportions(Proportion control, Proportion treatment, double confidence) {
  if (!(treatment.successes > 0) || !(control.successes > 0)) return {kNaN, kNaN};
  const double ratio = (treatment.successes / treatment.n) / (control.successes / control.n);
  const double se = std::sqrt(1.0 / treatment.successes - 1.0 / treatment.n +
                              1.0 / control.successes - 1.0 / control.n);
  const double z = NormalCrit(confidence);
  // expm1 keeps the lift's relative accuracy when the ratio is near 1.
  const double log_ratio = std::log(ratio);
  return {std::expm1(log_ratio - z * se), std::expm1(log_ratio + z * se)};
}

Interval LiftIntervalMeans(Moments control, Moments treatment, double confidence) {
  if (!(treatment.mean > 0) || !(control.mean > 0)) return {kNaN, kNaN};
  const double log_ratio = std::log(treatment.mean / control.mean);
  const double var = treatment.variance / (treatment.n * treatment.mean * treatment.mean) +
                     control.variance / (control.n * control.mean * control.mean);
  const double half = NormalCrit(confidence) * std::sqrt(var);
  return {std::expm1(log_ratio - half), std::expm1(log_ratio + half)};
}

namespace {

// Pearson's X^2 of one period; returns the number of arms with expected > 0.
double PeriodChiSquare(std::span<const double> observed, std::span<const double> weights,
                       size_t* used_arms) {
  double total = 0, wsum = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    total += observed[i];
    wsum += weights[i];
  }
  double x2 = 0;
  *used_arms = 0;
  if (!(total > 0) || !(wsum > 0)) return 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double expected = total * weights[i] / wsum;
    if (expected > 0) {
      const double d = observed[i] - expected;
      x2 += d * d / expected;
      ++*used_arms;
    } else if (observed[i] > 0) {
      x2 = std::numeric_limits<double>::infinity();  // units where none were intended
    }
  }
  return x2;
}

}  // namespace

TestResult SrmChiSquare(std::span<const double> observed, std::span<const double> weights) {
  return SrmChiSquarePerPeriod(observed, weights, observed.size());
}

TestResult SrmChiSquarePerPeriod(std::span<const double> observed, std::span<const double> weights,
                                 size_t arms) {
  TestResult r;
  const size_t periods = arms == 0 ? 0 : observed.size() / arms;
  for (size_t p = 0; p < periods; ++p) {
    size_t used = 0;
    r.statistic +=
        PeriodChiSquare(observed.subspan(p * arms, arms), weights.subspan(p * arms, arms), &used);
    if (used > 1) r.df += static_cast<double>(used - 1);
  }
  if (!(r.df > 0)) {
    r.p_value = kNaN;
  } else if (std::isinf(r.statistic)) {
    r.p_value = 0;
  } else {
    r.p_value = boost::math::cdf(boost::math::complement(internal::ChiSquared(r.df), r.statistic));
  }
  return r;
}

}  // namespace banditd::stats
