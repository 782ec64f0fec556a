// Experiment::Snapshot / Restore: a msgpack map
//   {epoch, state, winner (-1: none), reason, stale,
//    counters: [[requests, errors, forced, n, sum, sum_sq], ...],
//    policy: bin (Policy::Snapshot), stopping: bin or nil}
#include <cmath>

#include <msgpack.hpp>

#include "src/experiment/experiment.h"

namespace banditd::experiment {
namespace {

msgpack::unpack_limit Limits() {
  return msgpack::unpack_limit(1u << 16, 64, 1u << 16, 1u << 28, 0, 8);
}

Status Corrupt(const std::string& what) {
  return Status(Code::kCorruption, "experiment snapshot: " + what);
}

// What an operator can do when an experiment's saved state does not fit its
// config: the engine drops the saved state of experiments not in the config
// (Engine::Restore), so a new name starts fresh.
std::string FreshStartRemedy(const std::string& name) {
  return "give the experiment a new name to start it with fresh state (the state saved "
         "under '" +
         name +
         "' is dropped at the next snapshot), or move state_dir aside to start every "
         "experiment fresh";
}

}  // namespace

std::string Experiment::Snapshot() const {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(8);
  pk.pack("epoch");
  pk.pack(epoch_);
  pk.pack("state");
  pk.pack(static_cast<int>(state_));
  pk.pack("winner");
  pk.pack(winner_ ? static_cast<int64_t>(*winner_) : int64_t{-1});
  pk.pack("reason");
  pk.pack(reason_);
  pk.pack("stale");
  pk.pack(stale_rewards_);
  pk.pack("counters");
  pk.pack_array(static_cast<uint32_t>(counters_.size()));
  for (const auto& c : counters_) {
    pk.pack_array(6);
    pk.pack(c.requests);
    pk.pack(c.errors);
    pk.pack(c.forced);
    pk.pack_double(c.n);
    pk.pack_double(c.reward_sum);
    pk.pack_double(c.reward_sum_sq);
  }
  const std::string policy = policy_->Snapshot();
  pk.pack("policy");
  pk.pack_bin(static_cast<uint32_t>(policy.size()));
  pk.pack_bin_body(policy.data(), static_cast<uint32_t>(policy.size()));
  pk.pack("stopping");
  if (stopping_) {
    const std::string s = stopping_->Snapshot();
    pk.pack_bin(static_cast<uint32_t>(s.size()));
    pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
  } else {
    pk.pack_nil();
  }
  return std::string(buf.data(), buf.size());
}

Status Experiment::Restore(std::string_view bytes) {
  msgpack::object_handle oh;
  try {
    oh = msgpack::unpack(bytes.data(), bytes.size(), nullptr, nullptr, Limits());
  } catch (const std::exception& e) {
    return Corrupt(std::string("not msgpack: ") + e.what());
  }
  const msgpack::object& root = oh.get();
  if (root.type != msgpack::type::MAP) return Corrupt("not a map");
  uint16_t epoch = 0;
  int state = 0;
  int64_t winner = -1;
  std::string reason;
  uint64_t stale = 0;
  std::vector<ArmCounters> counters;
  std::string_view policy_bytes, stopping_bytes;
  bool has_policy = false;
  try {
    for (uint32_t i = 0; i < root.via.map.size; ++i) {
      const auto& kv = root.via.map.ptr[i];
      const std::string key = kv.key.as<std::string>();
      if (key == "epoch")
        epoch = kv.val.as<uint16_t>();
      else if (key == "state")
        state = kv.val.as<int>();
      else if (key == "winner")
        winner = kv.val.as<int64_t>();
      else if (key == "reason")
        reason = kv.val.as<std::string>();
      else if (key == "stale")
        stale = kv.val.as<uint64_t>();
      else if (key == "counters") {
        if (kv.val.type != msgpack::type::ARRAY) return Corrupt("counters is not an array");
        for (uint32_t a = 0; a < kv.val.via.array.size; ++a) {
          const auto& row = kv.val.via.array.ptr[a];
          if (row.type != msgpack::type::ARRAY || row.via.array.size != 6) {
            return Corrupt("bad counters row");
          }
          ArmCounters c;
          c.requests = row.via.array.ptr[0].as<uint64_t>();
          c.errors = row.via.array.ptr[1].as<uint64_t>();
          c.forced = row.via.array.ptr[2].as<uint64_t>();
          c.n = row.via.array.ptr[3].as<double>();
          c.reward_sum = row.via.array.ptr[4].as<double>();
          c.reward_sum_sq = row.via.array.ptr[5].as<double>();
          counters.push_back(std::move(c));
        }
      } else if (key == "policy" && kv.val.type == msgpack::type::BIN) {
        policy_bytes = std::string_view(kv.val.via.bin.ptr, kv.val.via.bin.size);
        has_policy = true;
      } else if (key == "stopping" && kv.val.type == msgpack::type::BIN) {
        stopping_bytes = std::string_view(kv.val.via.bin.ptr, kv.val.via.bin.size);
      }
    }
  } catch (const std::exception& e) {
    return Corrupt(std::string("field of the wrong type: ") + e.what());
  }
  if (counters.size() != counters_.size()) {
    return InvalidArgument(
        "snapshot of experiment '" + options_.name + "' has " + std::to_string(counters.size()) +
        " arms, the config has " + std::to_string(counters_.size()) +
        ": the arms of an experiment with state cannot change; configure "
        "its " +
        std::to_string(counters.size()) + " arms again, or " + FreshStartRemedy(options_.name));
  }
  if (!has_policy) return Corrupt("missing policy state");
  if (state < 0 || state > static_cast<int>(State::kRolledBack)) return Corrupt("bad state");
  if (winner >= static_cast<int64_t>(counters_.size())) return Corrupt("bad winner");
  // Restore into fresh objects first, so a failure leaves this one unchanged.
  auto policy = MakePolicy([&] {
    PolicySpec spec = options_.policy;
    spec.num_arms = counters_.size();
    return spec;
  }());
  if (!policy.ok()) return policy.status();
  if (Status s = (*policy)->Restore(policy_bytes); !s.ok()) {
    return Status(s.code(), "policy: " + s.message() + "; this state cannot be loaded: " +
                                FreshStartRemedy(options_.name));
  }
  std::unique_ptr<StoppingRule> stopping;
  if (stopping_) {
    StoppingSpec spec = *options_.stopping;
    spec.num_arms = counters_.size();
    spec.control = options_.champion;
    spec.metric = options_.metric;
    auto rule = MakeStoppingRule(spec);
    if (!rule.ok()) return rule.status();
    if (!stopping_bytes.empty()) {
      BANDITD_RETURN_IF_ERROR((*rule)->Restore(stopping_bytes).WithContext("stopping rule"));
    }
    stopping = std::move(rule).value();
  }
  policy_ = std::move(policy).value();
  stopping_ = std::move(stopping);
  epoch_ = epoch;
  state_ = static_cast<State>(state);
  winner_ = winner >= 0 ? std::optional<size_t>(static_cast<size_t>(winner)) : std::nullopt;
  reason_ = std::move(reason);
  stale_rewards_ = stale;
  counters_ = std::move(counters);
  refreshed_once_ = false;
  Rng rng(0);
  ComputeWeights(rng);
  return Status::Ok();
}

}  // namespace banditd::experiment
