// WalWriter: appends records to the current WAL segment on its own thread,
// with the configured durability (DESIGN.md §8):
//   always — one fsync per record, before that record counts as durable;
//   group  — one fsync covers every record submitted within a window of at
//            most `group_window_ns` (group commit; the default);
//   none   — written to the OS without fsync (benchmarks; a crash can lose
//            recent records).
// A write or fsync error is sticky: every later Submit fails with it, so the
// daemon stops acknowledging anything that is not on disk.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "banditd/status.h"
#include "src/state/env.h"

namespace banditd::state {

enum class Durability { kAlways, kGroup, kNone };

struct WalOptions {
  Durability durability = Durability::kGroup;
  int64_t group_window_ns = 2'000'000;  // 2 ms
};

class WalWriter {
 public:
  // Called on the writer's thread after each batch: every record with
  // sequence <= durable_seq is durable; a non-OK status means the batch failed
  // (and every later one will).
  using DurableCallback = std::function<void(uint64_t durable_seq, const Status& status)>;

  static Result<std::unique_ptr<WalWriter>> Open(Env& env, std::string dir, uint64_t segment_id,
                                                 WalOptions options, DurableCallback on_durable);
  ~WalWriter();  // writes what is pending, then stops

  // Thread-safe. Queues one record; returns its sequence number (1, 2, ...).
  Result<uint64_t> Submit(uint8_t type, std::string_view payload);

  // Blocks until everything submitted so far is durable, or returns the error.
  Status Flush();

  // Flushes, then directs later records to segment `id` (a new file).
  Status Rotate(uint64_t id);

  uint64_t segment_id() const;
  uint64_t durable_seq() const { return durable_seq_.load(std::memory_order_acquire); }
  Status health() const;
  uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  WalWriter(Env& env, std::string dir, WalOptions options, DurableCallback on_durable);
  void Run();

  Env& env_;
  const std::string dir_;
  const WalOptions options_;
  const DurableCallback on_durable_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the writer waits for records
  std::condition_variable done_cv_;  // Flush waits for durability
  std::unique_ptr<WritableFile> file_;
  uint64_t segment_id_ = 0;
  std::string pending_;               // framed records not yet written
  std::vector<size_t> pending_ends_;  // end offset of each pending record
  uint64_t submitted_seq_ = 0;
  uint64_t written_seq_ = 0;  // handed to the writer thread
  int64_t first_pending_ns_ = 0;
  bool stop_ = false;
  Status failed_;
  std::atomic<uint64_t> durable_seq_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> bytes_{0};
  std::thread thread_;
};

}  // namespace banditd::state
