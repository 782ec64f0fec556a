// Experiment::Snapshot / Restore: a msgpack map
//   {epoch, state, winner (-1: none), reason, stale,
//    counters: [[requests, errors, forced, n, sum, sum_sq], ...],
//    policy: bin (Policy::Snapshot), stopping: bin or nil,
//    models?: [sha256, ...],
//    check: [stop, winner, p, reason, compared, difference, ci_lo, ci_hi]
//           (the rule's last look; -1: no arm; the bounds may be +-inf),
//    looks, started (engine seconds the epoch started at, 0: not yet),
//    srm: [alarm, alarm_p, alarms, acks, [[observed...], [expected...]], ...],
//    srm_rewards?: [alarm_is_the_rewards', [observed...], [expected...]],
//    arms: [name, ...], champion: index}
// Readers ignore keys they do not know; the keys from `check` on are absent
// from older snapshots (their defaults: no look, start at the next tick).
#include <algorithm>
#include <cmath>

#include <msgpack.hpp>

#include "src/experiment/experiment.h"

namespace banditd::experiment {
namespace {

msgpack::unpack_limit Limits(size_t bytes) {
  // Counts bounded by the input's size too: the unpacker allocates what a
  // header claims before it reads the elements.
  const auto bound = static_cast<uint32_t>(std::min<size_t>(bytes, 1u << 16));
  return msgpack::unpack_limit(bound, 64, 1u << 16, 1u << 28, 0, 8);
}

Status Corrupt(const std::string& what) {
  return Status(Code::kCorruption, "experiment snapshot: " + what);
}

Status BadField(const std::string& field, const std::string& why) {
  return Corrupt("field '" + field + "' " + why);
}

Result<int64_t> IntField(const msgpack::object& o, const std::string& field, int64_t min,
                         int64_t max) {
  int64_t v;
  if (o.type == msgpack::type::POSITIVE_INTEGER) {
    if (o.via.u64 > static_cast<uint64_t>(max)) return BadField(field, "is out of range");
    v = static_cast<int64_t>(o.via.u64);
  } else if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    v = o.via.i64;
  } else {
    return BadField(field, "is not an integer");
  }
  if (v < min || v > max) return BadField(field, "is out of range");
  return v;
}

Result<uint64_t> UintField(const msgpack::object& o, const std::string& field) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) {
    return BadField(field, "is not a non-negative integer");
  }
  return o.via.u64;
}

// Counters' sums: finite; n and the sum of squares also non-negative.
Result<double> NumberField(const msgpack::object& o, const std::string& field, bool nonneg) {
  double v;
  if (o.type == msgpack::type::FLOAT32 || o.type == msgpack::type::FLOAT64) {
    v = o.via.f64;
  } else if (o.type == msgpack::type::POSITIVE_INTEGER) {
    v = static_cast<double>(o.via.u64);
  } else if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    v = static_cast<double>(o.via.i64);
  } else {
    return BadField(field, "is not a number");
  }
  if (!std::isfinite(v) || (nonneg && v < 0)) return BadField(field, "is out of range");
  return v;
}

Result<ArmCounters> CountersRow(const msgpack::object& row, const std::string& field) {
  if (row.type != msgpack::type::ARRAY || row.via.array.size != 6) {
    return BadField(field, "is not an array of 6 counters");
  }
  const msgpack::object* v = row.via.array.ptr;
  ArmCounters c;
  uint64_t* ints[] = {&c.requests, &c.errors, &c.forced};
  for (size_t i = 0; i < 3; ++i) {
    BANDITD_ASSIGN_OR_RETURN(auto x, UintField(v[i], field + "[" + std::to_string(i) + "]"));
    *ints[i] = x;
  }
  double* sums[] = {&c.n, &c.reward_sum, &c.reward_sum_sq};
  for (size_t i = 0; i < 3; ++i) {
    BANDITD_ASSIGN_OR_RETURN(
        auto x, NumberField(v[3 + i], field + "[" + std::to_string(3 + i) + "]", i != 1));
    *sums[i] = x;
  }
  return c;
}

