// The frequentist A/B rules: fixed_horizon, naive_peeking and sequential.
// Each challenger is compared with the control; with K arms the level is
// split Bonferroni-style (alpha / (K - 1) per comparison).
#include <cmath>
#include <cstdio>
#include <limits>

#include "src/stats/planning.h"
#include "src/stats/rule_base.h"
#include "src/stats/rules.h"
#include "src/stats/sequential.h"

namespace banditd::stats {
namespace {

// One fixed-horizon comparison of challenger k against the control:
// pooled z-test (Bernoulli) or Welch's t-test (real-valued), two-sided.
TestResult Compare(const RuleBase& rule, size_t k) {
  const size_t c = rule.spec().control;
  if (rule.spec().metric == Metric::kBernoulli) {
    return TwoProportionZTest(rule.AsProportion(c), rule.AsProportion(k), Alternative::kTwoSided);
  }
  return WelchTTest(rule.AsMoments(c), rule.AsMoments(k), Alternative::kTwoSided);
}

double PerComparisonAlpha(const StoppingSpec& spec, double alpha) {
  return alpha / static_cast<double>(spec.num_arms - 1);
}

// Builds the decision from per-challenger p-values and estimated differences.
StopDecision Decide(const RuleBase& rule, const std::vector<double>& p,
                    const std::vector<double>& diff, double level, bool must_stop,
                    const char* test_name) {
  const size_t c = rule.spec().control;
  std::vector<bool> better(p.size()), worse(p.size());
  std::vector<double> means(p.size());
  double min_p = 1.0;
  for (size_t k = 0; k < p.size(); ++k) {
    means[k] = rule.Mean(k);
    if (k == c) continue;
    const bool sig = p[k] < level;  // NaN compares false: no evidence
    better[k] = sig && diff[k] > 0;
    worse[k] = sig && diff[k] < 0;
    if (p[k] < min_p) min_p = p[k];
  }
  StopDecision d;
  d.p_value = min_p;
  d.winner = PickWinner(c, better, worse, means);
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

class FixedHorizon final : public RuleBase {
 public:
  FixedHorizon(const StoppingSpec& spec, CommonParams common, double horizon)
      : RuleBase(spec, common), horizon_(horizon) {}
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
    std::vector<double> p(spec().num_arms, 1.0), diff(spec().num_arms, 0.0);
    for (size_t k = 0; k < spec().num_arms; ++k) {
      if (k == spec().control) continue;
      p[k] = Compare(*this, k).p_value;
      diff[k] = Mean(k) - Mean(spec().control);
    }
    return Decide(*this, p, diff, PerComparisonAlpha(spec(), common().alpha), true,
                  spec().metric == Metric::kBernoulli ? "z-test" : "Welch t-test");
  }

 private:
  double horizon_;
};

class NaivePeeking final : public RuleBase {
 public:
  using RuleBase::RuleBase;
  std::string_view name() const override { return "naive_peeking"; }

 protected:
  StopDecision Evaluate() override {
    std::vector<double> p(spec().num_arms, 1.0), diff(spec().num_arms, 0.0);
    for (size_t k = 0; k < spec().num_arms; ++k) {
      if (k == spec().control) continue;
      p[k] = Compare(*this, k).p_value;
      diff[k] = Mean(k) - Mean(spec().control);
    }
    return Decide(*this, p, diff, PerComparisonAlpha(spec(), common().alpha), false,
                  spec().metric == Metric::kBernoulli
                      ? "z-test at this look (naive peeking)"
                      : "Welch t-test at this look (naive peeking)");
  }
};

class Sequential final : public RuleBase {
 public:
  Sequential(const StoppingSpec& spec, CommonParams common, double tau2)
      : RuleBase(spec, common), tau2_(tau2), running_p_(spec.num_arms, 1.0) {}
  std::string_view name() const override { return "sequential"; }

 protected:
  StopDecision Evaluate() override {
    const size_t c = spec().control;
    std::vector<double> diff(spec().num_arms, 0.0);
    for (size_t k = 0; k < spec().num_arms; ++k) {
      if (k == c) continue;
      diff[k] = Mean(k) - Mean(c);
      const double v = RewardVariance(k) / arms()[k].n + RewardVariance(c) / arms()[c].n;
      if (!(v > 0)) continue;  // no variance yet: no evidence either way
      const MsprtLook look = MsprtAt(diff[k], v, tau2_, common().alpha);
      running_p_[k] = std::min(running_p_[k], look.p_value);
    }
    return Decide(*this, running_p_, diff, PerComparisonAlpha(spec(), common().alpha), false,
                  "mSPRT always-valid p");
  }
  void SaveExtra(policies::SnapshotState& s) const override { s.arrays["running_p"] = running_p_; }
  Status LoadExtra(const policies::SnapshotState& s) override {
    auto p = policies::TakeArray(s, "running_p", spec().num_arms);
    if (!p.ok()) return p.status();
    running_p_ = *p;
    return Status::Ok();
  }

 private:
  double tau2_;
  std::vector<double> running_p_;
};

}  // namespace

Result<std::unique_ptr<StoppingRule>> MakeFixedHorizon(const StoppingSpec& spec) {
  auto common = ParseCommon(spec, {"n_per_arm", "mde", "power", "baseline", "sd"});
  if (!common.ok()) return common.status();
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
    in.alpha = PerComparisonAlpha(spec, common->alpha);
    if (spec.metric == Metric::kBernoulli) {
      if (!(*baseline > 0 && *baseline < 1 && *baseline + *mde > 0 && *baseline + *mde < 1)) {
        return InvalidArgument(where + "baseline and baseline + mde must be in (0, 1)");
      }
      horizon = std::ceil(SampleSizeProportions(*baseline, *mde, *power, in));
    } else {
      if (!(*sd > 0)) return InvalidArgument(where + "sd must be > 0 to plan from mde");
      horizon = std::ceil(SampleSizeMeans(*sd, *mde, *power, in));
    }
  }
  if (!std::isfinite(horizon)) return InvalidArgument(where + "planned horizon is not finite");
  return std::unique_ptr<StoppingRule>(new FixedHorizon(spec, *common, horizon));
}

Result<std::unique_ptr<StoppingRule>> MakeNaivePeeking(const StoppingSpec& spec) {
  auto common = ParseCommon(spec, {});
  if (!common.ok()) return common.status();
  return std::unique_ptr<StoppingRule>(new NaivePeeking(spec, *common));
}

Result<std::unique_ptr<StoppingRule>> MakeSequential(const StoppingSpec& spec) {
  auto common = ParseCommon(spec, {"tau2", "mde"});
  if (!common.ok()) return common.status();
  auto tau2 = spec.params.GetDouble("tau2", 0);
  auto mde = spec.params.GetDouble("mde", 0);
  if (!tau2.ok()) return tau2.status().WithContext("stopping rule 'sequential'");
  if (!mde.ok()) return mde.status().WithContext("stopping rule 'sequential'");
  double t2 = *tau2;
  if (t2 == 0 && *mde != 0) t2 = *mde * *mde;
  if (!(t2 > 0) || !std::isfinite(t2)) {
    return InvalidArgument(
        "stopping rule 'sequential': needs tau2 > 0 (mixing variance) or mde (tau2 = mde^2)");
  }
  return std::unique_ptr<StoppingRule>(new Sequential(spec, *common, t2));
}

}  // namespace banditd::stats
