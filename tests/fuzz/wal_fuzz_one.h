// The property every WAL fuzz input is held to, shared by the libFuzzer
// target (wal_fuzz) and the replay test, so CI checks what the fuzzer checks.
#pragma once

#include <string_view>

namespace banditd::state::fuzz {

// Parses `bytes` as a WAL segment, strict and in repair mode. Aborts (a
// finding) when a property breaks: the intact prefix must re-frame to exactly
// the bytes it came from; offsets must increase inside the buffer; a strict
// parse may only fail with kCorruption; repair never fails and keeps at least
// what the strict parse kept.
void WalFuzzOne(std::string_view bytes);

}  // namespace banditd::state::fuzz
