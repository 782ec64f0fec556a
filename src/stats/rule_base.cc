#include "src/stats/rule_base.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace banditd::stats {

Result<CommonParams> ParseCommon(const StoppingSpec& spec,
                                 std::initializer_list<std::string_view> known) {
  std::vector<std::string_view> all = {"alpha", "min_samples", "max_samples"};
  all.insert(all.end(), known.begin(), known.end());
  for (const auto& [key, value] : spec.params.values()) {
    if (std::find(all.begin(), all.end(), key) == all.end()) {
      return InvalidArgument("stopping rule '" + spec.name + "': unknown parameter '" + key + "'");
    }
  }
  CommonParams c;
  auto alpha = spec.params.GetDouble("alpha", c.alpha);
  auto min_s = spec.params.GetDouble("min_samples", c.min_samples);
  auto max_s = spec.params.GetDouble("max_samples", c.max_samples);
  for (auto* r : {&alpha, &min_s, &max_s}) {
    if (!r->ok()) return r->status().WithContext("stopping rule '" + spec.name + "'");
  }
  c.alpha = *alpha;
  c.min_samples = *min_s;
  c.max_samples = *max_s;
  const std::string where = "stopping rule '" + spec.name + "': ";
  if (!(c.alpha > 0 && c.alpha < 1)) return InvalidArgument(where + "alpha must be in (0, 1)");
  if (!(c.min_samples >= 0) || !std::isfinite(c.min_samples)) {
    return InvalidArgument(where + "min_samples must be >= 0");
  }
  if (!(c.max_samples >= 0) || !std::isfinite(c.max_samples) ||
      (c.max_samples > 0 && c.max_samples < c.min_samples)) {
    return InvalidArgument(where + "max_samples must be 0 (none) or >= min_samples");
  }
  if (spec.num_arms < 2) return InvalidArgument(where + "needs at least 2 arms");
  if (spec.control >= spec.num_arms) return InvalidArgument(where + "control arm out of range");
  return c;
}

RuleBase::RuleBase(const StoppingSpec& spec, CommonParams common)
    : spec_(spec), common_(common), arms_(spec.num_arms) {}

void RuleBase::Observe(size_t arm, double reward, double propensity) {
  OnObserve(arm, reward, propensity);
  ArmSums& a = arms_[arm];
  a.n += 1;
  a.sum += reward;
  a.sum_sq += reward * reward;
}

double RuleBase::SampleCount() const {
  double m = std::numeric_limits<double>::infinity();
  for (const auto& a : arms_) m = std::min(m, a.n);
  return m;
}

Moments RuleBase::AsMoments(size_t arm) const {
  const ArmSums& a = arms_[arm];
  return MomentsFromSums(a.n, a.sum, a.sum_sq);
}

double RuleBase::RewardVariance(size_t arm) const {
  if (spec_.metric == Metric::kBernoulli) {
    const double p = Mean(arm);
    return p * (1.0 - p);
  }
  return AsMoments(arm).variance;
}

StopDecision RuleBase::Check() {
  if (final_) return *final_;
  const double count = SampleCount();
  char buf[160];
  if (count < common_.min_samples) {
    StopDecision d;
    std::snprintf(buf, sizeof buf, "waiting for min_samples: %.0f of %.0f units %s", count,
                  common_.min_samples, std::string(CountName()).c_str());
    d.reason = buf;
    return d;
  }
  StopDecision d = Evaluate();
  if (!d.stop && common_.max_samples > 0 && count >= common_.max_samples) {
    d.stop = true;
    d.winner.reset();
    std::snprintf(buf, sizeof buf, "max_samples reached (%.0f units %s) without a decision: %s",
                  count, std::string(CountName()).c_str(), d.reason.c_str());
    d.reason = buf;
  }
  if (d.stop) final_ = d;
  return d;
}

std::string RuleBase::Snapshot() const {
  policies::SnapshotState s;
  std::vector<double> n, sum, sum_sq;
  for (const auto& a : arms_) {
    n.push_back(a.n);
    sum.push_back(a.sum);
    sum_sq.push_back(a.sum_sq);
  }
  s.arrays["n"] = n;
  s.arrays["sum"] = sum;
  s.arrays["sum_sq"] = sum_sq;
  if (final_) {
    s.arrays["final"] = {final_->winner ? static_cast<double>(*final_->winner) : -1.0,
                         final_->p_value};
    s.blobs["final_reason"] = final_->reason;
  }
  SaveExtra(s);
  return policies::EncodeSnapshot(name(), 1, arms_.size(), s);
}

Status RuleBase::Restore(std::string_view bytes) {
  auto decoded = policies::DecodeSnapshot(bytes, name(), 1, arms_.size());
  if (!decoded.ok()) return decoded.status();
  const auto& s = *decoded;
  auto n = policies::TakeArray(s, "n", arms_.size());
  auto sum = policies::TakeArray(s, "sum", arms_.size());
  auto sum_sq = policies::TakeArray(s, "sum_sq", arms_.size());
  for (auto* r : {&n, &sum, &sum_sq}) {
    if (!r->ok()) return r->status();
  }
  std::optional<StopDecision> final_decision;
  if (s.arrays.count("final")) {
    auto f = policies::TakeArray(s, "final", 2);
    if (!f.ok()) return f.status();
    const double w = (*f)[0];
    StopDecision d;
    d.stop = true;
    if (w >= 0) {
      if (w >= static_cast<double>(arms_.size()) || w != std::floor(w)) {
        return Status(Code::kCorruption, "stopping snapshot: winner out of range");
      }
      d.winner = static_cast<size_t>(w);
    }
    d.p_value = (*f)[1];
    auto it = s.blobs.find("final_reason");
    if (it != s.blobs.end()) d.reason = it->second;
    final_decision = d;
  }
  // Validate the rule's extra state before changing anything.
  BANDITD_RETURN_IF_ERROR(LoadExtra(s));
  for (size_t i = 0; i < arms_.size(); ++i) arms_[i] = {(*n)[i], (*sum)[i], (*sum_sq)[i]};
  final_ = final_decision;
  return Status::Ok();
}

std::optional<size_t> PickWinner(size_t control, const std::vector<bool>& better,
                                 const std::vector<bool>& worse, const std::vector<double>& means) {
  std::optional<size_t> best;
  bool all_worse = true;
  for (size_t k = 0; k < means.size(); ++k) {
    if (k == control) continue;
    if (better[k] && (!best || means[k] > means[*best])) best = k;
    if (!worse[k]) all_worse = false;
  }
  if (best) return best;
  if (all_worse) return control;
  return std::nullopt;
}

std::string FormatP(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", p);
  return buf;
}

}  // namespace banditd::stats
