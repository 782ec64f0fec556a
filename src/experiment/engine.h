// Engine: every experiment of a daemon, and the bookkeeping that ties
// decisions to rewards — decision ids, the reward ledger, snapshots. It knows
// nothing of sockets or files: the server feeds it decoded requests, writes
// what it returns to the WAL and the decision log, and replays the WAL into it
// at start-up.
//
// Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "banditd/clock.h"
#include "banditd/rng.h"
#include "banditd/status.h"
#include "src/experiment/decision_id.h"
#include "src/experiment/experiment.h"
#include "src/experiment/reward_ledger.h"

namespace banditd::experiment {

struct EngineOptions {
  std::vector<ExperimentOptions> experiments;
  uint32_t reward_window_s = 24 * 3600;
  DecisionKey decision_key{};  // secret; persisted in the state dir by the server
  uint64_t seed = 0;           // for the engine's Rng (allocation Monte Carlo, sampling)
};

struct Decision {
  size_t experiment = 0;  // index into the engine's experiments
  DecisionRef ref;
  DecisionIdText id;
  uint64_t unit_hash = 0;  // 0 when the request had no unit
};

// A reward that passed every check; what the WAL records and Commit applies.
struct PendingReward {
  size_t experiment = 0;
  DecisionRef ref;
  double value = 0;
  // Contextual policies: the decision's context, taken from the context store
  // by Prepare (empty when it had none: the policy does not learn from it).
  std::vector<double> context;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Create(const EngineOptions& options, Clock& clock);

  size_t num_experiments() const { return experiments_.size(); }
  Experiment& experiment(size_t i) { return *experiments_[i]; }
  const Experiment& experiment(size_t i) const { return *experiments_[i]; }
  std::optional<size_t> Find(std::string_view name) const;

  // Decides the arm of one request. kUnknownExperiment, kBadRequest for an
  // unknown forced arm, kBadContext for a context the experiment's contextual
  // policy cannot take (Experiment::Route). The context of a decision that
  // can teach a contextual policy (not forced) is kept in the experiment's
  // context store until its reward.
  Result<Decision> Route(std::string_view exp, std::optional<std::string_view> unit,
                         std::optional<std::string_view> forced_arm,
                         std::optional<std::span<const double>> context = std::nullopt);

  // Checks a reward without applying it: the id must be ours (unknown_decision),
  // of a configured experiment (unknown_experiment), inside the window
  // (expired_decision), not yet rewarded nor in flight (duplicate_reward), and
  // the value valid for the metric (invalid_value). On success the decision is
  // marked in flight until Commit or Abandon, and the reward carries a copy of
  // the decision's stored context (none when evicted: see ApplyReward).
  Result<PendingReward> Prepare(std::string_view decision_id, double value);

  // Applies a prepared reward (after it is durable) and records it in the ledger.
  void Commit(const PendingReward& reward);
  // Forgets a prepared reward that could not be made durable.
  void Abandon(const PendingReward& reward);

  // Replays a reward read back from the WAL: like Prepare + Commit, but only
  // a duplicate (its decision already in the ledger) is skipped. The window
  // and the ledger's horizon are not applied: the reward was checked when it
  // was logged, and records after a snapshot are not in its state.
  void Replay(const PendingReward& reward);

  // Checkpoints: an experiment's whole state written to the WAL between
  // snapshots (on every change of state, SRM alarm or operator op, and at
  // most once a second while it looks and routes), so a crash loses none of
  // what is not a reward: the rule's looks and running p and interval, the
  // SRM tallies and alarm, a promote. The record holds the experiment's
  // snapshot and the keys of its rewards that were in the WAL but not yet
  // applied (`in_flight`: written before the checkpoint, not in its state).
  // At most kMaxCheckpointInFlight keys: with more the caller waits a tick.
  static constexpr size_t kMaxCheckpointInFlight = 4096;
  std::string EncodeCheckpoint(size_t experiment, std::span<const uint64_t> in_flight) const;
  // Replays one: restores the experiment (unchanged when it is no longer
  // configured) and applies again its in-flight rewards that replayed before
  // the record (the ones the WAL dropped are not there). kCorruption for a
  // malformed record (the engine is unchanged); kInvalidArgument when the
  // state does not fit the config (Experiment::Restore).
  Status ReplayCheckpoint(std::string_view bytes);
  // Recovery is over: frees what ReplayCheckpoint needed.
  void EndReplay() { replayed_.clear(); }

  // Periodic work: allocation refresh, stopping rules (told the seconds since
  // their experiment started, by NowSeconds), guardrails, SRM tests, ledger
  // and context-store expiry. Returns the indices of experiments whose state
  // changed or whose SRM alarm fired.
  std::vector<size_t> Tick();

  // The whole learned state, and back (same experiments by name and arm count).
  // Restore checks every field's type and size before it changes anything: a
  // malformed snapshot is kCorruption naming the field (an arm-count mismatch
  // or an unsupported format kInvalidArgument), and the engine is unchanged.
  std::string Snapshot() const;
  Status Restore(std::string_view bytes);

  // The engine's time in seconds since the Unix epoch (DecisionTime: the wall
  // clock read at Create plus the monotonic time elapsed since), so a step of
  // the wall clock while running moves neither decision times nor the reward
  // window. Threads that issue decisions for the engine stamp them with
  // decision_time().
  uint32_t NowSeconds() const { return time_.Seconds(clock_.MonoNanos()); }
  const DecisionTime& decision_time() const { return time_; }

  // The id text of a decision (for the decision log).
  DecisionIdText IdOf(const DecisionRef& ref) const {
    DecisionIdText t;
    codec_.Encode(ref, t);
    return t;
  }

  uint32_t boot() const { return boot_; }
  const RewardLedger& ledger() const { return ledger_; }
  Rng& rng() { return rng_; }
  Clock& clock() { return clock_; }

  // Serialises a PendingReward for the WAL and back. The record is the 22-byte
  // decision ref and the value as f64 (format 1, 30 bytes), followed, when the
  // reward carries a context, by u8 1 | u16 dim | dim x f64 (format 2). Both
  // decode; a 30-byte record is a reward without context.
  static std::string EncodeReward(const PendingReward& r);
  static Result<PendingReward> DecodeReward(std::string_view bytes);

 private:
  Engine(const EngineOptions& options, Clock& clock);

  Clock& clock_;
  Rng rng_;
  DecisionCodec codec_;
  RewardLedger ledger_;
  std::vector<std::unique_ptr<Experiment>> experiments_;
  std::unordered_map<uint16_t, size_t> by_tag_;
  uint32_t boot_;
  uint32_t seq_ = 0;
  std::unordered_map<uint64_t, uint32_t> in_flight_;  // decision key -> issued_s
  uint32_t last_expire_s_ = 0;
  DecisionTime time_;
  // During recovery: each experiment's last kMaxCheckpointInFlight replayed
  // rewards, for ReplayCheckpoint.
  std::unordered_map<size_t, std::deque<PendingReward>> replayed_;
};

}  // namespace banditd::experiment
