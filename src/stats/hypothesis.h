// Fixed-horizon hypothesis tests and intervals for two arms: a control and a
// treatment. Differences are always treatment - control. Pure functions; a
// degenerate input (zero standard error, n too small) gives NaN statistics and
// p-values rather than an error, so callers decide what "no test" means.
#pragma once

#include <cstddef>
#include <span>

namespace banditd::stats {

// kGreater: H1 says treatment > control; kLess: treatment < control.
enum class Alternative { kTwoSided, kGreater, kLess };

struct TestResult {
  double statistic = 0;  // z, t or chi-square
  double p_value = 1;
  double df = 0;  // degrees of freedom where the reference distribution has them
};

struct Interval {
  double lo = 0;
  double hi = 0;
};

// Bernoulli arm: successes out of n trials.
struct Proportion {
  double successes = 0;
  double n = 0;
};

// Real-valued arm: sample mean, sample variance (divisor n - 1), count.
struct Moments {
  double mean = 0;
  double variance = 0;
  double n = 0;
};

// Moments from sufficient statistics (n, sum, sum of squares), with the
// variance clamped at 0 against rounding. REQUIRES: n >= 1.
Moments MomentsFromSums(double n, double sum, double sum_sq);

// Two-proportion z-test with the pooled variance under H0:
//   z = (p_t - p_c) / sqrt(p (1 - p) (1/n_t + 1/n_c)),  p = (x_t + x_c) / (n_t + n_c).
// Same as statsmodels.stats.proportion.proportions_ztest([x_t, x_c], [n_t, n_c]).
TestResult TwoProportionZTest(Proportion control, Proportion treatment, Alternative alt);

// Fisher's exact test of the 2x2 table [[x_t, n_t - x_t], [x_c, n_c - x_c]]:
// conditional on the total successes, x_t is hypergeometric under H0 (equal
// rates) whatever the rate and the split, so the test keeps its level at rare
// rates and lopsided splits where the z-test runs hot. Two-sided: the sum of
// the probabilities of the tables no more likely than the observed one
// (within a relative 1e-7), as scipy.stats.fisher_exact; one-sided: the tail.
// Counts must be whole numbers; statistic = the observed x_t.
TestResult FisherExactTest(Proportion control, Proportion treatment, Alternative alt);

// Welch's unequal-variance t-test (Welch 1947) with the Welch–Satterthwaite
// degrees of freedom; same as scipy.stats.ttest_ind_from_stats(equal_var=False).
TestResult WelchTTest(Moments control, Moments treatment, Alternative alt);

// Wilson score interval for one proportion (Wilson 1927); same as
// statsmodels proportion_confint(method="wilson").
Interval WilsonInterval(Proportion p, double confidence);

// Newcombe's hybrid score interval for p_t - p_c from the two Wilson
// intervals (Newcombe 1998, method 10); same as statsmodels
// confint_proportions_2indep(method="newcomb", compare="diff").
Interval NewcombeDiffInterval(Proportion control, Proportion treatment, double confidence);

// Welch interval for mean_t - mean_c: diff +- t_{df, (1+c)/2} * se.
Interval WelchDiffInterval(Moments control, Moments treatment, double confidence);

// Relative lift p_t / p_c - 1 with the Katz log interval for the risk ratio
// (Katz et al. 1978): exp(log RR +- z sqrt(1/x_t - 1/n_t + 1/x_c - 1/n_c)) - 1;
// same as statsmodels confint_proportions_2indep(method="log", compare="ratio") - 1.
// NaN when either arm has no successes.
Interval LiftIntervalProportions(Proportion control, Proportion treatment, double confidence);

// Relative lift mean_t / mean_c - 1 with the delta-method interval on the log
// ratio: var(log ratio) ~= s_t^2 / (n_t m_t^2) + s_c^2 / (n_c m_c^2).
// NaN unless both means are > 0.
Interval LiftIntervalMeans(Moments control, Moments treatment, double confidence);

// Pearson chi-square sample-ratio-mismatch test of observed counts against
// intended weights (normalized to sum 1), df = arms - 1; same as
// scipy.stats.chisquare(observed, total * weights).
TestResult SrmChiSquare(std::span<const double> observed, std::span<const double> weights);

// SRM when the intended weights change over time (a bandit): the period
// chi-squares are summed, df = periods * (arms - 1). Both spans are
// periods x arms, row-major; periods with no units contribute nothing.
TestResult SrmChiSquarePerPeriod(std::span<const double> observed, std::span<const double> weights,
                                 size_t arms);

// Two-sided p-value or one-sided as asked, from a statistic whose null
// distribution has the given upper tail / lower tail functions.
double NormalPValue(double z, Alternative alt);

}  // namespace banditd::stats
