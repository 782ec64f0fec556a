#include "src/state/wal_writer.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "src/state/wal.h"
#include "tests/unit/state/fault_env.h"
#include "tests/unit/state/test_dir.h"

namespace banditd::state {
namespace {

using testing::FaultEnv;
using testing::TempDir;

std::vector<std::string> ReadBack(const std::string& dir, uint64_t segment) {
  auto bytes = Env::Posix().ReadFile(dir + "/" + WalSegmentName(segment));
  EXPECT_TRUE(bytes.ok());
  auto p = ParseWal(*bytes, "w", false);
  EXPECT_TRUE(p.ok());
  std::vector<std::string> out;
  for (const auto& r : p->records) {
    if (r.type != kSegmentHeaderRecord) out.emplace_back(r.payload);
  }
  return out;
}

TEST(WalWriterTest, RecordsAreDurableInOrderAfterFlush) {
  TempDir dir;
  std::atomic<uint64_t> reported{0};
  auto w = WalWriter::Open(Env::Posix(), dir.path(), 1, WalOptions{},
                           [&](uint64_t seq, const Status& s) {
                             if (s.ok()) reported = seq;
                           });
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 100; ++i) {
    auto seq = (*w)->Submit(1, "r" + std::to_string(i));
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, static_cast<uint64_t>(i + 1));
  }
  ASSERT_TRUE((*w)->Flush().ok());
  EXPECT_EQ((*w)->durable_seq(), 100u);
  EXPECT_EQ(reported.load(), 100u);
  const auto got = ReadBack(dir.path(), 1);
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got[0], "r0");
  EXPECT_EQ(got[99], "r99");
}

