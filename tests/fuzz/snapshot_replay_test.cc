// Replays snapshot-shaped inputs through the snapshot fuzz property in every
// CI run: the checked-in corpus (tests/fuzz/snapshot_corpus/: seeds and what
// fuzzing found), the seeds as this build writes them, every truncation and
// bit flips of a real snapshot, and random bytes (fixed seed).
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "banditd/rng.h"
#include "tests/fuzz/fuzz_one.h"
#include "tests/fuzz/snapshot_fuzz_one.h"

namespace banditd::experiment::fuzz {
namespace {

TEST(SnapshotFuzzReplayTest, CheckedInCorpusHoldsTheProperty) {
  const std::filesystem::path dir =
      "tests/fuzz/snapshot_corpus";  // ctest runs from the source root
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  const auto corpus = banditd::fuzz::ReadCorpus(dir);
  for (const auto& [path, bytes] : corpus) {
    SCOPED_TRACE(path);
    SnapshotFuzzOne(bytes);  // aborts on a violated property
  }
  EXPECT_GE(corpus.size(), 20u);
}

TEST(SnapshotFuzzReplayTest, SeedsHoldTheProperty) {
  for (const auto& [name, bytes] : SnapshotSeeds()) {
    SCOPED_TRACE(name);
    SnapshotFuzzOne(bytes);
  }
}

TEST(SnapshotFuzzReplayTest, TruncationsAndBitFlipsHoldTheProperty) {
  std::string real;
  for (const auto& [name, bytes] : SnapshotSeeds()) {
    if (name == "horizon") real = bytes;
  }
  ASSERT_FALSE(real.empty());
  // Every 7th cut and flip keeps the test short; together they cover every
  // field's header and body.
  for (size_t cut = 0; cut < real.size(); cut += 7) {
    SnapshotFuzzOne(std::string_view(real).substr(0, cut));
  }
  for (size_t i = 0; i < real.size(); i += 7) {
    for (int bit : {0, 3, 7}) {
      std::string flipped = real;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      SnapshotFuzzOne(flipped);
    }
  }
}

TEST(SnapshotFuzzReplayTest, RandomBytesHoldTheProperty) {
  Rng rng(11);
  for (int i = 0; i < 500; ++i) {
    std::string bytes(rng.Below(200), '\0');
    for (auto& c : bytes) c = static_cast<char>(rng.Below(256));
    // Half start as a map of the snapshot's keys, to get past the root.
    if (i % 2 == 0) bytes = std::string("\x82\xa6ledger", 8) + bytes;
    SnapshotFuzzOne(bytes);
  }
}

}  // namespace
}  // namespace banditd::experiment::fuzz
