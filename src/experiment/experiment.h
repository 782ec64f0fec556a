// One experiment: its arms, the policy that allocates traffic between them,
// the stopping rule that ends it, the guardrails that protect the champion,
// and its lifecycle:
//
//   running -> decided -> promoted        (stopping rule, or an operator)
//   running <-> paused                    (operator)
//   running -> rolled_back                (a guardrail tripped)
//
// Not thread-safe: one owner (the daemon's I/O thread) routes, applies
// rewards and ticks it. Time and randomness are passed in.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/policy.h"
#include "banditd/rng.h"
#include "banditd/status.h"
#include "banditd/stopping.h"
#include "banditd/vocabulary.h"
#include "src/common/histogram.h"
#include "src/experiment/assignment.h"
#include "src/experiment/context_store.h"
#include "src/experiment/decision_id.h"
#include "src/experiment/srm.h"
#include "src/stats/hypothesis.h"

namespace banditd::experiment {

struct GuardrailOptions {
  bool enabled = true;
  uint64_t min_requests = 200;        // per arm, before a guardrail may trip
  double max_error_rate_ratio = 2.0;  // challenger errors <= ratio * champion's + slack
  double error_rate_slack = 0.01;
  double max_p99_ratio = 3.0;  // challenger model p99 <= ratio * champion's
};

struct ArmOptions {
  std::string name;
  bool hosts_model = false;
};

struct ExperimentOptions {
  std::string name;
  Mode mode = Mode::kBandit;
  Metric metric = Metric::kBernoulli;
  std::vector<ArmOptions> arms;
  size_t champion = 0;
  PolicySpec policy;                     // num_arms is taken from arms
  std::optional<StoppingSpec> stopping;  // num_arms and control are taken from arms
  // The time guard: the rule decides nothing before the experiment (its
  // epoch) has run this long, by the engine's clock. Passed to the rule as its
  // parameter `min_duration` (seconds), with SetElapsed before each look.
  double min_duration_s = 0;
  // A sample-ratio-mismatch alarm fires when the per-period test's p-value
  // falls below this; it holds the stopping rule's decision until AckSrm.
  double srm_threshold = 0.001;
  // The same test on the rewards (two arms): the arms of the rewarded
  // decisions against the allocations that drew them. Valid only when
  // applications report a reward (0 included) for every decision, or drop
  // them whatever the arm and the outcome.
  bool srm_rewards = false;
  OnDecision on_decision = kDefaultOnDecision;
  double canary_share = 0.05;       // total challenger share during the canary phase
  uint64_t canary_requests = 1000;  // served by each challenger before the bandit phase
  GuardrailOptions guardrails;
  int64_t refresh_interval_ns = 1'000'000'000;  // allocation recomputed at most this often
  uint64_t refresh_every_rewards = 1000;        // ... or after this many rewards
  std::string salt;                             // sticky-assignment salt; default: name
  // Contextual policies: bound of the store that keeps each decision's
  // context until its reward (ContextStore).
  size_t context_store_max_bytes = ContextStore::kDefaultMaxBytes;
};

struct RouteChoice {
  size_t arm = 0;
  double propensity = 1.0;
  bool forced = false;
};

// Per-arm counters kept by the experiment (learning-independent).
struct ArmCounters {
  uint64_t requests = 0;  // routed to this arm
  uint64_t errors = 0;    // model failures while serving
  uint64_t forced = 0;    // requests that forced this arm
  double n = 0;           // rewards applied
  double reward_sum = 0;
  double reward_sum_sq = 0;
  LatencyHistogram latency;  // model latency
};

class Experiment {
 public:
  static Result<std::unique_ptr<Experiment>> Create(const ExperimentOptions& options);

  const ExperimentOptions& options() const { return options_; }
  const std::string& name() const { return options_.name; }
  uint16_t tag() const { return tag_; }
  uint16_t epoch() const { return epoch_; }
  ExperimentState state() const { return state_; }
  std::optional<size_t> winner() const { return winner_; }
  const std::string& reason() const { return reason_; }
  size_t num_arms() const { return options_.arms.size(); }
  std::optional<size_t> ArmIndex(std::string_view name) const;
  uint64_t UnitHash(std::string_view unit) const { return hasher_.Hash(unit); }
  const UnitHasher& hasher() const { return hasher_; }

