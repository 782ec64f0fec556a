#include "src/state/store.h"

#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/state/wal.h"
#include "tests/unit/state/fault_env.h"
#include "tests/unit/state/test_dir.h"

namespace banditd::state {
namespace {

using testing::TempDir;

struct Replayed {
  std::string snapshot;
  std::vector<std::string> records;
};

Status RecoverInto(StateStore& store, Replayed* out, bool repair = false,
                   RecoveryReport* report = nullptr) {
  return store.Recover(
      [&](std::string_view s) {
        out->snapshot = std::string(s);
        return Status::Ok();
      },
      [&](uint8_t, std::string_view p) {
        out->records.emplace_back(p);
        return Status::Ok();
      },
      repair, WalOptions{}, nullptr, report);
}

std::unique_ptr<StateStore> Open(const std::string& dir) {
  auto s = StateStore::Open(Env::Posix(), dir, /*repair=*/false);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(StateStoreTest, DecisionKeyIsCreatedOnceAndKept) {
  TempDir dir;
  std::array<unsigned char, 16> first{};
  {
    auto a = Open(dir.path());
    first = a->decision_key();
  }
  auto b = Open(dir.path());
  EXPECT_EQ(first, b->decision_key());
  TempDir other;
  EXPECT_NE(Open(other.path())->decision_key(), first);
}

// A fresh state directory with one durable WAL record; returns its key.
std::array<unsigned char, 16> WriteOneRecord(const std::string& dir) {
  auto s = Open(dir);
  Replayed r;
  EXPECT_TRUE(RecoverInto(*s, &r).ok());
  EXPECT_TRUE(s->wal().Submit(1, "r").ok());
  EXPECT_TRUE(s->wal().Flush().ok());
  return s->decision_key();
}

// A key deleted from a directory that holds state is not silently replaced:
// every outstanding decision would become unknown_decision. --repair makes a
// new one and says so in the recovery report.
TEST(StateStoreTest, MissingKeyBesideStateIsRefusedUnlessRepairing) {
  TempDir dir;
  const std::array<unsigned char, 16> first = WriteOneRecord(dir.path());
  ASSERT_EQ(::unlink((dir.path() + "/decision.key").c_str()), 0);
  auto refused = StateStore::Open(Env::Posix(), dir.path(), /*repair=*/false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("decision.key is missing"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("--repair"), std::string::npos);
  // The refusal wrote nothing: a second plain start is refused the same way.
  EXPECT_FALSE(StateStore::Open(Env::Posix(), dir.path(), /*repair=*/false).ok());

  auto repaired = StateStore::Open(Env::Posix(), dir.path(), /*repair=*/true);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_NE((*repaired)->decision_key(), first);
  Replayed r;
  RecoveryReport report;
  ASSERT_TRUE(RecoverInto(**repaired, &r, false, &report).ok());
  EXPECT_EQ(r.records.size(), 1u);
  ASSERT_FALSE(report.notes.empty());
  EXPECT_NE(report.notes[0].find("created a new one"), std::string::npos) << report.notes[0];
  // Saved once recovery succeeded: the next start uses it.
  const auto repaired_key = (*repaired)->decision_key();
  repaired->reset();
  EXPECT_EQ(Open(dir.path())->decision_key(), repaired_key);
}

// Only the durable mark left (snapshot and WAL gone, the key too): still
// state, so still refused; and a --repair start that does not get through
// recovery leaves no key behind, so the next plain start refuses again.
TEST(StateStoreTest, MissingKeyBesideOnlyTheDurableMarkIsRefused) {
  TempDir dir;
  WriteOneRecord(dir.path());
  ASSERT_TRUE(std::filesystem::exists(dir.path() + "/wal.durable"));
  for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = f.path().filename().string();
    if (name != "wal.durable" && name != "LOCK") std::filesystem::remove_all(f.path());
  }
  auto refused = StateStore::Open(Env::Posix(), dir.path(), /*repair=*/false);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("decision.key is missing"), std::string::npos);
  {
    // --repair, but recovery is never run (or fails): no key on disk.
    auto repaired = StateStore::Open(Env::Posix(), dir.path(), /*repair=*/true);
    ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/decision.key"));
  EXPECT_FALSE(StateStore::Open(Env::Posix(), dir.path(), /*repair=*/false).ok());
}

// One store per directory: a second one is refused, naming the directory and
// the holder's pid, until the first is gone.
TEST(StateStoreTest, SecondStoreOnTheSameDirectoryIsRefused) {
  TempDir dir;
  {
    auto a = Open(dir.path());
    auto b = StateStore::Open(Env::Posix(), dir.path(), /*repair=*/false);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), Code::kFailedPrecondition);
    EXPECT_NE(b.status().message().find(dir.path()), std::string::npos);
    EXPECT_NE(b.status().message().find("pid " + std::to_string(::getpid())), std::string::npos)
        << b.status().message();
  }
  EXPECT_TRUE(StateStore::Open(Env::Posix(), dir.path(), /*repair=*/false).ok());
}

TEST(StateStoreTest, RecordsSurviveARestart) {
  TempDir dir;
  {
    auto s = Open(dir.path());
    Replayed r;
    ASSERT_TRUE(RecoverInto(*s, &r).ok());
    EXPECT_TRUE(r.records.empty());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(s->wal().Submit(1, "r" + std::to_string(i)).ok());
    ASSERT_TRUE(s->wal().Flush().ok());
  }
  auto s = Open(dir.path());
  Replayed r;
  RecoveryReport report;
  ASSERT_TRUE(RecoverInto(*s, &r, false, &report).ok());
  ASSERT_EQ(r.records.size(), 10u);
  EXPECT_EQ(r.records[9], "r9");
  EXPECT_FALSE(report.snapshot_loaded);
}

// Snapshot in the middle: recovery loads it and replays only what came after;
// the segments before it are gone.
TEST(StateStoreTest, SnapshotThenReplay) {
  TempDir dir;
  {
    auto s = Open(dir.path());
    Replayed r;
    ASSERT_TRUE(RecoverInto(*s, &r).ok());
    ASSERT_TRUE(s->wal().Submit(1, "before").ok());
    EXPECT_TRUE(s->wal().Flush().ok());  // the snapshot holds every record so far
    auto from = s->BeginSnapshot();
    ASSERT_TRUE(from.ok());
    ASSERT_TRUE(s->FinishSnapshot("STATE-1", from->segment).ok());
    ASSERT_TRUE(s->wal().Submit(1, "after").ok());
    ASSERT_TRUE(s->wal().Flush().ok());
  }
  auto s = Open(dir.path());
  Replayed r;
  RecoveryReport report;
  ASSERT_TRUE(RecoverInto(*s, &r, false, &report).ok());
  EXPECT_TRUE(report.snapshot_loaded);
  EXPECT_EQ(r.snapshot, "STATE-1");
  EXPECT_EQ(r.records, std::vector<std::string>{"after"});
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/" + WalSegmentName(0)));
}

// A snapshot may be larger than a WAL record may be (a contextual
// experiment's context store alone can take tens of MiB): it must read back.
TEST(StateStoreTest, SnapshotLargerThanAWalRecordReadsBack) {
  TempDir dir;
  const std::string big(kMaxRecordBytes + (1u << 20), 'x');
  {
    auto s = Open(dir.path());
    Replayed r;
    ASSERT_TRUE(RecoverInto(*s, &r).ok());
    EXPECT_TRUE(s->wal().Flush().ok());  // the snapshot holds every record so far
    auto from = s->BeginSnapshot();
    ASSERT_TRUE(from.ok());
    ASSERT_TRUE(s->FinishSnapshot(big, from->segment).ok());
  }
  auto s = Open(dir.path());
  Replayed r;
  ASSERT_TRUE(RecoverInto(*s, &r).ok());
  EXPECT_EQ(r.snapshot.size(), big.size());
  EXPECT_EQ(r.snapshot, big);
}

TEST(StateStoreTest, TornTailIsTruncatedAndReported) {
  TempDir dir;
  std::string segment;
  {
    auto s = Open(dir.path());
    Replayed r;
    ASSERT_TRUE(RecoverInto(*s, &r).ok());
    ASSERT_TRUE(s->wal().Submit(1, "kept").ok());
    ASSERT_TRUE(s->wal().Submit(1, "torn-away").ok());
    ASSERT_TRUE(s->wal().Flush().ok());
    segment = dir.path() + "/" + WalSegmentName(s->wal().segment_id());
  }
  // Without the durable mark (a state directory from before it, or the mark
  // lost) a cut last record is taken for a torn tail.
  std::filesystem::remove(dir.path() + "/" + kDurableMarkFile);
  std::filesystem::resize_file(segment, std::filesystem::file_size(segment) - 3);
  auto s = Open(dir.path());
  Replayed r;
  RecoveryReport report;
  ASSERT_TRUE(RecoverInto(*s, &r, false, &report).ok());
  EXPECT_EQ(r.records, std::vector<std::string>{"kept"});
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_NE(report.notes[0].find("torn tail"), std::string::npos);
  ASSERT_EQ(report.quarantined.size(), 1u);
  EXPECT_EQ(std::filesystem::file_size(report.quarantined[0]), kRecordHeaderBytes + 9 - 3);
}

TEST(StateStoreTest, CorruptMiddleRefusesUnlessRepair) {
  TempDir dir;
  std::string segment;
  {
    auto s = Open(dir.path());
    Replayed r;
    ASSERT_TRUE(RecoverInto(*s, &r).ok());
    for (const char* p : {"one", "two", "three"}) ASSERT_TRUE(s->wal().Submit(1, p).ok());
    ASSERT_TRUE(s->wal().Flush().ok());
    segment = dir.path() + "/" + WalSegmentName(s->wal().segment_id());
  }
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(kRecordHeaderBytes + 3 + kRecordHeaderBytes + 1);  // inside "two"
    f.put('X');
  }
  {
    auto s = Open(dir.path());
    Replayed r;
    Status st = RecoverInto(*s, &r);
    EXPECT_EQ(st.code(), Code::kCorruption);
    EXPECT_NE(st.message().find(WalSegmentName(0)), std::string::npos);
    EXPECT_NE(st.message().find("offset 12"), std::string::npos);
  }
  auto s = Open(dir.path());
  Replayed r;
  RecoveryReport report;
  ASSERT_TRUE(RecoverInto(*s, &r, /*repair=*/true, &report).ok());
  EXPECT_EQ(r.records, std::vector<std::string>{"one"});
  ASSERT_FALSE(report.notes.empty());
  EXPECT_NE(report.notes[0].find("dropped"), std::string::npos);
}

