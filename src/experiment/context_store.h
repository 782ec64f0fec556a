// The context store of a contextual experiment: each decision's context,
// kept by decision key until its reward arrives, so a late reward updates the
// policy's model with the context the decision was made on.
//
// Bounded by bytes: every kept context costs kEntryOverhead + 8 * dim bytes
// (the values, plus an estimate of the hash-map node and queue slot that hold
// them). When a new context would go past the bound, the oldest entries are
// evicted first and counted. A context whose reward arrived is erased (its
// queue slot stays charged until it reaches the head of the queue, so the
// bound covers all the memory the store holds). Entries older than the reward
// window are dropped by Expire: their rewards are refused as expired anyway.
//
// Not thread-safe: one owner (the experiment).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "banditd/status.h"

namespace banditd::experiment {

class ContextStore {
 public:
  // Bytes charged per kept context on top of its 8 * dim bytes of values:
  // the queue slot, the hash-map node and bucket, and malloc's headers and
  // rounding. Measured with glibc at 97-105 bytes (context_store_test,
  // ChargeCoversTheHeapItUses); 112 keeps the charge above the real use.
  static constexpr size_t kEntryOverhead = 112;
  static constexpr size_t kDefaultMaxBytes = size_t{64} << 20;  // 64 MiB

  explicit ContextStore(size_t max_bytes = kDefaultMaxBytes) : max_bytes_(max_bytes) {}

  // Keeps `context` for decision `key` issued at `issued_s` (wall seconds),
  // evicting the oldest entries until it fits. A context larger than the
  // whole bound is not kept (counted as an eviction).
  void Put(uint64_t key, uint32_t issued_s, std::span<const double> context);

  // The context kept for `key`; empty when there is none (never stored,
  // evicted, expired or already used).
  std::span<const double> Find(uint64_t key) const;

  // Forgets the context of `key` (its reward has been applied).
  void Erase(uint64_t key);

  // Drops every entry issued before `oldest_kept_s`.
  void Expire(uint32_t oldest_kept_s);

  void Clear();

  size_t entries() const { return index_.size(); }
  size_t bytes() const { return bytes_; }
  size_t max_bytes() const { return max_bytes_; }
  uint64_t evictions() const { return evictions_; }  // since this object was built

  // The live entries, oldest first, as bytes (for the engine's snapshot):
  //   u8 version (1) | u16 dim | u32 count | count x (u64 key | u32 issued_s | dim x f64)
  // all little-endian. An empty store is an empty string.
  std::string Serialize() const;

  // Replaces the contents with a Serialize()'s, then applies the bound (a
  // smaller max_bytes than when written evicts the oldest). Entries of
  // another context length than `dim` are refused (kInvalidArgument),
  // malformed bytes are kCorruption; either leaves the store unchanged.
  Status Deserialize(std::string_view bytes, size_t dim);

 private:
  struct Entry {
    uint64_t key = 0;
    uint32_t issued_s = 0;
    bool live = false;
    std::vector<double> values;
  };
  static size_t Cost(size_t dim) { return kEntryOverhead + 8 * dim; }
  void PopFront();
  void DropDeadHead();

  size_t max_bytes_;
  size_t bytes_ = 0;
  uint64_t evictions_ = 0;
  std::deque<Entry> queue_;                     // insertion order, oldest first
  std::unordered_map<uint64_t, Entry*> index_;  // live entries; deque ends keep addresses
};

}  // namespace banditd::experiment
