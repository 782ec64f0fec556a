#include "src/state/decision_log.h"

#include <algorithm>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/state/fault_env.h"
#include "tests/unit/state/test_dir.h"

namespace banditd::state {
namespace {

using testing::FaultEnv;
using testing::TempDir;

constexpr int64_t kSecond = 1'000'000'000;

std::vector<LogRow> ReadAll(const std::string& dir) {
  std::vector<LogRow> rows;
  auto files = DecisionLogFiles(Env::Posix(), dir);
  EXPECT_TRUE(files.ok());
  for (const auto& f : *files) {
    auto text = Env::Posix().ReadFile(dir + "/" + f);
    auto parsed = ReadDecisionLog(*text, f);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    rows.insert(rows.end(), parsed->begin(), parsed->end());
  }
  return rows;
}

TEST(DecisionLogTest, DecisionsRewardsAndShadowsRoundTrip) {
  TempDir dir;
  {
    auto log = DecisionLog::Open(Env::Posix(), dir.path());
    ASSERT_TRUE(log.ok());
    const double ctx[] = {1.0, -0.5};
    const float out[] = {0.25f};
    (*log)->Decision({.wall_ns = 1000,
                      .exp = "ctr",
                      .epoch = 2,
                      .decision = "IDa",
                      .arm = "challenger",
                      .propensity = 0.4375,
                      .forced = false,
                      .unit_hash = 0xabc,
                      .context = ctx,
                      .output = out});
    (*log)->Decision({.wall_ns = 1001,
                      .exp = "ctr",
                      .epoch = 2,
                      .decision = "IDb",
                      .arm = "champion",
                      .propensity = 1.0,
                      .forced = true,
                      .unit_hash = 0,
                      .context = {},
                      .output = {}});
    (*log)->Reward(2000, "ctr", "IDa", "challenger", 1.0);
    (*log)->Shadow(1000, "ctr", "IDa", "champion", 123.5, out);
  }  // destructor flushes
  const auto rows = ReadAll(dir.path());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].kind, 'D');
  EXPECT_EQ(rows[0].exp, "ctr");
  EXPECT_EQ(rows[0].epoch, 2);
  EXPECT_EQ(rows[0].arm, "challenger");
  EXPECT_EQ(rows[0].propensity, 0.4375);
  EXPECT_EQ(rows[0].unit_hash, 0xabcu);
  EXPECT_EQ(rows[0].context, (std::vector<double>{1.0, -0.5}));
  EXPECT_EQ(rows[0].output, (std::vector<double>{0.25}));
  EXPECT_TRUE(rows[1].forced);
  EXPECT_TRUE(rows[1].context.empty());
  EXPECT_EQ(rows[2].kind, 'R');
  EXPECT_EQ(rows[2].value, 1.0);
  EXPECT_EQ(rows[3].kind, 'S');
  EXPECT_EQ(rows[3].value, 123.5);
}

// Lines formatted on another thread (LineBuffer) and appended to the log
// read back like the log's own, in the order they were handed over.
TEST(DecisionLogTest, LinesFormattedElsewhereAreAppendedWhole) {
  TempDir dir;
  {
    auto log = DecisionLog::Open(Env::Posix(), dir.path());
    ASSERT_TRUE(log.ok());
    LineBuffer lines;
    lines.Decision(
        {.wall_ns = 1000,
         .exp = "ctr",
         .epoch = 1,
         .decision = "IDx",
         .arm = "b",
         .propensity = 0.75,
         .forced = false,
         .unit_hash = 0,
         .context = {},
         .output = {}});
    lines.Decision({.wall_ns = 1001,
                    .exp = "ctr",
                    .epoch = 1,
                    .decision = "IDy",
                    .arm = "a",
                    .propensity = 0.25,
                    .forced = false,
                    .unit_hash = 0x1f,
                    .context = {},
                    .output = {}});
    EXPECT_EQ(lines.lines(), 2u);
    (*log)->Reward(999, "ctr", "IDw", "a", 0.5);
    (*log)->Append(lines.text(), lines.lines());
    EXPECT_EQ((*log)->lines(), 3u);
    lines.Clear();
    EXPECT_EQ(lines.lines(), 0u);
    EXPECT_TRUE(lines.text().empty());
  }
  const auto rows = ReadAll(dir.path());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].kind, 'R');
  EXPECT_EQ(rows[1].decision, "IDx");
  EXPECT_EQ(rows[1].propensity, 0.75);
  EXPECT_EQ(rows[2].decision, "IDy");
  EXPECT_EQ(rows[2].unit_hash, 0x1fu);
}

