// The frequentist A/B rules: fixed_horizon, naive_peeking and sequential.
// Each challenger is compared with the control; with K arms the level is
// split Bonferroni-style (alpha / (K - 1) per comparison).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "src/stats/planning.h"
#include "src/stats/rule_base.h"
#include "src/stats/rules.h"
#include "src/stats/sequential.h"

namespace banditd::stats {
namespace {

// One comparison of challenger k against the control at a look:
// pooled z-test (Bernoulli) or Welch's t-test (real-valued), two-sided.
TestResult Compare(const RuleBase& rule, size_t k) {
  const size_t c = rule.spec().control;
  if (rule.spec().metric == Metric::kBernoulli) {
    return TwoProportionZTest(rule.AsProportion(c), rule.AsProportion(k), Alternative::kTwoSided);
  }
  return WelchTTest(rule.AsMoments(c), rule.AsMoments(k), Alternative::kTwoSided);
}

// The fixed-horizon interval for challenger k - control at `confidence`:
// Newcombe (Bernoulli) or Welch (real-valued).
Interval CompareInterval(const RuleBase& rule, size_t k, double confidence) {
  const size_t c = rule.spec().control;
  if (rule.spec().metric == Metric::kBernoulli) {
    return NewcombeDiffInterval(rule.AsProportion(c), rule.AsProportion(k), confidence);
  }
  return WelchDiffInterval(rule.AsMoments(c), rule.AsMoments(k), confidence);
}

double PerComparisonAlpha(const StoppingSpec& spec, double alpha) {
  return alpha / static_cast<double>(spec.num_arms - 1);
}

// Builds the decision from per-challenger p-values and estimated differences.
// ci[k]: the rule's interval for challenger k - control.
StopDecision Decide(const RuleBase& rule, const std::vector<double>& p,
                    const std::vector<double>& diff, const std::vector<Interval>& ci, double level,
                    bool must_stop, const char* test_name) {
  const size_t c = rule.spec().control;
  std::vector<bool> better(p.size()), worse(p.size());
  std::vector<double> means(p.size());
  double min_p = 1.0;
  size_t shown = c == 0 ? 1 : 0;
  for (size_t k = 0; k < p.size(); ++k) {
    means[k] = rule.Mean(k);
    if (k == c) continue;
    const bool sig = p[k] < level;  // NaN compares false: no evidence
    better[k] = sig && diff[k] > 0;
    worse[k] = sig && diff[k] < 0;
    if (p[k] < min_p) {
      min_p = p[k];
      shown = k;
    }
  }
  StopDecision d;
  d.p_value = min_p;
  d.winner = PickWinner(c, better, worse, means);
  if (d.winner && *d.winner != c) shown = *d.winner;
  d.compared_arm = shown;
  d.difference = diff[shown];
  if (!std::isnan(ci[shown].lo) && !std::isnan(ci[shown].hi)) {
    d.ci_lo = ci[shown].lo;
    d.ci_hi = ci[shown].hi;
  }
  char buf[200];
  if (d.winner) {
    d.stop = true;
    std::snprintf(buf, sizeof buf, "%s: arm %zu %s (p = %s < %s)", test_name, *d.winner,
                  *d.winner == c ? "(control) beats every challenger" : "beats the control",
                  FormatP(min_p).c_str(), FormatP(level).c_str());
  } else if (must_stop) {
    d.stop = true;
    std::snprintf(buf, sizeof buf,
                  "%s at the planned horizon: no significant difference (p = %s >= %s)", test_name,
                  FormatP(min_p).c_str(), FormatP(level).c_str());
  } else {
    std::snprintf(buf, sizeof buf, "%s: not significant yet (p = %s, needs < %s)", test_name,
                  FormatP(min_p).c_str(), FormatP(level).c_str());
  }
  d.reason = buf;
  return d;
}

// Kohavi, Deng & Vermeer ("A/B testing intuition busters", KDD 2022) and
// Kohavi, Tang & Xu (Trustworthy Online Controlled Experiments, 2020, ch.
// 17): the normal approximation of a mean is adequate once n > 355 s^2, s
// the skewness of one reward.
constexpr double kSkewnessFactor = 355;

// What fixed_horizon and sequential share for a real-valued metric: rewards
// winsorized at `cap` (param `cap`; none by default), and the skewness guard
// n > 355 s^2 per arm before the normal approximation is trusted.
class NormalRule : public RuleBase {
 public:
  NormalRule(const StoppingSpec& spec, CommonParams common, double cap)
      : RuleBase(spec, common), cap_(cap) {}

 protected:
  double AdmitReward(double reward, double count) override {
    if (!(reward > cap_)) return reward;
    capped_ += count;
    return cap_;
  }

