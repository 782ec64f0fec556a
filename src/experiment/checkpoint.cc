// Engine checkpoints (engine.h): one experiment's state in a WAL record,
// a msgpack map {exp: name, in_flight: [decision key, ...], state: bin
// (Experiment::Snapshot)}. Keys a reader does not know are ignored.
#include <algorithm>

#include <msgpack.hpp>

#include "src/experiment/engine.h"

namespace banditd::experiment {
namespace {

Status Corrupt(const std::string& what) {
  return Status(Code::kCorruption, "checkpoint record: " + what);
}

}  // namespace

std::string Engine::EncodeCheckpoint(size_t experiment, std::span<const uint64_t> in_flight) const {
  const Experiment& e = *experiments_[experiment];
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(3);
  pk.pack("exp");
  pk.pack(e.name());
  pk.pack("in_flight");
  pk.pack_array(static_cast<uint32_t>(in_flight.size()));
  for (uint64_t key : in_flight) pk.pack(key);
  const std::string state = e.Snapshot();
  pk.pack("state");
  pk.pack_bin(static_cast<uint32_t>(state.size()));
  pk.pack_bin_body(state.data(), static_cast<uint32_t>(state.size()));
  return std::string(buf.data(), buf.size());
}

Status Engine::ReplayCheckpoint(std::string_view bytes) {
  msgpack::object_handle oh;
  try {
    size_t offset = 0;
    const auto bound = static_cast<uint32_t>(std::min<size_t>(bytes.size(), 1u << 30));
    oh = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr,
                         msgpack::unpack_limit(kMaxCheckpointInFlight, 16, 1u << 12, bound, 0, 4));
    if (offset != bytes.size()) return Corrupt("bytes after its end");
  } catch (const std::exception& e) {
    return Corrupt(std::string("not msgpack: ") + e.what());
  }
  const msgpack::object& root = oh.get();
  if (root.type != msgpack::type::MAP) return Corrupt("not a map");
  std::optional<std::string_view> name, state;
  std::vector<uint64_t> in_flight;
  bool has_in_flight = false;
  for (uint32_t i = 0; i < root.via.map.size; ++i) {
    const auto& kv = root.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) return Corrupt("a key is not a string");
    const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
    if (key == "exp") {
      if (kv.val.type != msgpack::type::STR || name) return Corrupt("bad 'exp'");
      name = std::string_view(kv.val.via.str.ptr, kv.val.via.str.size);
    } else if (key == "state") {
      if (kv.val.type != msgpack::type::BIN || state) return Corrupt("bad 'state'");
      state = std::string_view(kv.val.via.bin.ptr, kv.val.via.bin.size);
    } else if (key == "in_flight") {
      if (kv.val.type != msgpack::type::ARRAY || has_in_flight) return Corrupt("bad 'in_flight'");
      has_in_flight = true;
      for (uint32_t k = 0; k < kv.val.via.array.size; ++k) {
        const auto& x = kv.val.via.array.ptr[k];
        if (x.type != msgpack::type::POSITIVE_INTEGER) return Corrupt("bad 'in_flight' key");
        in_flight.push_back(x.via.u64);
      }
    }
  }
  if (!name || !state || !has_in_flight) return Corrupt("missing 'exp', 'state' or 'in_flight'");
  const auto index = Find(*name);
  if (!index) return Status::Ok();  // no longer configured: its state is dropped
  Experiment& e = *experiments_[*index];
  // Restore checks everything before it changes anything.
  BANDITD_RETURN_IF_ERROR(
      e.Restore(*state).WithContext("checkpoint of experiment '" + std::string(*name) + "'"));
  // The rewards the WAL held before the record but the state did not yet
  // include, in their WAL order.
  const auto recent = replayed_.find(*index);
  if (recent == replayed_.end() || in_flight.empty()) return Status::Ok();
  std::sort(in_flight.begin(), in_flight.end());
  for (const PendingReward& r : recent->second) {
    if (std::binary_search(in_flight.begin(), in_flight.end(), r.ref.key())) {
      (void)e.ApplyReward(r.ref, r.value, r.context);
    }
  }
  return Status::Ok();
}

}  // namespace banditd::experiment
