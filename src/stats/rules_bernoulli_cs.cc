// The bernoulli_cs rule: an always-valid test and confidence sequence for the
// rate ratio r = p_challenger / p_control of a Bernoulli metric that holds
// under any allocation — static splits of any skew, and adaptive policies
// (Thompson sampling, clipped or not) with exact logged propensities — at
// every sample size, with no normal approximation and no variance estimate.
//
// It conditions on successes. A unit drawn with propensities pi_k (the
// challenger) and pi_c = 1 - pi_k (the control), if it is a success, came
// from the challenger with probability
//   theta(q, r) = q r / (q r + 1 - q),   q = pi_k / (pi_k + pi_c),
// whatever the control's rate is at that moment (rates may drift over time,
// as long as their ratio is r). So under H0_r the likelihood ratio
//   LR_t(r', r) = prod over successes f(X_i; theta(q_i, r')) / f(X_i; theta(q_i, r)),
// X_i = 1{the success came from the challenger}, is a nonnegative martingale
// with mean 1 in the successes' filtration (q_i is fixed before the draw), and
// so is its mixture over a prior w on log r',
//   M_t(r) = sum_j w_j exp(S_t(r_j) - S_t(r)),   S_t(r) = sum log f(X_i; theta(q_i, r)).
// By Ville's inequality P(exists t: M_t(r) >= 1/alpha) <= alpha. Hence the
// always-valid p-value for r = 1 is the running minimum of 1/M_t(1), and
// {r : M_t(r) < 1/alpha} is a (1 - alpha) confidence sequence for r (a
// mixture martingale test in the sense of Robbins 1970; Howard, Ramdas,
// McAuliffe & Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence
// sequences", Ann. Statist. 2021; the conditioning on successes is the
// classical conditional test of two Poisson rates, Lehmann & Romano,
// Testing Statistical Hypotheses, 4.6, here with per-unit propensities).
//
// S_t is kept on a grid of log r: 161 points over [-log 20, log 20] plus,
// when the prior is narrower than that grid's spacing allows, 49 points over
// +-6 prior sds; r = 1 is a grid point. The prior is the normal N(0, sd^2) on
// log r discretised on the grid (weights sum to 1, so M_t stays a mixture of
// martingales). log M_t(r) = logsumexp_j(log w_j + S_j) - S_t(r) is convex in
// log r (S_t is concave), so the confidence set is an interval; each end is
// reported conservatively between the last included and the first excluded
// grid point (where the secant through the first two excluded points, which
// lies below the convex log M, crosses log(1/alpha)) and intersected over
// looks.
//
// Failures carry no information here, which costs little at the low rates
// of click-through metrics (the efficiency against the unconditional
// likelihood is about 1 - p). Two arms: a decision logs only the served
// arm's propensity, and with more arms q needs the other one too.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "src/stats/rule_base.h"
#include "src/stats/rules.h"

namespace banditd::stats {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kGridEdge = 2.995732273553991;  // log 20
constexpr int kCoarseHalf = 80;                  // 161 coarse points
constexpr int kFineHalf = 24;                    // 49 fine points over +-6 sd
constexpr double kDefaultPriorSd = 0.2;  // log rate ratio; chosen by measured power (docs)

// The grid of log r and the prior's log weights on it.
struct Grid {
  std::vector<double> x;       // log r, increasing; contains 0
  std::vector<double> expm1;   // expm1(x)
  std::vector<double> log_w;   // log prior weight
  size_t zero = 0;             // index of r = 1
};

Grid MakeGrid(double prior_sd) {
  Grid g;
  const double coarse = kGridEdge / kCoarseHalf;
  for (int i = -kCoarseHalf; i <= kCoarseHalf; ++i) g.x.push_back(coarse * i);
  const double fine = 6.0 * prior_sd / kFineHalf;
  if (fine < coarse) {
    for (int i = -kFineHalf; i <= kFineHalf; ++i) g.x.push_back(fine * i);
  }
  std::sort(g.x.begin(), g.x.end());
  g.x.erase(std::unique(g.x.begin(), g.x.end(),
                        [](double a, double b) { return std::abs(a - b) < 1e-12; }),
            g.x.end());
  const size_t n = g.x.size();
  std::vector<double> w(n);
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (g.x[i] == 0) g.zero = i;
    g.expm1.push_back(std::expm1(g.x[i]));
    // Normal density times the width of the point's cell (midpoints).
    const double left = i > 0 ? 0.5 * (g.x[i] - g.x[i - 1]) : 0.5 * (g.x[1] - g.x[0]);
    const double right = i + 1 < n ? 0.5 * (g.x[i + 1] - g.x[i]) : 0.5 * (g.x[n - 1] - g.x[n - 2]);
    const double z = g.x[i] / prior_sd;
    w[i] = std::exp(-0.5 * z * z) * (left + right);
    total += w[i];
  }
  for (size_t i = 0; i < n; ++i) g.log_w.push_back(std::log(w[i] / total));
  return g;
}

