// libFuzzer target for the WAL reader (docs/operations.md, "Fuzzing").
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/wal_fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  banditd::state::fuzz::WalFuzzOne({reinterpret_cast<const char*>(data), size});
  return 0;
}