// The fields of an experiment snapshot, type-checked.
struct Parsed {
  uint16_t epoch = 0;
  int state = 0;
  int64_t winner = -1;
  std::string reason;
  uint64_t stale = 0;
  std::vector<ArmCounters> counters;
  std::string_view policy_bytes, stopping_bytes;
  bool has_policy = false;
  std::vector<std::string> models;  // each arm's model sha256 ("" route-only)
  std::optional<StopDecision> check;
  uint64_t looks = 0;
  int64_t started = 0;
  struct Srm {
    bool alarm = false;
    double alarm_p = 1;
    uint64_t alarms = 0, acks = 0;
    std::vector<SrmTracker::Period> periods;
  };
  std::optional<Srm> srm;
  struct SrmRewards {
    bool alarm = false;
    std::vector<double> observed, expected;
  };
  std::optional<SrmRewards> srm_rewards;
  std::vector<std::string> arm_names;  // empty in older snapshots
  int64_t champion = -1;               // -1: older snapshot
};

// A figure of the rule's look, restored as it was saved: +-inf (an interval
// not yet bounded) and NaN (a degenerate look) included.
Result<double> AnyNumberField(const msgpack::object& o, const std::string& field) {
  if (o.type == msgpack::type::FLOAT32 || o.type == msgpack::type::FLOAT64) return o.via.f64;
  return NumberField(o, field, false);
}

Result<bool> BoolField(const msgpack::object& o, const std::string& field) {
  if (o.type != msgpack::type::BOOLEAN) return BadField(field, "is not a boolean");
  return o.via.boolean;
}

Result<StopDecision> CheckField(const msgpack::object& o, size_t arms) {
  const std::string field = "check";
  if (o.type != msgpack::type::ARRAY || o.via.array.size != 8) {
    return BadField(field, "is not an array of 8");
  }
  const msgpack::object* v = o.via.array.ptr;
  StopDecision d;
  BANDITD_ASSIGN_OR_RETURN(auto stop, BoolField(v[0], field + "[0]"));
  d.stop = stop;
  const int64_t max_arm = static_cast<int64_t>(std::min<size_t>(arms, INT64_MAX)) - 1;
  BANDITD_ASSIGN_OR_RETURN(auto winner, IntField(v[1], field + "[1]", -1, max_arm));
  if (winner >= 0) d.winner = static_cast<size_t>(winner);
  BANDITD_ASSIGN_OR_RETURN(auto p, AnyNumberField(v[2], field + "[2]"));
  d.p_value = p;
  if (v[3].type != msgpack::type::STR) return BadField(field + "[3]", "is not a string");
  d.reason.assign(v[3].via.str.ptr, v[3].via.str.size);
  BANDITD_ASSIGN_OR_RETURN(auto compared, IntField(v[4], field + "[4]", -1, max_arm));
  if (compared >= 0) d.compared_arm = static_cast<size_t>(compared);
  BANDITD_ASSIGN_OR_RETURN(auto diff, AnyNumberField(v[5], field + "[5]"));
  d.difference = diff;
  BANDITD_ASSIGN_OR_RETURN(auto lo, AnyNumberField(v[6], field + "[6]"));
  BANDITD_ASSIGN_OR_RETURN(auto hi, AnyNumberField(v[7], field + "[7]"));
  d.ci_lo = lo;
  d.ci_hi = hi;
  return d;
}

Result<std::vector<double>> CountsRow(const msgpack::object& o, const std::string& field) {
  if (o.type != msgpack::type::ARRAY) return BadField(field, "is not an array of counts");
  std::vector<double> out;
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    BANDITD_ASSIGN_OR_RETURN(
        auto x, NumberField(o.via.array.ptr[i], field + "[" + std::to_string(i) + "]", true));
    out.push_back(x);
  }
  return out;
}

Result<Parsed::Srm> SrmField(const msgpack::object& o, size_t arms) {
  const std::string field = "srm";
  if (o.type != msgpack::type::ARRAY || o.via.array.size < 4 ||
      o.via.array.size > 4 + SrmTracker::kMaxPeriods) {
    return BadField(field, "is not [alarm, alarm_p, alarms, acks, periods...]");
  }
  const msgpack::object* v = o.via.array.ptr;
  Parsed::Srm s;
  BANDITD_ASSIGN_OR_RETURN(auto alarm, BoolField(v[0], field + "[0]"));
  s.alarm = alarm;
  BANDITD_ASSIGN_OR_RETURN(auto p, AnyNumberField(v[1], field + "[1]"));
  s.alarm_p = p;
  BANDITD_ASSIGN_OR_RETURN(auto alarms, UintField(v[2], field + "[2]"));
  s.alarms = alarms;
  BANDITD_ASSIGN_OR_RETURN(auto acks, UintField(v[3], field + "[3]"));
  s.acks = acks;
  for (uint32_t i = 4; i < o.via.array.size; ++i) {
    const std::string where = field + "[" + std::to_string(i) + "]";
    const msgpack::object& row = v[i];
    if (row.type != msgpack::type::ARRAY || row.via.array.size != 2) {
      return BadField(where, "is not an [observed, expected] pair");
    }
    BANDITD_ASSIGN_OR_RETURN(auto observed, CountsRow(row.via.array.ptr[0], where + "[0]"));
    BANDITD_ASSIGN_OR_RETURN(auto expected, CountsRow(row.via.array.ptr[1], where + "[1]"));
    // Checked against the arm count after it (Restore names that mismatch).
    if (observed.size() != arms || expected.size() != arms) {
      return BadField(where, "does not have one count per arm");
    }
    s.periods.push_back({0, std::move(observed), std::move(expected)});
  }
  return s;
}

