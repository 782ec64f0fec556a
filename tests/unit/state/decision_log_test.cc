#include "src/state/decision_log.h"

#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/state/test_dir.h"

namespace banditd::state {
namespace {

using testing::TempDir;

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
    (*log)->Decision(1000, "ctr", 2, "IDa", "challenger", 0.4375, false, 0xabc, ctx, out);
    (*log)->Decision(1001, "ctr", 2, "IDb", "champion", 1.0, true, 0, {}, {});
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
    lines.Decision(1000, "ctr", 1, "IDx", "b", 0.75, false, 0, {}, {});
    lines.Decision(1001, "ctr", 1, "IDy", "a", 0.25, false, 0x1f, {}, {});
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
      (*log)->Decision(static_cast<int64_t>(i), "c\tt\nr", 0, "ID", "a\rm\t", props[i], false,
                       i == 0 ? 0x0123456789abcdefULL : 0xf000000000000001ULL, {}, {});
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
