#include "src/experiment/experiment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace banditd::experiment {
namespace {

// Room for at least one context of the longest length (4096 values).
constexpr size_t kMinContextStoreBytes = 64 * 1024;

}  // namespace

Experiment::Experiment(const ExperimentOptions& options)
    : options_(options),
      tag_(ExperimentTag(options.name)),
      hasher_(options.salt.empty() ? options.name : options.salt),
      table_(std::max<size_t>(options.arms.size(), 1), options.champion),
      weights_(options.arms.size(), 0.0),
      counters_(options.arms.size()),
      srm_(options.arms.size()),
      contexts_(options.context_store_max_bytes),
      request_alloc_(options.arms.size(), 0.0),
      alloc_sum_(options.arms.size(), 0.0) {}

Result<std::unique_ptr<Experiment>> Experiment::Create(const ExperimentOptions& options) {
  const std::string where = "experiment '" + options.name + "'";
  if (options.arms.empty()) return InvalidArgument(where + ": empty arm list");
  if (options.arms.size() > 255) return InvalidArgument(where + ": at most 255 arms");
  if (options.champion >= options.arms.size()) {
    return InvalidArgument(where + ": champion index out of range");
  }
  if (!(options.canary_share >= 0.0 && options.canary_share < 1.0)) {
    return InvalidArgument(where + ": canary_share must be in [0, 1)");
  }
  if (options.context_store_max_bytes < kMinContextStoreBytes) {
    return InvalidArgument(where + ": the context store needs at least " +
                           std::to_string(kMinContextStoreBytes) + " bytes");
  }
  std::unique_ptr<Experiment> e(new Experiment(options));
  BANDITD_RETURN_IF_ERROR(e->Init().WithContext(where));
  return e;
}

Status Experiment::Init() {
  PolicySpec spec = options_.policy;
  spec.num_arms = options_.arms.size();
  auto policy = MakePolicy(spec);
  if (!policy.ok()) return policy.status();
  policy_ = std::move(policy).value();
  stopping_.reset();
  if (options_.stopping) {
    auto rule = MakeRule();
    if (!rule.ok()) return rule.status();
    stopping_ = std::move(rule).value();
  }
  last_check_ = StopDecision{};
  looks_ = 0;
  started_s_ = 0;  // set by the next tick
  std::fill(alloc_sum_.begin(), alloc_sum_.end(), 0.0);
  alloc_count_ = 0;
  Rng rng(0);
  ComputeWeights(rng);
  return Status::Ok();
}

Result<std::unique_ptr<StoppingRule>> Experiment::MakeRule() {
  StoppingSpec s = MakeStoppingSpec(options_.stopping->name, options_.stopping->params,
                                    options_.arms.size(), options_.champion, options_.metric);
  s.params.Set("min_duration", options_.min_duration_s);
  return MakeStoppingRule(s);
}

void Experiment::NotePeriod() {
  const bool canary = InCanaryPhase();
  bool moved = state_ != period_state_ || canary != period_canary_;
  if (options_.mode == Mode::kAb) {
    moved = moved || period_weights_.size() != weights_.size() ||
            !std::equal(weights_.begin(), weights_.end(), period_weights_.begin());
  }
  if (!moved) return;
  srm_.NewPeriod(allocation_version_);
  period_state_ = state_;
  period_canary_ = canary;
  period_weights_ = weights_;
}

std::optional<size_t> Experiment::ArmIndex(std::string_view name) const {
  for (size_t i = 0; i < options_.arms.size(); ++i) {
    if (options_.arms[i].name == name) return i;
  }
  return std::nullopt;
}

bool Experiment::InCanaryPhase() const {
  if (options_.mode != Mode::kCanary) return false;
  for (size_t i = 0; i < counters_.size(); ++i) {
    if (i != options_.champion &&
        counters_[i].requests - counters_[i].forced < options_.canary_requests) {
      return true;
    }
  }
  return false;
}

bool Experiment::PerRequestAllocation() const {
  return policy_->context_dim() > 0 && weights_.size() > 1 &&
         (state_ == ExperimentState::kRunning || state_ == ExperimentState::kDecided) &&
         options_.mode != Mode::kShadow && !InCanaryPhase();
}