TEST(StateStoreTest, DamagedSnapshotRefusesStart) {
  TempDir dir;
  (void)Open(dir.path());  // its decision key
  {
    std::ofstream f(dir.path() + "/snapshot", std::ios::binary);
    f << "not a snapshot at all";
  }
  auto s = Open(dir.path());
  Replayed r;
  Status st = RecoverInto(*s, &r);
  EXPECT_EQ(st.code(), Code::kCorruption);
  EXPECT_NE(st.message().find("snapshot"), std::string::npos);
}

// Writes `records` records, a snapshot, more records, a second snapshot and
// a few more: two snapshot generations and their WAL.
struct TwoGenerations {
  std::vector<std::string> after_first;  // records after snapshot 1, in order
  std::vector<std::string> after_second;
  uint64_t last_segment = 0;
};

TwoGenerations WriteTwoGenerations(const std::string& dir) {
  TwoGenerations g;
  auto s = Open(dir);
  Replayed r;
  EXPECT_TRUE(RecoverInto(*s, &r).ok());
  EXPECT_TRUE(s->wal().Submit(1, "g0").ok());
  EXPECT_TRUE(s->wal().Flush().ok());  // the snapshot holds every record so far
  auto from = s->BeginSnapshot();
  EXPECT_TRUE(from.ok() && s->FinishSnapshot("STATE-1", from->segment).ok());
  for (const char* p : {"g1a", "g1b"}) {
    EXPECT_TRUE(s->wal().Submit(1, p).ok());
    g.after_first.emplace_back(p);
  }
  EXPECT_TRUE(s->wal().Flush().ok());  // the snapshot holds every record so far
  from = s->BeginSnapshot();
  EXPECT_TRUE(from.ok() && s->FinishSnapshot("STATE-2", from->segment).ok());
  for (const char* p : {"g2a", "g2b", "g2c"}) {
    EXPECT_TRUE(s->wal().Submit(1, p).ok());
    g.after_first.emplace_back(p);
    g.after_second.emplace_back(p);
  }
  EXPECT_TRUE(s->wal().Flush().ok());
  g.last_segment = s->wal().segment_id();
  return g;
}

