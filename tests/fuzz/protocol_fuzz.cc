// libFuzzer target for the request decoder (docs/protocol.md, "Fuzzing").
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  banditd::protocol::fuzz::FuzzOne({reinterpret_cast<const char*>(data), size});
  return 0;
}
