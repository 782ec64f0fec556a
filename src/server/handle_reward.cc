// reward / rewards: check, write to the WAL, and apply + acknowledge only
// once the WAL says the record is durable (DESIGN.md §8).
#include <spdlog/spdlog.h>

#include "src/protocol/encoder.h"
#include "src/server/daemon.h"

namespace banditd::server {
namespace {

constexpr uint8_t kRewardRecord = 1;

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
      spdlog::error("WAL write refused: {} — rewards are not acknowledged",
                    seq.status().ToString());
      return Status(Code::kInternal, "the state directory cannot be written (" +
                                         seq.status().message() + "); reward not recorded");
    }
    unapplied_.push_back(PendingReward{*seq, *p});
    ack.last_seq = *seq;
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

void Daemon::OnWalProgress() {
  std::vector<int> ignored;
  wal_wake_.Drain(&ignored);
  const uint64_t durable = store_->wal().durable_seq();
  const Status health = store_->wal().health();
  const int64_t now = clock_.WallNanos();
  // Apply what is durable, in WAL order.
  while (!unapplied_.empty() && unapplied_.front().seq <= durable) {
    const auto& r = unapplied_.front().reward;
    engine_->Commit(r);
    const auto& exp = engine_->experiment(r.experiment);
    const auto id = engine_->IdOf(r.ref);
    decision_log_->Reward(now, exp.name(), std::string_view(id.data(), id.size()),
                          exp.options().arms[r.ref.arm].name, r.value);
    ++rewards_by_result_["accepted"];
    unapplied_.pop_front();
  }
  while (!acks_.empty() && acks_.front().last_seq <= durable) {
    PendingAck& a = acks_.front();
    if (a.reply) {
      if (a.batch) {
        std::vector<wire::Rejection> rej;
        for (size_t i = 0; i < a.rejected_ids.size(); ++i) {
          rej.push_back({a.rejected_ids[i], a.rejected_codes[i]});
        }
        protocol::EncodeRewardsReply(wire::RewardsReply{a.id, a.accepted, rej}, &out_);
      } else {
        protocol::EncodeOkReply(a.id, &out_);
      }
      Send(*a.socket, a.env, out_);
    }
    acks_.pop_front();
  }
  if (!health.ok() && (!unapplied_.empty() || !acks_.empty())) {
    // Never acknowledged, never applied: the client sees the error and may retry.
    spdlog::critical("WAL failed: {} — {} reward(s) not recorded; acknowledgements stopped",
                     health.ToString(), unapplied_.size());
    for (const auto& u : unapplied_) engine_->Abandon(u.reward);
    unapplied_.clear();
    for (const auto& a : acks_) {
      if (a.reply) {
        SendError(*a.socket, a.env, a.id, Code::kInternal,
                  "the state directory cannot be written (" + health.message() +
                      "); reward not recorded");
      }
    }
    acks_.clear();
  }
}

}  // namespace banditd::server