TEST(StateStoreTest, PreviousSnapshotAndItsWalAreKept) {
  TempDir dir;
  const auto g = WriteTwoGenerations(dir.path());
  auto s = Open(dir.path());
  Replayed r;
  RecoveryReport report;
  ASSERT_TRUE(RecoverInto(*s, &r, false, &report).ok());
  EXPECT_EQ(r.snapshot, "STATE-2");
  EXPECT_EQ(r.records, g.after_second);
  EXPECT_FALSE(report.used_previous_snapshot);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/snapshot.prev"));
}

// Recovery falls back on snapshot.prev and replays its WAL: nothing rolled back.
RecoveryReport ExpectFallback(const std::string& dir, const TwoGenerations& g) {
  auto s = Open(dir);
  Replayed r;
  RecoveryReport report;
  EXPECT_TRUE(RecoverInto(*s, &r, false, &report).ok());
  EXPECT_TRUE(report.used_previous_snapshot);
  EXPECT_EQ(r.snapshot, "STATE-1");
  EXPECT_EQ(r.records, g.after_first);
  return report;
}

// Recovery refuses with kCorruption, its message naming `needle`.
void ExpectRefused(const std::string& dir, const std::string& needle) {
  auto s = Open(dir);
  Replayed r;
  Status st = RecoverInto(*s, &r);
  EXPECT_EQ(st.code(), Code::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
}

// `snapshot` moved away: recovery falls back on snapshot.prev and replays its
// WAL, so nothing is rolled back.
TEST(StateStoreTest, MissingSnapshotFallsBackOnThePreviousOne) {
  TempDir dir;
  const auto g = WriteTwoGenerations(dir.path());
  std::filesystem::rename(dir.path() + "/snapshot", dir.path() + "/moved-away");
  ExpectFallback(dir.path(), g);
}

// A damaged `snapshot`: the same fallback; the damaged file goes to quarantine.
TEST(StateStoreTest, DamagedSnapshotFallsBackAndIsQuarantined) {
  TempDir dir;
  const auto g = WriteTwoGenerations(dir.path());
  {
    std::fstream f(dir.path() + "/snapshot", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    f.put('#');
  }
  const RecoveryReport report = ExpectFallback(dir.path(), g);
  ASSERT_EQ(report.quarantined.size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(report.quarantined[0]));
}

// Neither snapshot, and the WAL does not start at segment 0: the state
// before it is gone; refuse instead of rolling back silently.
TEST(StateStoreTest, NoSnapshotAndAWalThatStartsLateIsRefused) {
  TempDir dir;
  WriteTwoGenerations(dir.path());
  std::filesystem::remove(dir.path() + "/snapshot");
  std::filesystem::remove(dir.path() + "/snapshot.prev");
  ExpectRefused(dir.path(), "no snapshot");
}

TEST(StateStoreTest, MissingSegmentIsAGap) {
  TempDir dir;
  const auto g = WriteTwoGenerations(dir.path());
  {
    // A restart writes to a new segment after the one the snapshot needs.
    auto s = Open(dir.path());
    Replayed r;
    ASSERT_TRUE(RecoverInto(*s, &r).ok());
    ASSERT_TRUE(s->wal().Submit(1, "later").ok());
    ASSERT_TRUE(s->wal().Flush().ok());
  }
  const std::string victim = WalSegmentName(g.last_segment);  // the snapshot replays from it
  ASSERT_TRUE(std::filesystem::remove(dir.path() + "/" + victim));
  ExpectRefused(dir.path(), victim);
}

// The last segment removed: the durable mark still names it.
TEST(StateStoreTest, MissingLastSegmentBelowTheMarkIsRefused) {
  TempDir dir;
  const auto g = WriteTwoGenerations(dir.path());
  std::filesystem::remove(dir.path() + "/" + WalSegmentName(g.last_segment));
  ExpectRefused(dir.path(), WalSegmentName(g.last_segment));
}

std::string LastSegmentPath(const std::string& dir, uint64_t* records_end) {
  auto s = Open(dir);
  Replayed r;
  EXPECT_TRUE(RecoverInto(*s, &r).ok());
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(s->wal().Submit(1, "reward-" + std::to_string(i)).ok());
  EXPECT_TRUE(s->wal().Flush().ok());
  const std::string path = dir + "/" + WalSegmentName(s->wal().segment_id());
  *records_end = std::filesystem::file_size(path);
  return path;
}

// Zeros from the middle of the segment to its end, below the durable mark:
// acknowledged records, not a torn tail. Refused; --repair keeps the bytes.
TEST(StateStoreTest, ZeroedAckedRecordsAreRefusedAndRepairQuarantinesThem) {
  TempDir dir;
  uint64_t end = 0;
  const std::string path = LastSegmentPath(dir.path(), &end);
  const uint64_t from = end / 2;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(from));
    const std::string zeros(end - from, '\0');
    f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  {
    ExpectRefused(dir.path(), "durable mark");
    EXPECT_EQ(std::filesystem::file_size(path), end);  // nothing cut
  }
  auto s = Open(dir.path());
  Replayed r;
  RecoveryReport report;
  ASSERT_TRUE(RecoverInto(*s, &r, /*repair=*/true, &report).ok());
  EXPECT_LT(r.records.size(), 100u);
  ASSERT_EQ(report.quarantined.size(), 1u);
  EXPECT_EQ(std::filesystem::file_size(report.quarantined[0]) + std::filesystem::file_size(path),
            end);
  bool said_durable = false;
  for (const auto& n : report.notes) said_durable |= n.find("were durable") != std::string::npos;
  EXPECT_TRUE(said_durable);
}

// A flipped bit in a mid-segment record's length: valid records follow, so
// it is corruption, never a torn tail — even without the durable mark.
TEST(StateStoreTest, FlippedLengthMidSegmentIsRefusedEvenWithoutTheMark) {
  TempDir dir;
  uint64_t end = 0;
  const std::string path = LastSegmentPath(dir.path(), &end);
  std::filesystem::remove(dir.path() + "/" + kDurableMarkFile);
  {
    auto bytes = Env::Posix().ReadFile(path);
    auto p = ParseWal(*bytes, "w", false);
    ASSERT_TRUE(p.ok());
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(p->records[40].offset + 2));
    f.put('\x01');
  }
  ExpectRefused(dir.path(), "valid record follows");
  EXPECT_EQ(std::filesystem::file_size(path), end);
}

