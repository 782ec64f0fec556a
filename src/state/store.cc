#include "src/state/store.h"

#include <sodium.h>

#include <algorithm>
#include <limits>

namespace banditd::state {

namespace {

constexpr char kLockFile[] = "LOCK";
constexpr char kKeyFile[] = "decision.key";
constexpr char kSnapshotFile[] = "snapshot";
constexpr char kPrevSnapshotFile[] = "snapshot.prev";
constexpr char kQuarantineDir[] = "quarantine";
constexpr uint8_t kSnapshotRecord = 0xFE;

std::string EncodeU64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

uint64_t DecodeU64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(s[i])) << (8 * i);
  return v;
}

}  // namespace

struct StateStore::Snapshot {
  std::string file;  // the whole file
  uint64_t replay_from = 0;
  std::string_view state;  // into `file`
};

Result<std::unique_ptr<StateStore>> StateStore::Open(Env& env, std::string dir, bool repair) {
  if (sodium_init() < 0) return Status(Code::kInternal, "libsodium failed to initialise");
  std::unique_ptr<StateStore> s(new StateStore(env, std::move(dir)));
  BANDITD_RETURN_IF_ERROR(env.CreateDir(s->dir_));
  auto lock = env.LockFile(s->dir_ + "/" + kLockFile);
  if (!lock.ok()) {
    if (lock.status().code() != Code::kFailedPrecondition) return lock.status();
    return Status(Code::kFailedPrecondition,
                  "state_dir " + s->dir_ + " is in use by another banditd: " +
                      lock.status().message() + "; give each daemon a state_dir of its own");
  }
  s->lock_ = std::move(lock).value();
  const std::string key_path = s->dir_ + "/" + kKeyFile;
  auto key = env.ReadFile(key_path);
  if (key.ok()) {
    if (key->size() != s->key_.size()) {
      return Status(Code::kCorruption, key_path + " is not a 16-byte key");
    }
    std::copy(key->begin(), key->end(), s->key_.begin());
  } else if (key.status().code() == Code::kNotFound) {
    BANDITD_ASSIGN_OR_RETURN(auto names, env.List(s->dir_));
    // Anything the old key signed or that records what it signed.
    const bool has_state = std::any_of(names.begin(), names.end(), [](const std::string& n) {
      uint64_t id;
      return n == kSnapshotFile || n == kPrevSnapshotFile || n == kDurableMarkFile ||
             ParseWalSegmentName(n, &id) || (n.starts_with("decisions-") && n.ends_with(".tsv"));
    });
    randombytes_buf(s->key_.data(), s->key_.size());
    if (has_state) {
      const std::string what = key_path + " is missing but the directory holds state";
      if (!repair) {
        return Status(Code::kFailedPrecondition,
                      what + ": a new key would make every decision issued before it "
                             "unknown_decision (their rewards refused). Restore decision.key from "
                             "the backup of this state_dir, or start with --repair to create a "
                             "new key");
      }
      s->open_notes_.push_back("repair: " + what + ": created a new one; rewards for decisions "
                               "issued before it are refused (unknown_decision)");
      // Written once recovery has succeeded: a start that fails leaves the
      // directory as it found it, so the next plain start refuses again.
      s->key_unsaved_ = true;
    } else {
      BANDITD_RETURN_IF_ERROR(s->SaveKey());
    }
  } else {
    return key.status();
  }
  return s;
}

Result<std::vector<uint64_t>> StateStore::Segments() {
  BANDITD_ASSIGN_OR_RETURN(auto names, env_.List(dir_));
  std::vector<uint64_t> ids;
  for (const auto& n : names) {
    uint64_t id;
    if (ParseWalSegmentName(n, &id)) ids.push_back(id);
  }
  return ids;  // sorted: names are zero-padded
}

Result<std::optional<StateStore::Snapshot>> StateStore::ReadSnapshot(const std::string& name) {
  const std::string path = dir_ + "/" + name;
  auto bytes = env_.ReadFile(path);
  if (!bytes.ok()) {
    if (bytes.status().code() == Code::kNotFound) return std::optional<Snapshot>();
    return bytes.status();
  }
  Snapshot snap;
  snap.file = std::move(bytes).value();
  auto parsed = ParseWal(snap.file, path, false, kMaxSnapshotBytes);
  if (!parsed.ok() || parsed->records.size() != 1 || parsed->torn_tail ||
      parsed->records[0].type != kSnapshotRecord || parsed->records[0].payload.size() < 8) {
    return Status(Code::kCorruption, path + " is damaged (" +
                                         (parsed.ok() ? std::string("not one snapshot record")
                                                      : parsed.status().message()) +
                                         ")");
  }
  const std::string_view payload = parsed->records[0].payload;
  snap.replay_from = DecodeU64(payload);
  snap.state = payload.substr(8);
  return std::optional<Snapshot>(std::move(snap));
}

