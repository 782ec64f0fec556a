#include "policies/snapshot.h"

#include <cmath>

#include <msgpack.hpp>

namespace banditd::policies {
namespace {

// Bounds for unpacking: a snapshot holds a handful of arrays of arm-sized
// (or d*d-sized, for contextual policies) doubles.
msgpack::unpack_limit SnapshotLimits() {
  return msgpack::unpack_limit(/*array=*/1u << 22, /*map=*/64, /*str=*/1u << 10,
                               /*bin=*/1u << 26, /*ext=*/0, /*depth=*/8);
}

Status Corrupt(std::string what) { return Status(Code::kCorruption, "snapshot: " + what); }

}  // namespace

std::string EncodeSnapshot(std::string_view policy, int version, size_t arms,
                           const SnapshotState& state) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(5);
  pk.pack("policy");
  pk.pack(policy);
  pk.pack("version");
  pk.pack(version);
  pk.pack("arms");
  pk.pack(static_cast<uint64_t>(arms));
  pk.pack("arrays");
  pk.pack_map(static_cast<uint32_t>(state.arrays.size()));
  for (const auto& [key, values] : state.arrays) {
    pk.pack(key);
    pk.pack_array(static_cast<uint32_t>(values.size()));
    for (double v : values) pk.pack_double(v);
  }
  pk.pack("blobs");
  pk.pack_map(static_cast<uint32_t>(state.blobs.size()));
  for (const auto& [key, bytes] : state.blobs) {
    pk.pack(key);
    pk.pack_bin(static_cast<uint32_t>(bytes.size()));
    pk.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
  }
  return std::string(buf.data(), buf.size());
}

Result<SnapshotState> DecodeSnapshot(std::string_view bytes, std::string_view policy, int version,
                                     size_t arms) {
  msgpack::object_handle oh;
  try {
    oh = msgpack::unpack(bytes.data(), bytes.size(), nullptr, nullptr, SnapshotLimits());
  } catch (const std::exception& e) {
    return Corrupt(std::string("not a valid msgpack document (") + e.what() + ")");
  }
  const msgpack::object& root = oh.get();
  if (root.type != msgpack::type::MAP) return Corrupt("top level is not a map");

  std::string got_policy;
  int64_t got_version = -1;
  int64_t got_arms = -1;
  SnapshotState state;
  try {
    for (uint32_t i = 0; i < root.via.map.size; ++i) {
      const auto& kv = root.via.map.ptr[i];
      if (kv.key.type != msgpack::type::STR) return Corrupt("non-string key");
      const std::string key = kv.key.as<std::string>();
      if (key == "policy") {
        got_policy = kv.val.as<std::string>();
      } else if (key == "version") {
        got_version = kv.val.as<int64_t>();
      } else if (key == "arms") {
        got_arms = kv.val.as<int64_t>();
      } else if (key == "arrays") {
        if (kv.val.type != msgpack::type::MAP) return Corrupt("'arrays' is not a map");
        for (uint32_t j = 0; j < kv.val.via.map.size; ++j) {
          const auto& a = kv.val.via.map.ptr[j];
          state.arrays[a.key.as<std::string>()] = a.val.as<std::vector<double>>();
        }
      } else if (key == "blobs") {
        if (kv.val.type != msgpack::type::MAP) return Corrupt("'blobs' is not a map");
        for (uint32_t j = 0; j < kv.val.via.map.size; ++j) {
          const auto& b = kv.val.via.map.ptr[j];
          if (b.val.type != msgpack::type::BIN) return Corrupt("blob is not binary");
          state.blobs[b.key.as<std::string>()] = std::string(b.val.via.bin.ptr, b.val.via.bin.size);
        }
      }
    }
  } catch (const std::exception& e) {
    return Corrupt(std::string("field of the wrong type (") + e.what() + ")");
  }

  if (got_policy != policy) {
    return InvalidArgument("snapshot is of policy '" + got_policy + "', not '" +
                           std::string(policy) + "'");
  }
  if (got_version != version) {
    return InvalidArgument("snapshot format version " + std::to_string(got_version) +
                           " of policy '" + got_policy + "' is not supported (expected " +
                           std::to_string(version) + ")");
  }
  if (got_arms != static_cast<int64_t>(arms)) {
    return InvalidArgument("snapshot has " + std::to_string(got_arms) + " arms, policy has " +
                           std::to_string(arms));
  }
  return state;
}

Result<std::vector<double>> TakeArray(const SnapshotState& state, const std::string& key,
                                      size_t len) {
  auto it = state.arrays.find(key);
  if (it == state.arrays.end()) return Corrupt("missing array '" + key + "'");
  if (it->second.size() != len) {
    return Corrupt("array '" + key + "' has " + std::to_string(it->second.size()) +
                   " values, expected " + std::to_string(len));
  }
  for (double v : it->second) {
    if (!std::isfinite(v)) return Corrupt("array '" + key + "' holds a non-finite value");
  }
  return it->second;
}

}  // namespace banditd::policies
