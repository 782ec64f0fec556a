// StateStore: the state directory (DESIGN.md §8).
//
//   state_dir/
//     decision.key          16 random bytes: signs decision ids (created once)
//     snapshot              newest snapshot: one WAL-format record holding
//                           u64 replay_from_segment + the owner's state bytes
//     wal-<id>.log          WAL segments; those >= replay_from are replayed
//     decisions-*.tsv       the decision log (see DecisionLog)
//
// Recovery = newest valid snapshot + replay of the WAL segments after it. A
// torn tail of the last segment is truncated and logged; a bad record anywhere
// else refuses start-up (naming file and offset) unless repair is asked for.
// Writing a snapshot: BeginSnapshot rotates the WAL (so every earlier record
// is durable and in an older segment), the owner applies what became durable,
// FinishSnapshot writes the state atomically and deletes the older segments.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "banditd/status.h"
#include "src/state/env.h"
#include "src/state/wal_writer.h"

namespace banditd::state {

struct RecoveryReport {
  bool snapshot_loaded = false;
  uint64_t replay_from = 0;  // first segment replayed
  uint64_t records_replayed = 0;
  uint64_t segments_replayed = 0;
  std::vector<std::string> notes;  // torn tails truncated, repairs made
};

class StateStore {
 public:
  using SnapshotFn = std::function<Status(std::string_view state)>;
  using RecordFn = std::function<Status(uint8_t type, std::string_view payload)>;

  // Opens (creating if needed) the directory and its decision key.
  static Result<std::unique_ptr<StateStore>> Open(Env& env, std::string dir);

  const std::array<unsigned char, 16>& decision_key() const { return key_; }
  const std::string& dir() const { return dir_; }

  // Feeds the newest snapshot (if any) to `on_snapshot`, then every WAL
  // record after it to `on_record`, in order; then opens a fresh WAL segment
  // for writing. `repair`: keep what precedes a corrupt record instead of refusing.
  Status Recover(const SnapshotFn& on_snapshot, const RecordFn& on_record, bool repair,
                 WalOptions wal_options, WalWriter::DurableCallback on_durable,
                 RecoveryReport* report);

  // Valid after Recover.
  WalWriter& wal() { return *wal_; }

  // Rotates the WAL; returns the segment the coming snapshot replays from.
  Result<uint64_t> BeginSnapshot();
  // Writes `state` as the snapshot replaying from `from_segment`, then deletes
  // the segments before it.
  Status FinishSnapshot(std::string_view state, uint64_t from_segment);

  uint64_t snapshots_written() const { return snapshots_written_; }

 private:
  StateStore(Env& env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  Result<std::vector<uint64_t>> Segments();

  Env& env_;
  std::string dir_;
  std::array<unsigned char, 16> key_{};
  std::unique_ptr<WalWriter> wal_;
  uint64_t snapshots_written_ = 0;
};

}  // namespace banditd::state
