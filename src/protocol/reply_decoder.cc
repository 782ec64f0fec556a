#include "src/protocol/reply_decoder.h"

#include <cmath>
#include <limits>
#include <msgpack.hpp>

#include "src/protocol/frame_scan.h"

namespace banditd::protocol {
namespace {

using msgpack::object;
namespace type = msgpack::type;

// Replies carry whole status reports: allow bigger maps than requests.
wire::DecodeLimits ReplyLimits() {
  wire::DecodeLimits limits;
  limits.max_frame_bytes = 64 << 20;
  limits.max_map = 4096;
  limits.max_array = 1 << 22;
  limits.max_str = 1 << 20;
  return limits;
}

Status Unreadable(std::string what) {
  return Status(Code::kBadRequest, "unreadable reply: " + std::move(what));
}

const object* Find(const object& map, std::string_view key) {
  if (map.type != type::MAP) return nullptr;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (kv.key.type == type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
      return &kv.val;
    }
  }
  return nullptr;
}

// Throws msgpack::type_error when the key is missing or of another type;
// the public functions turn that into kBadRequest.
const object& Get(const object& map, std::string_view key) {
  const object* v = Find(map, key);
  if (v == nullptr) throw msgpack::type_error();
  return *v;
}

double NaN() { return std::numeric_limits<double>::quiet_NaN(); }

double Number(const object& o) {
  if (o.type == type::NIL) return NaN();
  return o.as<double>();
}

std::array<double, 2> Pair(const object& o) {
  if (o.type != type::ARRAY || o.via.array.size != 2) throw msgpack::type_error();
  return {Number(o.via.array.ptr[0]), Number(o.via.array.ptr[1])};
}

// An unpacked reply: checks the frame, unpacks it, and turns {ok: false}
// into the server's Status.
class Reply {
 public:
  Status Open(std::string_view frame) {
    const wire::DecodeLimits limits = ReplyLimits();
    BANDITD_RETURN_IF_ERROR(ScanFrame(frame, limits));
    try {
      handle_ = msgpack::unpack(
          frame.data(), frame.size(), nullptr, nullptr,
          msgpack::unpack_limit(limits.max_array, limits.max_map, limits.max_str,
                                limits.max_frame_bytes, limits.max_ext, limits.max_depth + 1));
    } catch (const std::exception& e) {
      return Unreadable(e.what());
    }
    const object& root = handle_.get();
    if (root.type != type::MAP) return Unreadable("not a map");
    id_ = std::string(FindRootValue(frame, "id"));
    const object* ok = Find(root, "ok");
    if (ok == nullptr || ok->type != type::BOOLEAN) return Unreadable("no boolean 'ok'");
    if (ok->via.boolean) return Status::Ok();
    const object* error = Find(root, "error");
    const object* code = error ? Find(*error, "code") : nullptr;
    const object* message = error ? Find(*error, "message") : nullptr;
    if (code == nullptr || code->type != type::STR) return Unreadable("error without a code");
    const auto parsed = CodeFromName({code->via.str.ptr, code->via.str.size});
    std::string text = (message && message->type == type::STR)
                           ? std::string(message->via.str.ptr, message->via.str.size)
                           : std::string();
    return Status(parsed.value_or(Code::kInternal), std::move(text));
  }
  const object& root() const { return handle_.get(); }
  std::string& id() { return id_; }