// A segment cut short below the mark (bytes gone, not damaged).
TEST(StateStoreTest, SegmentCutShortBelowTheMarkIsRefused) {
  TempDir dir;
  uint64_t end = 0;
  const std::string path = LastSegmentPath(dir.path(), &end);
  std::filesystem::resize_file(path, end / 3);
  ExpectRefused(dir.path(), "cut short");
}

// A torn tail past the mark (the unfinished last write) is still cut off by
// itself, and its bytes kept.
TEST(StateStoreTest, TornTailPastTheMarkIsCutAndKept) {
  TempDir dir;
  uint64_t end = 0;
  const std::string path = LastSegmentPath(dir.path(), &end);
  {
    std::ofstream f(path, std::ios::binary | std::ios::app);
    std::string partial;
    AppendRecord(partial, 1, "never acknowledged");
    f.write(partial.data(), static_cast<std::streamsize>(partial.size() - 5));
  }
  auto s = Open(dir.path());
  Replayed r;
  RecoveryReport report;
  ASSERT_TRUE(RecoverInto(*s, &r, false, &report).ok());
  EXPECT_EQ(r.records.size(), 100u);
  EXPECT_EQ(std::filesystem::file_size(path), end);
  ASSERT_EQ(report.quarantined.size(), 1u);
}

