// reward / rewards: check, write to the WAL, and apply + acknowledge only
// once the WAL says the record is durable (docs/operations.md, Durability).
// A record the WAL drops (a failed write) is abandoned and its reward refused
// with `overloaded`: nothing was recorded, the client may retry.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "src/protocol/encoder.h"
#include "src/server/daemon.h"

namespace banditd::server {
namespace {

// Why the WAL would not take a record, as the client hears it: retryable.
Status NotRecorded(const Status& wal) {
  if (wal.code() == Code::kOverloaded) {
    return Status(Code::kOverloaded, wal.message() + "; reward not recorded, retry later");
  }
  return Status(Code::kOverloaded, "the state directory cannot be written right now (" +
                                       wal.message() + "); reward not recorded, retry later");
}

}  // namespace

void Daemon::HandleReward(const wire::Request& req, Envelope env, zmq::socket_t* reply_socket) {
  const bool reply = reply_socket != nullptr;
  PendingAck ack;
  ack.reply = reply;
  ack.socket = reply_socket;
  ack.env = std::move(env);
  ack.id = std::string(req.id);
  ack.batch = req.op == wire::Op::kRewards;

  auto one = [&](std::string_view decision, double value, Code pre) -> Status {
    if (pre != Code::kOk) return Status(pre, "reward value must be finite");
    auto p = engine_->Prepare(decision, value);
    if (!p.ok()) return p.status();
    auto seq = store_->wal().Submit(kRewardRecord, experiment::Engine::EncodeReward(*p));
    if (!seq.ok()) {
      engine_->Abandon(*p);
      return NotRecorded(seq.status());
    }
    unapplied_.push_back(PendingReward{*seq, *p});
    if (ack.first_seq == 0) ack.first_seq = *seq;
    ack.last_seq = *seq;
    if (ack.batch) ack.accepted_ids.emplace_back(decision);
    return Status::Ok();
  };

  if (!ack.batch) {
    const wire::RewardRequest& r = *req.reward();
    Status s = one(r.decision, r.value, Code::kOk);
    if (!s.ok()) {
      ++rewards_by_result_[std::string(CodeName(s.code()))];
      if (reply) SendError(*reply_socket, ack.env, ack.id, s.code(), s.message());
      return;
    }
    ack.accepted = 1;
  } else {
    for (const auto& item : req.rewards()->items) {
      Status s = one(item.decision, item.value, item.code);
      if (s.ok()) {
        ++ack.accepted;
      } else {
        ++rewards_by_result_[std::string(CodeName(s.code()))];
        ack.rejected_ids.emplace_back(item.decision);
        ack.rejected_codes.push_back(s.code());
      }
    }
    if (ack.accepted == 0) {
      // Nothing to wait for: answer now.
      if (reply) {
        std::vector<wire::Rejection> rej;
        for (size_t i = 0; i < ack.rejected_ids.size(); ++i) {
          rej.push_back({ack.rejected_ids[i], ack.rejected_codes[i]});
        }
        protocol::EncodeRewardsReply(wire::RewardsReply{ack.id, 0, rej}, &out_);
        Send(*reply_socket, ack.env, out_);
      }
      return;
    }
  }
  acks_.push_back(std::move(ack));
}

bool Daemon::WalDropped(uint64_t seq) const {
  for (const auto& r : wal_dropped_) {
    if (seq >= r.first && seq <= r.last) return true;
  }
  return false;
}

void Daemon::OnWalProgress(uint64_t limit) {
  std::vector<int> ignored;
  wal_wake_.Drain(&ignored);
  // resolved first, then the drops: a drop is registered before the WAL's
  // resolved sequence moves past it (wal_writer.h).
  const uint64_t resolved = std::min(store_->wal().resolved_seq(), limit);
  std::vector<state::SeqRange> dropped;
  store_->wal().TakeDropped(&dropped);
  wal_dropped_.insert(wal_dropped_.end(), dropped.begin(), dropped.end());
  const Status health = store_->wal().health();
  if (!health.ok() && !wal_failed_logged_) {
    spdlog::critical(
        "WAL write failed: {} — rewards are refused (overloaded, retry) until it "
        "can be written again; nothing acknowledged is lost",
        health.ToString());
    wal_failed_logged_ = true;
  } else if (health.ok() && wal_failed_logged_) {
    spdlog::warn("WAL writable again: rewards are accepted and acknowledged again");
    wal_failed_logged_ = false;
  }
  const int64_t now = clock_.WallNanos();
  // Apply what is durable, in WAL order; abandon what was dropped.
  while (!unapplied_.empty() && unapplied_.front().seq <= resolved) {
    const auto& r = unapplied_.front().reward;
    if (WalDropped(unapplied_.front().seq)) {
      engine_->Abandon(r);
      ++rewards_by_result_["not_recorded"];
      unapplied_.pop_front();
      continue;
    }
    engine_->Commit(r);
    const auto& exp = engine_->experiment(r.experiment);
    const auto id = engine_->IdOf(r.ref);
    decision_log_->Reward(now, exp.name(), std::string_view(id.data(), id.size()),
                          exp.options().arms[r.ref.arm].name, r.value);
    ++rewards_by_result_["accepted"];
    unapplied_.pop_front();
  }
  while (!acks_.empty() && acks_.front().last_seq <= resolved) {
    PendingAck& a = acks_.front();
    if (a.reply) {
      const Status lost =
          NotRecorded(health.ok() ? Status(Code::kIoError, "a WAL write failed") : health);
      if (a.batch) {
        std::vector<wire::Rejection> rej;
        for (size_t i = 0; i < a.rejected_ids.size(); ++i) {
          rej.push_back({a.rejected_ids[i], a.rejected_codes[i]});
        }
        uint64_t accepted = 0;
        for (size_t i = 0; i < a.accepted_ids.size(); ++i) {
          if (WalDropped(a.first_seq + i)) {
            rej.push_back({a.accepted_ids[i], Code::kOverloaded});
          } else {
            ++accepted;
          }
        }
        protocol::EncodeRewardsReply(wire::RewardsReply{a.id, accepted, rej}, &out_);
        Send(*a.socket, a.env, out_);
      } else if (WalDropped(a.last_seq)) {
        SendError(*a.socket, a.env, a.id, lost.code(), lost.message());
      } else {
        protocol::EncodeOkReply(a.id, &out_);
        Send(*a.socket, a.env, out_);
      }
    }
    acks_.pop_front();
  }
  ResolveCheckpoints(resolved);
  // Forget the drops nothing waits on any more.
  uint64_t oldest = resolved + 1;
  if (!unapplied_.empty()) oldest = std::min(oldest, unapplied_.front().seq);
  if (!acks_.empty()) oldest = std::min(oldest, acks_.front().first_seq);
  while (!wal_dropped_.empty() && wal_dropped_.front().last < oldest) wal_dropped_.pop_front();
}

}  // namespace banditd::server
