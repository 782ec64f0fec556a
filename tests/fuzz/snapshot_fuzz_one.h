// The property every snapshot fuzz input is held to, shared by the libFuzzer
// target (snapshot_fuzz), the seed-corpus replay test and the seed writer, so
// CI checks what the fuzzer checks.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace banditd::experiment::fuzz {

// Restores `bytes` into a fresh Engine (a bernoulli experiment with a
// stopping rule, a gaussian one and a contextual one). Aborts (a finding)
// when a property breaks: Restore may fail only with kCorruption or
// kInvalidArgument, and then leaves the engine unchanged; an engine it
// accepted routes, takes rewards and ticks, and its snapshot restores into
// a fresh engine and snapshots back to the same bytes.
void SnapshotFuzzOne(std::string_view bytes);

// Named seeds: real snapshots of engines that routed and were rewarded,
// malformed ones (the reproducer {"ledger": [5]} among them) and mutations.
std::vector<std::pair<std::string, std::string>> SnapshotSeeds();

}  // namespace banditd::experiment::fuzz