// An older segment cut at a record boundary looks whole on its own; the
// header of the segment after it says how long it was.
TEST(StateStoreTest, OlderSegmentCutAtARecordBoundaryIsRefused) {
  TempDir dir;
  const auto g = WriteTwoGenerations(dir.path());
  const std::string older = dir.path() + "/" + WalSegmentName(g.last_segment - 1);
  auto bytes = Env::Posix().ReadFile(older);
  ASSERT_TRUE(bytes.ok());
  auto p = ParseWal(*bytes, "w", false);
  ASSERT_TRUE(p.ok());
  ASSERT_GE(p->records.size(), 2u);
  std::filesystem::resize_file(older, p->records.back().offset);  // drop its last record
  // Recovery needs the older segment only through snapshot.prev.
  std::filesystem::remove(dir.path() + "/snapshot");
  ExpectRefused(dir.path(), "cut short");
}

// A snapshot that cannot be written (a full disk) leaves both generations as
// they were.
TEST(StateStoreTest, FailedSnapshotKeepsBothGenerations) {
  TempDir dir;
  WriteTwoGenerations(dir.path());
  const auto snapshot = Env::Posix().ReadFile(dir.path() + "/snapshot");
  const auto prev = Env::Posix().ReadFile(dir.path() + "/snapshot.prev");
  testing::FaultEnv env(Env::Posix());
  {
    auto s = StateStore::Open(env, dir.path(), /*repair=*/false);
    ASSERT_TRUE(s.ok());
    Replayed r;
    ASSERT_TRUE(RecoverInto(**s, &r).ok());
    auto from = (*s)->BeginSnapshot();
    ASSERT_TRUE(from.ok());
    env.disk_full = true;
    EXPECT_FALSE((*s)->FinishSnapshot("STATE-3", from->segment).ok());
    env.disk_full = false;
  }
  EXPECT_EQ(*Env::Posix().ReadFile(dir.path() + "/snapshot"), *snapshot);
  EXPECT_EQ(*Env::Posix().ReadFile(dir.path() + "/snapshot.prev"), *prev);
}

}  // namespace
}  // namespace banditd::state