// The writer reuses the text of a repeated propensity and writes names in
// runs: alternating, repeated and odd values must all read back exactly.
TEST(DecisionLogTest, PropensitiesNamesAndUnitHashesReadBackExactly) {
  TempDir dir;
  const double props[] = {0.1, 0.1, 1.0 / 3.0, 0.1, 1.0 / 3.0, 1.0 / 3.0, 5e-324, 1.0};
  {
    auto log = DecisionLog::Open(Env::Posix(), dir.path());
    ASSERT_TRUE(log.ok());
    for (size_t i = 0; i < std::size(props); ++i) {
      (*log)->Decision({.wall_ns = static_cast<int64_t>(i),
                        .exp = "c\tt\nr",
                        .epoch = 0,
                        .decision = "ID",
                        .arm = "a\rm\t",
                        .propensity = props[i],
                        .forced = false,
                        .unit_hash = i == 0 ? 0x0123456789abcdefULL : 0xf000000000000001ULL,
                        .context = {},
                        .output = {}});
    }
  }
  const auto rows = ReadAll(dir.path());
  ASSERT_EQ(rows.size(), std::size(props));
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].propensity, props[i]) << i;
    EXPECT_EQ(rows[i].exp, "c_t_r");
    EXPECT_EQ(rows[i].arm, "a_m_");
    EXPECT_EQ(rows[i].unit_hash, i == 0 ? 0x0123456789abcdefULL : 0xf000000000000001ULL);
  }
}

TEST(DecisionLogTest, RotatesAndNeverAppendsToAnOldFile) {
  TempDir dir;
  {
    auto log = DecisionLog::Open(Env::Posix(), dir.path(), DecisionLogOptions{256, 1024});
    for (int i = 0; i < 100; ++i) (*log)->Reward(i, "ctr", "ID", "a", i);
  }
  auto log2 = DecisionLog::Open(Env::Posix(), dir.path());  // a restart: a new file
  (*log2)->Reward(7, "ctr", "ID", "a", 7);
  ASSERT_TRUE((*log2)->Flush().ok());
  auto files = DecisionLogFiles(Env::Posix(), dir.path());
  EXPECT_GE(files->size(), 3u);  // at least one rotation, and the restart's own file
  EXPECT_EQ(ReadAll(dir.path()).size(), 101u);
}

// Retention and the disk reserve. Options: small buffers and files; no reserve
// unless a test sets one.
DecisionLogOptions Small(uint64_t max_bytes, uint64_t rotate_bytes = 1000) {
  DecisionLogOptions o;
  o.buffer_bytes = 100;
  o.rotate_bytes = rotate_bytes;
  o.max_bytes = max_bytes;
  o.max_age_ns = 0;
  o.min_free_bytes = 0;
  return o;
}

uint64_t FileSize(const std::string& path) {
  auto info = Env::Posix().Stat(path);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  return info.ok() ? info->size : 0;
}

struct DirUsage {
  std::vector<std::string> files;
  uint64_t bytes = 0;
};

DirUsage Usage(const std::string& dir) {
  DirUsage u;
  u.files = *DecisionLogFiles(Env::Posix(), dir);
  for (const auto& f : u.files) u.bytes += FileSize(dir + "/" + f);
  return u;
}

