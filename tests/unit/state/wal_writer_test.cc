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
  for (const auto& r : p->records) out.emplace_back(r.payload);
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

// A failed fsync: the batch is never reported durable, the error is sticky,
// and later submissions are refused.
TEST(WalWriterTest, FailedFsyncStopsAcknowledging) {
  TempDir dir;
  FaultEnv env(Env::Posix());
  std::atomic<bool> saw_error{false};
  auto w = WalWriter::Open(env, dir.path(), 1, WalOptions{Durability::kAlways, 0},
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
    auto w = WalWriter::Open(env, dir.path(), 1, WalOptions{}, nullptr);
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
  ASSERT_TRUE((*w)->Rotate(2).ok());
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

}  // namespace
}  // namespace banditd::state
