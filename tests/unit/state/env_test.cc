#include "src/state/env.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "tests/unit/state/fault_env.h"
#include "tests/unit/state/test_dir.h"

namespace banditd::state {
namespace {

using testing::FaultEnv;
using testing::TempDir;

TEST(EnvTest, AtomicWriteReplacesTheFile) {
  TempDir dir;
  const std::string path = dir.path() + "/snapshot";
  ASSERT_TRUE(WriteFileAtomically(Env::Posix(), path, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(Env::Posix(), path, "two").ok());
  EXPECT_EQ(*Env::Posix().ReadFile(path), "two");
  EXPECT_FALSE(Env::Posix().Exists(path + ".tmp"));
}

// Each write/fsync/rename point fails once: the old content survives intact
// and no temp file is left behind.
TEST(EnvTest, AtomicWriteKeepsTheOldFileOnEveryFailure) {
  TempDir dir;
  const std::string path = dir.path() + "/snapshot";
  ASSERT_TRUE(WriteFileAtomically(Env::Posix(), path, "old").ok());
  for (int point = 0; point < 4; ++point) {
    FaultEnv env(Env::Posix());
    if (point == 0) env.fail_open = 1;
    if (point == 1) env.fail_append = 1;
    if (point == 2) env.fail_sync = 1;
    if (point == 3) env.fail_rename = 1;
    Status s = WriteFileAtomically(env, path, "new");
    EXPECT_EQ(s.code(), Code::kIoError) << "point " << point;
    EXPECT_EQ(*Env::Posix().ReadFile(path), "old") << "point " << point;
    EXPECT_FALSE(Env::Posix().Exists(path + ".tmp")) << "point " << point;
  }
  // A failed directory fsync after the rename is reported: the new content is
  // in place but its durability is not known.
  FaultEnv env(Env::Posix());
  env.fail_syncdir = 1;
  EXPECT_EQ(WriteFileAtomically(env, path, "newer").code(), Code::kIoError);
}

TEST(EnvTest, ReadMissingFileIsNotFound) {
  TempDir dir;
  EXPECT_EQ(Env::Posix().ReadFile(dir.path() + "/nope").status().code(), Code::kNotFound);
}

// A FIFO or a directory where a state file belongs is refused at once: a
// FIFO must not block start-up waiting for a writer.
TEST(EnvTest, ReadRefusesWhatIsNotARegularFile) {
  TempDir dir;
  const std::string fifo = dir.path() + "/decision.key";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = Env::Posix().ReadFile(fifo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kIoError);
  EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(Env::Posix().ReadFile(dir.path()).status().code(), Code::kIoError);
}

TEST(EnvTest, ListIsSorted) {
  TempDir dir;
  for (const char* n : {"b", "a", "c"}) {
    ASSERT_TRUE(WriteFileAtomically(Env::Posix(), dir.path() + "/" + n, "x").ok());
  }
  auto names = Env::Posix().List(dir.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace banditd::state