TEST(DecisionLogRetentionTest, FilesStayWithinMaxBytesOldestRemovedFirst) {
  TempDir dir;
  ManualClock clock;
  auto log = DecisionLog::Open(Env::Posix(), dir.path(), Small(4000), clock);
  ASSERT_TRUE(log.ok());
  uint64_t max_seen = 0;
  for (int i = 0; i < 1000; ++i) {
    (*log)->Reward(i, "ctr", "ID" + std::to_string(i), "a", 1.0);
    if (i % 10 == 9) max_seen = std::max(max_seen, Usage(dir.path()).bytes);
  }
  ASSERT_TRUE((*log)->Flush().ok());
  const DirUsage u = Usage(dir.path());
  EXPECT_LE(max_seen, 4000u);
  EXPECT_LE(u.bytes, 4000u);
  // 1,000 lines of ~22 bytes in files of ~1,000 bytes: most were removed,
  // and what is left are the newest files, in one unbroken run.
  const DecisionLogStats st = (*log)->stats();
  EXPECT_GE(st.files_removed, 15u);
  EXPECT_EQ(st.files, u.files.size());
  EXPECT_EQ(st.bytes, u.bytes);
  const auto rows = ReadAll(dir.path());
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.back().wall_ns, 999);
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_EQ(rows[i].wall_ns, rows[i - 1].wall_ns + 1);
  // Every line that is not on disk any more was in a removed file.
  uint64_t line_bytes = 0;
  for (int i = 0; i < rows.front().wall_ns; ++i) {
    line_bytes += ("R\t" + std::to_string(i) + "\tctr\tID" + std::to_string(i) + "\ta\t1\n").size();
  }
  EXPECT_EQ(st.bytes_removed, line_bytes + st.files_removed * 26);  // + each file's header
}

TEST(DecisionLogRetentionTest, FilesOfEarlierRunsCountAndGoFirst) {
  TempDir dir;
  ManualClock clock;
  {
    auto log = DecisionLog::Open(Env::Posix(), dir.path(), Small(1 << 20), clock);
    for (int i = 0; i < 300; ++i) (*log)->Reward(i, "ctr", "ID", "a", 1.0);
  }
  const DirUsage before = Usage(dir.path());
  ASSERT_GE(before.files.size(), 4u);
  ASSERT_GT(before.bytes, 3000u);
  // A restart with a smaller budget removes the earlier run's oldest files.
  auto log = DecisionLog::Open(Env::Posix(), dir.path(), Small(3000), clock);
  ASSERT_TRUE(log.ok());
  const DirUsage after = Usage(dir.path());
  EXPECT_LE(after.bytes, 3000u);
  EXPECT_TRUE(std::includes(before.files.begin(), before.files.end(), after.files.begin(),
                            after.files.end() - 1));  // survivors, plus the new file
  EXPECT_EQ(after.files[after.files.size() - 2], before.files.back());  // the newest old one kept
  EXPECT_EQ((*log)->stats().files_removed, before.files.size() - (after.files.size() - 1));
}

TEST(DecisionLogRetentionTest, FilesOlderThanMaxAgeAreRemoved) {
  TempDir dir;
  // File ages of earlier runs come from their mtime: start at the real time.
  ManualClock clock(SystemClock::Instance().WallNanos());
  DecisionLogOptions o = Small(1 << 20);
  o.max_age_ns = 3600 * kSecond;
  {
    auto log = DecisionLog::Open(Env::Posix(), dir.path(), o, clock);
    for (int i = 0; i < 100; ++i) (*log)->Reward(i, "ctr", "ID", "a", 1.0);
  }
  const size_t old_files = Usage(dir.path()).files.size();
  ASSERT_GE(old_files, 2u);
  clock.Advance(1800 * kSecond);
  auto log = DecisionLog::Open(Env::Posix(), dir.path(), o, clock);
  for (int i = 0; i < 100; ++i) (*log)->Reward(1000 + i, "ctr", "ID", "a", 1.0);
  ASSERT_TRUE((*log)->Flush().ok());
  const size_t files = Usage(dir.path()).files.size();
  EXPECT_GT(files, old_files);
  EXPECT_EQ((*log)->stats().files_removed, 0u);  // 30 min: all kept

  clock.Advance(1801 * kSecond);  // the first run's files are now older than an hour
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().files_removed, old_files);
  EXPECT_EQ(Usage(dir.path()).files.size(), files - old_files);
  const auto rows = ReadAll(dir.path());
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.front().wall_ns, 1000);

  clock.Advance(3601 * kSecond);  // everything closed is old; the current file stays
  ASSERT_TRUE((*log)->Flush().ok());
  const DirUsage left = Usage(dir.path());
  ASSERT_EQ(left.files.size(), 1u);
  EXPECT_EQ((*log)->stats().files, 1u);
}

