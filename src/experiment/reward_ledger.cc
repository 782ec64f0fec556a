#include "src/experiment/reward_ledger.h"

#include <algorithm>
#include <string>

namespace banditd::experiment {

Status RewardLedger::Check(uint64_t key, uint32_t issued_s, uint32_t now_s) const {
  if (issued_s > now_s && issued_s - now_s > kMaxSkewSeconds) {
    return Status(Code::kUnknownDecision, "decision issued in the future");
  }
  if (issued_s < horizon_s_) {
    return Status(Code::kExpiredDecision, "decision issued before the reward ledger's horizon (" +
                                              std::to_string(horizon_s_ - issued_s) +
                                              " s earlier); the reward window is " +
                                              std::to_string(window_s_) + " s");
  }
  if (now_s > issued_s && now_s - issued_s > window_s_) {
    return Status(Code::kExpiredDecision, "decision is " + std::to_string(now_s - issued_s) +
                                              " s old; the reward window is " +
                                              std::to_string(window_s_) + " s");
  }
  if (keys_.count(key) != 0) {
    return Status(Code::kDuplicateReward, "decision already rewarded");
  }
  return Status::Ok();
}

void RewardLedger::Record(uint64_t key, uint32_t issued_s) {
  if (keys_.insert(key).second) by_minute_[issued_s / kBucketSeconds].push_back(key);
}

void RewardLedger::Expire(uint32_t now_s) {
  if (now_s <= window_s_) return;
  const uint32_t oldest_kept = (now_s - window_s_) / kBucketSeconds;
  // A bucket is dropped only when all of it is past the window; every
  // decision issued at or after the bucket boundary is still remembered.
  RaiseHorizon(oldest_kept * kBucketSeconds);
  while (!by_minute_.empty() && by_minute_.begin()->first < oldest_kept) {
    for (uint64_t k : by_minute_.begin()->second) keys_.erase(k);
    by_minute_.erase(by_minute_.begin());
  }
}

void RewardLedger::RaiseHorizon(uint32_t horizon_s) {
  horizon_s_ = std::max(horizon_s_, horizon_s);
}

std::vector<std::pair<uint32_t, uint64_t>> RewardLedger::Entries() const {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  out.reserve(keys_.size());
  for (const auto& [minute, keys] : by_minute_) {
    for (uint64_t k : keys) out.emplace_back(minute * kBucketSeconds, k);
  }
  return out;
}

}  // namespace banditd::experiment