// Group commit: many concurrent submitters share fsyncs; `always` pays one per record.
TEST(WalWriterTest, GroupCommitSharesFsyncsAlwaysDoesNot) {
  TempDir dir;
  auto group = WalWriter::Open(Env::Posix(), dir.path(), 1,
                               WalOptions{Durability::kGroup, 5'000'000}, nullptr);
  ASSERT_TRUE(group.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE((*group)->Submit(1, "x").ok());
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE((*group)->Flush().ok());
  EXPECT_LT((*group)->syncs(), 200u);

  auto always =
      WalWriter::Open(Env::Posix(), dir.path(), 2, WalOptions{Durability::kAlways, 0}, nullptr);
  ASSERT_TRUE(always.ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE((*always)->Submit(1, "y").ok());
  ASSERT_TRUE((*always)->Flush().ok());
  EXPECT_EQ((*always)->syncs(), 20u);

  auto none =
      WalWriter::Open(Env::Posix(), dir.path(), 3, WalOptions{Durability::kNone, 0}, nullptr);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE((*none)->Submit(1, "z").ok());
  ASSERT_TRUE((*none)->Flush().ok());
  EXPECT_EQ((*none)->syncs(), 0u);
  EXPECT_EQ(ReadBack(dir.path(), 3).size(), 20u);
}

// No retry within a test's lifetime: the failed state can be observed.
WalOptions NoRetry(Durability d = Durability::kGroup, int64_t window_ns = 2'000'000) {
  WalOptions o;
  o.durability = d;
  o.group_window_ns = window_ns;
  o.retry_interval_ns = 3'600'000'000'000;
  return o;
}

// A failed fsync: the batch is never reported durable, and later submissions
// are refused while the WAL cannot be written.
TEST(WalWriterTest, FailedFsyncStopsAcknowledging) {
  TempDir dir;
  FaultEnv env(Env::Posix());
  std::atomic<bool> saw_error{false};
  auto w = WalWriter::Open(env, dir.path(), 1, NoRetry(Durability::kAlways, 0),
                           [&](uint64_t, const Status& s) {
                             if (!s.ok()) saw_error = true;
                           });
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Submit(1, "ok").ok());
  ASSERT_TRUE((*w)->Flush().ok());
  env.fail_sync = 1;
  ASSERT_TRUE((*w)->Submit(1, "lost").ok());
  Status s = (*w)->Flush();
  EXPECT_EQ(s.code(), Code::kIoError);
  EXPECT_EQ((*w)->durable_seq(), 1u);
  EXPECT_TRUE(saw_error.load());
  EXPECT_EQ((*w)->Submit(1, "after").status().code(), Code::kIoError);
  EXPECT_FALSE((*w)->health().ok());
}

TEST(WalWriterTest, FailedWriteAndFullDiskStopAcknowledging) {
  for (int mode = 0; mode < 2; ++mode) {
    TempDir dir;
    FaultEnv env(Env::Posix());
    auto w = WalWriter::Open(env, dir.path(), 1, NoRetry(), nullptr);
    ASSERT_TRUE(w.ok());
    if (mode == 0)
      env.fail_append = 1;
    else
      env.disk_full = true;
    ASSERT_TRUE((*w)->Submit(1, "x").ok());
    EXPECT_EQ((*w)->Flush().code(), Code::kIoError);
    EXPECT_EQ((*w)->durable_seq(), 0u);
    EXPECT_FALSE((*w)->Submit(1, "y").ok());
  }
}

TEST(WalWriterTest, RotateSendsLaterRecordsToTheNewSegment) {
  TempDir dir;
  auto w = WalWriter::Open(Env::Posix(), dir.path(), 1, WalOptions{}, nullptr);
  ASSERT_TRUE((*w)->Submit(1, "a").ok());
  ASSERT_TRUE((*w)->Flush().ok());
  auto boundary = (*w)->Rotate(2);
  ASSERT_TRUE(boundary.ok());
  EXPECT_EQ(*boundary, 1u);
  EXPECT_EQ((*w)->segment_id(), 2u);
  ASSERT_TRUE((*w)->Submit(1, "b").ok());
  ASSERT_TRUE((*w)->Flush().ok());
  EXPECT_EQ(ReadBack(dir.path(), 1), std::vector<std::string>{"a"});
  EXPECT_EQ(ReadBack(dir.path(), 2), std::vector<std::string>{"b"});
}

TEST(WalWriterTest, FailedOpenIsReported) {
  TempDir dir;
  FaultEnv env(Env::Posix());
  env.fail_open = 1;
  EXPECT_EQ(WalWriter::Open(env, dir.path(), 1, WalOptions{}, nullptr).status().code(),
            Code::kIoError);
  auto w = WalWriter::Open(env, dir.path(), 1, WalOptions{}, nullptr);
  ASSERT_TRUE(w.ok());
  env.fail_open = 1;
  EXPECT_FALSE((*w)->Rotate(2).ok());
  EXPECT_EQ((*w)->segment_id(), 1u);  // still writing to the old segment
}

// A full disk, then space again: the records of the failed batch are
// dropped (reported, never durable), the half-written bytes are cut off, and
// the writer takes records again by itself; the segment holds exactly the
// durable records.
TEST(WalWriterTest, FullDiskDropsThenResumesByItself) {
  TempDir dir;
  FaultEnv env(Env::Posix());
  WalOptions o;
  o.retry_interval_ns = 5'000'000;  // 5 ms
  auto w = WalWriter::Open(env, dir.path(), 1, o, nullptr);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Submit(1, "before").ok());
  ASSERT_TRUE((*w)->Flush().ok());
  env.partial_append = true;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*w)->Submit(1, "lost" + std::to_string(i)).ok());
  EXPECT_EQ((*w)->Flush().code(), Code::kIoError);
  std::vector<SeqRange> dropped;
  (*w)->TakeDropped(&dropped);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].first, 2u);
  EXPECT_EQ(dropped[0].last, 4u);
  EXPECT_EQ((*w)->resolved_seq(), 4u);
  EXPECT_EQ((*w)->dropped_records(), 3u);
  EXPECT_EQ((*w)->Submit(1, "refused").status().code(), Code::kIoError);
  env.partial_append = false;
  for (int i = 0; i < 2000 && !(*w)->health().ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE((*w)->health().ok()) << "the writer did not resume";
  EXPECT_EQ((*w)->recoveries(), 1u);
  auto seq = (*w)->Submit(1, "after");
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 5u);
  ASSERT_TRUE((*w)->Flush().ok());
  dropped.clear();
  (*w)->TakeDropped(&dropped);
  EXPECT_TRUE(dropped.empty());
  auto bytes = Env::Posix().ReadFile(dir.path() + "/" + WalSegmentName(1));
  ASSERT_TRUE(bytes.ok());
  auto p = ParseWal(*bytes, "w", false);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->torn_tail);
  std::vector<std::string> got;
  for (const auto& r : p->records) got.emplace_back(r.payload);
  EXPECT_EQ(got, (std::vector<std::string>{"before", "after"}));
}

