// Replays WAL-shaped inputs through the WAL fuzz property in every CI run:
// intact logs, every truncation of a log, single-bit flips at every byte, a
// zero-filled tail, absurd lengths, and random bytes (fixed seed).
#include <string>

#include <gtest/gtest.h>

#include "banditd/rng.h"
#include "src/state/wal.h"
#include "tests/fuzz/wal_fuzz_one.h"

namespace banditd::state::fuzz {
namespace {

std::string SampleLog() {
  std::string log;
  AppendRecord(log, 1, std::string(30, 'r'));
  AppendRecord(log, 2, "");
  AppendRecord(log, 1, std::string(200, '\x7f'));
  AppendRecord(log, 254, "snapshot-ish");
  return log;
}

TEST(WalFuzzReplayTest, StructuredInputsHoldTheProperty) {
  const std::string log = SampleLog();
  size_t inputs = 0;
  WalFuzzOne("");
  WalFuzzOne(log);
  for (size_t cut = 0; cut <= log.size(); ++cut, ++inputs) {
    WalFuzzOne(std::string_view(log).substr(0, cut));
  }
  for (size_t i = 0; i < log.size(); ++i) {
    for (int bit = 0; bit < 8; bit += 3, ++inputs) {
      std::string flipped = log;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      WalFuzzOne(flipped);
    }
  }
  WalFuzzOne(log + std::string(512, '\0'));
  std::string huge = log;
  huge[3] = '\x7f';  // the first record claims ~2 GB
  WalFuzzOne(huge);
  EXPECT_GT(inputs, 900u);
}

TEST(WalFuzzReplayTest, RandomBytesHoldTheProperty) {
  Rng rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng.Below(300), '\0');
    for (auto& c : bytes) c = static_cast<char>(rng.Below(256));
    // Half of them start with a valid record, so parsing gets past the first header.
    if (i % 2 == 0) bytes = SampleLog().substr(0, 39) + bytes;
    WalFuzzOne(bytes);
  }
}

}  // namespace
}  // namespace banditd::state::fuzz