TEST(DecisionLogRetentionTest, NeverRemovesTheFileBeingWritten) {
  TempDir dir;
  ManualClock clock;
  DecisionLogOptions o = Small(1 << 20);  // files of 1,000 bytes
  o.max_age_ns = kSecond;
  auto log = DecisionLog::Open(Env::Posix(), dir.path(), o, clock);
  for (int i = 0; i < 30; ++i) (*log)->Reward(i, "ctr", "ID", "a", 1.0);  // < 1,000 bytes
  clock.Advance(10 * kSecond);  // the file was last written long before max_age
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().files_removed, 0u);
  EXPECT_EQ(Usage(dir.path()).files.size(), 1u);
  EXPECT_EQ(ReadAll(dir.path()).size(), 30u);
}

TEST(DecisionLogRetentionTest, AFlushOverTheBudgetIsWrittenAndItsFileGoesWhenClosed) {
  TempDir dir;
  ManualClock clock;
  DecisionLogOptions o = Small(400);  // files of 100 bytes
  o.buffer_bytes = 1 << 20;
  auto log = DecisionLog::Open(Env::Posix(), dir.path(), o, clock);
  for (int i = 0; i < 30; ++i) (*log)->Reward(i, "ctr", "ID", "a", 1.0);  // ~520 bytes
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().files_removed, 0u);
  EXPECT_EQ(ReadAll(dir.path()).size(), 30u);  // then closed: the next file is the current one
  for (int i = 30; i < 35; ++i) (*log)->Reward(i, "ctr", "ID", "a", 1.0);
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ((*log)->stats().files_removed, 1u);
  const auto rows = ReadAll(dir.path());
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows.front().wall_ns, 30);
}

// The Env calls retention and the reserve rely on, on the real filesystem.
TEST(DecisionLogRetentionTest, PosixEnvReportsFileSizeMtimeAndFreeSpace) {
  TempDir dir;
  const std::string path = dir.path() + "/f";
  ASSERT_TRUE(WriteFileAtomically(Env::Posix(), path, std::string(1234, 'x')).ok());
  auto info = Env::Posix().Stat(path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 1234u);
  const int64_t now = SystemClock::Instance().WallNanos();
  EXPECT_LE(info->mtime_ns, now);
  EXPECT_GT(info->mtime_ns, now - 60 * kSecond);
  EXPECT_EQ(Env::Posix().Stat(path + ".missing").status().code(), Code::kNotFound);
  auto free = Env::Posix().FreeBytes(dir.path());
  ASSERT_TRUE(free.ok()) << free.status().ToString();
  EXPECT_GT(*free, 0u);
  EXPECT_FALSE(Env::Posix().FreeBytes(dir.path() + "/no/such/dir").ok());
}

class DecisionLogStopTest : public ::testing::Test {
 protected:
  DecisionLogStopTest() : env_(Env::Posix()) {
    env_.free_bytes = 100 << 20;
    options_ = Small(1 << 30, 1 << 20);
    options_.buffer_bytes = 1 << 20;
    options_.min_free_bytes = 8 << 20;
    options_.retry_interval_ns = kSecond;
  }
  void Lines(int from, int n) {
    for (int i = from; i < from + n; ++i) log_->Reward(i, "ctr", "ID", "a", 1.0);
  }
  std::vector<DecisionLogState> EventStates() {
    std::vector<DecisionLogState> out;
    for (const auto& e : log_->TakeEvents()) out.push_back(e.state);
    return out;
  }

  TempDir dir_;
  FaultEnv env_;
  ManualClock clock_;
  DecisionLogOptions options_;
  std::unique_ptr<DecisionLog> log_;
};

