// The snapshot envelope every policy writes: a msgpack map
//   {"policy": name, "version": v, "arms": K, "arrays": {key: [double...]}, "blobs": {key: bin}}
// so a restore can refuse a snapshot of another policy, arm count or format
// version before it reads any state. Policy code sees only SnapshotState;
// msgpack stays inside snapshot.cc.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/status.h"

namespace banditd::policies {

struct SnapshotState {
  std::map<std::string, std::vector<double>> arrays;
  std::map<std::string, std::string> blobs;  // e.g. an inner policy's snapshot
};

std::string EncodeSnapshot(std::string_view policy, int version, size_t arms,
                           const SnapshotState& state);

// Decodes and checks the envelope against what the caller expects.
Result<SnapshotState> DecodeSnapshot(std::string_view bytes, std::string_view policy, int version,
                                     size_t arms);

// The array `key`, which must hold exactly `len` finite values.
Result<std::vector<double>> TakeArray(const SnapshotState& state, const std::string& key,
                                      size_t len);

}  // namespace banditd::policies