  // Picks the arm for one request: the sticky arm of `unit` when given, a draw
  // from the current weights otherwise, or `forced_arm` (propensity 1).
  //
  // A contextual policy (context_dim() > 0) decides from the request's
  // context: while it steers traffic (running or decided, bandit mode, past
  // any canary phase) the arm is drawn from the policy's allocation for this
  // context — with the unit's hash as the uniform draw when a unit is given —
  // and the propensity is that allocation's share. A context of the wrong
  // length or with a non-finite value is kBadContext; so is a missing one,
  // except on a forced route (which never teaches the policy). Nothing is
  // counted when the context is refused. A non-contextual policy ignores it.
  Result<RouteChoice> Route(std::optional<std::string_view> unit,
                            std::optional<std::string_view> forced_arm,
                            std::optional<std::span<const double>> context, Rng& rng);
  Result<RouteChoice> Route(std::optional<std::string_view> unit,
                            std::optional<std::string_view> forced_arm, Rng& rng) {
    return Route(unit, forced_arm, std::nullopt, rng);
  }

  // The largest |reward| any experiment takes: sums of squares of a few
  // million such rewards stay finite and exact enough for the statistics.
  static constexpr double kMaxAbsReward = 1e12;

  // kInvalidValue for a reward this experiment cannot learn from: a
  // non-finite value, one beyond +-kMaxAbsReward, or one outside the metric's
  // domain ([0, 1] for bernoulli) or the policy's (Policy::reward_range,
  // e.g. [0, 1] for thompson).
  Status CheckReward(double value) const;

  // Applies a reward for a decision of this experiment. kInvalidValue for a
  // value CheckReward refuses.
  // Rewards of forced decisions or of an older epoch are accepted and counted
  // but do not teach the policy or the stopping rule. A contextual policy
  // learns only from a reward that comes with its decision's `context`; one
  // without (its context was evicted, or lost in a crash) updates the
  // counters and the stopping rule only, and is counted in
  // rewards_without_context().
  Status ApplyReward(const DecisionRef& ref, double value, std::span<const double> context = {});

  // Serving outcome of one request on `arm` (latency of its model, failure).
  void RecordServe(size_t arm, uint64_t latency_ns, bool failed);

  // Recomputes the allocation when due, checks the stopping rule and the
  // guardrails, and the sample-ratio-mismatch test. Returns true when the
  // state changed or an SRM alarm fired (worth a log line). `now_s` is the
  // engine's time in seconds (Engine::NowSeconds): the first tick of an epoch
  // records it as the experiment's start, and each look tells the rule the
  // seconds elapsed since (StoppingRule::SetElapsed). Without it the rule is
  // not told the time.
  bool Tick(Rng& rng, int64_t now_mono_ns, std::optional<int64_t> now_s = std::nullopt);

  // Operator actions.
  Status Promote(size_t arm, std::string reason);
  Status Pause();
  Status Resume();
  // A new epoch: learning starts afresh (e.g. after a model reload).
  void NewEpoch(std::string reason);
  // An operator acknowledged the sample-ratio-mismatch alarm: it is cleared,
  // the held decision may proceed, and the test starts afresh from here.
  // kBadRequest when no alarm is active.
  Status AckSrm();

  // The sha256 of each arm's model file ("" for a route-only arm), as the
  // daemon loaded them; part of the snapshot, so a start-up can tell that a
  // file changed between runs (restored ones are kept until replaced).
  const std::vector<std::string>& model_sha256() const { return model_sha256_; }
  void set_model_sha256(std::vector<std::string> sha) { model_sha256_ = std::move(sha); }

  // Lifecycle, counters, policy and stopping-rule state as bytes, and back.
  // Restore refuses a snapshot of another arm count or policy and then leaves
  // the experiment unchanged.
  std::string Snapshot() const;
  Status Restore(std::string_view bytes);

  // The current serving weights (sum 1), and the policy's own allocation.
  std::span<const double> weights() const { return weights_; }
  // The sticky-assignment table behind the weights.
  const AllocationTable& table() const { return table_; }
  // Changes whenever the weights, the table or the epoch may have changed:
  // the server republishes its read-only route views (route_view.h) then.
  uint64_t allocation_version() const { return allocation_version_; }
  // Requests another thread routed from a published view of this epoch's
  // allocation (route_view.h): counted as if routed here.
  void AddRouted(size_t arm, uint64_t requests, uint64_t forced) {
    counters_[arm].requests += requests;
    counters_[arm].forced += forced;
  }
  // Of those, the ones drawn from the view's weights (not forced, not by
  // unit), per arm, with the view's allocation version: for the SRM test.
  void AddRoutedDraws(std::span<const uint64_t> per_arm, std::span<const double> weights,
                      uint64_t version) {
    srm_.CountBatch(per_arm, weights, version);
  }
  const std::vector<ArmCounters>& counters() const { return counters_; }
  const Policy& policy() const { return *policy_; }
  const StoppingRule* stopping() const { return stopping_.get(); }
  // The stopping rule's last look (restored with the snapshot, so a restart
  // shows the rule's running p, interval and reason, not a reset) and the
  // number of looks it has made this epoch.
  const StopDecision& last_check() const { return last_check_; }
  uint64_t looks() const { return looks_; }
  // The engine time (s) this epoch started at; 0 before the first tick.
  int64_t started_s() const { return started_s_; }
  // Why the experiment is where it is, for a human; never empty. While it
  // runs: what the stopping rule still needs, from its last look (or that it
  // has not looked yet, or that there is no rule); an active SRM alarm first.
  std::string StatusReason() const;

