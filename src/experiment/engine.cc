#include "src/experiment/engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <sodium.h>
#include <msgpack.hpp>

namespace banditd::experiment {

Engine::Engine(const EngineOptions& options, Clock& clock)
    : clock_(clock),
      rng_(options.seed),
      codec_(options.decision_key),
      ledger_(options.reward_window_s),
      boot_(0),
      time_(clock) {}

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options, Clock& clock) {
  if (sodium_init() < 0) return Status(Code::kInternal, "libsodium failed to initialise");
  std::unique_ptr<Engine> e(new Engine(options, clock));
  // A random boot id keeps decision keys of different runs apart.
  e->boot_ = randombytes_random();
  for (const auto& o : options.experiments) {
    BANDITD_ASSIGN_OR_RETURN(auto exp, Experiment::Create(o));
    const uint16_t tag = (exp)->tag();
    if (e->by_tag_.count(tag) != 0) {
      return InvalidArgument("experiment names '" + o.name + "' and '" +
                             e->experiments_[e->by_tag_[tag]]->name() +
                             "' collide in their 16-bit tag; rename one");
    }
    e->by_tag_[tag] = e->experiments_.size();
    e->experiments_.push_back(std::move(exp));
  }
  return e;
}

std::optional<size_t> Engine::Find(std::string_view name) const {
  for (size_t i = 0; i < experiments_.size(); ++i) {
    if (experiments_[i]->name() == name) return i;
  }
  return std::nullopt;
}

Result<Decision> Engine::Route(std::string_view exp, std::optional<std::string_view> unit,
                               std::optional<std::string_view> forced_arm,
                               std::optional<std::span<const double>> context) {
  const auto index = Find(exp);
  if (!index) {
    return Status(Code::kUnknownExperiment, "no experiment named '" + std::string(exp) + "'");
  }
  Experiment& e = *experiments_[*index];
  BANDITD_ASSIGN_OR_RETURN(auto choice, e.Route(unit, forced_arm, context, rng_));
  Decision d;
  d.experiment = *index;
  d.ref.tag = e.tag();
  d.ref.epoch = e.epoch();
  d.ref.arm = static_cast<uint8_t>(choice.arm);
  d.ref.flags = choice.forced ? DecisionRef::kForcedFlag : 0;
  d.ref.boot = boot_;
  d.ref.seq = ++seq_;
  d.ref.issued_s = NowSeconds();
  d.ref.propensity = static_cast<float>(choice.propensity);
  if (unit) d.unit_hash = e.UnitHash(*unit);
  // Experiment::Route checked the context's length for a contextual policy.
  if (e.context_dim() > 0 && !choice.forced) {
    e.contexts().Put(d.ref.key(), d.ref.issued_s, *context);
  }
  codec_.Encode(d.ref, d.id);
  return d;
}

Result<PendingReward> Engine::Prepare(std::string_view decision_id, double value) {
  BANDITD_ASSIGN_OR_RETURN(auto ref, codec_.Decode(decision_id));
  auto it = by_tag_.find(ref.tag);
  if (it == by_tag_.end()) {
    return Status(Code::kUnknownExperiment, "the decision's experiment is not configured");
  }
  const Experiment& e = *experiments_[it->second];
  BANDITD_RETURN_IF_ERROR(e.CheckReward(value));  // never reaches the policy otherwise
  BANDITD_RETURN_IF_ERROR(ledger_.Check(ref.key(), ref.issued_s, NowSeconds()));
  if (!in_flight_.emplace(ref.key(), ref.issued_s).second) {
    return Status(Code::kDuplicateReward, "a reward for this decision is already being written");
  }
  PendingReward r{it->second, ref, value, {}};
  if (e.context_dim() > 0 && !(ref.flags & DecisionRef::kForcedFlag) && ref.epoch == e.epoch()) {
    const auto stored = e.contexts().Find(ref.key());
    r.context.assign(stored.begin(), stored.end());
  }
  return r;
}

void Engine::Commit(const PendingReward& r) {
  in_flight_.erase(r.ref.key());
  ledger_.Record(r.ref.key(), r.ref.issued_s);
  // Prepare validated the value for this experiment's metric and policy.
  Experiment& e = *experiments_[r.experiment];
  (void)e.ApplyReward(r.ref, r.value, r.context);
  e.contexts().Erase(r.ref.key());
}

void Engine::Abandon(const PendingReward& r) { in_flight_.erase(r.ref.key()); }