void Experiment::PolicyWeights(Rng& rng) {
  if (policy_->context_dim() == 0) {
    policy_->Allocation(rng, {}, weights_);
    return;
  }
  // A contextual allocation depends on the context: report the mean of the
  // requests' allocations since the last refresh (uniform before any).
  if (alloc_count_ > 0) {
    for (size_t i = 0; i < weights_.size(); ++i) {
      weights_[i] = alloc_sum_[i] / static_cast<double>(alloc_count_);
    }
  } else {
    double total = 0;
    for (double w : weights_) total += w;
    if (total <= 0.0) std::fill(weights_.begin(), weights_.end(), 1.0 / weights_.size());
  }
  std::fill(alloc_sum_.begin(), alloc_sum_.end(), 0.0);
  alloc_count_ = 0;
}

void Experiment::ComputeWeights(Rng& rng) {
  const size_t k = weights_.size();
  auto one_hot = [&](size_t arm) {
    std::fill(weights_.begin(), weights_.end(), 0.0);
    weights_[arm] = 1.0;
  };
  switch (state_) {
    case ExperimentState::kPaused:
    case ExperimentState::kRolledBack:
      one_hot(options_.champion);
      break;
    case ExperimentState::kPromoted:
      one_hot(winner_.value_or(options_.champion));
      break;
    case ExperimentState::kDecided: {
      // Hold: the allocation stays where it was when the rule decided, until
      // an operator promotes. (After a restart: the policy's allocation.)
      double total = 0;
      for (double w : weights_) total += w;
      if (total <= 0.0 || policy_->context_dim() > 0) PolicyWeights(rng);
      break;
    }
    case ExperimentState::kRunning:
      if (options_.mode == Mode::kShadow || k == 1) {
        one_hot(options_.champion);
      } else if (InCanaryPhase()) {
        const double each = options_.canary_share / static_cast<double>(k - 1);
        for (size_t i = 0; i < k; ++i) weights_[i] = i == options_.champion ? 0.0 : each;
        weights_[options_.champion] = 1.0 - options_.canary_share;
      } else {
        PolicyWeights(rng);
      }
      break;
  }
  table_.Rebalance(weights_);
  ++allocation_version_;
  NotePeriod();
}

Status Experiment::CheckContext(std::optional<std::span<const double>> context, bool forced) const {
  const size_t dim = policy_->context_dim();
  if (dim == 0) return Status::Ok();  // ignored (the server still logs it)
  if (!context) {
    if (forced) return Status::Ok();
    return Status(Code::kBadContext, "experiment '" + options_.name + "' uses policy '" +
                                         std::string(policy_->name()) + "': route needs a " +
                                         "context of " + std::to_string(dim) + " numbers");
  }
  if (context->size() != dim) {
    return Status(Code::kBadContext, "experiment '" + options_.name + "' takes a context of " +
                                         std::to_string(dim) + " numbers, got " +
                                         std::to_string(context->size()));
  }
  for (size_t i = 0; i < dim; ++i) {
    if (!std::isfinite((*context)[i])) {
      return Status(Code::kBadContext, "context[" + std::to_string(i) + "] is not finite");
    }
  }
  return Status::Ok();
}

Result<RouteChoice> Experiment::Route(std::optional<std::string_view> unit,
                                      std::optional<std::string_view> forced_arm,
                                      std::optional<std::span<const double>> context, Rng& rng) {
  BANDITD_RETURN_IF_ERROR(CheckContext(context, forced_arm.has_value()));
  RouteChoice c;
  if (forced_arm) {
    auto arm = ArmIndex(*forced_arm);
    if (!arm) {
      return Status(Code::kBadRequest, "experiment '" + options_.name + "' has no arm '" +
                                           std::string(*forced_arm) + "'");
    }
    c = RouteChoice{*arm, 1.0, true};
    ++counters_[c.arm].forced;
  } else if (PerRequestAllocation()) {
    policy_->Allocation(rng, *context, request_alloc_);
    // The unit's hash as the uniform: a unit keeps its arm while its
    // context's allocation does not change.
    const double u =
        unit ? static_cast<double>(hasher_.Hash(*unit) >> 11) * 0x1.0p-53 : rng.Uniform();
    c.arm = SampleDiscrete(u, request_alloc_);
    c.propensity = request_alloc_[c.arm];
    for (size_t i = 0; i < alloc_sum_.size(); ++i) alloc_sum_[i] += request_alloc_[i];
    ++alloc_count_;
    if (!unit) srm_.Count(c.arm, request_alloc_);
  } else if (unit) {
    c.arm = table_.ArmForHash(hasher_.Hash(*unit));
    c.propensity = table_.Share(c.arm);
  } else {
    c.arm = SampleDiscrete(rng.Uniform(), weights_);
    c.propensity = weights_[c.arm];
    srm_.Count(c.arm, weights_);
  }
  ++counters_[c.arm].requests;
  return c;
}

