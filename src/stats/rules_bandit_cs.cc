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
// Rewards are clipped to a known range [reward_min, reward_max] ([0, 1] for a
// Bernoulli metric): the rule then tests the difference of the clipped
// means, and its reason counts the clipped units. Sample bounds count units
// in total, since a bandit starves losing arms.
//
// Everything a unit's stake depends on besides its own propensity (the
// regression estimates m and the variance estimate of phi) is fixed at a
// look from the data before it and held until the next look, so units
// between two looks can be folded in groups (RuleBase) and the stakes stay
// predictable.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

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
  double AdmitReward(double reward, double count) override {
    if (reward >= p_.reward_min && reward <= p_.reward_max) return reward;
    clipped_ += count;
    return std::clamp(reward, p_.reward_min, p_.reward_max);
  }

  void OnFold(size_t arm, double reward, double count, double propensity) override {
    const size_t k = 1 - spec().control;
    // Two arms: the logged propensity of the served arm gives the other's.
    const double p = std::clamp(propensity, 0.0, 1.0);
    const double pi_k = arm == k ? p : 1.0 - p;
    using S = BettingDiffSequence::Served;
    cs_.AddRepeated(arm == k ? S::kTreatment : S::kControl, Scale(reward), count, pi_k, 1.0 - pi_k,
                    m_k_, m_c_, variance_);
  }

  // Fixes the next units' regression estimates (each arm's mean on the [0, 1]
  // scale, or the pooled mean, 1/2 before any data) and variance estimate.
  void AfterLook() override {
    const size_t c = spec().control;
    const size_t k = 1 - c;
    const double total_n = arms()[0].n + arms()[1].n;
    const double pooled = total_n > 0 ? Scale((arms()[0].sum + arms()[1].sum) / total_n) : 0.5;
    m_k_ = arms()[k].n > 0 ? Scale(Mean(k)) : pooled;
    m_c_ = arms()[c].n > 0 ? Scale(Mean(c)) : pooled;
    variance_ = cs_.RunningVariance();
  }

  StopDecision Evaluate() override {
    const size_t c = spec().control;
    const size_t k = 1 - c;
    const double range = p_.reward_max - p_.reward_min;
    StopDecision d;
    d.compared_arm = k;
    d.difference = cs_.Estimate() * range;
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
    char buf[320];
    const int len = std::snprintf(
        buf, sizeof buf,
        "confidence sequence for arm %zu - control: [%.4g, %.4g] at level %.3g "
        "(always-valid p = %s)",
        k, lo_, hi_, 1.0 - common().alpha, FormatP(running_p_).c_str());
    if (clipped_ > 0 && len > 0 && static_cast<size_t>(len) < sizeof buf) {
      std::snprintf(buf + len, sizeof buf - static_cast<size_t>(len),
                    "; %.0f rewards clipped to [%g, %g] (the sequence is for the clipped means)",
                    clipped_, p_.reward_min, p_.reward_max);
    }
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
    s.arrays["cs_state"] = {lo_, hi_, running_p_, clipped_};
    s.arrays["cs_stake"] = {m_k_, m_c_, variance_};
  }

  Status LoadExtra(const policies::SnapshotState& s) override {
    BANDITD_ASSIGN_OR_RETURN(auto sums, policies::TakeArray(s, "cs_sums", BettingSums::kFlatSize));
    // The running bounds may be infinite (no look yet), which TakeArray refuses.
    BANDITD_ASSIGN_OR_RETURN(auto state, TakeBounds(s, "cs_state", 4));
    // The stake's inputs fixed at the last look; a snapshot without them
    // (bandit-sim analyze builds one from aggregates) gets the prior means
    // and the variance of its sums.
    std::optional<std::vector<double>> stake;
    if (s.arrays.count("cs_stake")) {
      BANDITD_ASSIGN_OR_RETURN(auto st, policies::TakeArray(s, "cs_stake", 3));
      if (!((st)[2] > 0)) return Status(Code::kCorruption, "stopping snapshot: bad cs_stake");
      stake = st;
    }
    BettingSums b;
    b.Unflatten(sums);
    cs_.SetSums(b);
    lo_ = (state)[0];
    hi_ = (state)[1];
    running_p_ = (state)[2];
    clipped_ = (state)[3];
    m_k_ = stake ? (*stake)[0] : 0.5;
    m_c_ = stake ? (*stake)[1] : 0.5;
    variance_ = stake ? (*stake)[2] : cs_.RunningVariance();
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
  double clipped_ = 0;  // units whose reward was clipped into [reward_min, reward_max]
  double m_k_ = 0.5, m_c_ = 0.5;  // regression estimates fixed at the last look
  double variance_ = 0.25;         // variance estimate of phi fixed at the last look
};

}  // namespace

Result<std::unique_ptr<StoppingRule>> MakeBanditCs(const StoppingSpec& spec) {
  BANDITD_ASSIGN_OR_RETURN(auto common, ParseCommon(spec, {"tune_n", "reward_min", "reward_max"}));
  const std::string where = "stopping rule 'bandit_cs': ";
  if (spec.num_arms != 2) {
    return InvalidArgument(
        where + "needs exactly 2 arms (got " + std::to_string(spec.num_arms) +
        "): its confidence sequence needs both arms' probabilities at each draw, and a "
        "decision logs only the served arm's; use 'sequential' or one experiment per challenger");
  }
  BanditCsParams p;
  // The stake is sized for tune_n units: by default the planned maximum.
  if (common.max_samples > 0) p.tune_n = common.max_samples;
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
                           "confidence sequence is valid for rewards in a known range "
                           "(rewards outside it are clipped)");
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
  return std::unique_ptr<StoppingRule>(new BanditCs(spec, common, p));
}

}  // namespace banditd::stats
