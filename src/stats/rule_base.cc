#include "src/stats/rule_base.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace banditd::stats {

Result<CommonParams> ParseCommon(const StoppingSpec& spec,
                                 std::initializer_list<std::string_view> known,
                                 double default_min_successes) {
  std::vector<std::string_view> all = {"alpha", "min_samples", "max_samples", "min_successes",
                                       "min_duration"};
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
  auto min_succ = spec.params.GetDouble("min_successes", default_min_successes);
  auto min_dur = spec.params.GetDouble("min_duration", c.min_duration);
  for (auto* r : {&alpha, &min_s, &max_s, &min_succ, &min_dur}) {
    if (!r->ok()) return r->status().WithContext("stopping rule '" + spec.name + "'");
  }
  c.alpha = *alpha;
  c.min_samples = *min_s;
  c.max_samples = *max_s;
  c.min_successes = *min_succ;
  c.min_duration = *min_dur;
  const std::string where = "stopping rule '" + spec.name + "': ";
  if (!(c.alpha > 0 && c.alpha < 1)) return InvalidArgument(where + "alpha must be in (0, 1)");
  if (!(c.min_samples >= 0) || !std::isfinite(c.min_samples)) {
    return InvalidArgument(where + "min_samples must be >= 0");
  }
  if (!(c.max_samples >= 0) || !std::isfinite(c.max_samples) ||
      (c.max_samples > 0 && c.max_samples < c.min_samples)) {
    return InvalidArgument(where + "max_samples must be 0 (none) or >= min_samples");
  }
  if (!(c.min_successes >= 0) || !std::isfinite(c.min_successes)) {
    return InvalidArgument(where + "min_successes must be >= 0");
  }
  if (c.min_successes > 0 && spec.params.Has("min_successes") &&
      spec.metric != Metric::kBernoulli) {
    return InvalidArgument(where + "min_successes applies to a Bernoulli metric only");
  }
  if (spec.metric != Metric::kBernoulli) c.min_successes = 0;
  if (!(c.min_duration >= 0) || !std::isfinite(c.min_duration)) {
    return InvalidArgument(where + "min_duration must be >= 0 (seconds; 0 = none)");
  }
  if (spec.num_arms < 2) return InvalidArgument(where + "needs at least 2 arms");
  if (spec.control >= spec.num_arms) return InvalidArgument(where + "control arm out of range");
  return c;
}

RuleBase::RuleBase(const StoppingSpec& spec, CommonParams common)
    : spec_(spec), common_(common), arms_(spec.num_arms) {}

void RuleBase::Observe(size_t arm, double reward, double propensity) {
  ObserveRepeated(arm, reward, 1, propensity);
}

namespace {

// Pending groups beyond this many are folded early (between looks) to bound
// memory; only a real-valued metric with more distinct rewards than this
// between two looks gets there, and the decisions then still agree up to
// rounding.
constexpr size_t kMaxPendingGroups = 1 << 16;

// A pending group's identity: the bytes of (arm, reward, propensity).
std::string GroupKey(size_t arm, double reward, double propensity) {
  char key[sizeof(uint64_t) + 2 * sizeof(double)];
  const uint64_t a = arm;
  std::memcpy(key, &a, sizeof a);
  std::memcpy(key + sizeof a, &reward, sizeof reward);
  std::memcpy(key + sizeof a + sizeof reward, &propensity, sizeof propensity);
  return std::string(key, sizeof key);
}

}  // namespace

void RuleBase::ObserveRepeated(size_t arm, double reward, uint64_t count, double propensity) {
  if (count == 0) return;
  const double n = static_cast<double>(count);
  reward = AdmitReward(reward, n);
  auto [it, inserted] =
      pending_index_.try_emplace(GroupKey(arm, reward, propensity), pending_.size());
  if (inserted) {
    pending_.push_back({arm, reward, propensity, n});
  } else {
    pending_[it->second].count += n;
  }
  if (pending_.size() >= kMaxPendingGroups) Fold();
}