Status Experiment::CheckReward(double value) const {
  if (!std::isfinite(value)) return Status(Code::kInvalidValue, "reward value must be finite");
  // Sums and sums of squares of rewards stay finite and meaningful: a
  // reward of 1e308 would make them inf for good.
  if (std::fabs(value) > kMaxAbsReward) {
    return Status(Code::kInvalidValue, "reward value must be within [-1e12, 1e12]");
  }
  if (options_.metric == Metric::kBernoulli && (value < 0.0 || value > 1.0)) {
    return Status(Code::kInvalidValue, "experiment '" + options_.name +
                                           "' has a bernoulli metric: reward must be in [0, 1]");
  }
  if (stopping_) {
    if (Status s = stopping_->CheckReward(value); !s.ok()) {
      return Status(Code::kInvalidValue, "experiment '" + options_.name + "': " + s.message());
    }
  }
  if (const RewardRange range = policy_->reward_range(); !range.Contains(value)) {
    char bounds[64];
    std::snprintf(bounds, sizeof bounds, "[%g, %g]", range.lo, range.hi);
    return Status(Code::kInvalidValue, "experiment '" + options_.name + "': policy " +
                                           std::string(policy_->name()) + " takes rewards in " +
                                           bounds);
  }
  return Status::Ok();
}

Status Experiment::ApplyReward(const DecisionRef& ref, double value,
                               std::span<const double> context) {
  BANDITD_RETURN_IF_ERROR(CheckReward(value));
  if (ref.arm >= counters_.size()) return Status(Code::kUnknownDecision, "no such arm");
  if (ref.epoch != epoch_) {
    ++stale_rewards_;
    return Status::Ok();
  }
  ArmCounters& a = counters_[ref.arm];
  a.n += 1.0;
  a.reward_sum += value;
  a.reward_sum_sq += value * value;
  if (ref.flags & DecisionRef::kForcedFlag) return Status::Ok();
  const size_t dim = policy_->context_dim();
  if (dim == 0) {
    policy_->Update(ref.arm, value, {});
  } else if (context.size() == dim && std::all_of(context.begin(), context.end(),
                                                  [](double x) { return std::isfinite(x); })) {
    policy_->Update(ref.arm, value, context);
  } else {
    ++rewards_without_context_;
  }
  if (stopping_) {
    stopping_->Observe(ref.arm, value, std::clamp<double>(ref.propensity, 1e-6, 1.0));
  }
  if (options_.srm_rewards && counters_.size() == 2) {
    // The decision's allocation, from the propensity of the arm it drew.
    const double p = std::clamp<double>(ref.propensity, 0.0, 1.0);
    const double alloc[2] = {ref.arm == 0 ? p : 1.0 - p, ref.arm == 1 ? p : 1.0 - p};
    reward_srm_.Count(ref.arm, alloc);
  }
  ++rewards_since_refresh_;
  return Status::Ok();
}

void Experiment::RecordServe(size_t arm, uint64_t latency_ns, bool failed) {
  if (arm >= counters_.size()) return;
  counters_[arm].latency.Record(latency_ns);
  if (failed) ++counters_[arm].errors;
}