TEST_F(DecisionLogStopTest, BelowTheReserveItStopsCountsDropsAndResumes) {
  log_ = std::move(DecisionLog::Open(env_, dir_.path(), options_, clock_)).value();
  Lines(0, 10);
  ASSERT_TRUE(log_->Flush().ok());
  EXPECT_EQ(log_->state(), DecisionLogState::kWriting);

  env_.free_bytes = 4 << 20;  // below the 8 MiB reserve
  Lines(10, 5);
  EXPECT_TRUE(log_->Flush().ok());  // stopping is not an error of the caller's
  EXPECT_EQ(log_->state(), DecisionLogState::kStoppedDiskReserve);
  const auto stop = log_->TakeEvents();
  ASSERT_EQ(stop.size(), 1u);
  EXPECT_NE(stop[0].message.find("min_free_bytes"), std::string::npos) << stop[0].message;
  Lines(15, 20);  // dropped as they come
  EXPECT_TRUE(log_->Flush().ok());
  EXPECT_EQ(log_->stats().dropped_disk_reserve, 25u);

  // Space back, but not past the resume margin; then past it, yet before the
  // retry interval: still stopped, and nothing more logged.
  env_.free_bytes = (8 << 20) + 1;
  clock_.Advance(2 * kSecond);
  EXPECT_TRUE(log_->Flush().ok());
  EXPECT_EQ(log_->state(), DecisionLogState::kStoppedDiskReserve);
  env_.free_bytes = 100 << 20;
  Lines(35, 1);
  EXPECT_TRUE(log_->Flush().ok());
  EXPECT_EQ(log_->state(), DecisionLogState::kStoppedDiskReserve);
  EXPECT_TRUE(EventStates().empty());

  clock_.Advance(kSecond);
  Lines(36, 1);  // still stopped: dropped
  EXPECT_TRUE(log_->Flush().ok());
  EXPECT_EQ(log_->state(), DecisionLogState::kWriting);
  EXPECT_EQ(EventStates(), std::vector{DecisionLogState::kWriting});
  Lines(37, 3);
  ASSERT_TRUE(log_->Flush().ok());

  const DecisionLogStats st = log_->stats();
  EXPECT_EQ(st.dropped_disk_reserve, 27u);
  EXPECT_EQ(st.dropped_write_error, 0u);
  EXPECT_EQ(st.lines, 40u);
  const auto rows = ReadAll(dir_.path());
  ASSERT_EQ(rows.size(), 13u);
  EXPECT_EQ(rows[9].wall_ns, 9);
  EXPECT_EQ(rows[10].wall_ns, 37);
  // The gap is noted in the file, as a comment line.
  auto files = DecisionLogFiles(Env::Posix(), dir_.path());
  const auto text = Env::Posix().ReadFile(dir_.path() + "/" + files->back());
  EXPECT_NE(text->find("# 27 lines dropped from "), std::string::npos) << *text;
}

TEST_F(DecisionLogStopTest, AFailedWriteStopsItUntilAWriteSucceeds) {
  log_ = std::move(DecisionLog::Open(env_, dir_.path(), options_, clock_)).value();
  Lines(0, 10);
  ASSERT_TRUE(log_->Flush().ok());

  env_.disk_full = true;
  Lines(10, 5);
  EXPECT_FALSE(log_->Flush().ok());
  EXPECT_EQ(log_->state(), DecisionLogState::kStoppedWriteError);
  const auto stop = log_->TakeEvents();
  ASSERT_EQ(stop.size(), 1u);
  EXPECT_NE(stop[0].message.find("no space left on device"), std::string::npos) << stop[0].message;
  Lines(15, 5);
  // Retries fail again: counted, no new events, and the next retry waits
  // twice as long (1 s, then 2 s, then 4 s).
  clock_.Advance(kSecond);
  EXPECT_FALSE(log_->Flush().ok());
  EXPECT_EQ(log_->write_errors(), 2u);
  clock_.Advance(kSecond);
  EXPECT_TRUE(log_->Flush().ok());  // not yet retried
  EXPECT_EQ(log_->write_errors(), 2u);
  clock_.Advance(kSecond);
  EXPECT_FALSE(log_->Flush().ok());
  EXPECT_EQ(log_->write_errors(), 3u);
  EXPECT_EQ(log_->state(), DecisionLogState::kStoppedWriteError);
  EXPECT_TRUE(EventStates().empty());

  env_.disk_full = false;
  Lines(20, 2);
  clock_.Advance(3 * kSecond);
  EXPECT_TRUE(log_->Flush().ok());  // before the retry: dropped
  EXPECT_EQ(log_->state(), DecisionLogState::kStoppedWriteError);
  clock_.Advance(kSecond);
  EXPECT_TRUE(log_->Flush().ok());  // the retry writes the gap note
  EXPECT_EQ(log_->state(), DecisionLogState::kWriting);
  EXPECT_TRUE(EventStates().empty());  // announced once lines are written
  Lines(22, 3);
  ASSERT_TRUE(log_->Flush().ok());
  const auto resumed = log_->TakeEvents();
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].state, DecisionLogState::kWriting);
  EXPECT_NE(resumed[0].message.find("after write_error: 12 lines were dropped"), std::string::npos)
      << resumed[0].message;

  EXPECT_EQ(log_->stats().dropped_write_error, 12u);
  EXPECT_EQ(log_->stats().dropped_disk_reserve, 0u);
  const auto rows = ReadAll(dir_.path());  // every file parses
  ASSERT_EQ(rows.size(), 13u);
  EXPECT_EQ(rows[10].wall_ns, 22);
}