class BernoulliCs final : public RuleBase {
 public:
  BernoulliCs(const StoppingSpec& spec, CommonParams common, double prior_sd)
      : RuleBase(spec, common), grid_(MakeGrid(prior_sd)), s_(grid_.x.size(), 0.0) {}
  std::string_view name() const override { return "bernoulli_cs"; }
  // The rule conditions on which arm each success came from: a fractional
  // reward is not a success or a failure, and counting it as either would
  // void the guarantee.
  Status CheckReward(double reward) const override {
    if (reward == 0.0 || reward == 1.0) return Status::Ok();
    return Status(Code::kInvalidValue,
                  "stopping rule bernoulli_cs counts successes: reward must be 0 or 1");
  }

  double SampleCount() const override { return arms()[0].n + arms()[1].n; }
  std::string_view CountName() const override { return "in total"; }

 protected:
  void OnFold(size_t arm, double reward, double count, double propensity) override {
    if (!(reward > 0)) return;  // failures carry no information given the successes
    const size_t k = 1 - spec().control;
    const double p = std::clamp(propensity, 0.0, 1.0);
    const double q = arm == k ? p : 1.0 - p;
    // A success from an arm drawn with certainty says nothing about r.
    if (!(q > 0 && q < 1)) return;
    // log theta = log q + x - log(1 + q expm1(x)); log(1 - theta) = log(1 - q) - log(...).
    const double base = arm == k ? std::log(q) : std::log1p(-q);
    for (size_t j = 0; j < s_.size(); ++j) {
      const double l = std::log1p(q * grid_.expm1[j]);
      s_[j] += count * ((arm == k ? base + grid_.x[j] : base) - l);
    }
  }

