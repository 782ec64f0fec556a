// The reward ledger: which decisions have been rewarded, for as long as a
// reward for them may still come (the reward window). A second reward for a
// decision is refused as a duplicate; a reward after the window as expired.
//
// Forgetting is guarded by a horizon: the latest cutoff the ledger has ever
// forgotten decisions at. A decision issued before the horizon may have been
// rewarded and forgotten, so its reward is refused as expired whatever the
// clock now says — a clock that steps back cannot reopen it. The horizon only
// moves forward, and it and the remembered decisions are part of the
// snapshot, so idempotency survives restarts too.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_set>
#include <vector>

#include "banditd/status.h"

namespace banditd::experiment {

class RewardLedger {
 public:
  // A decision issued more than this many seconds after "now" is refused as
  // unknown (it cannot be ours unless a clock is that far off).
  static constexpr uint32_t kMaxSkewSeconds = 300;

  explicit RewardLedger(uint32_t window_s) : window_s_(window_s) {}

  // Checks a reward for decision `key` issued at `issued_s`, at time `now_s`:
  // kUnknownDecision for a decision "from the future" (issued more than
  // kMaxSkewSeconds after now_s), kExpiredDecision for one issued before the
  // horizon or more than the window before now_s, kDuplicateReward when
  // already rewarded. Does not record; call Record once the reward is applied.
  Status Check(uint64_t key, uint32_t issued_s, uint32_t now_s) const;

  // True when `key` is remembered as rewarded (WAL replay's only check).
  bool Contains(uint64_t key) const { return keys_.count(key) != 0; }

  void Record(uint64_t key, uint32_t issued_s);

  // Forgets decisions issued before now_s - window (their rewards would be
  // refused as expired anyway) and raises the horizon to that cutoff. A now_s
  // behind an earlier call's forgets nothing and leaves the horizon.
  void Expire(uint32_t now_s);

  // Every remembered decision was issued at or after the horizon; rewards of
  // decisions issued before it are refused. 0 until the first Expire.
  uint32_t horizon_s() const { return horizon_s_; }
  // Raises the horizon (a restored snapshot's); never lowers it.
  void RaiseHorizon(uint32_t horizon_s);

  size_t size() const { return keys_.size(); }
  uint32_t window_s() const { return window_s_; }

  // (issued_s, key) pairs, oldest first: the snapshot of the ledger.
  std::vector<std::pair<uint32_t, uint64_t>> Entries() const;

 private:
  static constexpr uint32_t kBucketSeconds = 60;
  uint32_t window_s_;
  uint32_t horizon_s_ = 0;
  std::unordered_set<uint64_t> keys_;
  std::map<uint32_t, std::vector<uint64_t>> by_minute_;  // issued minute -> keys
};

}  // namespace banditd::experiment
