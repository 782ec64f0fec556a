#include "src/state/store.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/state/wal.h"
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
  auto s = StateStore::Open(Env::Posix(), dir);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(StateStoreTest, DecisionKeyIsCreatedOnceAndKept) {
  TempDir dir;
  auto a = Open(dir.path());
  auto b = Open(dir.path());
  EXPECT_EQ(a->decision_key(), b->decision_key());
  TempDir other;
  EXPECT_NE(Open(other.path())->decision_key(), a->decision_key());
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
    auto from = s->BeginSnapshot();
    ASSERT_TRUE(from.ok());
    ASSERT_TRUE(s->FinishSnapshot("STATE-1", *from).ok());
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
    auto from = s->BeginSnapshot();
    ASSERT_TRUE(from.ok());
    ASSERT_TRUE(s->FinishSnapshot(big, *from).ok());
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
  std::filesystem::resize_file(segment, std::filesystem::file_size(segment) - 3);
  auto s = Open(dir.path());
  Replayed r;
  RecoveryReport report;
  ASSERT_TRUE(RecoverInto(*s, &r, false, &report).ok());
  EXPECT_EQ(r.records, std::vector<std::string>{"kept"});
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_NE(report.notes[0].find("torn tail"), std::string::npos);
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

}  // namespace
}  // namespace banditd::state