// An array of strings, each at most `max_bytes` long.
Result<std::vector<std::string>> StringsField(const msgpack::object& o, const std::string& field,
                                              size_t max_bytes, const std::string& bad_item) {
  if (o.type != msgpack::type::ARRAY) return BadField(field, "is not an array");
  std::vector<std::string> out;
  for (uint32_t a = 0; a < o.via.array.size; ++a) {
    const msgpack::object& m = o.via.array.ptr[a];
    if (m.type != msgpack::type::STR || m.via.str.size > max_bytes) {
      return BadField(field + "[" + std::to_string(a) + "]", bad_item);
    }
    out.emplace_back(m.via.str.ptr, m.via.str.size);
  }
  return out;
}

Status ParseField(std::string_view key, const msgpack::object& val, Parsed& p, size_t arms) {
  const std::string field(key);
  if (key == "epoch") {
    BANDITD_ASSIGN_OR_RETURN(auto v, IntField(val, field, 0, UINT16_MAX));
    p.epoch = static_cast<uint16_t>(v);
  } else if (key == "state") {
    BANDITD_ASSIGN_OR_RETURN(
        auto v, IntField(val, field, 0, static_cast<int>(ExperimentState::kRolledBack)));
    p.state = static_cast<int>(v);
  } else if (key == "winner") {
    BANDITD_ASSIGN_OR_RETURN(auto v, IntField(val, field, -1, INT64_MAX));
    p.winner = v;
  } else if (key == "reason") {
    if (val.type != msgpack::type::STR) return BadField(field, "is not a string");
    p.reason.assign(val.via.str.ptr, val.via.str.size);
  } else if (key == "stale") {
    BANDITD_ASSIGN_OR_RETURN(auto v, UintField(val, field));
    p.stale = v;
  } else if (key == "counters") {
    if (val.type != msgpack::type::ARRAY) return BadField(field, "is not an array");
    for (uint32_t a = 0; a < val.via.array.size; ++a) {
      BANDITD_ASSIGN_OR_RETURN(
          auto c, CountersRow(val.via.array.ptr[a], "counters[" + std::to_string(a) + "]"));
      p.counters.push_back(std::move(c));
    }
  } else if (key == "policy") {
    if (val.type != msgpack::type::BIN) return BadField(field, "is not binary");
    p.policy_bytes = std::string_view(val.via.bin.ptr, val.via.bin.size);
    p.has_policy = true;
  } else if (key == "models") {
    BANDITD_ASSIGN_OR_RETURN(auto v, StringsField(val, field, 64, "is not a sha256 string"));
    p.models = std::move(v);
  } else if (key == "check") {
    BANDITD_ASSIGN_OR_RETURN(auto v, CheckField(val, arms));
    p.check = std::move(v);
  } else if (key == "looks") {
    BANDITD_ASSIGN_OR_RETURN(auto v, UintField(val, field));
    p.looks = v;
  } else if (key == "started") {
    BANDITD_ASSIGN_OR_RETURN(auto v, IntField(val, field, 0, INT64_MAX));
    p.started = v;
  } else if (key == "srm") {
    BANDITD_ASSIGN_OR_RETURN(auto v, SrmField(val, arms));
    p.srm = std::move(v);
  } else if (key == "arms") {
    BANDITD_ASSIGN_OR_RETURN(auto v, StringsField(val, field, 256, "is not an arm name"));
    p.arm_names = std::move(v);
  } else if (key == "champion") {
    BANDITD_ASSIGN_OR_RETURN(auto v, IntField(val, field, 0, INT64_MAX));
    p.champion = v;
  } else if (key == "srm_rewards") {
    if (val.type != msgpack::type::ARRAY || val.via.array.size != 3) {
      return BadField(field, "is not [alarm, observed, expected]");
    }
    Parsed::SrmRewards r;
    BANDITD_ASSIGN_OR_RETURN(auto alarm, BoolField(val.via.array.ptr[0], field + "[0]"));
    r.alarm = alarm;
    BANDITD_ASSIGN_OR_RETURN(auto observed, CountsRow(val.via.array.ptr[1], field + "[1]"));
    BANDITD_ASSIGN_OR_RETURN(auto expected, CountsRow(val.via.array.ptr[2], field + "[2]"));
    if (observed.size() != 2 || expected.size() != 2) {
      return BadField(field, "does not have two counts (two arms)");
    }
    r.observed = std::move(observed);
    r.expected = std::move(expected);
    p.srm_rewards = std::move(r);
  } else if (key == "stopping") {
    if (val.type == msgpack::type::BIN) {
      p.stopping_bytes = std::string_view(val.via.bin.ptr, val.via.bin.size);
    } else if (val.type != msgpack::type::NIL) {
      return BadField(field, "is neither binary nor nil");
    }
  }
  return Status::Ok();
}