 private:
  msgpack::object_handle handle_;
  std::string id_;
};

wire::ExperimentReport ReadReport(const object& r) {
  wire::ExperimentReport out;
  out.name = Get(r, "name").as<std::string>();
  out.mode = Get(r, "mode").as<std::string>();
  out.policy = Get(r, "policy").as<std::string>();
  out.epoch = Get(r, "epoch").as<uint64_t>();
  const auto state = Get(r, "state").as<std::string>();
  bool known = false;
  for (int s = 0; s <= static_cast<int>(ExperimentState::kRolledBack); ++s) {
    if (NameOf(static_cast<ExperimentState>(s)) == state) {
      out.state = static_cast<ExperimentState>(s);
      known = true;
    }
  }
  if (!known) throw msgpack::type_error();
  const object& winner = Get(r, "winner");
  if (winner.type != type::NIL) out.winner = winner.as<std::string>();
  out.reason = Get(r, "reason").as<std::string>();
  const object& arms = Get(r, "arms");
  if (arms.type != type::ARRAY) throw msgpack::type_error();
  for (uint32_t i = 0; i < arms.via.array.size; ++i) {
    const object& a = arms.via.array.ptr[i];
    wire::ArmReport arm;
    arm.name = Get(a, "name").as<std::string>();
    arm.n = Get(a, "n").as<uint64_t>();
    arm.reward_sum = Number(Get(a, "reward_sum"));
    arm.mean = Number(Get(a, "mean"));
    arm.ci95 = Pair(Get(a, "ci95"));
    arm.allocation = Number(Get(a, "allocation"));
    arm.p_best = Number(Get(a, "p_best"));
    arm.model_p99_ms = Number(Get(a, "model_p99_ms"));
    arm.errors = Get(a, "errors").as<uint64_t>();
    out.arms.push_back(std::move(arm));
  }
  const object& test = Get(r, "test");
  if (test.type != type::NIL) {
    wire::TestReport t;
    t.method = Get(test, "method").as<std::string>();
    // A daemon of an earlier release sends p_value only.
    const object* rule_p = Find(test, "rule_p_value");
    t.rule_p_value = Number(rule_p ? *rule_p : Get(test, "p_value"));
    if (const object* o = Find(test, "p_kind")) t.p_kind = o->as<std::string>();
    if (const object* o = Find(test, "always_valid")) t.always_valid = o->as<bool>();
    if (const object* o = Find(test, "looks")) t.looks = o->as<uint64_t>();
    if (const object* o = Find(test, "stop")) t.stop = o->as<bool>();
    if (const object* o = Find(test, "compared_arm"); o && o->type != type::NIL) {
      t.compared_arm = o->as<std::string>();
    }
    if (const object* o = Find(test, "difference_kind")) t.difference_kind = o->as<std::string>();
    const object* diff = Find(test, "difference");
    t.difference = diff ? Number(*diff) : NaN();
    const object* ci = Find(test, "ci");
    t.ci = ci ? Pair(*ci) : std::array<double, 2>{NaN(), NaN()};
    t.lift = Number(Get(test, "lift"));
    out.test = std::move(t);
  }
  out.srm_p_value = Number(Get(r, "srm_p_value"));
  if (const object* s = Find(r, "srm"); s != nullptr && s->type != type::NIL) {
    wire::SrmReport srm;
    srm.p_value = Number(Get(*s, "p_value"));
    srm.chi2 = Number(Get(*s, "chi2"));
    srm.df = Number(Get(*s, "df"));
    srm.periods = Get(*s, "periods").as<uint64_t>();
    srm.requests = Get(*s, "requests").as<uint64_t>();
    srm.alarm = Get(*s, "alarm").as<bool>();
    srm.alarm_p = Number(Get(*s, "alarm_p"));
    srm.alarms = Get(*s, "alarms").as<uint64_t>();
    srm.acknowledged = Get(*s, "acknowledged").as<uint64_t>();
    srm.threshold = Number(Get(*s, "threshold"));
    // Absent from earlier releases' replies.
    if (const object* rp = Find(*s, "rewards_p_value")) srm.rewards_p_value = Number(*rp);
    if (const object* rn = Find(*s, "rewards")) srm.rewards = rn->as<uint64_t>();
    out.srm = srm;
  }
  if (const object* c = Find(r, "context_store"); c != nullptr && c->type != type::NIL) {
    wire::ContextStoreReport cs;
    cs.entries = Get(*c, "entries").as<uint64_t>();
    cs.bytes = Get(*c, "bytes").as<uint64_t>();
    cs.max_bytes = Get(*c, "max_bytes").as<uint64_t>();
    cs.evictions = Get(*c, "evictions").as<uint64_t>();
    cs.rewards_without_context = Get(*c, "rewards_without_context").as<uint64_t>();
    out.context_store = cs;
  }
  return out;
}

}  // namespace

std::optional<Code> CodeFromName(std::string_view name) {
  for (int c = static_cast<int>(Code::kBadRequest); c <= static_cast<int>(Code::kInternal); ++c) {
    if (CodeName(static_cast<Code>(c)) == name) return static_cast<Code>(c);
  }
  return std::nullopt;
}

Result<RouteResult> DecodeRouteReply(std::string_view frame) {
  Reply reply;
  BANDITD_RETURN_IF_ERROR(reply.Open(frame));
  try {
    const object& root = reply.root();
    RouteResult out;
    out.id = std::move(reply.id());
    out.decision = Get(root, "decision").as<std::string>();
    out.arm = Get(root, "arm").as<std::string>();
    out.p = Get(root, "p").as<double>();
    out.epoch = Get(root, "epoch").as<uint64_t>();
    if (const object* o = Find(root, "output")) out.output = o->as<std::vector<float>>();
    if (const object* s = Find(root, "served_by")) out.served_by = s->as<std::string>();
    return out;
  } catch (const std::exception& e) {
    return Unreadable(std::string("route reply: ") + e.what());
  }
}

Result<RewardsResult> DecodeRewardsReply(std::string_view frame) {
  Reply reply;
  BANDITD_RETURN_IF_ERROR(reply.Open(frame));
  try {
    const object& root = reply.root();
    RewardsResult out;
    out.id = std::move(reply.id());
    out.accepted = Get(root, "accepted").as<uint64_t>();
    const object& rejected = Get(root, "rejected");
    if (rejected.type != type::ARRAY) throw msgpack::type_error();
    for (uint32_t i = 0; i < rejected.via.array.size; ++i) {
      const object& r = rejected.via.array.ptr[i];
      const auto code = CodeFromName(Get(r, "code").as<std::string>());
      out.rejected.emplace_back(Get(r, "decision").as<std::string>(),
                                code.value_or(Code::kInternal));
    }
    return out;
  } catch (const std::exception& e) {
    return Unreadable(std::string("rewards reply: ") + e.what());
  }
}

Result<StatusResult> DecodeStatusReply(std::string_view frame) {
  Reply reply;
  BANDITD_RETURN_IF_ERROR(reply.Open(frame));
  try {
    StatusResult out;
    out.id = std::move(reply.id());
    const object& experiments = Get(reply.root(), "experiments");
    if (experiments.type != type::ARRAY) throw msgpack::type_error();
    for (uint32_t i = 0; i < experiments.via.array.size; ++i) {
      out.experiments.push_back(ReadReport(experiments.via.array.ptr[i]));
    }
    if (const object* p = Find(reply.root(), "process"); p != nullptr) {
      wire::ProcessReport pr;
      pr.rss_bytes = Number(Get(*p, "rss_bytes"));
      pr.cpu_seconds = Number(Get(*p, "cpu_seconds"));
      pr.uptime_s = Number(Get(*p, "uptime_s"));
      out.process = pr;
    }
    return out;
  } catch (const std::exception& e) {
    return Unreadable(std::string("status reply: ") + e.what());
  }
}

Status DecodeOkReply(std::string_view frame) {
  Reply reply;
  return reply.Open(frame);
}

}  // namespace banditd::protocol
