// The bandit_cs rule: stop when the anytime-valid confidence sequence for
// (challenger mean - control mean), built from the logged propensities
// (BettingDiffSequence, src/stats/betting.h: AIPW pseudo-outcomes inside a
// betting confidence sequence), excludes 0. Valid in finite samples whatever
// the policy did with the allocation, however close to 0 it took an arm, so
// an unclipped Thompson-sampling experiment can stop on it.
//
// Two arms only: each unit's bet must be fixed before its draw from the
// probabilities of *both* arms, and a decision logs only the served arm's
// propensity — with two arms the other is 1 - p, with more it is unknown.
// Rewards must lie in a known range [reward_min, reward_max] ([0, 1] for a
// Bernoulli metric); a reward outside it voids the guarantee, so the rule
// then refuses to decide. Sample bounds count units in total, since a bandit
// starves losing arms.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "src/stats/betting.h"
#include "src/stats/rule_base.h"
#include "src/stats/rules.h"

namespace banditd::stats {
namespace {

struct BanditCsParams {
  double tune_n = 10000;
  double reward_min = 0;
  double reward_max = 1;
};

class BanditCs final : public RuleBase {
 public:
  BanditCs(const StoppingSpec& spec, CommonParams common, BanditCsParams p)
      : RuleBase(spec, common), p_(p), cs_(common.alpha, p.tune_n) {}
  std::string_view name() const override { return "bandit_cs"; }

  double SampleCount() const override { return arms()[0].n + arms()[1].n; }
  std::string_view CountName() const override { return "in total"; }

 protected:
  void OnObserve(size_t arm, double reward, double propensity) override {
    if (!(reward >= p_.reward_min && reward <= p_.reward_max)) {
      out_of_range_ += 1;
      return;
    }
    const size_t c = spec().control;
    const size_t k = 1 - c;
    // Predictable regression estimates on the [0, 1] scale: each arm's mean
    // before this unit, or the pooled mean (1/2 before any data).
    const double total_n = arms()[0].n + arms()[1].n;
    const double pooled = total_n > 0 ? Scale((arms()[0].sum + arms()[1].sum) / total_n) : 0.5;
    auto m = [&](size_t i) { return arms()[i].n > 0 ? Scale(Mean(i)) : pooled; };
    // Two arms: the logged propensity of the served arm gives the other's.
    const double p = std::clamp(propensity, 0.0, 1.0);
    const double pi_k = arm == k ? p : 1.0 - p;
    using S = BettingDiffSequence::Served;
    cs_.Add(arm == k ? S::kTreatment : S::kControl, Scale(reward), pi_k, 1.0 - pi_k, m(k), m(c));
  }

  StopDecision Evaluate() override {
    const size_t c = spec().control;
    const size_t k = 1 - c;
    const double range = p_.reward_max - p_.reward_min;
    StopDecision d;
    d.compared_arm = k;
    d.difference = cs_.Estimate() * range;
    if (out_of_range_ > 0) {
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "bandit_cs: cannot decide: %.0f rewards outside [reward_min, reward_max] = "
                    "[%g, %g], where its guarantee holds",
                    out_of_range_, p_.reward_min, p_.reward_max);
      d.reason = buf;
      return d;
    }
    lo_ = std::max(lo_, cs_.Lower() * range);
    hi_ = std::min(hi_, cs_.Upper() * range);
    running_p_ = std::min(running_p_, cs_.PValue());
    std::vector<bool> better(2), worse(2);
    better[k] = lo_ > 0;
    worse[k] = hi_ < 0;
    std::vector<double> means = {Mean(0), Mean(1)};
    d.p_value = running_p_;
    d.winner = PickWinner(c, better, worse, means);
    d.ci_lo = lo_;
    d.ci_hi = hi_;
    char buf[220];
    std::snprintf(buf, sizeof buf,
                  "confidence sequence for arm %zu - control: [%.4g, %.4g] at level %.3g "
                  "(always-valid p = %s)",
                  k, lo_, hi_, 1.0 - common().alpha, FormatP(running_p_).c_str());
    if (d.winner) {
      d.stop = true;
      d.reason = "bandit_cs: arm " + std::to_string(*d.winner) +
                 (*d.winner == c ? " (control) beats the challenger; " : " beats the control; ") +
                 buf;
    } else {
      d.reason = std::string("bandit_cs: not yet: ") + buf + " contains 0";
    }
    return d;
  }

