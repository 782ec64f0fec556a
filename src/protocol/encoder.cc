#include "src/protocol/encoder.h"

#include <cmath>
#include <msgpack.hpp>

namespace banditd::protocol {
namespace {

// msgpack::packer's stream: appends to a caller-owned string.
class StringSink {
 public:
  explicit StringSink(std::string* s) : s_(s) {}
  void write(const char* p, size_t n) { s_->append(p, n); }

 private:
  std::string* s_;
};

using Packer = msgpack::packer<StringSink>;

void PackStr(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

// A number that is not defined (NaN) or not finite travels as nil.
void PackNumber(Packer& pk, double x) {
  if (std::isfinite(x)) {
    pk.pack_double(x);
  } else {
    pk.pack_nil();
  }
}

void PackBool(Packer& pk, bool b) {
  if (b) {
    pk.pack_true();
  } else {
    pk.pack_false();
  }
}

void PackPair(Packer& pk, const std::array<double, 2>& v) {
  pk.pack_array(2);
  PackNumber(pk, v[0]);
  PackNumber(pk, v[1]);
}

// Starts a reply map: {ok, id?} plus `extra` more entries.
void BeginReply(Packer& pk, std::string* out, bool ok, std::string_view id, uint32_t extra) {
  pk.pack_map(1 + (id.empty() ? 0 : 1) + extra);
  PackStr(pk, "ok");
  if (ok) {
    pk.pack_true();
  } else {
    pk.pack_false();
  }
  if (!id.empty()) {
    PackStr(pk, "id");
    out->append(id.data(), id.size());  // raw msgpack, verbatim
  }
}

void PackFloats(Packer& pk, std::span<const float> values) {
  pk.pack_array(static_cast<uint32_t>(values.size()));
  for (float v : values) pk.pack_float(v);
}

void PackReport(Packer& pk, const wire::ExperimentReport& r) {
  pk.pack_map(11 + (r.context_store ? 1 : 0));
  PackStr(pk, "name");
  PackStr(pk, r.name);
  PackStr(pk, "mode");
  PackStr(pk, r.mode);
  PackStr(pk, "policy");
  PackStr(pk, r.policy);
  PackStr(pk, "epoch");
  pk.pack_uint64(r.epoch);
  PackStr(pk, "state");
  PackStr(pk, NameOf(r.state));
  PackStr(pk, "winner");
  if (r.winner) {
    PackStr(pk, *r.winner);
  } else {
    pk.pack_nil();
  }
  PackStr(pk, "reason");
  PackStr(pk, r.reason);
  PackStr(pk, "arms");
  pk.pack_array(static_cast<uint32_t>(r.arms.size()));
  for (const auto& a : r.arms) {
    pk.pack_map(9);
    PackStr(pk, "name");
    PackStr(pk, a.name);
    PackStr(pk, "n");
    pk.pack_uint64(a.n);
    PackStr(pk, "reward_sum");
    PackNumber(pk, a.reward_sum);
    PackStr(pk, "mean");
    PackNumber(pk, a.mean);
    PackStr(pk, "ci95");
    PackPair(pk, a.ci95);
    PackStr(pk, "allocation");
    PackNumber(pk, a.allocation);
    PackStr(pk, "p_best");
    PackNumber(pk, a.p_best);
    PackStr(pk, "model_p99_ms");
    PackNumber(pk, a.model_p99_ms);
    PackStr(pk, "errors");
    pk.pack_uint64(a.errors);
  }
  PackStr(pk, "test");
  if (r.test) {
    const wire::TestReport& t = *r.test;
    pk.pack_map(14);
    PackStr(pk, "method");
    PackStr(pk, t.method);
    PackStr(pk, "rule_p_value");
    PackNumber(pk, t.rule_p_value);
    PackStr(pk, "p_kind");
    PackStr(pk, t.p_kind);
    PackStr(pk, "always_valid");
    PackBool(pk, t.always_valid);
    PackStr(pk, "looks");
    pk.pack_uint64(t.looks);
    PackStr(pk, "stop");
    PackBool(pk, t.stop);
    PackStr(pk, "compared_arm");
    if (t.compared_arm) {
      PackStr(pk, *t.compared_arm);
    } else {
      pk.pack_nil();
    }
    PackStr(pk, "difference_kind");
    PackStr(pk, t.difference_kind);
    PackStr(pk, "difference");
    PackNumber(pk, t.difference);
    PackStr(pk, "ci");
    PackPair(pk, t.ci);
    PackStr(pk, "lift");
    PackNumber(pk, t.lift);
    // The keys of earlier releases: p_value is rule_p_value, always_valid_p
    // is it too when the rule's p is always valid (nil otherwise), and the
    // fixed-horizon lift interval is no longer computed (nil).
    PackStr(pk, "p_value");
    PackNumber(pk, t.rule_p_value);
    PackStr(pk, "always_valid_p");
    PackNumber(pk, t.always_valid ? t.rule_p_value : std::nan(""));
    PackStr(pk, "lift_ci95");
    PackPair(pk, {std::nan(""), std::nan("")});
  } else {
    pk.pack_nil();
  }
  PackStr(pk, "srm_p_value");
  PackNumber(pk, r.srm_p_value);
  PackStr(pk, "srm");
  if (r.srm) {
    const wire::SrmReport& s = *r.srm;
    pk.pack_map(12);
    PackStr(pk, "p_value");
    PackNumber(pk, s.p_value);
    PackStr(pk, "chi2");
    PackNumber(pk, s.chi2);
    PackStr(pk, "df");
    PackNumber(pk, s.df);
    PackStr(pk, "periods");
    pk.pack_uint64(s.periods);
    PackStr(pk, "requests");
    pk.pack_uint64(s.requests);
    PackStr(pk, "alarm");
    PackBool(pk, s.alarm);
    PackStr(pk, "alarm_p");
    PackNumber(pk, s.alarm_p);
    PackStr(pk, "alarms");
    pk.pack_uint64(s.alarms);
    PackStr(pk, "acknowledged");
    pk.pack_uint64(s.acknowledged);
    PackStr(pk, "threshold");
    PackNumber(pk, s.threshold);
    PackStr(pk, "rewards_p_value");
    PackNumber(pk, s.rewards_p_value);
    PackStr(pk, "rewards");
    pk.pack_uint64(s.rewards);
  } else {
    pk.pack_nil();
  }
  if (r.context_store) {
    const wire::ContextStoreReport& c = *r.context_store;
    PackStr(pk, "context_store");
    pk.pack_map(5);
    PackStr(pk, "entries");
    pk.pack_uint64(c.entries);
    PackStr(pk, "bytes");
    pk.pack_uint64(c.bytes);
    PackStr(pk, "max_bytes");
    pk.pack_uint64(c.max_bytes);
    PackStr(pk, "evictions");
    pk.pack_uint64(c.evictions);
    PackStr(pk, "rewards_without_context");
    pk.pack_uint64(c.rewards_without_context);
  }
}

}  // namespace

void EncodeRouteReply(const wire::RouteReply& reply, std::string* out) {
  out->clear();
  StringSink sink(out);
  Packer pk(sink);
  BeginReply(pk, out, true, reply.id, 4 + (reply.output ? 1 : 0) + (reply.served_by ? 1 : 0));
  PackStr(pk, "decision");
  PackStr(pk, reply.decision);
  PackStr(pk, "arm");
  PackStr(pk, reply.arm);
  PackStr(pk, "p");
  pk.pack_double(reply.p);
  PackStr(pk, "epoch");
  pk.pack_uint64(reply.epoch);
  if (reply.output) {
    PackStr(pk, "output");
    PackFloats(pk, *reply.output);
  }
  if (reply.served_by) {
    PackStr(pk, "served_by");
    PackStr(pk, *reply.served_by);
  }
}

void EncodeOkReply(std::string_view id, std::string* out) {
  out->clear();
  StringSink sink(out);
  Packer pk(sink);
  BeginReply(pk, out, true, id, 0);
}

void EncodeRewardsReply(const wire::RewardsReply& reply, std::string* out) {
  out->clear();
  StringSink sink(out);
  Packer pk(sink);
  BeginReply(pk, out, true, reply.id, 2);
  PackStr(pk, "accepted");
  pk.pack_uint64(reply.accepted);
  PackStr(pk, "rejected");
  pk.pack_array(static_cast<uint32_t>(reply.rejected.size()));
  for (const auto& r : reply.rejected) {
    pk.pack_map(2);
    PackStr(pk, "decision");
    PackStr(pk, r.decision);
    PackStr(pk, "code");
    PackStr(pk, CodeName(r.code));
  }
}

void EncodeStatusReply(const wire::StatusReply& reply, std::string* out) {
  out->clear();
  StringSink sink(out);
  Packer pk(sink);
  BeginReply(pk, out, true, reply.id, reply.process ? 2 : 1);
  PackStr(pk, "experiments");
  pk.pack_array(static_cast<uint32_t>(reply.experiments.size()));
  for (const auto& r : reply.experiments) PackReport(pk, r);
  if (reply.process) {
    PackStr(pk, "process");
    pk.pack_map(3);
    PackStr(pk, "rss_bytes");
    PackNumber(pk, reply.process->rss_bytes);
    PackStr(pk, "cpu_seconds");
    PackNumber(pk, reply.process->cpu_seconds);
    PackStr(pk, "uptime_s");
    PackNumber(pk, reply.process->uptime_s);
  }
}

void EncodeErrorReply(const wire::ErrorReply& reply, std::string* out) {
  out->clear();
  StringSink sink(out);
  Packer pk(sink);
  BeginReply(pk, out, false, reply.id, 1);
  PackStr(pk, "error");
  pk.pack_map(2);
  PackStr(pk, "code");
  PackStr(pk, CodeName(reply.code));
  PackStr(pk, "message");
  PackStr(pk, reply.message);
}

void EncodeRequest(const wire::Request& request, std::string* out) {
  out->clear();
  StringSink sink(out);
  Packer pk(sink);
  auto key = [&](std::string_view k, std::string_view v) {
    PackStr(pk, k);
    PackStr(pk, v);
  };
  const uint32_t base = 1 + (request.id.empty() ? 0 : 1);
  auto begin = [&](uint32_t extra) {
    pk.pack_map(base + extra);
    key("op", wire::OpName(request.op));
    if (!request.id.empty()) {
      PackStr(pk, "id");
      out->append(request.id.data(), request.id.size());
    }
  };
  if (const auto* r = request.route()) {
    begin(1 + (r->unit ? 1 : 0) + (r->input.present() ? 1 : 0) + (r->context ? 1 : 0) +
          (r->arm ? 1 : 0));
    key("exp", r->exp);
    if (r->unit) key("unit", *r->unit);
    if (r->input.form == wire::InputView::Form::kNumbers) {
      PackStr(pk, "input");
      PackFloats(pk, r->input.numbers);
    } else if (r->input.form == wire::InputView::Form::kTensor) {
      PackStr(pk, "input");
      pk.pack_map(2);
      PackStr(pk, "shape");
      pk.pack_array(static_cast<uint32_t>(r->input.rank));
      for (int64_t d : r->input.dims()) pk.pack_int64(d);
      PackStr(pk, "data");
      pk.pack_bin(static_cast<uint32_t>(r->input.tensor_bytes.size()));
      pk.pack_bin_body(r->input.tensor_bytes.data(),
                       static_cast<uint32_t>(r->input.tensor_bytes.size()));
    }
    if (r->context) {
      PackStr(pk, "context");
      pk.pack_array(static_cast<uint32_t>(r->context->size()));
      for (double c : *r->context) pk.pack_double(c);
    }
    if (r->arm) key("arm", *r->arm);
  } else if (const auto* w = request.reward()) {
    begin(2 + (w->at ? 1 : 0));
    key("decision", w->decision);
    PackStr(pk, "value");
    pk.pack_double(w->value);
    if (w->at) {
      PackStr(pk, "at");
      pk.pack_double(*w->at);
    }
  } else if (const auto* ws = request.rewards()) {
    begin(1);
    PackStr(pk, "items");
    pk.pack_array(static_cast<uint32_t>(ws->items.size()));
    for (const auto& item : ws->items) {
      pk.pack_array(2);
      PackStr(pk, item.decision);
      pk.pack_double(item.value);
    }
  } else if (const auto* s = request.status()) {
    begin(s->exp ? 1 : 0);
    if (s->exp) key("exp", *s->exp);
  } else if (const auto* a = request.admin()) {
    const bool has_exp = request.op != wire::Op::kSnapshot;
    const bool has_arm = request.op == wire::Op::kPromote;
    begin((has_exp ? 1 : 0) + (has_arm ? 1 : 0));
    if (has_exp) key("exp", a->exp);
    if (has_arm) key("arm", a->arm);
  }
}

}  // namespace banditd::protocol
