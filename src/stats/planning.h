// Fixed-horizon planning: the sample size per arm that a z-test needs to
// detect a minimum detectable effect (MDE) with a given power, and the power
// of a given sample size. Formulas follow statsmodels (Fleiss-style normal
// approximation: null variance pooled, alternative variance unpooled):
//   n_t = ((z_{a} sd_null - z_{1-power} sd_alt) / mde)^2        (one tail; a = alpha/2 if
//   two-sided) power = P(Z > z_{a} sd_null/sd_alt - mde sqrt(n_t)/sd_alt) [+ the far tail when
//   two-sided]
// with n_c = ratio * n_t. These match statsmodels.stats.proportion
// samplesize_proportions_2indep_onetail / power_proportions_2indep and
// statsmodels.stats.power normal_sample_size_one_tail / normal_power_het.
#pragma once

#include "src/stats/hypothesis.h"

namespace banditd::stats {

struct PlanInputs {
  double alpha = 0.05;
  double ratio = 1.0;  // control units per treatment unit
  Alternative alternative = Alternative::kTwoSided;
};

// Bernoulli metric: control rate `baseline`, treatment rate baseline + mde.
// Returns the (real-valued) treatment sample size; round it up to plan.
// REQUIRES: 0 < baseline < 1, 0 < baseline + mde < 1, mde != 0, 0 < power < 1.
double SampleSizeProportions(double baseline, double mde, double power, const PlanInputs& in);
double PowerProportions(double baseline, double mde, double n_treatment, const PlanInputs& in);

// Real-valued metric with common standard deviation `sd` in both arms.
// REQUIRES: sd > 0, mde != 0, 0 < power < 1.
double SampleSizeMeans(double sd, double mde, double power, const PlanInputs& in);
double PowerMeans(double sd, double mde, double n_treatment, const PlanInputs& in);

}  // namespace banditd::stats
