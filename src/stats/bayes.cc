#include "src/stats/bayes.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "policies/beta_math.h"
#include "src/stats/dist.h"

namespace banditd::stats {

double ProbBetterBeta(BetaPosterior control, BetaPosterior treatment) {
  return policies::ProbBetaGreater(control.alpha, control.beta, treatment.alpha, treatment.beta);
}

double ExpectedLossBeta(BetaPosterior c, BetaPosterior t) {
  const double mean_c = c.alpha / (c.alpha + c.beta);
  const double mean_t = t.alpha / (t.alpha + t.beta);
  // ProbBetaGreater(a1, b1, a2, b2) = P(X2 > X1).
  const double p1 = policies::ProbBetaGreater(t.alpha, t.beta, c.alpha + 1, c.beta);
  const double p2 = policies::ProbBetaGreater(t.alpha + 1, t.beta, c.alpha, c.beta);
  return std::max(0.0, mean_c * p1 - mean_t * p2);
}

double ProbBetterNormal(NormalPosterior c, NormalPosterior t) {
  return internal::NormCdf((t.mean - c.mean) / std::hypot(t.sd, c.sd));
}

double ExpectedLossNormal(NormalPosterior c, NormalPosterior t) {
  const double m = c.mean - t.mean;
  const double s = std::hypot(t.sd, c.sd);
  if (!(s > 0)) return std::max(0.0, m);
  return m * internal::NormCdf(m / s) + s * internal::NormPdf(m / s);
}

namespace {

template <typename Draw>
void MonteCarlo(size_t k, size_t draws, Draw&& draw, std::span<double> p_best,
                std::span<double> loss) {
  std::fill(p_best.begin(), p_best.end(), 0.0);
  std::fill(loss.begin(), loss.end(), 0.0);
  std::vector<double> x(k);
  for (size_t d = 0; d < draws; ++d) {
    size_t best = 0;
    for (size_t i = 0; i < k; ++i) {
      x[i] = draw(i);
      if (x[i] > x[best]) best = i;
    }
    p_best[best] += 1.0;
    for (size_t i = 0; i < k; ++i) loss[i] += x[best] - x[i];
  }
  const double inv = 1.0 / static_cast<double>(draws);
  for (size_t i = 0; i < k; ++i) {
    p_best[i] *= inv;
    loss[i] *= inv;
  }
}

}  // namespace

void MonteCarloBeta(std::span<const BetaPosterior> arms, size_t draws, Rng& rng,
                    std::span<double> p_best, std::span<double> loss) {
  // P(best) is the policies' estimator (the same one Thompson sampling
  // allocates with); the loss needs its own joint draws.
  std::vector<double> a(arms.size()), b(arms.size()), unused(arms.size());
  for (size_t i = 0; i < arms.size(); ++i) {
    a[i] = arms[i].alpha;
    b[i] = arms[i].beta;
  }
  policies::MonteCarloProbBest(a, b, draws, rng, p_best);
  MonteCarlo(
      arms.size(), draws, [&](size_t i) { return rng.Beta(a[i], b[i]); }, unused, loss);
}

void MonteCarloNormal(std::span<const NormalPosterior> arms, size_t draws, Rng& rng,
                      std::span<double> p_best, std::span<double> loss) {
  MonteCarlo(
      arms.size(), draws, [&](size_t i) { return rng.Normal(arms[i].mean, arms[i].sd); }, p_best,
      loss);
}

}  // namespace banditd::stats
