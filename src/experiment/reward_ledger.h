// The reward ledger: which decisions have been rewarded, for as long as a
// reward for them may still come (the reward window). A second reward for a
// decision is refused as a duplicate; a reward after the window as expired.
// Its contents are part of the snapshot, so idempotency survives restarts.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_set>
#include <vector>

#include "banditd/status.h"

namespace banditd::experiment {

class RewardLedger {
 public:
  explicit RewardLedger(uint32_t window_s) : window_s_(window_s) {}

  // Checks a reward for decision `key` issued at `issued_s`, at time `now_s`:
  // kExpiredDecision past the window, kDuplicateReward when already rewarded,
  // kUnknownDecision for a decision "from the future" (clock skew beyond 5 min).
  // Does not record; call Record once the reward is applied.
  Status Check(uint64_t key, uint32_t issued_s, uint32_t now_s) const;

  void Record(uint64_t key, uint32_t issued_s);

  // Forgets decisions issued before now_s - window: their rewards would be
  // refused as expired anyway.
  void Expire(uint32_t now_s);

  size_t size() const { return keys_.size(); }
  uint32_t window_s() const { return window_s_; }

  // (issued_s, key) pairs, oldest first: the snapshot of the ledger.
  std::vector<std::pair<uint32_t, uint64_t>> Entries() const;

 private:
  static constexpr uint32_t kBucketSeconds = 60;
  uint32_t window_s_;
  std::unordered_set<uint64_t> keys_;
  std::map<uint32_t, std::vector<uint64_t>> by_minute_;  // issued minute -> keys
};

}  // namespace banditd::experiment
