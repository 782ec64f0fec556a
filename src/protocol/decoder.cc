#include "src/protocol/decoder.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "src/protocol/frame_scan.h"

namespace banditd::protocol {
namespace {

using msgpack::object;
namespace type = msgpack::type;

// Objects of an ordinary request fit in the zone's first chunk, which
// zone::clear() keeps, so steady-state decoding does not allocate.
constexpr size_t kZoneChunkBytes = 64 << 10;

constexpr std::array<std::string_view, 10> kOpNames = {
    "route",  "reward", "rewards",  "status", "promote",
    "pause",  "resume", "reload",   "snapshot", "ack_srm"};

// Strings, bins and exts are left in the frame (msgpack objects point at it).
bool ReferenceAll(type::object_type, size_t, void*) { return true; }

Status Error(Code code, std::string message) { return Status(code, std::move(message)); }

std::string Quote(std::string_view s) {
  constexpr size_t kShown = 64;  // hostile keys can be long; show a prefix
  std::string out = "'";
  out.append(s.substr(0, kShown));
  if (s.size() > kShown) out += "...";
  return out + "'";
}

std::string_view StrOf(const object& o) { return {o.via.str.ptr, o.via.str.size}; }

bool IsNumber(const object& o) {
  return o.type == type::POSITIVE_INTEGER || o.type == type::NEGATIVE_INTEGER ||
         o.type == type::FLOAT32 || o.type == type::FLOAT64;
}

// REQUIRES: IsNumber(o).
double NumberOf(const object& o) {
  switch (o.type) {
    case type::POSITIVE_INTEGER:
      return static_cast<double>(o.via.u64);
    case type::NEGATIVE_INTEGER:
      return static_cast<double>(o.via.i64);
    default:
      return o.via.f64;
  }
}

// Finds the values of `keys` in `map` (whose keys are already known to be
// strings), refusing a key that appears twice. Absent and nil values are null.
template <size_t N>
Status Lookup(const object& map, const std::array<std::string_view, N>& keys,
              std::string_view where, Code code, std::array<const object*, N>* found) {
  found->fill(nullptr);
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (kv.key.type != type::STR) {
      return Error(code, std::string(where) + ": map keys must be strings");
    }
    const std::string_view key = StrOf(kv.key);
    for (size_t k = 0; k < N; ++k) {
      if (keys[k] != key) continue;
      if ((*found)[k] != nullptr) {
        return Error(code, std::string(where) + ": key " + Quote(key) + " appears twice");
      }
      (*found)[k] = &kv.val;
    }
  }
  for (auto& f : *found) {
    if (f != nullptr && f->type == type::NIL) f = nullptr;  // nil = absent
  }
  return Status::Ok();
}

Status RequireString(const object* v, std::string_view op, std::string_view key,
                     std::string_view* out) {
  if (v == nullptr) {
    return Error(Code::kBadRequest, std::string(op) + ": missing key '" + std::string(key) + "'");
  }
  if (v->type != type::STR) {
    return Error(Code::kBadRequest,
                 std::string(op) + ": '" + std::string(key) + "' must be a string");
  }
  if (v->via.str.size == 0) {
    return Error(Code::kBadRequest,
                 std::string(op) + ": '" + std::string(key) + "' must not be empty");
  }
  *out = StrOf(*v);
  return Status::Ok();
}

Status OptionalString(const object* v, std::string_view op, std::string_view key,
                      std::optional<std::string_view>* out) {
  out->reset();
  if (v == nullptr) return Status::Ok();
  std::string_view s;
  BANDITD_RETURN_IF_ERROR(RequireString(v, op, key, &s));
  *out = s;
  return Status::Ok();
}

bool FiniteFloatBits(const char* p) {
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  return (bits & 0x7f800000u) != 0x7f800000u;  // exponent all ones: inf or NaN
}

}  // namespace

}  // namespace banditd::protocol

namespace banditd::wire {

std::string_view OpName(Op op) { return protocol::kOpNames[static_cast<size_t>(op)]; }

}  // namespace banditd::wire