bool Experiment::CheckGuardrails() {
  const GuardrailOptions& g = options_.guardrails;
  if (!g.enabled) return false;
  const ArmCounters& champ = counters_[options_.champion];
  if (champ.requests < g.min_requests) return false;
  const double champ_err = static_cast<double>(champ.errors) / static_cast<double>(champ.requests);
  for (size_t i = 0; i < counters_.size(); ++i) {
    if (i == options_.champion) continue;
    const ArmCounters& c = counters_[i];
    if (c.requests < g.min_requests) continue;
    const double err = static_cast<double>(c.errors) / static_cast<double>(c.requests);
    std::string why;
    if (err > g.max_error_rate_ratio * champ_err + g.error_rate_slack) {
      why = "error rate " + std::to_string(err) + " vs champion's " + std::to_string(champ_err);
    } else if (options_.arms[i].hosts_model && options_.arms[options_.champion].hosts_model &&
               c.latency.count() >= g.min_requests && champ.latency.count() >= g.min_requests &&
               c.latency.Quantile(0.99) > g.max_p99_ratio * champ.latency.Quantile(0.99)) {
      why = "p99 model latency " + std::to_string(c.latency.Quantile(0.99) / 1e6) +
            " ms vs champion's " + std::to_string(champ.latency.Quantile(0.99) / 1e6) + " ms";
    }
    if (!why.empty()) {
      state_ = ExperimentState::kRolledBack;
      reason_ = "guardrail tripped by arm '" + options_.arms[i].name + "': " + why +
                "; traffic returned to the champion";
      return true;
    }
  }
  return false;
}

bool Experiment::Tick(Rng& rng, int64_t now_mono_ns, std::optional<int64_t> now_s) {
  bool changed = false;
  if (now_s && started_s_ == 0) started_s_ = *now_s;
  if (state_ == ExperimentState::kRunning) changed = CheckGuardrails();
  // The SRM test runs on requests, which flow without rewards: on its own
  // cadence, not only when the allocation is due.
  if (srm_applies() &&
      (!srm_evaluated_ || now_mono_ns - last_srm_ns_ >= options_.refresh_interval_ns)) {
    srm_evaluated_ = true;
    last_srm_ns_ = now_mono_ns;
    const double p = srm_.Evaluate().p_value;
    const double p_rewards = SrmRewardsTest().p_value;
    if (!srm_alarm_ && p < options_.srm_threshold) {  // NaN: no test yet
      srm_alarm_ = true;
      srm_alarm_p_ = p;
      ++srm_alarms_;
      changed = true;
    } else if (!srm_alarm_ && p_rewards < options_.srm_threshold) {
      srm_alarm_ = true;
      srm_alarm_rewards_ = true;
      srm_alarm_p_ = p_rewards;
      ++srm_alarms_;
      changed = true;
    }
  }
  // Nothing new since the last refresh: the allocation would not change.
  const bool due = !refreshed_once_ ||
                   (rewards_since_refresh_ > 0 &&
                    (now_mono_ns - last_refresh_ns_ >= options_.refresh_interval_ns ||
                     rewards_since_refresh_ >= options_.refresh_every_rewards)) ||
                   (InCanaryPhase() != canary_at_refresh_);
  if (!due && !changed) return false;
  if (state_ == ExperimentState::kRunning && stopping_ && !InCanaryPhase()) {
    if (now_s) stopping_->SetElapsed(static_cast<double>(std::max<int64_t>(0, *now_s - started_s_)));
    last_check_ = stopping_->Check();
    // A look counts once there is a reward to look at.
    if (std::any_of(counters_.begin(), counters_.end(), [](const ArmCounters& c) {
          return c.n > 0;
        })) {
      ++looks_;
    }
    // An active SRM alarm holds the decision until an operator acknowledges
    // it: the rule keeps its latched decision, applied at the next look.
    if (last_check_.stop && !srm_alarm_) {
      state_ = ExperimentState::kDecided;
      winner_ = last_check_.winner;
      reason_ = last_check_.reason;
      if (options_.on_decision == OnDecision::kPromote && winner_) {
        state_ = ExperimentState::kPromoted;
        reason_ = "promoted '" + options_.arms[*winner_].name + "': " + reason_;
      }
      changed = true;
    }
  }
  if (state_ == ExperimentState::kRunning || changed) ComputeWeights(rng);
  canary_at_refresh_ = InCanaryPhase();
  last_refresh_ns_ = now_mono_ns;
  rewards_since_refresh_ = 0;
  refreshed_once_ = true;
  return changed;
}

Status Experiment::Promote(size_t arm, std::string reason) {
  if (arm >= num_arms()) return Status(Code::kBadRequest, "no such arm");
  state_ = ExperimentState::kPromoted;
  winner_ = arm;
  reason_ = std::move(reason);
  Rng rng(0);
  ComputeWeights(rng);
  return Status::Ok();
}

