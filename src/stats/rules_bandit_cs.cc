// The bandit_cs rule: stop when the anytime-valid confidence sequence for
// (challenger mean - control mean), built from the logged propensities
// (IpwConfidenceSequence: AIPW pseudo-outcomes + the Gaussian-mixture
// asymptotic confidence sequence), excludes 0. Valid whatever the policy did
// with the allocation, so a Thompson-sampling experiment can stop on it.
// Sample bounds count units in total, since a bandit starves losing arms.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "src/stats/rule_base.h"
#include "src/stats/rules.h"
#include "src/stats/sequential.h"

namespace banditd::stats {
namespace {

class BanditCs final : public RuleBase {
 public:
  BanditCs(const StoppingSpec& spec, CommonParams common, double tune_n)
      : RuleBase(spec, common),
        level_(common.alpha / static_cast<double>(spec.num_arms - 1)),
        streams_(spec.num_arms, IpwConfidenceSequence(level_, tune_n)),
        lo_(spec.num_arms, -std::numeric_limits<double>::infinity()),
        hi_(spec.num_arms, std::numeric_limits<double>::infinity()),
        running_p_(spec.num_arms, 1.0) {}
  std::string_view name() const override { return "bandit_cs"; }

  double SampleCount() const override {
    double t = 0;
    for (const auto& a : arms()) t += a.n;
    return t;
  }
  std::string_view CountName() const override { return "in total"; }

 protected:
  void OnObserve(size_t arm, double reward, double propensity) override {
    // Predictable regression estimates: each arm's mean before this unit,
    // or the pooled mean of all earlier units for an arm not yet seen.
    double total_n = 0, total_sum = 0;
    for (const auto& a : arms()) {
      total_n += a.n;
      total_sum += a.sum;
    }
    const double pooled = total_n > 0 ? total_sum / total_n : 0.0;
    auto m = [&](size_t i) { return arms()[i].n > 0 ? Mean(i) : pooled; };
    const size_t c = spec().control;
    for (size_t k = 0; k < spec().num_arms; ++k) {
      if (k == c) continue;
      using S = IpwConfidenceSequence::Served;
      const S served = arm == k ? S::kTreatment : arm == c ? S::kControl : S::kOther;
      streams_[k].Add(served, reward, propensity, m(c), m(k));
    }
  }

  StopDecision Evaluate() override {
    const size_t c = spec().control;
    std::vector<bool> better(spec().num_arms), worse(spec().num_arms);
    std::vector<double> means(spec().num_arms);
    double min_p = 1.0;
    size_t shown = c == 0 ? 1 : 0;
    for (size_t k = 0; k < spec().num_arms; ++k) {
      means[k] = Mean(k);
      if (k == c) continue;
      const Interval now = streams_[k].Current();
      lo_[k] = std::max(lo_[k], now.lo);
      hi_[k] = std::min(hi_[k], now.hi);
      running_p_[k] = std::min(running_p_[k], streams_[k].PValue());
      better[k] = lo_[k] > 0;
      worse[k] = hi_[k] < 0;
      if (running_p_[k] < min_p) {
        min_p = running_p_[k];
        shown = k;
      }
    }
    StopDecision d;
    d.p_value = min_p;
    d.winner = PickWinner(c, better, worse, means);
    char buf[220];
    std::snprintf(buf, sizeof buf,
                  "confidence sequence for arm %zu - control: [%.4g, %.4g] at level %.3g "
                  "(always-valid p = %s)",
                  shown, lo_[shown], hi_[shown], 1.0 - level_, FormatP(min_p).c_str());
    if (d.winner) {
      d.stop = true;
      d.reason = "bandit_cs: arm " + std::to_string(*d.winner) +
                 (*d.winner == c ? " (control) beats every challenger; " : " beats the control; ") +
                 buf;
    } else {
      d.reason = std::string("bandit_cs: not yet: ") + buf + " contains 0";
    }
    return d;
  }

  void SaveExtra(policies::SnapshotState& s) const override {
    std::vector<double> t, sum, sum_sq;
    for (const auto& st : streams_) {
      t.push_back(st.count());
      sum.push_back(st.sum());
      sum_sq.push_back(st.sum_sq());
    }
    s.arrays["cs_t"] = t;
    s.arrays["cs_sum"] = sum;
    s.arrays["cs_sum_sq"] = sum_sq;
    s.arrays["cs_lo"] = lo_;
    s.arrays["cs_hi"] = hi_;
    s.arrays["running_p"] = running_p_;
  }

  Status LoadExtra(const policies::SnapshotState& s) override {
    const size_t k = spec().num_arms;
    auto t = policies::TakeArray(s, "cs_t", k);
    auto sum = policies::TakeArray(s, "cs_sum", k);
    auto sum_sq = policies::TakeArray(s, "cs_sum_sq", k);
    auto p = policies::TakeArray(s, "running_p", k);
    for (auto* r : {&t, &sum, &sum_sq, &p}) {
      if (!r->ok()) return r->status();
    }
    // The running bounds may be infinite (no look yet), which TakeArray refuses.
    auto lo = s.arrays.find("cs_lo");
    auto hi = s.arrays.find("cs_hi");
    if (lo == s.arrays.end() || hi == s.arrays.end() || lo->second.size() != k ||
        hi->second.size() != k) {
      return Status(Code::kCorruption, "bandit_cs snapshot: missing running bounds");
    }
    for (size_t i = 0; i < k; ++i) streams_[i].SetState((*t)[i], (*sum)[i], (*sum_sq)[i]);
    lo_ = lo->second;
    hi_ = hi->second;
    running_p_ = *p;
    return Status::Ok();
  }

 private:
  double level_;
  std::vector<IpwConfidenceSequence> streams_;
  std::vector<double> lo_, hi_, running_p_;
};

}  // namespace

Result<std::unique_ptr<StoppingRule>> MakeBanditCs(const StoppingSpec& spec) {
  auto common = ParseCommon(spec, {"tune_n"});
  if (!common.ok()) return common.status();
  auto tune_n = spec.params.GetDouble("tune_n", 10000);
  if (!tune_n.ok()) return tune_n.status().WithContext("stopping rule 'bandit_cs'");
  if (!(*tune_n >= 1) || !std::isfinite(*tune_n)) {
    return InvalidArgument("stopping rule 'bandit_cs': tune_n must be >= 1");
  }
  return std::unique_ptr<StoppingRule>(new BanditCs(spec, *common, *tune_n));
}

}  // namespace banditd::stats