void Engine::Replay(const PendingReward& r) {
  auto it = by_tag_.find(r.ref.tag);
  if (it == by_tag_.end()) return;  // its experiment is no longer configured
  // It passed the window and the horizon when logged, so only a duplicate is
  // skipped: a horizon raised since must not drop a reward the snapshot lacks.
  if (ledger_.Contains(r.ref.key())) return;
  ledger_.Record(r.ref.key(), r.ref.issued_s);
  // The record carries the context the live update used, so the policy ends
  // up exactly where it was; the snapshot may still hold the stored copy.
  Experiment& e = *experiments_[it->second];
  (void)e.ApplyReward(r.ref, r.value, r.context);
  e.contexts().Erase(r.ref.key());
  auto& recent = replayed_[it->second];
  recent.push_back(r);
  if (recent.size() > kMaxCheckpointInFlight) recent.pop_front();
}

std::vector<size_t> Engine::Tick() {
  std::vector<size_t> changed;
  const int64_t now = clock_.MonoNanos();
  const uint32_t now_s = NowSeconds();
  for (size_t i = 0; i < experiments_.size(); ++i) {
    if (experiments_[i]->Tick(rng_, now, now_s)) changed.push_back(i);
  }
  if (now_s >= last_expire_s_ + 60) {
    ledger_.Expire(now_s);
    // Rewards of decisions older than the window are refused as expired.
    const uint32_t window = ledger_.window_s();
    for (auto& e : experiments_) e->contexts().Expire(now_s > window ? now_s - window : 0);
    last_expire_s_ = now_s;
  }
  return changed;
}

// WAL reward record (engine.h): ref | value f64 [| u8 1 | u16 dim | dim x f64].
namespace {

constexpr size_t kRewardBytes = kDecisionRefBytes + sizeof(double);
constexpr uint8_t kContextFollows = 1;
constexpr size_t kMaxContextDim = 4096;

void PutF64(std::string& out, size_t at, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  for (size_t i = 0; i < 8; ++i) out[at + i] = static_cast<char>(bits >> (8 * i));
}

double GetF64(std::string_view in, size_t at) {
  uint64_t bits = 0;
  for (size_t i = 0; i < 8; ++i) {
    bits |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  }
  double v;
  std::memcpy(&v, &bits, sizeof bits);
  return v;
}

}  // namespace

std::string Engine::EncodeReward(const PendingReward& r) {
  const size_t dim = r.context.size();
  std::string out(kRewardBytes + (dim > 0 ? 3 + 8 * dim : 0), '\0');
  PackRef(r.ref, reinterpret_cast<unsigned char*>(out.data()));
  PutF64(out, kDecisionRefBytes, r.value);
  if (dim > 0) {
    out[kRewardBytes] = static_cast<char>(kContextFollows);
    out[kRewardBytes + 1] = static_cast<char>(dim & 0xFF);
    out[kRewardBytes + 2] = static_cast<char>(dim >> 8);
    for (size_t i = 0; i < dim; ++i) PutF64(out, kRewardBytes + 3 + 8 * i, r.context[i]);
  }
  return out;
}

Result<PendingReward> Engine::DecodeReward(std::string_view bytes) {
  if (bytes.size() != kRewardBytes && bytes.size() < kRewardBytes + 3) {
    return Status(Code::kCorruption, "reward record of the wrong size");
  }
  PendingReward r;
  r.ref = UnpackRef(reinterpret_cast<const unsigned char*>(bytes.data()));
  r.value = GetF64(bytes, kDecisionRefBytes);
  if (!std::isfinite(r.value)) return Status(Code::kCorruption, "non-finite reward in record");
  if (bytes.size() > kRewardBytes) {
    if (static_cast<uint8_t>(bytes[kRewardBytes]) != kContextFollows) {
      return Status(Code::kCorruption, "reward record with an unknown extension");
    }
    const size_t dim =
        static_cast<unsigned char>(bytes[kRewardBytes + 1]) |
        (static_cast<size_t>(static_cast<unsigned char>(bytes[kRewardBytes + 2])) << 8);
    if (dim == 0 || dim > kMaxContextDim || bytes.size() != kRewardBytes + 3 + 8 * dim) {
      return Status(Code::kCorruption, "reward record's context has the wrong size");
    }
    r.context.resize(dim);
    for (size_t i = 0; i < dim; ++i) {
      r.context[i] = GetF64(bytes, kRewardBytes + 3 + 8 * i);
      if (!std::isfinite(r.context[i])) {
        return Status(Code::kCorruption, "non-finite context value in reward record");
      }
    }
  }
  r.experiment = SIZE_MAX;  // Replay resolves the experiment from the tag
  return r;
}

