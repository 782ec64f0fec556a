// Replays the fuzz seed corpus (tests/fuzz/corpus/) through the fuzz
// property, so every CI run checks what the fuzzer found interesting.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/fuzz/fuzz_one.h"

namespace banditd::protocol::fuzz {
namespace {

TEST(FuzzCorpusTest, EverySeedHoldsTheFuzzProperty) {
  const std::filesystem::path dir = "tests/fuzz/corpus";  // ctest runs from the source root
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  const auto corpus = banditd::fuzz::ReadCorpus(dir);
  for (const auto& [path, bytes] : corpus) {
    SCOPED_TRACE(path);
    FuzzOne(bytes);  // aborts on a violated property
  }
  EXPECT_GE(corpus.size(), 30u);
}

}  // namespace
}  // namespace banditd::protocol::fuzz