// The backlog is bounded: with the disk stalled, Submit refuses with
// kOverloaded once max_backlog_records wait, and takes records again once
// the disk moves.
TEST(WalWriterTest, BacklogIsBounded) {
  TempDir dir;
  FaultEnv env(Env::Posix());
  WalOptions o;
  o.durability = Durability::kAlways;
  o.max_backlog_records = 8;
  auto w = WalWriter::Open(env, dir.path(), 1, o, nullptr);
  ASSERT_TRUE(w.ok());
  env.hold_sync = true;
  int accepted = 0;
  Status refused;
  for (int i = 0; i < 100 && refused.ok(); ++i) {
    auto seq = (*w)->Submit(1, "r");
    if (seq.ok()) {
      ++accepted;
    } else {
      refused = seq.status();
    }
  }
  EXPECT_EQ(refused.code(), Code::kOverloaded);
  EXPECT_GE(accepted, 8);
  EXPECT_LE(accepted, 9);  // 8 waiting + at most the one being written
  EXPECT_LE((*w)->backlog(), 8u);
  env.hold_sync = false;
  ASSERT_TRUE((*w)->Flush().ok());
  EXPECT_EQ((*w)->durable_seq(), static_cast<uint64_t>(accepted));
  EXPECT_TRUE((*w)->Submit(1, "again").ok());
}

// The durable mark follows every fsync and every rotation.
TEST(WalWriterTest, DurableMarkFollowsTheDisk) {
  TempDir dir;
  auto w = WalWriter::Open(Env::Posix(), dir.path(), 3, WalOptions{}, nullptr);
  ASSERT_TRUE(w.ok());
  auto mark = [&] {
    auto bytes = Env::Posix().ReadFile(dir.path() + "/" + kDurableMarkFile);
    EXPECT_TRUE(bytes.ok());
    return DecodeDurableMark(bytes.ok() ? *bytes : "");
  };
  ASSERT_TRUE(mark().has_value());
  EXPECT_EQ(mark()->segment, 3u);
  EXPECT_EQ(mark()->bytes, 0u);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*w)->Submit(1, "record").ok());
  ASSERT_TRUE((*w)->Flush().ok());
  auto size = Env::Posix().ReadFile(dir.path() + "/" + WalSegmentName(3))->size();
  EXPECT_EQ(mark()->bytes, size);
  ASSERT_TRUE((*w)->Rotate(4).ok());
  EXPECT_EQ(mark()->segment, 4u);
  // The new segment starts with its header naming where segment 3 ended.
  const auto four = Env::Posix().ReadFile(dir.path() + "/" + WalSegmentName(4));
  EXPECT_EQ(mark()->bytes, four->size());
  auto p = ParseWal(*four, "w", false);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->records.size(), 1u);
  EXPECT_EQ(p->records[0].type, kSegmentHeaderRecord);
  const auto end = DecodeSegmentEnd(p->records[0].payload);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->segment, 3u);
  EXPECT_EQ(end->bytes, size);
}

// A rotation waits for the batch being written, not for the backlog: the
// records still queued go to the new segment, and the boundary says which
// records the older segment holds.
TEST(WalWriterTest, RotateDoesNotWaitForTheBacklog) {
  TempDir dir;
  FaultEnv env(Env::Posix());
  WalOptions o;
  o.durability = Durability::kAlways;
  auto w = WalWriter::Open(env, dir.path(), 1, o, nullptr);
  ASSERT_TRUE(w.ok());
  env.hold_sync = true;  // the first record's fsync stalls; 99 wait behind it
  for (int i = 0; i < 100; ++i) ASSERT_TRUE((*w)->Submit(1, "r" + std::to_string(i)).ok());
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    env.hold_sync = false;
  });
  auto boundary = (*w)->Rotate(2);
  release.join();
  ASSERT_TRUE(boundary.ok()) << boundary.status().ToString();
  EXPECT_LE(*boundary, 2u);  // the batch in flight (and at most one more)
  ASSERT_TRUE((*w)->Flush().ok());
  const auto first = ReadBack(dir.path(), 1);
  const auto second = ReadBack(dir.path(), 2);
  EXPECT_EQ(first.size(), *boundary);
  EXPECT_EQ(first.size() + second.size(), 100u);
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(second.back(), "r99");
}

// Durability none writes no mark: nothing is known durable without fsync.
TEST(WalWriterTest, NoMarkWithoutFsync) {
  TempDir dir;
  WalOptions o;
  o.durability = Durability::kNone;
  auto w = WalWriter::Open(Env::Posix(), dir.path(), 1, o, nullptr);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Submit(1, "r").ok());
  ASSERT_TRUE((*w)->Flush().ok());
  EXPECT_FALSE(Env::Posix().Exists(dir.path() + "/" + kDurableMarkFile));
}

}  // namespace
}  // namespace banditd::state