// Each key once, a string; the values by ParseField.
Status ParseFields(const msgpack::object& root, Parsed& p, size_t arms) {
  // The rule's look and the SRM rows are checked against the snapshot's own
  // arm count (its counters): a change of the configured count is reported
  // as that, with its remedy, by Restore.
  for (uint32_t i = 0; i < root.via.map.size; ++i) {
    const auto& kv = root.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == "counters" &&
        kv.val.type == msgpack::type::ARRAY) {
      arms = kv.val.via.array.size;
    }
  }
  std::vector<std::string_view> seen;
  for (uint32_t i = 0; i < root.via.map.size; ++i) {
    const auto& kv = root.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) {
      return BadField("key #" + std::to_string(i), "is not a string");
    }
    const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return BadField(std::string(key), "appears twice");
    }
    seen.push_back(key);
    BANDITD_RETURN_IF_ERROR(ParseField(key, kv.val, p, arms));
  }
  return Status::Ok();
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
  const bool rewards_srm = options_.srm_rewards && counters_.size() == 2;
  pk.pack_map((model_sha256_.empty() ? 14 : 15) + (rewards_srm ? 1 : 0));
  pk.pack("arms");
  pk.pack_array(static_cast<uint32_t>(options_.arms.size()));
  for (const auto& a : options_.arms) pk.pack(a.name);
  pk.pack("champion");
  pk.pack(static_cast<int64_t>(options_.champion));
  if (!model_sha256_.empty()) {
    pk.pack("models");
    pk.pack_array(static_cast<uint32_t>(model_sha256_.size()));
    for (const auto& m : model_sha256_) pk.pack(m);
  }
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
  const StopDecision& c = last_check_;
  pk.pack("check");
  pk.pack_array(8);
  pk.pack(c.stop);
  pk.pack(c.winner ? static_cast<int64_t>(*c.winner) : int64_t{-1});
  pk.pack_double(c.p_value);
  pk.pack(c.reason);
  pk.pack(c.compared_arm ? static_cast<int64_t>(*c.compared_arm) : int64_t{-1});
  pk.pack_double(c.difference);
  pk.pack_double(c.ci_lo);
  pk.pack_double(c.ci_hi);
  pk.pack("looks");
  pk.pack(looks_);
  pk.pack("started");
  pk.pack(started_s_);
  pk.pack("srm");
  const auto& periods = srm_.periods();
  pk.pack_array(static_cast<uint32_t>(4 + periods.size()));
  pk.pack(srm_alarm_);
  pk.pack_double(srm_alarm_p_);
  pk.pack(srm_alarms_);
  pk.pack(srm_acks_);
  for (const auto& period : periods) {
    pk.pack_array(2);
    for (const auto* row : {&period.observed, &period.expected}) {
      pk.pack_array(static_cast<uint32_t>(row->size()));
      for (double x : *row) pk.pack_double(x);
    }
  }
  if (rewards_srm) {
    pk.pack("srm_rewards");
    pk.pack_array(3);
    pk.pack(srm_alarm_rewards_);
    const auto& p = reward_srm_.periods().back();  // one period
    for (const auto* row : {&p.observed, &p.expected}) {
      pk.pack_array(static_cast<uint32_t>(row->size()));
      for (double x : *row) pk.pack_double(x);
    }
  }
  return std::string(buf.data(), buf.size());
}

