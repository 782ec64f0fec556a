// Checkpoints: each experiment's state in the WAL between snapshots, so a
// crash keeps the rule's looks, the SRM tallies and alarm and operator ops
// (docs/operations.md, Durability). Admin ops are answered once theirs is
// durable; a change a tick makes (a decision, an alarm) is made durable by a
// snapshot before the tick ends.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "src/protocol/encoder.h"
#include "src/server/daemon.h"

namespace banditd::server {
namespace {

constexpr int64_t kCheckpointIntervalNs = 1'000'000'000;

}  // namespace

Daemon::CheckpointMark Daemon::MarkOf(size_t e) const {
  const auto& x = engine_->experiment(e);
  CheckpointMark m;
  m.epoch = x.epoch();
  m.state = static_cast<int>(x.state());
  m.srm_alarm = x.srm_alarm();
  m.srm_alarms = x.srm_alarms();
  m.srm_acks = x.srm_acks();
  m.looks = x.looks();
  for (const auto& c : x.counters()) m.routed += c.requests;
  return m;
}

Result<uint64_t> Daemon::WriteCheckpoint(size_t e) {
  checkpointed_.resize(engine_->num_experiments());
  std::vector<uint64_t> in_flight;
  for (const auto& r : unapplied_) {
    if (r.reward.experiment == e) in_flight.push_back(r.reward.ref.key());
  }
  if (in_flight.size() > experiment::Engine::kMaxCheckpointInFlight) {
    return Status(Code::kOverloaded, "too many rewards in flight for a checkpoint");
  }
  auto seq = store_->wal().Submit(kCheckpointRecord, engine_->EncodeCheckpoint(e, in_flight));
  if (!seq.ok()) return seq.status();
  CheckpointMark m = MarkOf(e);
  m.seq = *seq;
  m.at_ns = clock_.MonoNanos();
  checkpointed_[e] = m;
  return *seq;
}

void Daemon::WriteCheckpoints(const std::vector<size_t>& urgent) {
  checkpointed_.resize(engine_->num_experiments());  // before the first WriteCheckpoint
  const int64_t now = clock_.MonoNanos();
  if (!urgent.empty()) {
    // A decision, an SRM alarm, a guardrail: status may show it as soon as
    // this tick ends, so it must be durable first — a checkpoint waits for
    // its group commit, a snapshot is written and synced now (rare: once per
    // decision). A rule's decision cannot be re-derived after a crash:
    // bandit_cs fixes its stakes per look.
    if (WriteSnapshot().ok()) {
      for (size_t e = 0; e < engine_->num_experiments(); ++e) {
        checkpointed_[e] = MarkOf(e);
        checkpointed_[e].at_ns = now;
      }
      return;
    }
  }
  for (size_t e = 0; e < engine_->num_experiments(); ++e) {
    const CheckpointMark m = MarkOf(e);
    const CheckpointMark& last = checkpointed_[e];
    const bool now_due = std::find(urgent.begin(), urgent.end(), e) != urgent.end() ||
                         !m.SameState(last);
    const bool moved = m.looks != last.looks || m.routed != last.routed;
    if (!now_due && !(moved && now - last.at_ns >= kCheckpointIntervalNs)) continue;
    // Refused (a failed WAL, too much in flight): tried again next tick.
    (void)WriteCheckpoint(e);
  }
}

void Daemon::ResolveCheckpoints(uint64_t resolved) {
  for (auto& m : checkpointed_) {
    if (m.seq != 0 && m.seq <= resolved && WalDropped(m.seq)) m = CheckpointMark{};  // due again
  }
  while (!admin_acks_.empty() && admin_acks_.front().seq <= resolved) {
    const PendingAdminAck& a = admin_acks_.front();
    if (WalDropped(a.seq)) {
      SendError(*a.socket, a.env, a.id, Code::kIoError,
                "the change is in force but could not be written to the state directory (" +
                    store_->wal().health().ToString() +
                    "); it is written with the next checkpoint or snapshot");
    } else {
      protocol::EncodeOkReply(a.id, &out_);
      Send(*a.socket, a.env, out_);
    }
    admin_acks_.pop_front();
  }
}

}  // namespace banditd::server