Result<std::string> StateStore::Quarantine(const std::string& name, uint64_t offset,
                                           std::string_view bytes) {
  const std::string qdir = dir_ + "/" + kQuarantineDir;
  BANDITD_RETURN_IF_ERROR(env_.CreateDir(qdir));
  std::string path = qdir + "/" + name + "@" + std::to_string(offset);
  for (int i = 1; env_.Exists(path); ++i) {
    path = qdir + "/" + name + "@" + std::to_string(offset) + "." + std::to_string(i);
  }
  BANDITD_RETURN_IF_ERROR(WriteFileAtomically(env_, path, bytes));
  return path;
}

// The snapshot recovery starts from: `snapshot`, or when that is damaged or
// missing, `snapshot.prev` provided the WAL it needs is all there.
Result<std::optional<StateStore::Snapshot>> StateStore::ChooseSnapshot(
    const std::vector<uint64_t>& segments, RecoveryReport& r) {
  auto cur = ReadSnapshot(kSnapshotFile);
  if (cur.ok() && cur->has_value()) {
    // snapshot.prev is not read: the next FinishSnapshot replaces it with
    // this one, and only then are segments deleted.
    snapshot_from_ = (*cur)->replay_from;
    return cur;
  }
  const std::string why =
      cur.ok() ? dir_ + "/" + kSnapshotFile + " is missing" : cur.status().message();
  auto prev = ReadSnapshot(kPrevSnapshotFile);
  if (!prev.ok()) {
    return Status(Code::kCorruption, why + ", and " + prev.status().message() +
                                         ": restore `snapshot` from a backup "
                                         "(docs/operations.md, Backup and restore)");
  }
  if (!prev->has_value()) {
    if (!cur.ok()) {
      return Status(Code::kCorruption, why +
                                           ", and there is no snapshot.prev to fall back on: "
                                           "restore `snapshot` from a backup "
                                           "(docs/operations.md, Backup and restore)");
    }
    return std::optional<Snapshot>();  // no snapshot at all: the WAL must start at 0
  }
  const uint64_t from = (*prev)->replay_from;
  const bool complete = !segments.empty() && segments.front() <= from &&
                        std::find(segments.begin(), segments.end(), from) != segments.end();
  if (!complete) {
    return Status(Code::kCorruption, why + "; snapshot.prev replays from " + WalSegmentName(from) +
                                         ", which is gone: restore `snapshot` from a backup "
                                         "(docs/operations.md, Backup and restore)");
  }
  if (!cur.ok()) {
    BANDITD_ASSIGN_OR_RETURN(auto raw, env_.ReadFile(dir_ + "/" + kSnapshotFile));
    BANDITD_ASSIGN_OR_RETURN(auto kept, Quarantine(kSnapshotFile, 0, raw));
    BANDITD_RETURN_IF_ERROR(env_.Remove(dir_ + "/" + kSnapshotFile));
    r.quarantined.push_back(kept);
  }
  r.used_previous_snapshot = true;
  r.notes.push_back(why + ": recovering from snapshot.prev and the WAL from " +
                    WalSegmentName(from) + " (nothing acknowledged is lost)");
  prev_from_ = from;
  return prev;
}

Status StateStore::CheckNoGap(const std::vector<uint64_t>& segments, uint64_t from,
                              const std::optional<DurableMark>& mark, bool have_snapshot) {
  std::vector<uint64_t> ids;
  for (uint64_t id : segments) {
    if (id >= from) ids.push_back(id);
  }
  const std::string remedy =
      " (restore the state directory from a backup; docs/operations.md, Backup and restore)";
  if (!have_snapshot && !ids.empty() && ids.front() != 0) {
    return Status(Code::kCorruption,
                  "there is no snapshot, but the WAL starts at " + WalSegmentName(ids.front()) +
                      ": the records before it were folded into a snapshot that is missing" +
                      remedy);
  }
  if (have_snapshot && ids.empty()) {
    return Status(Code::kCorruption,
                  WalSegmentName(from) + " is missing: the snapshot replays from it" + remedy);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] != from + i) {
      return Status(Code::kCorruption, WalSegmentName(from + i) + " is missing (" +
                                           WalSegmentName(ids[i]) + " follows it)" + remedy);
    }
  }
  if (mark && mark->bytes > 0 && mark->segment >= from &&
      (ids.empty() || ids.back() < mark->segment)) {
    return Status(Code::kCorruption, WalSegmentName(mark->segment) +
                                         " is missing: the durable mark says it holds " +
                                         std::to_string(mark->bytes) + " durable bytes" + remedy);
  }
  return Status::Ok();
}