Status Experiment::Restore(std::string_view bytes) {
  msgpack::object_handle oh;
  try {
    oh = msgpack::unpack(bytes.data(), bytes.size(), nullptr, nullptr, Limits(bytes.size()));
  } catch (const std::exception& e) {
    return Corrupt(std::string("not msgpack: ") + e.what());
  }
  const msgpack::object& root = oh.get();
  if (root.type != msgpack::type::MAP) return Corrupt("not a map");
  Parsed p;
  BANDITD_RETURN_IF_ERROR(ParseFields(root, p, counters_.size()));
  auto& [epoch, state, winner, reason, stale, counters, policy_bytes, stopping_bytes, has_policy,
         models, check, looks, started, srm, srm_rewards, arm_names, champion] = p;
  if (counters.size() != counters_.size()) {
    return InvalidArgument(
        "snapshot of experiment '" + options_.name + "' has " + std::to_string(counters.size()) +
        " arms, the config has " + std::to_string(counters_.size()) +
        ": the arms of an experiment with state cannot change; configure "
        "its " +
        std::to_string(counters.size()) + " arms again, or " + FreshStartRemedy(options_.name));
  }
  // The state is kept by arm position: the same arms must be in the same
  // places, the same one the champion (the rules' control).
  if (!arm_names.empty()) {
    std::string saved, now;
    for (size_t a = 0; a < counters_.size(); ++a) {
      saved += (a ? ", " : "") + (a < arm_names.size() ? arm_names[a] : std::string("?"));
      now += (a ? ", " : "") + options_.arms[a].name;
    }
    if (arm_names.size() != counters_.size() || saved != now) {
      return InvalidArgument("state of experiment '" + options_.name + "' is for the arms [" +
                             saved + "], the config lists [" + now +
                             "]: the arms of an experiment with state cannot be renamed or "
                             "reordered; list them as before, or " +
                             FreshStartRemedy(options_.name));
    }
  }
  if (champion >= 0 && static_cast<size_t>(champion) != options_.champion) {
    return InvalidArgument(
        "state of experiment '" + options_.name + "' has '" +
        options_.arms[std::min<size_t>(static_cast<size_t>(champion), counters_.size() - 1)].name +
        "' as its champion, the config '" + options_.arms[options_.champion].name +
        "': the champion of an experiment with state cannot change (it is the stopping rule's "
        "control); mark the same arm champion, or " + FreshStartRemedy(options_.name));
  }
  if (!has_policy) return Corrupt("missing policy state");
  if (!models.empty() && models.size() != counters_.size()) return Corrupt("bad models");
  if (state < 0 || state > static_cast<int>(ExperimentState::kRolledBack)) return Corrupt("bad state");
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
    BANDITD_ASSIGN_OR_RETURN(auto rule, MakeRule());
    if (!stopping_bytes.empty()) {
      BANDITD_RETURN_IF_ERROR((rule)->Restore(stopping_bytes).WithContext("stopping rule"));
    }
    stopping = std::move(rule);
  }
  policy_ = std::move(policy).value();
  stopping_ = std::move(stopping);
  epoch_ = epoch;
  state_ = static_cast<ExperimentState>(state);
  winner_ = winner >= 0 ? std::optional<size_t>(static_cast<size_t>(winner)) : std::nullopt;
  reason_ = std::move(reason);
  stale_rewards_ = stale;
  counters_ = std::move(counters);
  model_sha256_ = std::move(models);
  last_check_ = check.value_or(StopDecision{});
  looks_ = looks;
  started_s_ = started;
  refreshed_once_ = false;
  Rng rng(0);
  ComputeWeights(rng);
  // The tallies exactly as saved (a restart changes no weights in force);
  // allocation versions are per process, so every restored period takes
  // version 0 and late batches of this process go to the newest.
  if (srm) {
    srm_alarm_ = srm->alarm;
    srm_alarm_p_ = srm->alarm_p;
    srm_alarms_ = srm->alarms;
    srm_acks_ = srm->acks;
    srm_.Restore(std::move(srm->periods));
  } else {
    srm_alarm_ = false;
    srm_.Reset(0);
  }
  srm_alarm_rewards_ = srm_alarm_ && srm_rewards && srm_rewards->alarm;
  if (srm_rewards && options_.srm_rewards) {
    reward_srm_.Restore({{0, std::move(srm_rewards->observed), std::move(srm_rewards->expected)}});
  } else {
    reward_srm_.Reset(0);
  }
  period_state_ = state_;
  period_canary_ = InCanaryPhase();
  period_weights_ = weights_;
  return Status::Ok();
}

}  // namespace banditd::experiment
