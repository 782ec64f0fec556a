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

namespace {

// The hypergeometric law of the treatment's successes given the margins:
// `total` units, `successes` of them successes, `drawn` in the treatment.
struct Hypergeometric {
  double total, successes, drawn;
  double lo() const { return std::max(0.0, drawn - (total - successes)); }
  double hi() const { return std::min(successes, drawn); }
  double LogPmf(double x) const {
    auto lchoose = [](double n, double k) {
      return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1);
    };
    return lchoose(successes, x) + lchoose(total - successes, drawn - x) -
           lchoose(total, drawn);
  }
  // pmf(x + 1) / pmf(x).
  double RatioUp(double x) const {
    return (successes - x) * (drawn - x) / ((x + 1) * (total - successes - drawn + x + 1));
  }
};

// Sum of pmf(y) for y from `from` stepping by `step` (+1 or -1) to the end of
// the support, starting at pmf(from) = `pmf`; the terms only shrink on the
// way (the walk goes away from the mode), so it stops once they no longer
// count.
double TailFrom(const Hypergeometric& h, double from, double pmf, int step) {
  double sum = 0;
  const double end = step > 0 ? h.hi() : h.lo();
  for (double y = from;; y += step) {
    sum += pmf;
    if (y == end || !(pmf >= sum * 1e-17)) break;  // 0 (underflow) included
    pmf *= step > 0 ? h.RatioUp(y) : 1.0 / h.RatioUp(y - 1);
  }
  return sum;
}

}  // namespace

TestResult FisherExactTest(Proportion control, Proportion treatment, Alternative alt) {
  TestResult r;
  const Hypergeometric h{treatment.n + control.n, treatment.successes + control.successes,
                         treatment.n};
  const double x = treatment.successes;
  r.statistic = x;
  if (!(treatment.n > 0 && control.n > 0) || h.lo() == h.hi()) {
    r.p_value = 1.0;  // one table only: no evidence either way
    return r;
  }
  const double obs = std::exp(h.LogPmf(x));
  // Unimodal: the mode splits the support into two monotone halves.
  const double mode =
      std::clamp(std::floor((h.drawn + 1) * (h.successes + 1) / (h.total + 2)), h.lo(), h.hi());
  const double up = x >= mode ? TailFrom(h, x, obs, +1) : 0;
  const double down = x <= mode ? TailFrom(h, x, obs, -1) : 0;
  if (alt == Alternative::kGreater) {
    r.p_value = x == h.lo() ? 1.0 : x >= mode ? up : 1.0 - TailFrom(h, x - 1, obs / h.RatioUp(x - 1), -1);
  } else if (alt == Alternative::kLess) {
    r.p_value = x == h.hi() ? 1.0 : x <= mode ? down : 1.0 - TailFrom(h, x + 1, obs * h.RatioUp(x), +1);
  } else {
    // The observed side's tail, plus the other side's tables no more likely:
    // walk from the mode away from x to the first such table.
    const int away = x >= mode ? -1 : +1;
    double y = mode, pmf = std::exp(h.LogPmf(mode));
    const double end = away > 0 ? h.hi() : h.lo();
    const double limit = obs * (1.0 + 1e-7);
    double other = 0;
    if (y == x) {
      other = (y == end) ? 0 : TailFrom(h, y + away, away > 0 ? pmf * h.RatioUp(y)
                                                                : pmf / h.RatioUp(y - 1), away);
    } else {
      while (pmf > limit && y != end) {
        pmf *= away > 0 ? h.RatioUp(y) : 1.0 / h.RatioUp(y - 1);
        y += away;
      }
      other = pmf <= limit ? TailFrom(h, y, pmf, away) : 0;
    }
    r.p_value = (x >= mode ? up : down) + other;
  }
  r.p_value = std::clamp(r.p_value, 0.0, 1.0);
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
  if (!(p.n > 0)) return {0.0, 1.0};  // no units: every rate is possible
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
  if (std::isinf(r.statistic)) {
    r.p_value = 0;  // units where none were intended: a mismatch whatever the df
  } else if (!(r.df > 0)) {
    r.p_value = kNaN;
  } else {
    r.p_value = boost::math::cdf(boost::math::complement(internal::ChiSquared(r.df), r.statistic));
  }
  return r;
}

}  // namespace banditd::stats
