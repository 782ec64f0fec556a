// Replays the fuzz seed corpus (tests/fuzz/corpus/) through the fuzz
// property, so every CI run checks what the fuzzer found interesting.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fuzz/fuzz_one.h"

namespace banditd::protocol::fuzz {
namespace {

TEST(FuzzCorpusTest, EverySeedHoldsTheFuzzProperty) {
  const std::filesystem::path dir = "tests/fuzz/corpus";  // ctest runs from the source root
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    SCOPED_TRACE(entry.path().string());
    FuzzOne(bytes.str());  // aborts on a violated property
    ++files;
  }
  EXPECT_GE(files, 30u);
}

}  // namespace
}  // namespace banditd::protocol::fuzz