void RuleBase::Fold() {
  for (const Group& g : pending_) {
    OnFold(g.arm, g.reward, g.count, g.propensity);
    ArmSums& s = arms_[g.arm];
    const double y = g.reward;
    s.n += g.count;
    s.sum += y * g.count;
    s.sum_sq += y * y * g.count;
    s.sum_cube += y * y * y * g.count;
  }
  pending_.clear();
  pending_index_.clear();
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

std::string RuleBase::Waiting(double count) const {
  std::string out;
  char buf[200];
  auto add = [&out](const char* what) {
    out += out.empty() ? "waiting for " : "; waiting for ";
    out += what;
  };
  if (count < common_.min_samples) {
    std::snprintf(buf, sizeof buf, "min_samples: %.0f of %.0f units %s", count,
                  common_.min_samples, std::string(CountName()).c_str());
    add(buf);
  }
  if (common_.min_successes > 0) {
    for (size_t i = 0; i < arms_.size(); ++i) {
      if (arms_[i].sum < common_.min_successes) {
        std::snprintf(buf, sizeof buf, "min_successes: arm %zu has %.0f of %.0f", i,
                      arms_[i].sum, common_.min_successes);
        add(buf);
      }
    }
  }
  if (elapsed_ < common_.min_duration) {
    std::snprintf(buf, sizeof buf, "min_duration: %.0f of %.0f s", std::floor(elapsed_),
                  common_.min_duration);
    add(buf);
  }
  return out;
}

StopDecision RuleBase::Check() {
  if (final_) return *final_;
  Fold();
  const double count = SampleCount();
  StopDecision d;
  if (std::string waiting = Waiting(count); !waiting.empty()) {
    d.reason = std::move(waiting);
  } else {
    d = Evaluate();
  }
  if (!d.stop && common_.max_samples > 0 && count >= common_.max_samples) {
    char buf[160];
    d.stop = true;
    d.winner.reset();
    std::snprintf(buf, sizeof buf, "max_samples reached (%.0f units %s) without a decision: ",
                  count, std::string(CountName()).c_str());
    d.reason = buf + d.reason;
  }
  if (d.stop) final_ = d;
  AfterLook();
  return d;
}

std::string RuleBase::Snapshot() const {
  policies::SnapshotState s;
  std::vector<double> n, sum, sum_sq, sum_cube;
  for (const auto& a : arms_) {
    n.push_back(a.n);
    sum.push_back(a.sum);
    sum_sq.push_back(a.sum_sq);
    sum_cube.push_back(a.sum_cube);
  }
  s.arrays["n"] = n;
  s.arrays["sum"] = sum;
  s.arrays["sum_sq"] = sum_sq;
  s.arrays["sum_cube"] = sum_cube;
  if (!pending_.empty()) {
    std::vector<double>& pa = s.arrays["pending_arm"];
    std::vector<double>& pr = s.arrays["pending_reward"];
    std::vector<double>& pp = s.arrays["pending_propensity"];
    std::vector<double>& pc = s.arrays["pending_count"];
    for (const Group& g : pending_) {
      pa.push_back(static_cast<double>(g.arm));
      pr.push_back(g.reward);
      pp.push_back(g.propensity);
      pc.push_back(g.count);
    }
  }
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
  // Older snapshots have no sum of cubes: exact for 0/1 rewards, unknown
  // (0, no skewness) otherwise.
  std::vector<double> sum_cube =
      spec_.metric == Metric::kBernoulli ? *sum : std::vector<double>(arms_.size(), 0.0);
  if (s.arrays.count("sum_cube")) {
    auto cube = policies::TakeArray(s, "sum_cube", arms_.size());
    if (!cube.ok()) return cube.status();
    sum_cube = *cube;
  }
  std::vector<Group> pending;
  if (s.arrays.count("pending_arm")) {
    const size_t len = s.arrays.at("pending_arm").size();
    auto pa = policies::TakeArray(s, "pending_arm", len);
    auto pr = policies::TakeArray(s, "pending_reward", len);
    auto pp = policies::TakeArray(s, "pending_propensity", len);
    auto pc = policies::TakeArray(s, "pending_count", len);
    for (auto* r : {&pa, &pr, &pp, &pc}) {
      if (!r->ok()) return r->status();
    }
    for (size_t i = 0; i < len; ++i) {
      const double arm = (*pa)[i];
      if (!(arm >= 0 && arm < static_cast<double>(arms_.size()) && arm == std::floor(arm)) ||
          !((*pc)[i] > 0)) {
        return Status(Code::kCorruption, "stopping snapshot: bad pending group");
      }
      pending.push_back({static_cast<size_t>(arm), (*pr)[i], (*pp)[i], (*pc)[i]});
    }
  }
  // Validate the rule's extra state before changing anything.
  BANDITD_RETURN_IF_ERROR(LoadExtra(s));
  for (size_t i = 0; i < arms_.size(); ++i) {
    arms_[i] = {(*n)[i], (*sum)[i], (*sum_sq)[i], sum_cube[i]};
  }
  pending_.clear();
  pending_index_.clear();
  for (const Group& g : pending) {
    pending_index_.emplace(GroupKey(g.arm, g.reward, g.propensity), pending_.size());
    pending_.push_back(g);
  }
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

Result<std::vector<double>> TakeBounds(const policies::SnapshotState& state, const std::string& key,
                                       size_t len) {
  auto it = state.arrays.find(key);
  if (it == state.arrays.end() || it->second.size() != len) {
    return Status(Code::kCorruption, "stopping snapshot: missing or short array '" + key + "'");
  }
  for (double v : it->second) {
    if (std::isnan(v)) return Status(Code::kCorruption, "stopping snapshot: NaN in '" + key + "'");
  }
  return it->second;
}

}  // namespace banditd::stats
