// libFuzzer target for the engine's snapshot reader (docs/operations.md,
// "Fuzzing the snapshot reader").
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/snapshot_fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  banditd::experiment::fuzz::SnapshotFuzzOne({reinterpret_cast<const char*>(data), size});
  return 0;
}