  void SaveExtra(policies::SnapshotState& s) const override {
    s.arrays["cs_sums"] = cs_.sums().Flatten();
    s.arrays["cs_state"] = {lo_, hi_, running_p_, out_of_range_};
  }

  Status LoadExtra(const policies::SnapshotState& s) override {
    auto sums = policies::TakeArray(s, "cs_sums", BettingSums::kFlatSize);
    if (!sums.ok()) return sums.status();
    // The running bounds may be infinite (no look yet), which TakeArray refuses.
    auto state = TakeBounds(s, "cs_state", 4);
    if (!state.ok()) return state.status();
    BettingSums b;
    b.Unflatten(*sums);
    cs_.SetSums(b);
    lo_ = (*state)[0];
    hi_ = (*state)[1];
    running_p_ = (*state)[2];
    out_of_range_ = (*state)[3];
    return Status::Ok();
  }

 private:
  double Scale(double reward) const {
    return std::clamp((reward - p_.reward_min) / (p_.reward_max - p_.reward_min), 0.0, 1.0);
  }

  BanditCsParams p_;
  BettingDiffSequence cs_;
  double lo_ = -std::numeric_limits<double>::infinity();
  double hi_ = std::numeric_limits<double>::infinity();
  double running_p_ = 1.0;
  double out_of_range_ = 0;
};

}  // namespace

Result<std::unique_ptr<StoppingRule>> MakeBanditCs(const StoppingSpec& spec) {
  auto common = ParseCommon(spec, {"tune_n", "reward_min", "reward_max"});
  if (!common.ok()) return common.status();
  const std::string where = "stopping rule 'bandit_cs': ";
  if (spec.num_arms != 2) {
    return InvalidArgument(
        where + "needs exactly 2 arms (got " + std::to_string(spec.num_arms) +
        "): its confidence sequence needs both arms' probabilities at each draw, and a "
        "decision logs only the served arm's; use 'sequential' or one experiment per challenger");
  }
  BanditCsParams p;
  // The stake is sized for tune_n units: by default the planned maximum.
  if (common->max_samples > 0) p.tune_n = common->max_samples;
  auto tune_n = spec.params.GetDouble("tune_n", p.tune_n);
  if (!tune_n.ok()) return tune_n.status().WithContext("stopping rule 'bandit_cs'");
  if (!(*tune_n >= 1) || !std::isfinite(*tune_n)) {
    return InvalidArgument(where + "tune_n must be >= 1");
  }
  p.tune_n = *tune_n;
  const bool bernoulli = spec.metric == Metric::kBernoulli;
  const bool has_range = spec.params.Has("reward_min") || spec.params.Has("reward_max");
  if (!bernoulli && !(spec.params.Has("reward_min") && spec.params.Has("reward_max"))) {
    return InvalidArgument(where +
                           "a real-valued metric needs reward_min and reward_max: the "
                           "confidence sequence is valid for rewards in a known range");
  }
  if (has_range) {
    auto lo = spec.params.GetDouble("reward_min", p.reward_min);
    auto hi = spec.params.GetDouble("reward_max", p.reward_max);
    if (!lo.ok()) return lo.status().WithContext("stopping rule 'bandit_cs'");
    if (!hi.ok()) return hi.status().WithContext("stopping rule 'bandit_cs'");
    if (!std::isfinite(*lo) || !std::isfinite(*hi) || !(*lo < *hi)) {
      return InvalidArgument(where + "reward_min < reward_max, both finite, is required");
    }
    p.reward_min = *lo;
    p.reward_max = *hi;
  }
  return std::unique_ptr<StoppingRule>(new BanditCs(spec, *common, p));
}

}  // namespace banditd::stats
