// WalWriter: appends records to the current WAL segment on its own thread,
// with the configured durability (docs/operations.md, Durability):
//   always — one fsync per record, before that record counts as durable;
//   group  — one fsync covers every record submitted within a window of at
//            most `group_window_ns` (group commit; the default);
//   none   — written to the OS without fsync (benchmarks; a crash can lose
//            recent records).
// Every record ends either durable or dropped, never in between:
// - the backlog is bounded: Submit refuses with kOverloaded beyond
//   `max_backlog_records` / `max_backlog_bytes`, so memory and the time to
//   drain stay bounded and the caller can push back;
// - a failed write or fsync (a full disk, an I/O error) drops the batch and
//   everything queued behind it (reported through TakeDropped), cuts the
//   segment back to its last durable byte and refuses new records with the
//   error; every `retry_interval_ns` the writer tries to cut the file back
//   and sync it again, and once that works it takes records again by itself.
// After each fsync the writer rewrites the durable mark (wal.h).
// Submitting is O(1) per record and never waits for I/O.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "banditd/status.h"
#include "banditd/vocabulary.h"
#include "src/state/env.h"
#include "src/state/wal.h"

namespace banditd::state {

struct WalOptions {
  Durability durability = Durability::kGroup;
  int64_t group_window_ns = 2'000'000;  // 2 ms
  size_t max_backlog_records = 65'536;  // records submitted but not yet resolved
  size_t max_backlog_bytes = 64u << 20;
  int64_t retry_interval_ns = 1'000'000'000;  // after a failed write
};

// Inclusive range of record sequence numbers.
struct SeqRange {
  uint64_t first = 0, last = 0;
};

class WalWriter {
 public:
  // Called on the writer's thread after each batch, each drop and each
  // recovery; read resolved_seq() and then TakeDropped() to learn the outcome.
  using DurableCallback = std::function<void(uint64_t durable_seq, const Status& status)>;

  // `segment_id` names a new (empty) segment; `previous`, when there is a
  // segment before it, is written as its header record (wal.h).
  static Result<std::unique_ptr<WalWriter>> Open(Env& env, std::string dir, uint64_t segment_id,
                                                 WalOptions options, DurableCallback on_durable,
                                                 std::optional<SegmentEnd> previous = {});
  ~WalWriter();  // writes what is pending, then stops

  // Thread-safe. Queues one record; returns its sequence number (1, 2, ...).
  // kOverloaded when the backlog is full; the write error while the WAL
  // cannot be written.
  Result<uint64_t> Submit(uint8_t type, std::string_view payload);

  // Blocks until everything submitted so far is resolved; an error when any
  // of it was dropped (or the WAL is failed).
  Status Flush();

  // Directs every record not yet written to segment `id` (a new file, its
  // header naming the old one's end). Waits only for the batch being
  // written, never for the backlog: returns the boundary, the sequence
  // number of the last record in the older segments (every record up to it
  // is resolved). Submit keeps working meanwhile.
  Result<uint64_t> Rotate(uint64_t id);

  uint64_t segment_id() const;
  // Every record up to here is durable, except those in dropped ranges.
  uint64_t resolved_seq() const { return resolved_seq_.load(std::memory_order_acquire); }
  // The highest sequence number written and synced.
  uint64_t durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }
  // Appends the ranges dropped since the last call (oldest first). A range
  // is registered before resolved_seq() moves past it, so a caller that
  // reads resolved_seq() first and then takes the drops sees every drop that
  // concerns the records it resolves.
  void TakeDropped(std::vector<SeqRange>* out);
  // OK, or the error that stopped writing (until a retry succeeds).
  Status health() const;
  // Records waiting to be written.
  size_t backlog() const;
  size_t max_backlog() const { return options_.max_backlog_records; }
  uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  uint64_t dropped_records() const { return dropped_records_.load(std::memory_order_relaxed); }
  uint64_t recoveries() const { return recoveries_.load(std::memory_order_relaxed); }

 private:
  WalWriter(Env& env, std::string dir, WalOptions options, DurableCallback on_durable);
  void Run();
  // Writes one batch; on failure drops it and the queue (lock held on entry
  // and exit, released for the I/O).
  void WriteBatch(std::unique_lock<std::mutex>& lock, std::string& batch);
  // While failed: cut the segment back to its durable size and sync it.
  void TryResume(std::unique_lock<std::mutex>& lock);
  void WriteMark(uint64_t segment, uint64_t bytes);
  // Creates segment `id` holding the header for `previous`; its size.
  Result<std::unique_ptr<WritableFile>> CreateSegment(uint64_t id,
                                                      const std::optional<SegmentEnd>& previous,
                                                      uint64_t* bytes);
  std::string SegmentPath(uint64_t id) const;

  Env& env_;
  const std::string dir_;
  const WalOptions options_;
  const DurableCallback on_durable_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the writer waits for records
  std::condition_variable done_cv_;  // Flush waits for durability
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<WritableFile> mark_;  // null with durability none
  uint64_t segment_id_ = 0;
  uint64_t segment_bytes_ = 0;  // durable bytes of the current segment
  // Framed records not yet written: pending_[pending_head_, end); the end
  // offset of each record in pending_ends_.
  std::string pending_;
  size_t pending_head_ = 0;
  std::deque<size_t> pending_ends_;
  uint64_t submitted_seq_ = 0;
  uint64_t written_seq_ = 0;  // handed to the writer thread
  uint64_t last_dropped_seq_ = 0;
  int64_t first_pending_ns_ = 0;
  bool stop_ = false;
  bool rotating_ = false;  // the writer takes no batch while the file switches
  Status failed_;
  std::vector<SeqRange> dropped_;
  std::atomic<uint64_t> resolved_seq_{0};
  std::atomic<uint64_t> durable_seq_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> dropped_records_{0};
  std::atomic<uint64_t> recoveries_{0};
  std::thread thread_;
};

}  // namespace banditd::state