  StopDecision Evaluate() override {
    const size_t c = spec().control;
    const size_t k = 1 - c;
    const double level = common().alpha;
    const size_t n = s_.size();
    // log of sum_j w_j exp(S_j), and the grid maximum of S (the MLE).
    double top = -kInf;
    size_t mle = grid_.zero;
    for (size_t j = 0; j < n; ++j) {
      top = std::max(top, grid_.log_w[j] + s_[j]);
      if (s_[j] > s_[mle]) mle = j;
    }
    double acc = 0;
    for (size_t j = 0; j < n; ++j) acc += std::exp(grid_.log_w[j] + s_[j] - top);
    const double log_mix = top + std::log(acc);
    const double threshold = -std::log(level);  // log(1/alpha)
    running_p_ = std::min(running_p_, std::min(1.0, std::exp(s_[grid_.zero] - log_mix)));
    // The confidence set at this look: grid points with log M < log(1/alpha),
    // widened to the nearest excluded points (the boundary lies between).
    size_t first = n, last = 0;
    for (size_t j = 0; j < n; ++j) {
      if (log_mix - s_[j] < threshold) {
        first = std::min(first, j);
        last = j;
      }
    }
    if (first == n) first = last = mle;  // nothing included at grid resolution
    const double lo = first > 0 ? std::exp(Boundary(log_mix, threshold, first - 1, -1)) : 0.0;
    const double hi = last + 1 < n ? std::exp(Boundary(log_mix, threshold, last + 1, +1)) : kInf;
    lo_ = std::max(lo_, lo);
    hi_ = std::min(hi_, hi);

    StopDecision d;
    d.compared_arm = k;
    d.p_value = running_p_;
    // The estimate: the vertex of the parabola through S at the grid's
    // maximum and its neighbours (the grid point alone is 4% coarse).
    double x_hat = grid_.x[mle];
    if (mle > 0 && mle + 1 < n) {
      const double x0 = grid_.x[mle - 1], x1 = grid_.x[mle], x2 = grid_.x[mle + 1];
      const double y0 = s_[mle - 1], y1 = s_[mle], y2 = s_[mle + 1];
      const double den = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0);
      if (den != 0) {
        const double num = (x1 - x0) * (x1 - x0) * (y1 - y2) - (x1 - x2) * (x1 - x2) * (y1 - y0);
        x_hat = std::clamp(x1 - 0.5 * num / den, x0, x2);
      }
    }
    d.difference = std::expm1(x_hat);
    d.ci_lo = lo_ - 1.0;
    d.ci_hi = hi_ - 1.0;
    std::vector<bool> better(2), worse(2);
    if (running_p_ <= level) {
      better[k] = grid_.x[mle] > 0;
      worse[k] = grid_.x[mle] < 0;
    }
    d.winner = PickWinner(c, better, worse, {Mean(0), Mean(1)});
    char buf[300];
    std::snprintf(buf, sizeof buf,
                  "rate ratio arm %zu / control in [%.4g, %.4g] (lift %+.3g%% to %+.3g%%) at level "
                  "%.3g, always-valid p = %s, successes %.0f vs %.0f",
                  k, lo_, hi_, 100.0 * (lo_ - 1.0), 100.0 * (hi_ - 1.0), 1.0 - level,
                  FormatP(running_p_).c_str(), arms()[k].sum, arms()[c].sum);
    if (d.winner) {
      d.stop = true;
      d.reason = "bernoulli_cs: arm " + std::to_string(*d.winner) +
                 (*d.winner == c ? " (control) beats the challenger; " : " beats the control; ") +
                 buf;
    } else {
      d.reason = std::string("bernoulli_cs: not yet (p needs <= ") + FormatP(level) + "): " + buf;
    }
    return d;
  }

  // Where the confidence set ends between the excluded grid point `e` and
  // its included neighbour e - dir. f(x) = log M(x) is convex, so the secant
  // through e and the next point outwards (e + dir), extended inwards, lies
  // below f: f >= threshold wherever that line is, and the crossing of the
  // line is a conservative boundary, tighter than e itself.
  double Boundary(double log_mix, double threshold, size_t e, int dir) const {
    const double xe = grid_.x[e];
    const double fe = log_mix - s_[e];
    const size_t inner = dir < 0 ? e + 1 : e - 1;
    const bool has_outer = dir < 0 ? e > 0 : e + 1 < s_.size();
    if (!has_outer) return xe;
    const size_t outer = dir < 0 ? e - 1 : e + 1;
    const double slope = ((log_mix - s_[e]) - (log_mix - s_[outer])) / (xe - grid_.x[outer]);
    // Going inwards (towards `inner`) the line must fall to reach threshold.
    const double inward = dir < 0 ? slope : -slope;
    if (!(inward < 0)) return xe;
    const double step = (fe - threshold) / -inward;  // distance inwards, >= 0
    return dir < 0 ? std::min(xe + step, grid_.x[inner]) : std::max(xe - step, grid_.x[inner]);
  }

  void SaveExtra(policies::SnapshotState& s) const override {
    s.arrays["log_lr"] = s_;
    s.arrays["cs_state"] = {lo_, hi_, running_p_};
  }

  Status LoadExtra(const policies::SnapshotState& s) override {
    if (!s.arrays.count("log_lr") && !s.arrays.count("cs_state")) return LoadAggregates(s);
    BANDITD_ASSIGN_OR_RETURN(auto sums, policies::TakeArray(s, "log_lr", s_.size()));
    BANDITD_ASSIGN_OR_RETURN(auto state, TakeBounds(s, "cs_state", 3));
    s_ = sums;
    lo_ = (state)[0];
    hi_ = (state)[1];
    running_p_ = (state)[2];
    return Status::Ok();
  }

  // A snapshot of the arms' sums alone (bandit-sim analyze's single look at
  // a static split): S from the success counts with q = the challenger's
  // share of units. Given the units per arm and constant rates, the
  // challenger's share of the successes is Binomial(successes, theta(q, r))
  // exactly, so this is the conditional test at a fixed n.
  Status LoadAggregates(const policies::SnapshotState& s) {
    BANDITD_ASSIGN_OR_RETURN(auto n, policies::TakeArray(s, "n", 2));
    BANDITD_ASSIGN_OR_RETURN(auto sum, policies::TakeArray(s, "sum", 2));
    const size_t c = spec().control;
    const size_t k = 1 - c;
    std::fill(s_.begin(), s_.end(), 0.0);
    const double units = (n)[0] + (n)[1];
    if (units > 0) {
      const double q = (n)[k] / units;
      OnFold(k, 1.0, (sum)[k], q);
      OnFold(c, 1.0, (sum)[c], 1.0 - q);  // the control's propensity
    }
    lo_ = 0;
    hi_ = kInf;
    running_p_ = 1.0;
    return Status::Ok();
  }

 private:
  Grid grid_;
  std::vector<double> s_;  // S_t on the grid
  double lo_ = 0, hi_ = kInf;  // running intersection of the rate-ratio sets
  double running_p_ = 1.0;
};

}  // namespace