namespace banditd::protocol {

Decoder::Decoder(wire::DecodeLimits limits) : limits_(limits), zone_(kZoneChunkBytes) {
  numbers_.reserve(1024);
  context_.reserve(256);
  items_.reserve(256);
}

Status Decoder::Decode(std::string_view frame, wire::Request* out) {
  out->id = {};
  std::string_view id;
  BANDITD_RETURN_IF_ERROR(ScanFrame(frame, limits_, "id", &id));
  if ((static_cast<uint8_t>(frame[0]) & 0xf0) != 0x80 && static_cast<uint8_t>(frame[0]) != 0xde &&
      static_cast<uint8_t>(frame[0]) != 0xdf) {
    return Error(Code::kBadRequest, "a request must be a msgpack map");
  }
  out->id = id;

  zone_.clear();
  object root;
  try {
    size_t offset = 0;
    bool referenced = false;
    // The scan above already enforced these bounds; unpack_limit is the
    // library-level backstop (depth + 1: msgpack counts differently).
    const msgpack::unpack_limit limit(limits_.max_array, limits_.max_map, limits_.max_str,
                                      limits_.max_frame_bytes, limits_.max_ext,
                                      limits_.max_depth + 1);
    root = msgpack::unpack(zone_, frame.data(), frame.size(), offset, referenced, ReferenceAll,
                           nullptr, limit);
  } catch (const std::exception& e) {
    return Error(Code::kBadRequest, std::string("malformed msgpack: ") + e.what());
  }

  std::array<const object*, 1> op_value;
  BANDITD_RETURN_IF_ERROR(
      Lookup(root, std::array<std::string_view, 1>{"op"}, "request", Code::kBadRequest, &op_value));
  if (op_value[0] == nullptr) return Error(Code::kBadRequest, "request: missing key 'op'");
  if (op_value[0]->type != type::STR) {
    return Error(Code::kBadRequest, "request: 'op' must be a string");
  }
  const std::string_view op = StrOf(*op_value[0]);
  size_t index = 0;
  while (index < kOpNames.size() && kOpNames[index] != op) ++index;
  if (index == kOpNames.size()) {
    return Error(Code::kUnknownOp,
                 "unknown op " + Quote(op) +
                     " (known: route, reward, rewards, status, promote, pause, resume, reload, "
                     "snapshot, ack_srm)");
  }
  out->op = static_cast<wire::Op>(index);
  switch (out->op) {
    case wire::Op::kRoute:
      return DecodeRoute(root, out);
    case wire::Op::kReward:
      return DecodeReward(root, out);
    case wire::Op::kRewards:
      return DecodeRewards(root, out);
    case wire::Op::kStatus:
      return DecodeStatus(root, out);
    default:
      return DecodeAdmin(root, out);
  }
}

Status Decoder::DecodeRoute(const object& root, wire::Request* out) {
  static constexpr std::array<std::string_view, 5> kKeys = {"exp", "unit", "input", "context",
                                                            "arm"};
  std::array<const object*, 5> v;
  BANDITD_RETURN_IF_ERROR(Lookup(root, kKeys, "route", Code::kBadRequest, &v));
  auto& route = out->body.emplace<wire::RouteRequest>();
  BANDITD_RETURN_IF_ERROR(RequireString(v[0], "route", "exp", &route.exp));
  BANDITD_RETURN_IF_ERROR(OptionalString(v[1], "route", "unit", &route.unit));
  if (v[2] != nullptr) BANDITD_RETURN_IF_ERROR(DecodeInput(*v[2], &route.input));
  if (v[3] != nullptr) {
    std::span<const double> context;
    BANDITD_RETURN_IF_ERROR(DecodeContext(*v[3], &context));
    route.context = context;
  }
  return OptionalString(v[4], "route", "arm", &route.arm);
}

Status Decoder::DecodeInput(const object& v, wire::InputView* in) {
  if (v.type == type::ARRAY) {
    const uint32_t n = v.via.array.size;
    if (n == 0) return Error(Code::kInvalidInput, "route: 'input' must not be empty");
    numbers_.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      const object& x = v.via.array.ptr[i];
      if (!IsNumber(x)) {
        return Error(Code::kInvalidInput,
                     "route: input[" + std::to_string(i) + "] must be a number");
      }
      // Checked before the cast: a double beyond float's range has no float
      // value to convert to.
      const double value = NumberOf(x);
      if (!(std::fabs(value) <= std::numeric_limits<float>::max())) {
        return Error(Code::kInvalidInput,
                     "route: input[" + std::to_string(i) + "] is not a finite float32");
      }
      numbers_[i] = static_cast<float>(value);
    }
    in->form = wire::InputView::Form::kNumbers;
    in->numbers = {numbers_.data(), n};
    in->rank = 1;
    in->shape[0] = n;
    return Status::Ok();
  }
  if (v.type != type::MAP) {
    return Error(Code::kInvalidInput,
                 "route: 'input' must be an array of numbers or a {shape, data} map");
  }
  static constexpr std::array<std::string_view, 2> kKeys = {"shape", "data"};
  std::array<const object*, 2> f;
  BANDITD_RETURN_IF_ERROR(Lookup(v, kKeys, "route: input", Code::kInvalidInput, &f));
  const object* shape = f[0];
  const object* data = f[1];
  if (shape == nullptr || shape->type != type::ARRAY || shape->via.array.size == 0 ||
      shape->via.array.size > wire::kMaxInputDims) {
    return Error(Code::kInvalidInput, "route: input.shape must be an array of 1 to " +
                                          std::to_string(wire::kMaxInputDims) + " dimensions");
  }
  if (data == nullptr || data->type != type::BIN) {
    return Error(Code::kInvalidInput,
                 "route: input.data must be bin (raw little-endian float32 bytes)");
  }
  uint64_t product = 1;
  in->rank = shape->via.array.size;
  for (size_t i = 0; i < in->rank; ++i) {
    const object& d = shape->via.array.ptr[i];
    constexpr uint64_t kMaxDim = uint64_t{1} << 31;
    if (d.type != type::POSITIVE_INTEGER || d.via.u64 == 0 || d.via.u64 > kMaxDim) {
      return Error(Code::kInvalidInput,
                   "route: input.shape[" + std::to_string(i) + "] must be an integer in [1, 2^31]");
    }
    // product * dim never overflows: product <= max_frame_bytes / 4 here.
    if (d.via.u64 > limits_.max_frame_bytes / 4 / product) {
      return Error(Code::kInvalidInput,
                   "route: input.shape describes more floats than a frame holds");
    }
    product *= d.via.u64;
    in->shape[i] = static_cast<int64_t>(d.via.u64);
  }
  const size_t bytes = data->via.bin.size;
  if (bytes != product * 4) {
    return Error(Code::kInvalidInput, "route: input.shape needs " + std::to_string(product) +
                                          " float32 (" + std::to_string(product * 4) +
                                          " bytes) but input.data has " + std::to_string(bytes) +
                                          " bytes");
  }
  for (size_t i = 0; i < bytes; i += 4) {
    if (!FiniteFloatBits(data->via.bin.ptr + i)) {
      return Error(Code::kInvalidInput,
                   "route: input.data[" + std::to_string(i / 4) + "] is not a finite float32");
    }
  }
  in->form = wire::InputView::Form::kTensor;
  in->tensor_bytes = {data->via.bin.ptr, bytes};
  return Status::Ok();
}