Status StateStore::ReplaySegment(uint64_t id, bool last, bool repair, uint64_t durable_bytes,
                                 const std::optional<SegmentEnd>& previous,
                                 const RecordFn& on_record, RecoveryReport& r, SegmentEnd* end) {
  const std::string name = WalSegmentName(id);
  const std::string path = dir_ + "/" + name;
  BANDITD_ASSIGN_OR_RETURN(auto bytes, env_.ReadFile(path));
  if (durable_bytes != std::numeric_limits<uint64_t>::max() && bytes.size() < durable_bytes) {
    const std::string cut = path + " is " + std::to_string(bytes.size()) + " bytes, but " +
                            std::to_string(durable_bytes) +
                            " bytes of it were durable: the file was cut short";
    if (!repair) return Status(Code::kCorruption, cut + " (start with --repair to go on without)");
    r.notes.push_back("repair: " + cut + "; the missing bytes cannot be recovered");
  }
  WalParseOptions options;
  options.repair = repair;
  options.durable_bytes = durable_bytes;
  BANDITD_ASSIGN_OR_RETURN(auto parsed, ParseWal(bytes, path, options));
  if (parsed.torn_tail && !last && !repair) {
    return Status(Code::kCorruption, parsed.note + " — but later segments exist (start with " +
                                         "--repair to keep what precedes it)");
  }
  if (previous && !parsed.records.empty() && parsed.records[0].type == kSegmentHeaderRecord) {
    const auto said = DecodeSegmentEnd(parsed.records[0].payload);
    if (!said || said->segment != previous->segment || said->bytes != previous->bytes) {
      const std::string what =
          said ? WalSegmentName(previous->segment) + " is " + std::to_string(previous->bytes) +
                     " bytes, but " + name + " says it ended at " + std::to_string(said->bytes) +
                     " bytes of " + WalSegmentName(said->segment) + ": it was cut short or changed"
               : name + " has a malformed segment header";
      if (!repair) {
        return Status(Code::kCorruption, what + " (start with --repair to go on without)");
      }
      r.notes.push_back("repair: " + what);
    }
  }
  for (const auto& rec : parsed.records) {
    if (rec.type == kSegmentHeaderRecord) continue;  // the store's own
    BANDITD_RETURN_IF_ERROR(on_record(rec.type, rec.payload)
                                .WithContext(path + " offset " + std::to_string(rec.offset)));
    ++r.records_replayed;
  }
  ++r.segments_replayed;
  if (parsed.torn_tail || parsed.repaired) {
    const std::string_view dropped = std::string_view(bytes).substr(parsed.valid_bytes);
    BANDITD_ASSIGN_OR_RETURN(auto kept, Quarantine(name, parsed.valid_bytes, dropped));
    r.quarantined.push_back(kept);
    const uint64_t records = CountValidRecords(dropped);
    const uint64_t acked_bytes =
        durable_bytes > parsed.valid_bytes
            ? std::min<uint64_t>(durable_bytes, bytes.size()) - parsed.valid_bytes
            : 0;
    r.notes.push_back(parsed.note + "; the " + std::to_string(dropped.size()) +
                      " bytes are kept in " + kept + " and hold " + std::to_string(records) +
                      " intact record(s)" +
                      (acked_bytes > 0 ? ", " + std::to_string(acked_bytes) +
                                             " of the bytes were durable (acknowledged rewards)"
                                       : std::string(", none of them known durable")));
    BANDITD_RETURN_IF_ERROR(env_.Truncate(path, parsed.valid_bytes));
  }
  *end = SegmentEnd{id, parsed.valid_bytes};
  return Status::Ok();
}