Status Experiment::Pause() {
  if (state_ != ExperimentState::kRunning) {
    return Status(Code::kBadRequest,
                  "cannot pause an experiment that is " + std::string(NameOf(state_)));
  }
  state_ = ExperimentState::kPaused;
  reason_ = "paused by an operator";
  Rng rng(0);
  ComputeWeights(rng);
  return Status::Ok();
}

Status Experiment::Resume() {
  if (state_ != ExperimentState::kPaused) {
    return Status(Code::kBadRequest,
                  "cannot resume an experiment that is " + std::string(NameOf(state_)));
  }
  state_ = ExperimentState::kRunning;
  reason_.clear();
  refreshed_once_ = false;  // recompute on the next tick
  Rng rng(0);
  ComputeWeights(rng);
  return Status::Ok();
}

stats::TestResult Experiment::SrmRewardsTest() const {
  if (!options_.srm_rewards || !srm_applies()) {
    return stats::TestResult{0, std::numeric_limits<double>::quiet_NaN(), 0};
  }
  return reward_srm_.Evaluate();
}

Status Experiment::AckSrm() {
  if (!srm_alarm_) {
    return Status(Code::kBadRequest, "experiment '" + options_.name +
                                         "' has no sample-ratio-mismatch alarm to acknowledge");
  }
  srm_alarm_ = false;
  srm_alarm_rewards_ = false;
  ++srm_acks_;
  srm_.Reset(allocation_version_);
  reward_srm_.Reset(0);
  period_state_ = state_;
  period_canary_ = InCanaryPhase();
  period_weights_ = weights_;
  refreshed_once_ = false;  // a held decision is applied at the next tick
  return Status::Ok();
}

std::string Experiment::RunningReason() const {
  if (!stopping_) return "no stopping rule: the experiment runs until an operator promotes an arm";
  const std::string rule = "stopping rule '" + std::string(stopping_->name()) + "'";
  if (InCanaryPhase()) {
    uint64_t least = UINT64_MAX;
    for (size_t i = 0; i < counters_.size(); ++i) {
      if (i != options_.champion) {
        least = std::min(least, counters_[i].requests - counters_[i].forced);
      }
    }
    return "canary phase: " + rule + " looks once every challenger has served " +
           std::to_string(options_.canary_requests) + " requests (least so far: " +
           std::to_string(least) + ")";
  }
  if (looks_ == 0) {
    double n = 0;
    for (const auto& c : counters_) n += c.n;
    const std::string none = n == 0 ? "; no rewards yet" : "";
    // A check without rewards is not counted as a look, but says what the
    // rule waits for.
    if (!last_check_.reason.empty()) return last_check_.reason + none;
    return rule + " has not looked yet (it looks at each allocation refresh)" + none;
  }
  std::string why = last_check_.reason.empty() ? rule + " gave no reason at its last look"
                                               : last_check_.reason;
  if (last_check_.stop && srm_alarm_) why = "decision held by the SRM alarm: " + why;
  return why;
}

std::string Experiment::StatusReason() const {
  std::string why;
  switch (state_) {
    case ExperimentState::kRunning:
      why = RunningReason();
      if (!reason_.empty()) why = reason_ + "; " + why;  // e.g. "models reloaded", a new epoch
      break;
    case ExperimentState::kPaused:
      why = (reason_.empty() ? std::string("paused") : reason_) + "; " + RunningReason();
      break;
    default:
      why = reason_.empty() ? std::string(NameOf(state_)) + " (no reason was recorded)" : reason_;
  }
  if (srm_alarm_) {
    char p[64];
    std::snprintf(p, sizeof p, "%.3g < %g", srm_alarm_p_, options_.srm_threshold);
    why = std::string(srm_alarm_rewards_ ? "sample ratio mismatch in the rewards (p = "
                                         : "sample ratio mismatch (p = ") +
          p +
          "): the rule's decisions are held until an operator acknowledges it (ack_srm); " + why;
  }
  return why;
}

void Experiment::NewEpoch(std::string reason) {
  ++epoch_;
  state_ = ExperimentState::kRunning;
  winner_.reset();
  reason_ = std::move(reason);
  counters_.assign(counters_.size(), ArmCounters{});
  last_check_ = StopDecision{};
  contexts_.Clear();  // rewards of the old epoch no longer teach the policy
  refreshed_once_ = false;
  // Init cannot fail here: the same options built the experiment before.
  Status s = Init();
  (void)s;
}

}  // namespace banditd::experiment