// Engine snapshot: a msgpack map (format 1)
//   {format: 1, experiments: {name: bin (Experiment::Snapshot)},
//    ledger: [[issued_s, key], ...], contexts: {name: bin (ContextStore)},
//    horizon: u32 (RewardLedger::horizon_s)}
// Keys a reader does not know are ignored, so fields can be added within
// format 1.
std::string Engine::Snapshot() const {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  size_t with_contexts = 0;
  for (const auto& e : experiments_) with_contexts += e->contexts().entries() > 0 ? 1 : 0;
  pk.pack_map(5);
  pk.pack("format");
  pk.pack(1);
  pk.pack("experiments");
  pk.pack_map(static_cast<uint32_t>(experiments_.size()));
  for (const auto& e : experiments_) {
    pk.pack(e->name());
    const std::string s = e->Snapshot();
    pk.pack_bin(static_cast<uint32_t>(s.size()));
    pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
  }
  pk.pack("ledger");
  const auto entries = ledger_.Entries();
  pk.pack_array(static_cast<uint32_t>(entries.size()));
  for (const auto& [issued, key] : entries) {
    pk.pack_array(2);
    pk.pack(issued);
    pk.pack(key);
  }
  // Decisions not yet rewarded keep their contexts across a restart.
  pk.pack("contexts");
  pk.pack_map(static_cast<uint32_t>(with_contexts));
  for (const auto& e : experiments_) {
    if (e->contexts().entries() == 0) continue;
    pk.pack(e->name());
    const std::string s = e->contexts().Serialize();
    pk.pack_bin(static_cast<uint32_t>(s.size()));
    pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
  }
  // Decisions issued before it may have been forgotten: a clock that is
  // behind after a restart must not reopen them.
  pk.pack("horizon");
  pk.pack(ledger_.horizon_s());
  return std::string(buf.data(), buf.size());
}

namespace {

Status BadField(const std::string& field, const std::string& why) {
  return Status(Code::kCorruption, "snapshot field '" + field + "' " + why);
}

Result<uint64_t> UintField(const msgpack::object& o, const std::string& field, uint64_t max) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) {
    return BadField(field, "is not a non-negative integer");
  }
  if (o.via.u64 > max) return BadField(field, "is out of range");
  return o.via.u64;
}

Result<std::string_view> StrField(const msgpack::object& o, const std::string& field) {
  if (o.type != msgpack::type::STR) return BadField(field, "is not a string");
  return std::string_view(o.via.str.ptr, o.via.str.size);
}

Result<std::string_view> BinField(const msgpack::object& o, const std::string& field) {
  if (o.type != msgpack::type::BIN) return BadField(field, "is not binary");
  return std::string_view(o.via.bin.ptr, o.via.bin.size);
}

// A map of name -> bin (the snapshot's experiments and contexts), each name
// once, in the snapshot's order.
Result<std::vector<std::pair<std::string_view, std::string_view>>> NamedBins(
    const msgpack::object& o, const std::string& field) {
  if (o.type != msgpack::type::MAP) return BadField(field, "is not a map");
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    BANDITD_ASSIGN_OR_RETURN(auto name, StrField(kv.key, field + " key #" + std::to_string(i)));
    const std::string where = field + "[\"" + std::string(name) + "\"]";
    BANDITD_ASSIGN_OR_RETURN(auto bytes, BinField(kv.val, where));
    for (const auto& seen : out) {
      if (seen.first == name) return BadField(where, "appears twice");
    }
    out.emplace_back(name, bytes);
  }
  return out;
}

Result<std::vector<std::pair<uint32_t, uint64_t>>> LedgerField(const msgpack::object& o) {
  if (o.type != msgpack::type::ARRAY) return BadField("ledger", "is not an array");
  std::vector<std::pair<uint32_t, uint64_t>> out;
  out.reserve(o.via.array.size);
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    const auto& row = o.via.array.ptr[i];
    const std::string where = "ledger[" + std::to_string(i) + "]";
    if (row.type != msgpack::type::ARRAY || row.via.array.size != 2) {
      return BadField(where, "is not an [issued_s, key] pair");
    }
    BANDITD_ASSIGN_OR_RETURN(auto issued,
                             UintField(row.via.array.ptr[0], where + "[0] (issued_s)", UINT32_MAX));
    BANDITD_ASSIGN_OR_RETURN(auto key,
                             UintField(row.via.array.ptr[1], where + "[1] (key)", UINT64_MAX));
    out.emplace_back(static_cast<uint32_t>(issued), key);
  }
  return out;
}

// The snapshot's fields, type-checked, before any of them is applied.
struct ParsedSnapshot {
  std::vector<std::pair<std::string_view, std::string_view>> experiments, contexts;
  std::vector<std::pair<uint32_t, uint64_t>> ledger;
  uint32_t horizon_s = 0;
};