Status StateStore::Recover(const SnapshotFn& on_snapshot, const RecordFn& on_record, bool repair,
                           WalOptions wal_options, WalWriter::DurableCallback on_durable,
                           RecoveryReport* report) {
  RecoveryReport local;
  RecoveryReport& r = report ? *report : local;
  r.notes.insert(r.notes.end(), open_notes_.begin(), open_notes_.end());
  BANDITD_ASSIGN_OR_RETURN(auto segments, Segments());

  std::optional<DurableMark> mark;
  const std::string mark_path = dir_ + "/" + kDurableMarkFile;
  auto mark_bytes = env_.ReadFile(mark_path);
  if (mark_bytes.ok()) {
    mark = DecodeDurableMark(*mark_bytes);
    if (!mark) r.notes.push_back(mark_path + " is unreadable: damage is judged without it");
  } else if (mark_bytes.status().code() != Code::kNotFound) {
    return mark_bytes.status();
  }

  BANDITD_ASSIGN_OR_RETURN(auto snap, ChooseSnapshot(segments, r));
  r.replay_from = snap.has_value() ? (snap)->replay_from : 0;
  Status gap = CheckNoGap(segments, r.replay_from, mark, snap.has_value());
  if (!gap.ok()) {
    if (!repair) return gap;
    r.notes.push_back("repair: going on despite: " + gap.message());
  }
  if (snap.has_value()) {
    BANDITD_RETURN_IF_ERROR(
        on_snapshot((snap)->state)
            .WithContext(dir_ + "/" +
                         (r.used_previous_snapshot ? kPrevSnapshotFile : kSnapshotFile)));
    r.snapshot_loaded = true;
  }

  uint64_t next_segment = r.replay_from;
  uint64_t last_replayed = 0;
  for (uint64_t id : segments) {
    next_segment = std::max(next_segment, id + 1);
    if (id >= r.replay_from) last_replayed = id;
  }
  std::optional<SegmentEnd> previous;  // of the segment replayed last
  for (uint64_t id : segments) {
    if (id < r.replay_from) continue;
    uint64_t durable = 0;
    if (mark) {
      durable = id < mark->segment    ? std::numeric_limits<uint64_t>::max()
                : id == mark->segment ? mark->bytes
                                      : 0;
    }
    SegmentEnd end;
    BANDITD_RETURN_IF_ERROR(
        ReplaySegment(id, id == last_replayed, repair, durable, previous, on_record, r, &end));
    previous = end;
  }
  if (mark) next_segment = std::max(next_segment, mark->segment + 1);
  if (key_unsaved_) BANDITD_RETURN_IF_ERROR(SaveKey());
  BANDITD_ASSIGN_OR_RETURN(
      auto wal, WalWriter::Open(env_, dir_, next_segment, wal_options, std::move(on_durable),
                                previous && previous->segment + 1 == next_segment
                                    ? previous
                                    : std::optional<SegmentEnd>()));
  wal_ = std::move(wal);
  return Status::Ok();
}

Status StateStore::SaveKey() {
  BANDITD_RETURN_IF_ERROR(WriteFileAtomically(
      env_, dir_ + "/" + kKeyFile,
      std::string_view(reinterpret_cast<const char*>(key_.data()), key_.size())));
  key_unsaved_ = false;
  return Status::Ok();
}

Result<StateStore::SnapshotStart> StateStore::BeginSnapshot() {
  const uint64_t next = wal_->segment_id() + 1;
  BANDITD_ASSIGN_OR_RETURN(auto boundary, wal_->Rotate(next));
  return SnapshotStart{next, boundary};
}

Status StateStore::FinishSnapshot(std::string_view state, uint64_t from_segment) {
  if (state.size() + 8 > kMaxSnapshotBytes) {
    // Written, it could not be read back: keep the previous snapshot and WAL.
    return Status(Code::kFailedPrecondition, "snapshot of " + std::to_string(state.size()) +
                                                 " bytes is past the limit of " +
                                                 std::to_string(kMaxSnapshotBytes));
  }
  std::string payload = EncodeU64(from_segment);
  payload.append(state);
  std::string file;
  AppendRecord(file, kSnapshotRecord, payload);
  // Written and synced first, so a failure (a full disk) leaves both
  // generations as they were; then the current snapshot becomes the
  // previous one (one damaged snapshot is then survivable: Recover falls
  // back on it) and the new one takes its place.
  const std::string path = dir_ + "/" + kSnapshotFile;
  const std::string tmp = path + ".tmp";
  {
    BANDITD_ASSIGN_OR_RETURN(auto f, env_.OpenWritable(tmp));
    Status s = (f)->Append(file);
    if (s.ok()) s = (f)->Sync();
    const Status closed = (f)->Close();
    if (s.ok()) s = closed;
    if (!s.ok()) {
      (void)env_.Remove(tmp);
      return s;
    }
  }
  if (snapshot_from_) {
    BANDITD_RETURN_IF_ERROR(env_.Rename(path, dir_ + "/" + kPrevSnapshotFile));
    prev_from_ = snapshot_from_;
    snapshot_from_.reset();
  }
  BANDITD_RETURN_IF_ERROR(env_.Rename(tmp, path));
  BANDITD_RETURN_IF_ERROR(env_.SyncDir(dir_));
  snapshot_from_ = from_segment;
  ++snapshots_written_;
  const uint64_t keep_from = prev_from_ ? std::min(*prev_from_, from_segment) : from_segment;
  BANDITD_ASSIGN_OR_RETURN(auto segments, Segments());
  for (uint64_t id : segments) {
    if (id < keep_from) BANDITD_RETURN_IF_ERROR(env_.Remove(dir_ + "/" + WalSegmentName(id)));
  }
  return Status::Ok();
}

}  // namespace banditd::state