Status Decoder::DecodeContext(const object& v, std::span<const double>* out) {
  if (v.type != type::ARRAY) {
    return Error(Code::kBadContext, "route: 'context' must be an array of numbers");
  }
  const uint32_t n = v.via.array.size;
  context_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const object& x = v.via.array.ptr[i];
    if (!IsNumber(x) || !std::isfinite(NumberOf(x))) {
      return Error(Code::kBadContext,
                   "route: context[" + std::to_string(i) + "] must be a finite number");
    }
    context_[i] = NumberOf(x);
  }
  *out = {context_.data(), n};
  return Status::Ok();
}

Status Decoder::DecodeReward(const object& root, wire::Request* out) {
  static constexpr std::array<std::string_view, 3> kKeys = {"decision", "value", "at"};
  std::array<const object*, 3> v;
  BANDITD_RETURN_IF_ERROR(Lookup(root, kKeys, "reward", Code::kBadRequest, &v));
  auto& reward = out->body.emplace<wire::RewardRequest>();
  BANDITD_RETURN_IF_ERROR(RequireString(v[0], "reward", "decision", &reward.decision));
  if (v[1] == nullptr) return Error(Code::kBadRequest, "reward: missing key 'value'");
  if (!IsNumber(*v[1])) return Error(Code::kBadRequest, "reward: 'value' must be a number");
  reward.value = NumberOf(*v[1]);
  if (!std::isfinite(reward.value)) {
    return Error(Code::kInvalidValue, "reward: 'value' must be finite");
  }
  if (v[2] != nullptr) {
    if (!IsNumber(*v[2])) return Error(Code::kBadRequest, "reward: 'at' must be a number");
    const double at = NumberOf(*v[2]);
    if (!(at >= 0 && at <= wire::kMaxRewardAt)) {  // also refuses NaN
      return Error(Code::kInvalidValue,
                   "reward: 'at' must be Unix seconds in [0, 4294967295] (1970 to 2106)");
    }
    reward.at = at;
  }
  return Status::Ok();
}

