#include "src/state/wal.h"

#include <string>

#include <gtest/gtest.h>

namespace banditd::state {
namespace {

std::string ThreeRecords() {
  std::string log;
  AppendRecord(log, 1, "first");
  AppendRecord(log, 2, std::string(300, 'x'));
  AppendRecord(log, 1, "last record");
  return log;
}

TEST(WalTest, RoundTrip) {
  const std::string log = ThreeRecords();
  auto p = ParseWal(log, "wal-1.log", false);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->records.size(), 3u);
  EXPECT_EQ(p->records[0].type, 1);
  EXPECT_EQ(p->records[0].payload, "first");
  EXPECT_EQ(p->records[1].payload.size(), 300u);
  EXPECT_EQ(p->records[2].payload, "last record");
  EXPECT_EQ(p->valid_bytes, log.size());
  EXPECT_FALSE(p->torn_tail);
}

TEST(WalTest, KnownCrc32cValue) {
  // The standard CRC-32C check value of "123456789".
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c("1234", "56789"), 0xE3069283u);
}

// The log cut at every byte offset inside its last record: the first two
// records survive and the tail is reported torn.
TEST(WalTest, TruncatedAtEveryOffsetOfTheLastRecord) {
  const std::string log = ThreeRecords();
  auto full = ParseWal(log, "w", false);
  const uint64_t last_start = full->records[2].offset;
  for (uint64_t cut = last_start + 1; cut < log.size(); ++cut) {
    auto p = ParseWal(std::string_view(log).substr(0, cut), "w", false);
    ASSERT_TRUE(p.ok()) << "cut at " << cut << ": " << p.status().ToString();
    EXPECT_EQ(p->records.size(), 2u) << "cut at " << cut;
    EXPECT_TRUE(p->torn_tail) << "cut at " << cut;
    EXPECT_EQ(p->valid_bytes, last_start);
  }
}

TEST(WalTest, ZeroFilledTailIsTorn) {
  std::string log = ThreeRecords() + std::string(4096, '\0');
  auto p = ParseWal(log, "w", false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->records.size(), 3u);
  EXPECT_TRUE(p->torn_tail);
}

TEST(WalTest, BitFlipInTheLastRecordIsATornTail) {
  std::string log = ThreeRecords();
  log[log.size() - 2] ^= 0x40;
  auto p = ParseWal(log, "w", false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->records.size(), 2u);
  EXPECT_TRUE(p->torn_tail);
}

// A byte flipped in the middle: refuse, naming the file and offset; with
// repair, keep what precedes it.
TEST(WalTest, CorruptionInTheMiddleIsRefusedOrRepaired) {
  std::string log = ThreeRecords();
  auto full = ParseWal(log, "w", false);
  const uint64_t second = full->records[1].offset;
  log[second + 20] ^= 0x01;
  auto p = ParseWal(log, "wal-000000000007.log", false);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kCorruption);
  EXPECT_NE(p.status().message().find("wal-000000000007.log"), std::string::npos);
  EXPECT_NE(p.status().message().find("offset " + std::to_string(second)), std::string::npos);

  auto r = ParseWal(log, "w", true);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->repaired);
  EXPECT_EQ(r->records.size(), 1u);
  EXPECT_NE(r->note.find("dropped"), std::string::npos);
}

TEST(WalTest, AbsurdLengthInTheMiddleIsCorruption) {
  std::string log = ThreeRecords();
  log[3] = static_cast<char>(0x7f);  // first record claims ~2 GB
  EXPECT_EQ(ParseWal(log, "w", false).status().code(), Code::kCorruption);
}

// Damage with a valid record anywhere after it is never a torn tail.
TEST(WalTest, DamageFollowedByAValidRecordIsCorruption) {
  std::string log;
  for (int i = 0; i < 20; ++i) AppendRecord(log, 1, "reward " + std::to_string(i));
  auto full = ParseWal(log, "w", false);
  const uint64_t tenth = full->records[10].offset;
  log[tenth + 2] ^= 0x01;  // the length now runs past the end of the file
  auto p = ParseWal(log, "w", false);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("valid record follows it at offset " +
                                      std::to_string(full->records[11].offset)),
            std::string::npos)
      << p.status().message();
  EXPECT_EQ(FindValidRecord(log, tenth + 1), full->records[11].offset);
  EXPECT_EQ(CountValidRecords(std::string_view(log).substr(tenth)), 9u);
}

// Below the durable mark, even a tail that looks torn is corruption.
TEST(WalTest, DamageBelowTheDurableMarkIsCorruption) {
  std::string log = ThreeRecords();
  const uint64_t size = log.size();
  log.replace(size - 10, 10, std::string(10, '\0'));
  WalParseOptions o;
  EXPECT_TRUE(ParseWal(log, "w", o)->torn_tail);
  o.durable_bytes = size;
  auto p = ParseWal(log, "w", o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("durable mark"), std::string::npos);
  const uint64_t last_start = size - 11 - kRecordHeaderBytes;  // "last record"
  o.durable_bytes = last_start + 1;
  EXPECT_FALSE(ParseWal(log, "w", o).ok());
  o.durable_bytes = last_start;
  EXPECT_TRUE(ParseWal(log, "w", o)->torn_tail);
}

TEST(WalTest, DurableMarkRoundTripsAndRefusesDamage) {
  const std::string m = EncodeDurableMark(DurableMark{7, 1234567890123ull});
  ASSERT_EQ(m.size(), kDurableMarkBytes);
  auto d = DecodeDurableMark(m);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->segment, 7u);
  EXPECT_EQ(d->bytes, 1234567890123ull);
  for (size_t i = 0; i < m.size(); ++i) {
    std::string bad = m;
    bad[i] ^= 0x10;
    EXPECT_FALSE(DecodeDurableMark(bad).has_value()) << "byte " << i;
  }
  EXPECT_FALSE(DecodeDurableMark(m.substr(0, 20)).has_value());
}

TEST(WalTest, SegmentNames) {
  EXPECT_EQ(WalSegmentName(42), "wal-000000000042.log");
  uint64_t id = 0;
  EXPECT_TRUE(ParseWalSegmentName("wal-000000000042.log", &id));
  EXPECT_EQ(id, 42u);
  EXPECT_FALSE(ParseWalSegmentName("wal-00000000004x.log", &id));
  EXPECT_FALSE(ParseWalSegmentName("snapshot", &id));
}

}  // namespace
}  // namespace banditd::state
