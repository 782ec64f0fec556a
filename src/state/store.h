// StateStore: the state directory (docs/operations.md, The state directory).
//
//   state_dir/
//     LOCK                  held (flock) by the one daemon using the directory
//     decision.key          16 random bytes: signs decision ids (created once)
//     snapshot              newest snapshot: one WAL-format record holding
//                           u64 replay_from_segment + the owner's state bytes
//     snapshot.prev         the generation before it, with its WAL segments
//     wal-<id>.log          WAL segments; those >= replay_from are replayed
//     wal.durable           the durable mark (wal.h)
//     quarantine/           bytes recovery cut off, kept for inspection
//     decisions-*.tsv       the decision log (see DecisionLog)
//
// Recovery = newest valid snapshot + replay of the WAL segments after it.
// What it accepts and refuses:
// - a torn tail of the last segment (wal.h says when damage is one) is cut
//   off, its bytes kept in quarantine/, and logged;
// - any other damage refuses start-up naming file and offset, unless repair
//   is asked for: then the bytes from the damage on go to quarantine/ and the
//   report says how many records they may hold;
// - a damaged or missing `snapshot` falls back to `snapshot.prev` when the
//   WAL from its replay point is complete (the damaged file goes to
//   quarantine/); with neither, a WAL that does not start at segment 0 means
//   state was folded into a snapshot that is gone: refused;
// - a missing segment between the snapshot's replay point and the last
//   segment or the durable mark is a gap: refused, naming it.
// Writing a snapshot: BeginSnapshot rotates the WAL (so every earlier record
// is durable and in an older segment), the owner applies what became durable,
// FinishSnapshot keeps the current snapshot as snapshot.prev, writes the new
// one atomically and deletes the segments older than snapshot.prev needs.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "banditd/status.h"
#include "src/state/env.h"
#include "src/state/wal.h"
#include "src/state/wal_writer.h"

namespace banditd::state {

struct RecoveryReport {
  bool snapshot_loaded = false;
  bool used_previous_snapshot = false;  // `snapshot` was damaged or missing
  uint64_t replay_from = 0;             // first segment replayed
  uint64_t records_replayed = 0;
  uint64_t segments_replayed = 0;
  std::vector<std::string> notes;        // torn tails cut, repairs, fallbacks
  std::vector<std::string> quarantined;  // files written under quarantine/
};

class StateStore {
 public:
  using SnapshotFn = std::function<Status(std::string_view state)>;
  using RecordFn = std::function<Status(uint8_t type, std::string_view payload)>;

  // Opens (creating if needed) the directory, takes its lock (another live
  // process holding it: kFailedPrecondition naming the directory and the
  // holder's pid) and reads or creates its decision key. A missing key in a
  // directory that holds state (a snapshot or WAL segments) is refused: a new
  // key would turn every decision issued before into `unknown_decision`.
  // `repair` creates one anyway; Recover reports it and saves it once
  // recovery has succeeded.
  static Result<std::unique_ptr<StateStore>> Open(Env& env, std::string dir, bool repair);

  const std::array<unsigned char, 16>& decision_key() const { return key_; }
  const std::string& dir() const { return dir_; }

  // Feeds the snapshot recovery starts from (if any) to `on_snapshot`, then
  // every WAL record after it to `on_record`, in order; then opens a fresh
  // WAL segment for writing. `repair`: keep what precedes damage instead of
  // refusing.
  Status Recover(const SnapshotFn& on_snapshot, const RecordFn& on_record, bool repair,
                 WalOptions wal_options, WalWriter::DurableCallback on_durable,
                 RecoveryReport* report);

  // Valid after Recover.
  WalWriter& wal() { return *wal_; }

  // Rotates the WAL without waiting for its backlog. The coming snapshot
  // replays from `segment` and must hold exactly the records up to
  // `boundary_seq` (all resolved when this returns), no later one.
  struct SnapshotStart {
    uint64_t segment = 0;
    uint64_t boundary_seq = 0;
  };
  Result<SnapshotStart> BeginSnapshot();
  // Writes `state` as the snapshot replaying from `from_segment`, keeping the
  // previous one as snapshot.prev, then deletes the segments neither needs.
  Status FinishSnapshot(std::string_view state, uint64_t from_segment);

  uint64_t snapshots_written() const { return snapshots_written_; }

 private:
  Status SaveKey();
  struct Snapshot;
  StateStore(Env& env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  Result<std::vector<uint64_t>> Segments();
  // Reads a snapshot file: nullopt when absent; kCorruption when damaged.
  Result<std::optional<Snapshot>> ReadSnapshot(const std::string& name);
  Result<std::optional<Snapshot>> ChooseSnapshot(const std::vector<uint64_t>& segments,
                                                 RecoveryReport& r);
  Status CheckNoGap(const std::vector<uint64_t>& segments, uint64_t from,
                    const std::optional<DurableMark>& mark, bool have_snapshot);
  // Replays one segment; `previous` is the end of the segment before it when
  // that one was replayed too (its header must agree). Sets `*end`.
  Status ReplaySegment(uint64_t id, bool last, bool repair, uint64_t durable_bytes,
                       const std::optional<SegmentEnd>& previous, const RecordFn& on_record,
                       RecoveryReport& r, SegmentEnd* end);
  // Copies bytes that recovery drops to quarantine/<name>@<offset>.
  Result<std::string> Quarantine(const std::string& name, uint64_t offset, std::string_view bytes);

  Env& env_;
  std::string dir_;
  std::unique_ptr<FileLock> lock_;
  std::array<unsigned char, 16> key_{};
  std::vector<std::string> open_notes_;  // handed to the RecoveryReport
  bool key_unsaved_ = false;             // --repair's new key, saved once Recover succeeds
  std::unique_ptr<WalWriter> wal_;
  uint64_t snapshots_written_ = 0;
  // The replay points of the files now in `snapshot` and `snapshot.prev`.
  std::optional<uint64_t> snapshot_from_, prev_from_;
};

}  // namespace banditd::state