Status ParseSnapshot(const msgpack::object& root, ParsedSnapshot& out) {
  if (root.type != msgpack::type::MAP) return Status(Code::kCorruption, "snapshot is not a map");
  std::vector<std::string_view> seen;
  for (uint32_t i = 0; i < root.via.map.size; ++i) {
    const auto& kv = root.via.map.ptr[i];
    BANDITD_ASSIGN_OR_RETURN(auto key, StrField(kv.key, "key #" + std::to_string(i)));
    const std::string name(key);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return BadField(name, "appears twice");
    }
    seen.push_back(key);
    if (name == "format") {
      BANDITD_ASSIGN_OR_RETURN(auto format, UintField(kv.val, name, UINT32_MAX));
      if (format != 1) {
        return InvalidArgument("snapshot format " + std::to_string(format) + " is not supported");
      }
    } else if (name == "experiments") {
      BANDITD_ASSIGN_OR_RETURN(auto v, NamedBins(kv.val, name));
      out.experiments = std::move(v);
    } else if (name == "contexts") {
      BANDITD_ASSIGN_OR_RETURN(auto v, NamedBins(kv.val, name));
      out.contexts = std::move(v);
    } else if (name == "ledger") {
      BANDITD_ASSIGN_OR_RETURN(auto v, LedgerField(kv.val));
      out.ledger = std::move(v);
    } else if (name == "horizon") {
      BANDITD_ASSIGN_OR_RETURN(auto v, UintField(kv.val, name, UINT32_MAX));
      out.horizon_s = static_cast<uint32_t>(v);
    }
  }
  return Status::Ok();
}

// Each element of an array or map takes at least one byte, so no count in a
// valid snapshot exceeds its size: the unpacker, which allocates what a
// header claims up front, then never allocates more than ~16x the input.
msgpack::unpack_limit SnapshotLimits(size_t bytes) {
  const auto bound = static_cast<uint32_t>(std::min<size_t>(bytes, 1u << 30));
  return msgpack::unpack_limit(bound, bound / 2, bound, bound, 0, 8);
}

}  // namespace

Status Engine::Restore(std::string_view bytes) {
  msgpack::object_handle oh;
  try {
    size_t offset = 0;
    oh = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr,
                         SnapshotLimits(bytes.size()));
    if (offset != bytes.size()) {
      return Status(Code::kCorruption, "snapshot has " + std::to_string(bytes.size() - offset) +
                                           " bytes after its end");
    }
  } catch (const std::exception& e) {
    return Status(Code::kCorruption, std::string("snapshot is not msgpack: ") + e.what());
  }
  ParsedSnapshot snap;
  BANDITD_RETURN_IF_ERROR(ParseSnapshot(oh.get(), snap));
  // Every part is checked against a scratch copy first, so a bad one leaves
  // the engine unchanged; the states of experiments no longer configured
  // are dropped.
  for (const auto& [name, state] : snap.experiments) {
    const auto index = Find(name);
    if (!index) continue;
    BANDITD_ASSIGN_OR_RETURN(auto scratch, Experiment::Create(experiments_[*index]->options()));
    BANDITD_RETURN_IF_ERROR((scratch)->Restore(state).WithContext("snapshot field 'experiments[\"" +
                                                                  std::string(name) + "\"]'"));
  }
  for (const auto& [name, state] : snap.contexts) {
    const auto index = Find(name);
    if (!index || experiments_[*index]->context_dim() == 0) continue;
    const Experiment& e = *experiments_[*index];
    ContextStore scratch(e.contexts().max_bytes());
    BANDITD_RETURN_IF_ERROR(
        scratch.Deserialize(state, e.context_dim())
            .WithContext("snapshot field 'contexts[\"" + std::string(name) + "\"]'"));
  }
  for (const auto& [name, state] : snap.experiments) {
    const auto index = Find(name);
    if (index) BANDITD_RETURN_IF_ERROR(experiments_[*index]->Restore(state));
  }
  for (const auto& [name, state] : snap.contexts) {
    const auto index = Find(name);
    if (!index || experiments_[*index]->context_dim() == 0) continue;
    Experiment& e = *experiments_[*index];
    BANDITD_RETURN_IF_ERROR(e.contexts().Deserialize(state, e.context_dim()));
  }
  for (const auto& [issued_s, key] : snap.ledger) ledger_.Record(key, issued_s);
  ledger_.RaiseHorizon(snap.horizon_s);
  return Status::Ok();
}

}  // namespace banditd::experiment
