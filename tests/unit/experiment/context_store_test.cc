#include "src/experiment/context_store.h"

#include <malloc.h>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

namespace banditd::experiment {
namespace {

constexpr size_t kDim = 4;
constexpr size_t kCost = ContextStore::kEntryOverhead + 8 * kDim;

std::vector<double> Ctx(double base) { return {base, base + 1, base + 2, base + 3}; }

TEST(ContextStoreTest, KeepsFindsAndErases) {
  ContextStore s(1 << 20);
  s.Put(7, 100, Ctx(1));
  s.Put(8, 101, Ctx(5));
  EXPECT_EQ(s.entries(), 2u);
  EXPECT_EQ(s.bytes(), 2 * kCost);
  const auto got = s.Find(8);
  EXPECT_EQ(std::vector<double>(got.begin(), got.end()), Ctx(5));
  EXPECT_TRUE(s.Find(9).empty());

  // Erasing the newer entry frees its values; its queue slot stays charged
  // until the older entry ahead of it leaves.
  s.Erase(8);
  EXPECT_EQ(s.entries(), 1u);
  EXPECT_TRUE(s.Find(8).empty());
  EXPECT_EQ(s.bytes(), kCost + ContextStore::kEntryOverhead);
  s.Erase(7);
  EXPECT_EQ(s.entries(), 0u);
  EXPECT_EQ(s.bytes(), 0u);
  EXPECT_EQ(s.evictions(), 0u);
}

// The charged bytes cover what the store really takes from the heap (glibc's
// mallinfo2: bytes in use), so the bound is a bound on memory.
TEST(ContextStoreTest, ChargeCoversTheHeapItUses) {
  for (size_t dim : {1, 3, 16, 64}) {
    constexpr size_t kEntries = 20000;
    const std::vector<double> x(dim, 1.0);
    const size_t before = mallinfo2().uordblks;
    auto store = std::make_unique<ContextStore>(size_t{1} << 40);
    for (uint64_t k = 0; k < kEntries; ++k) store->Put(k, 100, x);
    const size_t used = mallinfo2().uordblks - before;
    std::printf("[ memory ] context_dim %zu: %.1f heap bytes per entry, %zu charged\n", dim,
                static_cast<double>(used) / kEntries, store->bytes() / kEntries);
    EXPECT_GE(store->bytes(), used) << "dim " << dim;
    // ... and not by much: within 40 bytes per entry.
    EXPECT_LE(store->bytes(), used + 40 * kEntries) << "dim " << dim;
  }
}

TEST(ContextStoreTest, EvictsTheOldestAndNeverPassesItsBound) {
  ContextStore s(10 * kCost);
  for (uint64_t k = 0; k < 25; ++k) {
    s.Put(k, 100, Ctx(static_cast<double>(k)));
    EXPECT_LE(s.bytes(), s.max_bytes());
  }
  EXPECT_EQ(s.entries(), 10u);
  EXPECT_EQ(s.evictions(), 15u);
  EXPECT_TRUE(s.Find(14).empty());
  EXPECT_FALSE(s.Find(15).empty());
  EXPECT_EQ(s.Find(24)[0], 24.0);

  // Tombstones count against the bound too, and are reclaimed first.
  for (uint64_t k = 16; k < 25; ++k) s.Erase(k);
  EXPECT_EQ(s.entries(), 1u);
  for (uint64_t k = 100; k < 140; ++k) {
    s.Put(k, 100, Ctx(1));
    EXPECT_LE(s.bytes(), s.max_bytes());
  }
  EXPECT_EQ(s.entries(), 10u);
}

TEST(ContextStoreTest, AContextLargerThanTheBoundIsNotKept) {
  ContextStore s(100);
  s.Put(1, 100, std::vector<double>(100, 1.0));
  EXPECT_EQ(s.entries(), 0u);
  EXPECT_EQ(s.bytes(), 0u);
  EXPECT_EQ(s.evictions(), 1u);
}

TEST(ContextStoreTest, ExpiresByIssueTime) {
  ContextStore s(1 << 20);
  s.Put(1, 100, Ctx(1));
  s.Put(2, 200, Ctx(2));
  s.Put(3, 300, Ctx(3));
  s.Expire(201);
  EXPECT_EQ(s.entries(), 1u);
  EXPECT_FALSE(s.Find(3).empty());
  EXPECT_EQ(s.bytes(), kCost);
  EXPECT_EQ(s.evictions(), 0u);  // expiry is not eviction
}

TEST(ContextStoreTest, SerializeRoundTripKeepsOrderAndValues) {
  ContextStore s(1 << 20);
  for (uint64_t k = 0; k < 5; ++k) s.Put(k, static_cast<uint32_t>(100 + k), Ctx(0.5 * k));
  s.Erase(2);
  const std::string bytes = s.Serialize();
  ContextStore back(1 << 20);
  ASSERT_TRUE(back.Deserialize(bytes, kDim).ok());
  EXPECT_EQ(back.entries(), 4u);
  EXPECT_TRUE(back.Find(2).empty());
  EXPECT_EQ(back.Find(3)[1], 0.5 * 3 + 1);
  EXPECT_EQ(back.Serialize(), bytes);
  // Oldest first: a smaller bound keeps the newest.
  ContextStore small(2 * kCost);
  ASSERT_TRUE(small.Deserialize(bytes, kDim).ok());
  EXPECT_EQ(small.entries(), 2u);
  EXPECT_FALSE(small.Find(4).empty());
  EXPECT_FALSE(small.Find(3).empty());
  EXPECT_TRUE(small.Find(1).empty());
  EXPECT_EQ(small.evictions(), 2u);
}

TEST(ContextStoreTest, DeserializeRefusesOtherLengthsAndDamageUnchanged) {
  ContextStore s(1 << 20);
  s.Put(1, 100, Ctx(1));
  const std::string bytes = s.Serialize();

  ContextStore target(1 << 20);
  target.Put(9, 100, Ctx(9));
  EXPECT_EQ(target.Deserialize(bytes, kDim + 1).code(), Code::kInvalidArgument);
  EXPECT_EQ(target.Deserialize(bytes.substr(0, bytes.size() - 1), kDim).code(), Code::kCorruption);
  std::string bad_version = bytes;
  bad_version[0] = 9;
  EXPECT_EQ(target.Deserialize(bad_version, kDim).code(), Code::kCorruption);
  std::string nan = bytes;
  const double q = std::numeric_limits<double>::quiet_NaN();
  std::memcpy(nan.data() + 7 + 12, &q, 8);  // first value of the first entry
  EXPECT_EQ(target.Deserialize(nan, kDim).code(), Code::kCorruption);
  EXPECT_EQ(target.entries(), 1u);
  EXPECT_FALSE(target.Find(9).empty());
  // An empty image is an empty store.
  ASSERT_TRUE(target.Deserialize("", kDim).ok());
  EXPECT_EQ(target.entries(), 0u);
}

}  // namespace
}  // namespace banditd::experiment