  // "" when every arm of a real-valued metric has enough units for its
  // running skewness s (of the capped rewards); else why the rule waits.
  std::string SkewnessWait() const {
    if (spec().metric == Metric::kBernoulli) return "";
    for (size_t i = 0; i < arms().size(); ++i) {
      const ArmSums& a = arms()[i];
      if (a.n < 3) continue;  // min_samples guards tiny n
      const double m = a.sum / a.n;
      const double m2 = a.sum_sq / a.n - m * m;
      const double m3 = a.sum_cube / a.n - 3.0 * m * a.sum_sq / a.n + 2.0 * m * m * m;
      if (!(m2 > 0)) continue;
      const double skew = m3 / std::pow(m2, 1.5);
      const double needed = kSkewnessFactor * skew * skew;
      if (a.n <= needed) {
        char buf[220];
        std::snprintf(buf, sizeof buf,
                      "%s: waiting for the skewness guard: arm %zu has %.0f of %.0f units "
                      "(skewness %.3g, n > 355 skewness^2; a lower cap shortens the wait)",
                      std::string(name()).c_str(), i, a.n, std::ceil(needed), skew);
        return buf;
      }
    }
    return "";
  }

  // "; N rewards capped at C (...)" once any was.
  std::string CapNote() const {
    if (capped_ <= 0) return "";
    char buf[160];
    std::snprintf(buf, sizeof buf, "; %.0f rewards capped at %g (the test is for capped means)",
                  capped_, cap_);
    return buf;
  }

  void SaveCapped(policies::SnapshotState& s) const {
    if (capped_ > 0) s.arrays["capped"] = {capped_};
  }
  Status LoadCapped(const policies::SnapshotState& s) {
    double capped = 0;
    if (s.arrays.count("capped")) {
      BANDITD_ASSIGN_OR_RETURN(auto cp, policies::TakeArray(s, "capped", 1));
      capped = (cp)[0];
    }
    capped_ = capped;
    return Status::Ok();
  }

 private:
  double cap_;
  double capped_ = 0;
};

// The rule's `cap` param: +inf when absent; only for a real-valued metric.
Result<double> ParseCap(const StoppingSpec& spec, const std::string& rule) {
  double cap = std::numeric_limits<double>::infinity();
  if (!spec.params.Has("cap")) return cap;
  const std::string where = "stopping rule '" + rule + "': ";
  if (spec.metric == Metric::kBernoulli) {
    return InvalidArgument(where + "cap applies to a real-valued metric only");
  }
  auto c = spec.params.GetDouble("cap", cap);
  if (!c.ok()) return c.status().WithContext("stopping rule '" + rule + "'");
  if (!std::isfinite(*c)) return InvalidArgument(where + "cap must be finite");
  return *c;
}

class FixedHorizon final : public NormalRule {
 public:
  FixedHorizon(const StoppingSpec& spec, CommonParams common, double horizon, double cap)
      : NormalRule(spec, common, cap), horizon_(horizon) {}
  std::string_view name() const override { return "fixed_horizon"; }

 protected:
  StopDecision Evaluate() override {
    const double count = SampleCount();
    if (count < horizon_) {
      StopDecision d;
      char buf[128];
      std::snprintf(buf, sizeof buf, "planned horizon not reached: %.0f of %.0f units per arm",
                    count, horizon_);
      d.reason = buf;
      return d;
    }
    // Welch's test on a skewed metric runs hot until the guard holds: the
    // analysis waits past the horizon (a cap shortens the wait).
    if (std::string wait = SkewnessWait(); !wait.empty()) {
      StopDecision d;
      d.reason = std::move(wait);
      return d;
    }
    const double level = PerComparisonAlpha(spec(), common().alpha);
    std::vector<double> p(spec().num_arms, 1.0), diff(spec().num_arms, 0.0);
    std::vector<Interval> ci(spec().num_arms);
    for (size_t k = 0; k < spec().num_arms; ++k) {
      if (k == spec().control) continue;
      // Bernoulli: Fisher's exact test, which keeps its level at the rare
      // rates and lopsided splits where the z-test runs hot.
      p[k] = spec().metric == Metric::kBernoulli
                 ? FisherExactTest(AsProportion(spec().control), AsProportion(k),
                                   Alternative::kTwoSided)
                       .p_value
                 : Compare(*this, k).p_value;
      diff[k] = Mean(k) - Mean(spec().control);
      ci[k] = CompareInterval(*this, k, 1.0 - level);
    }
    StopDecision d = Decide(*this, p, diff, ci, level, true,
                            spec().metric == Metric::kBernoulli ? "Fisher's exact test"
                                                                : "Welch t-test");
    d.reason += CapNote();
    return d;
  }
  void SaveExtra(policies::SnapshotState& s) const override { SaveCapped(s); }
  Status LoadExtra(const policies::SnapshotState& s) override { return LoadCapped(s); }