  // Sample-ratio mismatch (srm.h). Not tested in mode shadow (no draws).
  bool srm_applies() const { return options_.mode != Mode::kShadow && num_arms() > 1; }
  stats::TestResult SrmTest() const { return srm_.Evaluate(); }
  // The rewards' test (options().srm_rewards); p_value NaN when not checked.
  stats::TestResult SrmRewardsTest() const;
  const SrmTracker& srm_rewards() const { return reward_srm_; }
  bool srm_alarm_rewards() const { return srm_alarm_rewards_; }  // the active alarm is the rewards'
  const SrmTracker& srm() const { return srm_; }
  bool srm_alarm() const { return srm_alarm_; }
  double srm_alarm_p() const { return srm_alarm_p_; }   // the p that fired it
  uint64_t srm_alarms() const { return srm_alarms_; }   // alarms fired, ever
  uint64_t srm_acks() const { return srm_acks_; }       // alarms acknowledged, ever
  uint64_t stale_rewards() const { return stale_rewards_; }

  // Contextual policies: the context length requests carry (0: none), the
  // store of decisions' contexts, and the rewards the policy could not learn
  // from for want of their context (since start-up).
  size_t context_dim() const { return policy_->context_dim(); }
  ContextStore& contexts() { return contexts_; }
  const ContextStore& contexts() const { return contexts_; }
  uint64_t rewards_without_context() const { return rewards_without_context_; }

 private:
  explicit Experiment(const ExperimentOptions& options);
  Status Init();
  void ComputeWeights(Rng& rng);
  bool CheckGuardrails();
  bool InCanaryPhase() const;
  // True when a contextual policy picks each request's arm from its context.
  bool PerRequestAllocation() const;
  // The policy's allocation for the weights: for a contextual policy, the
  // mean per-request allocation since the last refresh (kept when none).
  void PolicyWeights(Rng& rng);
  Status CheckContext(std::optional<std::span<const double>> context, bool forced) const;
  // The stopping rule of the options, with its time guard.
  Result<std::unique_ptr<StoppingRule>> MakeRule();
  // Starts a new SRM period when the weights in force changed for a reason
  // other than learning (state, canary phase; any change in mode ab).
  void NotePeriod();
  std::string RunningReason() const;

  ExperimentOptions options_;
  uint16_t tag_;
  uint16_t epoch_ = 0;
  ExperimentState state_ = ExperimentState::kRunning;
  std::optional<size_t> winner_;
  std::string reason_;
  std::unique_ptr<Policy> policy_;
  std::unique_ptr<StoppingRule> stopping_;
  StopDecision last_check_;
  uint64_t looks_ = 0;
  int64_t started_s_ = 0;
  ExperimentState period_state_ = ExperimentState::kRunning;
  bool period_canary_ = false;
  std::vector<double> period_weights_;
  bool srm_alarm_ = false;
  double srm_alarm_p_ = 1.0;
  uint64_t srm_alarms_ = 0, srm_acks_ = 0;
  int64_t last_srm_ns_ = 0;
  bool srm_evaluated_ = false;
  UnitHasher hasher_;
  AllocationTable table_;
  std::vector<double> weights_;
  std::vector<ArmCounters> counters_;
  std::vector<std::string> model_sha256_;  // empty: not known
  SrmTracker srm_;
  SrmTracker reward_srm_{2};  // one period: a reward's expected arm is its own decision's
  bool srm_alarm_rewards_ = false;
  int64_t last_refresh_ns_ = 0;
  uint64_t rewards_since_refresh_ = 0;
  bool refreshed_once_ = false;
  bool canary_at_refresh_ = false;
  uint64_t stale_rewards_ = 0;
  ContextStore contexts_;
  std::vector<double> request_alloc_;  // scratch: one request's allocation
  std::vector<double> alloc_sum_;      // per-request allocations since the last refresh
  uint64_t alloc_count_ = 0;
  uint64_t rewards_without_context_ = 0;
  uint64_t allocation_version_ = 0;
};

}  // namespace banditd::experiment