Status Decoder::DecodeRewards(const object& root, wire::Request* out) {
  static constexpr std::array<std::string_view, 1> kKeys = {"items"};
  std::array<const object*, 1> v;
  BANDITD_RETURN_IF_ERROR(Lookup(root, kKeys, "rewards", Code::kBadRequest, &v));
  if (v[0] == nullptr) return Error(Code::kBadRequest, "rewards: missing key 'items'");
  if (v[0]->type != type::ARRAY) {
    return Error(Code::kBadRequest, "rewards: 'items' must be an array of [decision, value]");
  }
  const uint32_t n = v[0]->via.array.size;
  items_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const object& item = v[0]->via.array.ptr[i];
    if (item.type != type::ARRAY || item.via.array.size != 2 ||
        item.via.array.ptr[0].type != type::STR || item.via.array.ptr[0].via.str.size == 0 ||
        !IsNumber(item.via.array.ptr[1])) {
      return Error(Code::kBadRequest, "rewards: items[" + std::to_string(i) +
                                          "] must be [decision (string), value (number)]");
    }
    wire::RewardItem& r = items_[i];
    r.decision = StrOf(item.via.array.ptr[0]);
    r.value = NumberOf(item.via.array.ptr[1]);
    r.code = std::isfinite(r.value) ? Code::kOk : Code::kInvalidValue;
  }
  out->body.emplace<wire::RewardsRequest>().items = {items_.data(), n};
  return Status::Ok();
}

Status Decoder::DecodeStatus(const object& root, wire::Request* out) {
  static constexpr std::array<std::string_view, 1> kKeys = {"exp"};
  std::array<const object*, 1> v;
  BANDITD_RETURN_IF_ERROR(Lookup(root, kKeys, "status", Code::kBadRequest, &v));
  auto& status = out->body.emplace<wire::StatusRequest>();
  return OptionalString(v[0], "status", "exp", &status.exp);
}

Status Decoder::DecodeAdmin(const object& root, wire::Request* out) {
  static constexpr std::array<std::string_view, 2> kKeys = {"exp", "arm"};
  std::array<const object*, 2> v;
  const std::string_view op = wire::OpName(out->op);
  BANDITD_RETURN_IF_ERROR(Lookup(root, kKeys, op, Code::kBadRequest, &v));
  auto& admin = out->body.emplace<wire::AdminRequest>();
  if (out->op == wire::Op::kSnapshot) return Status::Ok();
  BANDITD_RETURN_IF_ERROR(RequireString(v[0], op, "exp", &admin.exp));
  if (out->op == wire::Op::kPromote) {
    BANDITD_RETURN_IF_ERROR(RequireString(v[1], op, "arm", &admin.arm));
  }
  return Status::Ok();
}

}  // namespace banditd::protocol
