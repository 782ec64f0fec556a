#include "src/stats/planning.h"

#include <cmath>

#include "src/stats/dist.h"

namespace banditd::stats {
namespace {

double TailAlpha(const PlanInputs& in) {
  return in.alternative == Alternative::kTwoSided ? in.alpha / 2.0 : in.alpha;
}

// sqrt(p1 (1 - p1) + p2 (1 - p2) / ratio): the sd of p1 - p2 times sqrt(n1).
double StdDiffProp(double p1, double p2, double ratio) {
  return std::sqrt(p1 * (1.0 - p1) + p2 * (1.0 - p2) / ratio);
}

struct Stds {
  double null_sd;
  double alt_sd;
};

Stds ProportionStds(double baseline, double mde, double ratio) {
  const double p1 = baseline + mde;
  const double pooled = (p1 + baseline * ratio) / (1.0 + ratio);
  return {StdDiffProp(pooled, pooled, ratio), StdDiffProp(p1, baseline, ratio)};
}

double SampleSizeOneTail(double diff, double power, double alpha, Stds s) {
  const double crit_power = internal::NormIsf(power);
  const double crit = internal::NormIsf(alpha);
  const double x = (crit * s.null_sd - crit_power * s.alt_sd) / diff;
  return x * x;
}

double PowerHet(double diff, double n, const PlanInputs& in, Stds s) {
  const double a = TailAlpha(in);
  const double std_ratio = s.null_sd / s.alt_sd;
  const double shift = diff * std::sqrt(n) / s.alt_sd;
  double power = 0;
  if (in.alternative != Alternative::kLess) {
    power = internal::NormSf(internal::NormIsf(a) * std_ratio - shift);
  }
  if (in.alternative != Alternative::kGreater) {
    // Lower critical value z_a = -z_{1-a}, as norm.ppf(a).
    power += internal::NormCdf(-internal::NormIsf(a) * std_ratio - shift);
  }
  return power;
}

}  // namespace

double SampleSizeProportions(double baseline, double mde, double power, const PlanInputs& in) {
  return SampleSizeOneTail(mde, power, TailAlpha(in), ProportionStds(baseline, mde, in.ratio));
}

double PowerProportions(double baseline, double mde, double n_treatment, const PlanInputs& in) {
  return PowerHet(mde, n_treatment, in, ProportionStds(baseline, mde, in.ratio));
}

double SampleSizeMeans(double sd, double mde, double power, const PlanInputs& in) {
  const double s = sd * std::sqrt(1.0 + 1.0 / in.ratio);
  return SampleSizeOneTail(mde, power, TailAlpha(in), {s, s});
}

double PowerMeans(double sd, double mde, double n_treatment, const PlanInputs& in) {
  const double s = sd * std::sqrt(1.0 + 1.0 / in.ratio);
  return PowerHet(mde, n_treatment, in, {s, s});
}

}  // namespace banditd::stats