// A disk that takes the short gap note but fails the next buffer: the log
// goes back to stopped without announcing anything, so it logs one stop and
// one resume however often that happens.
TEST_F(DecisionLogStopTest, AWriteErrorThatComesBackDoesNotMakeItFlap) {
  log_ = std::move(DecisionLog::Open(env_, dir_.path(), options_, clock_)).value();
  env_.disk_full = true;
  Lines(0, 5);
  EXPECT_FALSE(log_->Flush().ok());
  for (int round = 0; round < 3; ++round) {
    env_.disk_full = false;
    clock_.Advance(kSecond);
    EXPECT_TRUE(log_->Flush().ok());  // the note goes through
    EXPECT_EQ(log_->state(), DecisionLogState::kWriting);
    env_.disk_full = true;
    Lines(100 * (round + 1), 5);
    EXPECT_FALSE(log_->Flush().ok());  // the lines do not
    EXPECT_EQ(log_->state(), DecisionLogState::kStoppedWriteError);
    clock_.Advance(64 * kSecond);  // past any backoff
  }
  env_.disk_full = false;
  EXPECT_TRUE(log_->Flush().ok());
  Lines(1000, 2);
  ASSERT_TRUE(log_->Flush().ok());
  EXPECT_EQ(EventStates(),
            (std::vector{DecisionLogState::kStoppedWriteError, DecisionLogState::kWriting}));
  EXPECT_EQ(log_->stats().dropped_write_error, 20u);
  const auto rows = ReadAll(dir_.path());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].wall_ns, 1000);
}

TEST_F(DecisionLogStopTest, ItStopsBeforeAWriteWouldCrossTheReserve) {
  options_.min_free_bytes = 1000;
  env_.free_bytes = 1000 + 200;
  log_ = std::move(DecisionLog::Open(env_, dir_.path(), options_, clock_)).value();
  Lines(0, 3);  // ~90 bytes: fits
  ASSERT_TRUE(log_->Flush().ok());
  EXPECT_EQ(log_->state(), DecisionLogState::kWriting);
  Lines(3, 20);  // ~320 bytes: would leave less than the reserve
  ASSERT_TRUE(log_->Flush().ok());
  EXPECT_EQ(log_->state(), DecisionLogState::kStoppedDiskReserve);
  EXPECT_EQ(log_->stats().dropped_disk_reserve, 20u);
  EXPECT_EQ(ReadAll(dir_.path()).size(), 3u);
}

// An Env whose appends, while `fail` is set, write the start of a line and
// then fail (a disk filling up mid-write); truncation can be made to fail.
class HalfWriteEnv : public EnvWrapper {
 public:
  HalfWriteEnv() : EnvWrapper(Env::Posix()) {}
  bool fail = false;
  bool fail_truncate = false;

  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& p) override {
    auto f = target_.OpenAppendable(p);
    if (!f.ok()) return f.status();
    return std::unique_ptr<WritableFile>(std::make_unique<File>(*this, std::move(*f)));
  }
  Status Truncate(const std::string& p, uint64_t n) override {
    if (fail_truncate) return Status(Code::kIoError, "injected truncate failure");
    return target_.Truncate(p, n);
  }

 private:
  class File : public WritableFile {
   public:
    File(HalfWriteEnv& env, std::unique_ptr<WritableFile> f) : env_(env), f_(std::move(f)) {}
    Status Append(std::string_view d) override {
      if (!env_.fail) return f_->Append(d);
      (void)f_->Append(d.substr(0, std::min<size_t>(3, d.size())));
      return Status(Code::kIoError, "injected: no space left on device (after a partial write)");
    }
    Status Sync() override { return f_->Sync(); }
    Status Close() override { return f_->Close(); }

   private:
    HalfWriteEnv& env_;
    std::unique_ptr<WritableFile> f_;
  };
};

