#include "src/state/store.h"

#include <sodium.h>

#include "src/state/wal.h"

namespace banditd::state {
namespace {

constexpr char kKeyFile[] = "decision.key";
constexpr char kSnapshotFile[] = "snapshot";
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

Result<std::unique_ptr<StateStore>> StateStore::Open(Env& env, std::string dir) {
  if (sodium_init() < 0) return Status(Code::kInternal, "libsodium failed to initialise");
  std::unique_ptr<StateStore> s(new StateStore(env, std::move(dir)));
  BANDITD_RETURN_IF_ERROR(env.CreateDir(s->dir_));
  const std::string key_path = s->dir_ + "/" + kKeyFile;
  auto key = env.ReadFile(key_path);
  if (key.ok()) {
    if (key->size() != s->key_.size()) {
      return Status(Code::kCorruption, key_path + " is not a 16-byte key");
    }
    std::copy(key->begin(), key->end(), s->key_.begin());
  } else if (key.status().code() == Code::kNotFound) {
    randombytes_buf(s->key_.data(), s->key_.size());
    BANDITD_RETURN_IF_ERROR(WriteFileAtomically(
        env, key_path,
        std::string_view(reinterpret_cast<const char*>(s->key_.data()), s->key_.size())));
  } else {
    return key.status();
  }
  return s;
}

Result<std::vector<uint64_t>> StateStore::Segments() {
  auto names = env_.List(dir_);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> ids;
  for (const auto& n : *names) {
    uint64_t id;
    if (ParseWalSegmentName(n, &id)) ids.push_back(id);
  }
  return ids;  // sorted: names are zero-padded
}

Status StateStore::Recover(const SnapshotFn& on_snapshot, const RecordFn& on_record, bool repair,
                           WalOptions wal_options, WalWriter::DurableCallback on_durable,
                           RecoveryReport* report) {
  RecoveryReport local;
  RecoveryReport& r = report ? *report : local;
  const std::string snap_path = dir_ + "/" + kSnapshotFile;
  auto snap = env_.ReadFile(snap_path);
  if (snap.ok()) {
    auto parsed = ParseWal(*snap, snap_path, false, kMaxSnapshotBytes);
    if (!parsed.ok() || parsed->records.size() != 1 || parsed->torn_tail ||
        parsed->records[0].type != kSnapshotRecord || parsed->records[0].payload.size() < 8) {
      return Status(Code::kCorruption, snap_path + " is damaged; restore it from a backup or " +
                                           "move it away to start from the WAL alone");
    }
    const std::string_view payload = parsed->records[0].payload;
    r.replay_from = DecodeU64(payload);
    BANDITD_RETURN_IF_ERROR(on_snapshot(payload.substr(8)).WithContext(snap_path));
    r.snapshot_loaded = true;
  } else if (snap.status().code() != Code::kNotFound) {
    return snap.status();
  }

  auto segments = Segments();
  if (!segments.ok()) return segments.status();
  uint64_t next_segment = r.replay_from;
  for (size_t i = 0; i < segments->size(); ++i) {
    const uint64_t id = (*segments)[i];
    next_segment = std::max(next_segment, id + 1);
    if (id < r.replay_from) continue;
    const std::string path = dir_ + "/" + WalSegmentName(id);
    auto bytes = env_.ReadFile(path);
    if (!bytes.ok()) return bytes.status();
    const bool last = i + 1 == segments->size();
    auto parsed = ParseWal(*bytes, path, repair);
    if (!parsed.ok()) return parsed.status();
    if (parsed->torn_tail && !last && !repair) {
      return Status(Code::kCorruption, parsed->note + " — but later segments exist (start with " +
                                           "--repair to keep what precedes it)");
    }
    for (const auto& rec : parsed->records) {
      BANDITD_RETURN_IF_ERROR(on_record(rec.type, rec.payload)
                                  .WithContext(path + " offset " + std::to_string(rec.offset)));
      ++r.records_replayed;
    }
    ++r.segments_replayed;
    if (parsed->torn_tail || parsed->repaired) {
      BANDITD_RETURN_IF_ERROR(env_.Truncate(path, parsed->valid_bytes));
      r.notes.push_back(parsed->note);
    }
  }
  auto wal = WalWriter::Open(env_, dir_, next_segment, wal_options, std::move(on_durable));
  if (!wal.ok()) return wal.status();
  wal_ = std::move(wal).value();
  return Status::Ok();
}

Result<uint64_t> StateStore::BeginSnapshot() {
  const uint64_t next = wal_->segment_id() + 1;
  BANDITD_RETURN_IF_ERROR(wal_->Rotate(next));
  return next;
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
  BANDITD_RETURN_IF_ERROR(WriteFileAtomically(env_, dir_ + "/" + kSnapshotFile, file));
  ++snapshots_written_;
  auto segments = Segments();
  if (!segments.ok()) return segments.status();
  for (uint64_t id : *segments) {
    if (id < from_segment) BANDITD_RETURN_IF_ERROR(env_.Remove(dir_ + "/" + WalSegmentName(id)));
  }
  return Status::Ok();
}

}  // namespace banditd::state