 private:
  double horizon_;
};

class NaivePeeking final : public RuleBase {
 public:
  using RuleBase::RuleBase;
  std::string_view name() const override { return "naive_peeking"; }

 protected:
  StopDecision Evaluate() override {
    const double level = PerComparisonAlpha(spec(), common().alpha);
    std::vector<double> p(spec().num_arms, 1.0), diff(spec().num_arms, 0.0);
    std::vector<Interval> ci(spec().num_arms);
    for (size_t k = 0; k < spec().num_arms; ++k) {
      if (k == spec().control) continue;
      p[k] = Compare(*this, k).p_value;
      diff[k] = Mean(k) - Mean(spec().control);
      ci[k] = CompareInterval(*this, k, 1.0 - level);
    }
    return Decide(*this, p, diff, ci, level, false,
                  spec().metric == Metric::kBernoulli
                      ? "z-test at this look (naive peeking)"
                      : "Welch t-test at this look (naive peeking)");
  }
};

class Sequential final : public NormalRule {
 public:
  Sequential(const StoppingSpec& spec, CommonParams common, double tau2, double cap)
      : NormalRule(spec, common, cap),
        tau2_(tau2),
        running_p_(spec.num_arms, 1.0),
        lo_(spec.num_arms, -std::numeric_limits<double>::infinity()),
        hi_(spec.num_arms, std::numeric_limits<double>::infinity()) {}
  std::string_view name() const override { return "sequential"; }

 protected:
  // The variance of the difference of means under H0: pooled across the two
  // arms (a Bernoulli arm without successes yet has plug-in variance 0, and a
  // small arm's own estimate is the noisiest term), for a real-valued metric
  // the larger of the pooled and Welch's plug-in.
  double NullVariance(size_t k) const {
    const size_t c = spec().control;
    const ArmSums& a = arms()[k];
    const ArmSums& b = arms()[c];
    const double inv = 1.0 / a.n + 1.0 / b.n;
    const double n = a.n + b.n;
    if (spec().metric == Metric::kBernoulli) {
      const double pbar = (a.sum + b.sum) / n;
      return pbar * (1.0 - pbar) * inv;
    }
    const double mean = (a.sum + b.sum) / n;
    const double pooled = std::max(0.0, (a.sum_sq + b.sum_sq - n * mean * mean) / (n - 1.0));
    const double welch = RewardVariance(k) / a.n + RewardVariance(c) / b.n;
    return std::max(pooled * inv, welch);
  }

  StopDecision Evaluate() override {
    const size_t c = spec().control;
    if (std::string wait = SkewnessWait(); !wait.empty()) {
      StopDecision d;
      d.reason = std::move(wait);
      return d;
    }
    const double level = PerComparisonAlpha(spec(), common().alpha);
    std::vector<double> diff(spec().num_arms, 0.0);
    std::vector<Interval> ci(spec().num_arms);
    for (size_t k = 0; k < spec().num_arms; ++k) {
      if (k == c) continue;
      diff[k] = Mean(k) - Mean(c);
      const double v = NullVariance(k);
      if (v > 0) {  // no variance yet: no evidence either way
        const MsprtLook look = MsprtAt(diff[k], v, tau2_, level);
        running_p_[k] = std::min(running_p_[k], look.p_value);
        // The always-valid interval is the running intersection over looks.
        lo_[k] = std::max(lo_[k], look.ci.lo);
        hi_[k] = std::min(hi_[k], look.ci.hi);
      }
      ci[k] = {lo_[k], hi_[k]};
    }
    StopDecision d = Decide(*this, running_p_, diff, ci, level, false, "mSPRT always-valid p");
    d.reason += CapNote();
    return d;
  }
  void SaveExtra(policies::SnapshotState& s) const override {
    s.arrays["running_p"] = running_p_;
    s.arrays["ci_lo"] = lo_;
    s.arrays["ci_hi"] = hi_;
    SaveCapped(s);
  }
  Status LoadExtra(const policies::SnapshotState& s) override {
    BANDITD_ASSIGN_OR_RETURN(auto p, policies::TakeArray(s, "running_p", spec().num_arms));
    BANDITD_ASSIGN_OR_RETURN(auto lo, TakeBounds(s, "ci_lo", spec().num_arms));
    BANDITD_ASSIGN_OR_RETURN(auto hi, TakeBounds(s, "ci_hi", spec().num_arms));
    BANDITD_RETURN_IF_ERROR(LoadCapped(s));
    running_p_ = p;
    lo_ = lo;
    hi_ = hi;
    return Status::Ok();
  }

