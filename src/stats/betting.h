// A confidence sequence for the difference of two arm means on bandit
// (adaptively collected) data that is valid at every sample size and for any
// allocation, however close to 0 the propensities come: no asymptotics, no
// propensity floor. Used by the bandit_cs stopping rule.
//
// Each rewarded unit gives the augmented IPW pseudo-outcome for treatment k
// against control c (rewards rescaled to [0, 1]),
//   phi_i = m_k - m_c + 1{A=k} (Y - m_k) / pi_k - 1{A=c} (Y - m_c) / pi_c,
// with m_k, m_c the arms' running means from earlier units (predictable).
// With pi the true probabilities of the draw, E[phi_i | past] = Delta
// (Waudby-Smith, Wu, Ramdas, Karampatziakis & Mineiro, "Anytime-valid
// off-policy inference for contextual bandits", 2023). phi_i is bounded by a
// quantity known before the draw, B_i = |m_k - m_c| + max(max(m_k, 1 - m_k) /
// pi_k, max(m_c, 1 - m_c) / pi_c) + 1 >= |phi_i - d| for every d in [-1, 1],
// which may be huge when a propensity is tiny.
//
// Betting: for a predictable lambda_i in [0, c / B_i], c = 1/2,
//   K_t(d) = prod_i (1 + lambda_i (phi_i - d))
// is a nonnegative martingale at d = Delta (a supermartingale for d >= Delta)
// (Waudby-Smith & Ramdas, "Estimating means of bounded random variables by
// betting", JRSSB 2024). With c_i = lambda_i B_i <= c, lambda_i (phi_i - d)
// >= -c_i, and the inequality log(1 + y) >= y - psi(c_i) y^2 for y >= -c_i,
// psi(c) = (-log(1 - c) - c) / c^2 (Fan, Grama & Liu, Stoch. Proc. Appl.
// 2015), gives
//   log K_t(d) >= L_t(d) = sum lambda_i (phi_i - d) - sum psi(c_i) lambda_i^2 (phi_i - d)^2,
// a quadratic in d held by five running sums. K_t(d) decreases in d, so by
// Ville's inequality P(exists t: L_t(d') >= log(2/alpha) for some d' >= Delta)
// <= alpha/2: the lower bound is the largest d with L_t(d) >= log(2/alpha).
// The upper bound is the mirror image (-phi). Together: a (1 - alpha)
// confidence sequence, valid in finite samples; the running intersection
// over looks stays valid.
//
// Tiny propensities make B_i large and so lambda_i small: a unit drawn with
// a tiny propensity moves the bound little — the stake on it is fixed before
// its outcome, which keeps the guarantee. lambda_i is the predictable
// plug-in min(sqrt(2 log(2/alpha) / (v_{i-1} tune_n)), c / B_i), v_{i-1} the
// running variance of the earlier phi (prior 1/4, weight 1): the bound is
// tightest near tune_n units.
#pragma once

#include <vector>

#include "src/stats/hypothesis.h"

namespace banditd::stats {

// The running sums of the betting confidence sequence (snapshot state).
// With psi_i = psi(lambda_i B_i):
//   L_t(d) = a1 - d a0 - (b2 - 2 d b1 + d^2 b0)   (the lower-bound side)
//   U_t(d) = -a1 + d a0 - (b2 - 2 d b1 + d^2 b0)  (the upper-bound side)
struct BettingSums {
  double t = 0;       // units
  double phi = 0;     // sum phi
  double phi_sq = 0;  // sum phi^2 (for the predictable variance)
  double a0 = 0;      // sum lambda
  double a1 = 0;      // sum lambda phi
  double b0 = 0;      // sum psi lambda^2
  double b1 = 0;      // sum psi lambda^2 phi
  double b2 = 0;      // sum psi lambda^2 phi^2

  static constexpr size_t kFlatSize = 8;
  std::vector<double> Flatten() const { return {t, phi, phi_sq, a0, a1, b0, b1, b2}; }
  bool Unflatten(const std::vector<double>& v);  // false: wrong length
};

// c: the largest drop -lambda_i (phi_i - d) allowed. Each unit uses
// psi(lambda_i B_i) <= psi(c), the tightest constant Fan et al.'s
// inequality gives for its own largest drop.
inline constexpr double kBettingTruncation = 0.5;
// Fan, Grama & Liu's psi(c) = (-log(1 - c) - c) / c^2, for 0 <= c < 1.
double BettingPsi(double c);

class BettingDiffSequence {
 public:
  // alpha: two-sided level of the sequence; tune_n >= 1.
  BettingDiffSequence(double alpha, double tune_n);

  enum class Served { kControl, kTreatment };
  // One rewarded unit: reward in [0, 1]; pi_treatment, pi_control the
  // probabilities the two arms had at the draw; m_* the predictable means in
  // [0, 1]. An arm with propensity 0 makes the stake 0.
  void Add(Served served, double reward, double pi_treatment, double pi_control, double m_treatment,
           double m_control);

  // `count` units alike in everything above, all staked with the variance
  // estimate `variance` of phi fixed before them (bandit_cs fixes it at each
  // look: RunningVariance() then). Equal to `count` calls of Add whenever
  // Add's running variance would not have moved, and valid either way: the
  // stake only has to be fixed before the units it applies to.
  void AddRepeated(Served served, double reward, double count, double pi_treatment,
                   double pi_control, double m_treatment, double m_control, double variance);
  // The predictable variance estimate Add uses for the next unit:
  // (1/4 + sum of squared deviations of the earlier phi) / (t + 1).
  double RunningVariance() const;

  // Lower/upper bounds at this look (not intersected), in [-1, 1]; -1 / +1
  // when nothing is excluded yet.
  double Lower() const;
  double Upper() const;
  // The estimate: the running mean of phi (0 before data).
  double Estimate() const;
  // Anytime-valid p-value for Delta = 0 at this look (not yet the running
  // minimum): min(1, 2 exp(-max(L_t(0), U_t(0)))).
  double PValue() const;

  const BettingSums& sums() const { return s_; }
  void SetSums(const BettingSums& s) { s_ = s; }

 private:
  double tune_n_;
  double log_threshold_;  // log(2 / alpha)
  BettingSums s_;
};

}  // namespace banditd::stats