Result<std::unique_ptr<StoppingRule>> MakeBernoulliCs(const StoppingSpec& spec) {
  BANDITD_ASSIGN_OR_RETURN(auto common, ParseCommon(spec, {"prior_sd", "mde", "baseline"}));
  const std::string where = "stopping rule 'bernoulli_cs': ";
  if (spec.metric != Metric::kBernoulli) {
    return InvalidArgument(where +
                           "is for a Bernoulli metric (it conditions on successes); use "
                           "'bandit_cs' with reward_min/reward_max for a real-valued one");
  }
  if (spec.num_arms != 2) {
    return InvalidArgument(
        where + "needs exactly 2 arms (got " + std::to_string(spec.num_arms) +
        "): a success's odds of coming from the challenger need both arms' propensities, and a "
        "decision logs only the served arm's; run one experiment per challenger");
  }
  auto sd = spec.params.GetDouble("prior_sd", 0);
  auto mde = spec.params.GetDouble("mde", 0);
  auto baseline = spec.params.GetDouble("baseline", 0);
  for (auto* r : {&sd, &mde, &baseline}) {
    if (!r->ok()) return r->status().WithContext("stopping rule 'bernoulli_cs'");
  }
  double prior_sd = kDefaultPriorSd;
  if (spec.params.Has("prior_sd")) {
    prior_sd = *sd;
  } else if (spec.params.Has("mde") || spec.params.Has("baseline")) {
    if (!(*baseline > 0 && *baseline < 1 && *mde > -*baseline && *mde != 0 &&
          *baseline + *mde < 1)) {
      return InvalidArgument(where +
                             "mde and baseline (prior_sd = |log(1 + mde / baseline)|) need "
                             "baseline and baseline + mde in (0, 1), mde != 0");
    }
    prior_sd = std::abs(std::log1p(*mde / *baseline));
  }
  if (!(prior_sd >= 0.005 && prior_sd <= 3)) {
    return InvalidArgument(where + "prior_sd (of the log rate ratio) must be in [0.005, 3]");
  }
  return std::unique_ptr<StoppingRule>(new BernoulliCs(spec, common, prior_sd));
}

}  // namespace banditd::stats