// A partial write is cut off, so every file still parses after the log
// resumes; if cutting it off fails, the log goes on in a new file and the
// torn line is the old file's last (skipped by the reader).
TEST(DecisionLogWriteErrorTest, APartialWriteLeavesEveryFileReadable) {
  for (bool fail_truncate : {false, true}) {
    SCOPED_TRACE(fail_truncate ? "truncate fails" : "truncate works");
    TempDir dir;
    HalfWriteEnv env;
    ManualClock clock;
    DecisionLogOptions o = Small(1 << 30, 1 << 20);
    o.buffer_bytes = 1 << 20;
    auto log = DecisionLog::Open(env, dir.path(), o, clock);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 10; ++i) (*log)->Reward(i, "ctr", "ID", "a", 1.0);
    ASSERT_TRUE((*log)->Flush().ok());
    env.fail = true;
    env.fail_truncate = fail_truncate;
    for (int i = 10; i < 20; ++i) (*log)->Reward(i, "ctr", "ID", "a", 1.0);
    EXPECT_FALSE((*log)->Flush().ok());
    EXPECT_EQ((*log)->state(), DecisionLogState::kStoppedWriteError);
    env.fail = false;
    clock.Advance(o.retry_interval_ns);
    ASSERT_TRUE((*log)->Flush().ok());
    EXPECT_EQ((*log)->state(), DecisionLogState::kWriting);
    for (int i = 20; i < 25; ++i) (*log)->Reward(i, "ctr", "ID", "a", 1.0);
    ASSERT_TRUE((*log)->Flush().ok());
    EXPECT_EQ(Usage(dir.path()).files.size(), fail_truncate ? 2u : 1u);
    const auto rows = ReadAll(dir.path());
    ASSERT_EQ(rows.size(), 15u);
    EXPECT_EQ(rows[9].wall_ns, 9);
    EXPECT_EQ(rows[10].wall_ns, 20);
    EXPECT_EQ((*log)->stats().dropped_write_error, 10u);
  }
}

TEST(DecisionLogTest, ExperimentAndLookLinesRoundTrip) {
  LineBuffer b;
  const std::vector<std::string> arms = {"a", "b", "c"};
  b.Experiment(5, "ctr", 3, "b", arms);
  b.Look(6, "ctr", 3, 42);
  EXPECT_EQ(b.text(), "E\t5\tctr\t3\tb\ta,b,c\nL\t6\tctr\t3\t42\n");
  auto rows = ReadDecisionLog(b.text(), "f.tsv");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].kind, 'E');
  EXPECT_EQ((*rows)[0].epoch, 3);
  EXPECT_EQ((*rows)[0].arm, "b");
  EXPECT_EQ((*rows)[0].arms, arms);
  EXPECT_EQ((*rows)[1].kind, 'L');
  EXPECT_EQ((*rows)[1].looks, 42u);
  // A champion that is not one of the arms is not a valid line.
  EXPECT_FALSE(ReadDecisionLog("E\t5\tctr\t3\tz\ta,b\nL\t6\tctr\t3\t1\n", "f.tsv").ok());
}

TEST(DecisionLogTest, MalformedLinesAreReportedTornLastLineSkipped) {
  auto bad = ReadDecisionLog("R\t1\tctr\tID\ta\t1\nX\tjunk\nR\t2\tctr\tID\ta\t1\n", "f.tsv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("f.tsv line 2"), std::string::npos);
  auto torn = ReadDecisionLog("R\t1\tctr\tID\ta\t1\nR\t2\tct", "f.tsv");
  ASSERT_TRUE(torn.ok());
  EXPECT_EQ(torn->size(), 1u);
}

}  // namespace
}  // namespace banditd::state