 private:
  double tau2_;
  std::vector<double> running_p_, lo_, hi_;
};

}  // namespace

Result<std::unique_ptr<StoppingRule>> MakeFixedHorizon(const StoppingSpec& spec) {
  BANDITD_ASSIGN_OR_RETURN(auto common,
                           ParseCommon(spec, {"n_per_arm", "mde", "power", "baseline", "sd", "cap"},
                                       kNormalRuleMinSuccesses));
  const std::string where = "stopping rule 'fixed_horizon': ";
  auto n = spec.params.GetDouble("n_per_arm", 0);
  auto mde = spec.params.GetDouble("mde", 0);
  auto power = spec.params.GetDouble("power", 0.8);
  auto baseline = spec.params.GetDouble("baseline", 0);
  auto sd = spec.params.GetDouble("sd", 0);
  for (auto* r : {&n, &mde, &power, &baseline, &sd}) {
    if (!r->ok()) return r->status().WithContext("stopping rule 'fixed_horizon'");
  }
  double horizon = *n;
  if (horizon <= 0) {
    if (*mde == 0 || !std::isfinite(*mde)) {
      return InvalidArgument(where + "needs n_per_arm, or mde (+ baseline or sd) to plan it");
    }
    if (!(*power > 0 && *power < 1)) return InvalidArgument(where + "power must be in (0, 1)");
    PlanInputs in;
    in.alpha = PerComparisonAlpha(spec, common.alpha);
    if (spec.metric == Metric::kBernoulli) {
      if (!(*baseline > 0 && *baseline < 1 && *baseline + *mde > 0 && *baseline + *mde < 1)) {
        return InvalidArgument(where + "baseline and baseline + mde must be in (0, 1)");
      }
      // Planned for the z-test, then continuity-corrected for Fisher's exact
      // test, which the rule decides with (Fleiss, Tytun & Ury 1980; for
      // equal arms Casagrande, Pike & Smith 1978): n/4 (1 + sqrt(1 +
      // 2 (r + 1) / (n r |mde|)))^2, r control units per treatment unit.
      const double z_n = SampleSizeProportions(*baseline, *mde, *power, in);
      const double r = in.ratio;
      const double root = std::sqrt(1.0 + 2.0 * (r + 1.0) / (z_n * r * std::fabs(*mde)));
      horizon = std::ceil(z_n / 4.0 * (1.0 + root) * (1.0 + root));
    } else {
      if (!(*sd > 0)) return InvalidArgument(where + "sd must be > 0 to plan from mde");
      horizon = std::ceil(SampleSizeMeans(*sd, *mde, *power, in));
    }
  }
  if (!std::isfinite(horizon)) return InvalidArgument(where + "planned horizon is not finite");
  BANDITD_ASSIGN_OR_RETURN(auto cap, ParseCap(spec, "fixed_horizon"));
  return std::unique_ptr<StoppingRule>(new FixedHorizon(spec, common, horizon, cap));
}

Result<std::unique_ptr<StoppingRule>> MakeNaivePeeking(const StoppingSpec& spec) {
  BANDITD_ASSIGN_OR_RETURN(auto common, ParseCommon(spec, {}, kNormalRuleMinSuccesses));
  return std::unique_ptr<StoppingRule>(new NaivePeeking(spec, common));
}

Result<std::unique_ptr<StoppingRule>> MakeSequential(const StoppingSpec& spec) {
  BANDITD_ASSIGN_OR_RETURN(auto common,
                           ParseCommon(spec, {"tau2", "mde", "cap"}, kNormalRuleMinSuccesses));
  const std::string where = "stopping rule 'sequential': ";
  auto tau2 = spec.params.GetDouble("tau2", 0);
  auto mde = spec.params.GetDouble("mde", 0);
  if (!tau2.ok()) return tau2.status().WithContext("stopping rule 'sequential'");
  if (!mde.ok()) return mde.status().WithContext("stopping rule 'sequential'");
  double t2 = *tau2;
  if (t2 == 0 && *mde != 0) t2 = *mde * *mde;
  if (!(t2 > 0) || !std::isfinite(t2)) {
    return InvalidArgument(where + "needs tau2 > 0 (mixing variance) or mde (tau2 = mde^2)");
  }
  BANDITD_ASSIGN_OR_RETURN(auto cap, ParseCap(spec, "sequential"));
  return std::unique_ptr<StoppingRule>(new Sequential(spec, common, t2, cap));
}

}  // namespace banditd::stats
