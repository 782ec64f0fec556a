#include "tests/bench/load/modes.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <zmq.hpp>

#include "banditd/model.h"
#include "banditd/wire.h"
#include "src/model/raw_forward.h"
#include "src/protocol/encoder.h"
#include "src/protocol/reply_decoder.h"

namespace banditd::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

uint64_t NowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
          .count());
}

// Fixed demo features: the daemon and the forward baselines get the same input.
constexpr float kInput[8] = {0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 0.0f, 1.5f, -0.3f};

void EncodeRoute(uint64_t seq, const std::string& exp, bool with_input, std::string* out) {
  const std::string id = IdBytes(seq);
  wire::RouteRequest route;
  route.exp = exp;
  if (with_input) {
    route.input.form = wire::InputView::Form::kNumbers;
    route.input.numbers = std::span<const float>(kInput, 8);
    route.input.rank = 1;
    route.input.shape[0] = 8;
  }
  wire::Request req;
  req.op = wire::Op::kRoute;
  req.id = id;
  req.body = route;
  protocol::EncodeRequest(req, out);
}

void EncodeReward(uint64_t seq, std::string_view decision, double value, bool with_id,
                  std::string* out) {
  const std::string id = with_id ? IdBytes(seq) : std::string();
  wire::Request req;
  req.op = wire::Op::kReward;
  req.id = id;
  req.body = wire::RewardRequest{decision, value, std::nullopt};
  protocol::EncodeRequest(req, out);
}

void EncodeRewards(uint64_t seq, const std::vector<std::string>& decisions, size_t from, size_t n,
                   bool with_id, std::vector<wire::RewardItem>* items, std::string* out) {
  const std::string id = with_id ? IdBytes(seq) : std::string();
  items->clear();
  for (size_t i = from; i < from + n && i < decisions.size(); ++i) {
    items->push_back({decisions[i], static_cast<double>(i & 1), Code::kOk});
  }
  wire::Request req;
  req.op = wire::Op::kRewards;
  req.id = id;
  req.body = wire::RewardsRequest{*items};
  protocol::EncodeRequest(req, out);
}

// A loop over Forward with the same histogram as the network runs.
template <typename Fn>
Measure ForwardLoop(const std::string& what, const Options& opt, Fn&& fn) {
  LoadResult r;
  const uint64_t start = NowNs();
  const uint64_t deadline = start + static_cast<uint64_t>(opt.seconds * 1e9);
  uint64_t now = start;
  for (uint64_t i = 0; i < 500; ++i) fn();  // warm-up, as the daemon had
  const uint64_t t0 = NowNs();
  while (r.replies < opt.requests && now < deadline) {
    const uint64_t a = NowNs();
    fn();
    now = NowNs();
    r.hist.Record(now - a);
    ++r.replies;
  }
  r.seconds = static_cast<double>(now - t0) / 1e9;
  return FromLoad(what, r);
}

}  // namespace

LoadSpec Bench::RouteSpec(const Target& t, bool pipelined, const std::string& exp,
                          bool with_input) {
  LoadSpec spec;
  spec.endpoint = t.ep.api;
  if (pipelined) spec.extra_endpoints = t.ep.api_extra;
  spec.threads = pipelined ? opt_.client_threads : 1;
  spec.clients = pipelined ? opt_.clients : 1;
  spec.inflight = pipelined ? opt_.inflight : 1;
  spec.max_requests = opt_.requests;
  spec.max_seconds = opt_.seconds;
  spec.make = [exp, with_input](uint64_t seq, std::string* f) {
    EncodeRoute(seq, exp, with_input, f);
  };
  return spec;
}

Row Bench::Compare(const std::string& name, const std::string& what, LoadSpec spec,
                   double units_per_reply, const std::string& unit) {
  Row row;
  row.name = name;
  LoadSpec warm = spec;
  warm.max_requests = std::min<uint64_t>(spec.max_requests, 2000);
  warm.max_seconds = 0.5;
  if (opt_.warmup) RunLoad(warm);
  row.daemon = FromLoad(what, RunLoad(spec), units_per_reply, unit);
  echo_.set_reply_bytes(row.daemon.reply_bytes);
  spec.endpoint = echo_.endpoint();
  spec.extra_endpoints.clear();
  warm.endpoint = echo_.endpoint();
  RunLoad(warm);
  row.baseline = FromLoad("raw ZeroMQ ROUTER echo", RunLoad(spec), units_per_reply, unit);
  PrintRow(row);
  return row;
}

Row Bench::RouteLockstep(const Target& t) {
  return Compare("route-lockstep", "banditd route (1 in flight)",
                 RouteSpec(t, false, opt_.route_exp, false), 1, "req");
}

Row Bench::RoutePipelined(const Target& t, const std::string& name) {
  const std::string threads =
      opt_.client_threads > 1 ? std::to_string(opt_.client_threads) + "x" : "";
  const std::string what = "banditd route (" + threads + std::to_string(opt_.clients) + "x" +
                           std::to_string(opt_.inflight) + " in flight, " +
                           std::to_string(1 + t.ep.api_extra.size()) + " api I/O thread(s))";
  return Compare(name, what, RouteSpec(t, true, opt_.route_exp, false), 1, "req");
}

std::vector<Row> Bench::Inference(const Target& t) {
  std::vector<Row> rows;
  const std::string path = opt_.models_dir + "/champion.pt";
  model::ModelOptions mo;
  mo.name = "champion";
  mo.path = path;
  mo.input_shape = {8};
  auto model = model::LoadModel(mo);
  auto raw = model::internal::RawForward::Load(path);
  if (!model.ok() || !raw.ok()) {
    std::fprintf(stderr, "banditd-bench: cannot load %s: %s\n", path.c_str(),
                 (model.ok() ? raw.status() : model.status()).ToString().c_str());
    return rows;
  }
  std::vector<float> out;
  const std::span<const float> in(kInput, 8);
  const Measure fwd = ForwardLoop("Model::Forward loop (1 thread)", opt_,
                                  [&] { (void)(*model)->Forward(in, &out); });
  const Measure rawm =
      ForwardLoop("raw TorchScript forward loop", opt_, [&] { (*raw)->Run(in, &out); });

  LoadSpec spec = RouteSpec(t, false, opt_.infer_exp, true);
  LoadSpec warm = spec;
  warm.max_requests = 2000;
  warm.max_seconds = 0.5;
  RunLoad(warm);
  const Measure lock = FromLoad("banditd route+inference (1 in flight)", RunLoad(spec));
  rows.push_back({"route-inference-lockstep", lock, fwd});
  rows.push_back({"route-inference-lockstep-vs-raw", lock, rawm});
  LoadSpec pspec = RouteSpec(t, true, opt_.infer_exp, true);
  const Measure pipe = FromLoad("banditd route+inference (" + std::to_string(opt_.clients) + "x" +
                                    std::to_string(opt_.inflight) + " in flight)",
                                RunLoad(pspec));
  rows.push_back({"route-inference-pipelined", pipe, fwd});
  for (const auto& r : rows) PrintRow(r);
  return rows;
}

std::vector<std::string> Bench::Decisions(const Target& t, uint64_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  LoadSpec spec = RouteSpec(t, true, opt_.route_exp, false);
  spec.max_requests = n;
  spec.max_seconds = 600;
  spec.on_reply = [&out](std::string_view frame) {
    auto r = protocol::DecodeRouteReply(frame);
    if (r.ok()) out.push_back(std::move(r->decision));
  };
  RunLoad(spec);
  return out;
}

uint64_t Bench::RewardsJoined(const Target& t) {
  zmq::context_t ctx(1);
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::rcvtimeo, 5000);
  s.connect(t.ep.api);
  std::string frame;
  wire::Request req;
  req.op = wire::Op::kStatus;
  req.body = wire::StatusRequest{std::string_view(opt_.route_exp)};
  protocol::EncodeRequest(req, &frame);
  s.send(zmq::buffer(frame), zmq::send_flags::none);
  zmq::message_t msg;
  if (!s.recv(msg)) return 0;
  auto st = protocol::DecodeStatusReply(std::string_view(msg.data<char>(), msg.size()));
  uint64_t n = 0;
  if (st.ok()) {
    for (const auto& e : st->experiments)
      if (e.name == opt_.route_exp)
        for (const auto& a : e.arms) n += a.n;
  }
  return n;
}

uint64_t Bench::PushRewards(const Target& t, const std::vector<std::string>& decisions, size_t from,
                            size_t n, int batch, double* seconds) {
  std::vector<std::string> frames;
  std::vector<wire::RewardItem> items;
  for (size_t i = from; i < from + n; i += static_cast<size_t>(batch)) {
    frames.emplace_back();
    if (batch == 1) {
      EncodeReward(i, decisions[i], static_cast<double>(i & 1), false, &frames.back());
    } else {
      EncodeRewards(i, decisions, i, std::min<size_t>(batch, from + n - i), false, &items,
                    &frames.back());
    }
  }
  const uint64_t before = RewardsJoined(t);
  const uint64_t start = NowNs();
  Blast(t.ep.rewards, frames);
  uint64_t joined = before, last_change = NowNs(), done_at = NowNs();
  while (joined < before + n && NowNs() < last_change + 5'000'000'000ull) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const uint64_t j = RewardsJoined(t);
    done_at = NowNs();
    if (j != joined) last_change = done_at;
    joined = j;
  }
  *seconds = static_cast<double>(done_at - start) / 1e9;
  return joined - before;
}

std::vector<Row> Bench::RewardsFireAndForget(const Target& t) {
  std::vector<Row> rows;
  const auto decisions = Decisions(t, 2 * opt_.rewards);
  for (int batch : {1, opt_.batch}) {
    const size_t from = batch == 1 ? 0 : std::min<size_t>(opt_.rewards, decisions.size());
    const size_t n = std::min<size_t>(opt_.rewards, decisions.size() - from);
    Row row;
    row.name = batch == 1 ? "rewards-ff-single" : "rewards-ff-batched";
    double secs = 0;
    const uint64_t joined = PushRewards(t, decisions, from, n, batch, &secs);
    row.daemon.what =
        batch == 1 ? "banditd PULL reward" : "banditd PULL rewards x" + std::to_string(batch);
    row.daemon.unit = "rewards";
    row.daemon.count = joined;
    row.daemon.lost = n - joined;
    row.daemon.seconds = secs;
    row.daemon.throughput = secs > 0 ? static_cast<double>(joined) / secs : 0;
    // The same frames into a raw PULL socket.
    std::vector<std::string> frames;
    std::vector<wire::RewardItem> items;
    for (size_t i = from; i < from + n; i += static_cast<size_t>(batch)) {
      frames.emplace_back();
      if (batch == 1) {
        EncodeReward(i, decisions[i], 1, false, &frames.back());
      } else {
        EncodeRewards(i, decisions, i, std::min<size_t>(batch, from + n - i), false, &items,
                      &frames.back());
      }
    }
    row.daemon.request_bytes = frames.empty() ? 0 : frames[0].size();
    sink_.Expect(frames.size());
    const uint64_t start = NowNs();
    Blast(sink_.endpoint(), frames);
    const uint64_t end = sink_.Wait(30);
    row.baseline.what = "raw ZeroMQ PULL sink";
    row.baseline.unit = "rewards";
    row.baseline.count = end ? n : 0;
    row.baseline.seconds = end ? static_cast<double>(end - start) / 1e9 : 0;
    row.baseline.throughput = end ? static_cast<double>(n) / row.baseline.seconds : 0;
    row.baseline.request_bytes = row.daemon.request_bytes;
    PrintRow(row);
    rows.push_back(row);
  }
  return rows;
}

std::vector<Row> Bench::RewardsAcked(const Target& t) {
  std::vector<Row> rows;
  const auto decisions = Decisions(t, 2 * opt_.rewards);
  const size_t half = decisions.size() / 2;
  for (int batch : {1, opt_.batch}) {
    const size_t from = batch == 1 ? 0 : half;
    LoadSpec spec;
    spec.endpoint = t.ep.api;
    spec.clients = opt_.clients;
    spec.inflight = opt_.inflight;
    spec.max_seconds = opt_.seconds;
    spec.max_requests = std::min<uint64_t>(opt_.requests, half / static_cast<size_t>(batch));
    auto items = std::make_shared<std::vector<wire::RewardItem>>();
    spec.make = [&decisions, from, batch, items](uint64_t seq, std::string* f) {
      const size_t i = from + seq * static_cast<size_t>(batch);
      if (batch == 1) {
        EncodeReward(seq, decisions[i], static_cast<double>(i & 1), true, f);
      } else {
        EncodeRewards(seq, decisions, i, static_cast<size_t>(batch), true, items.get(), f);
      }
    };
    Row row;
    row.name = std::string("rewards-acked-") + t.label + (batch == 1 ? "-single" : "-batched");
    const std::string what = "banditd api " + std::string(batch == 1 ? "reward" : "rewards x") +
                             (batch == 1 ? "" : std::to_string(batch)) + " (" + t.label + ")";
    const uint64_t before = RewardsJoined(t);
    row.daemon = FromLoad(what, RunLoad(spec), batch, "rewards");
    const uint64_t joined = RewardsJoined(t) - before;
    if (joined != row.daemon.count * static_cast<uint64_t>(batch)) {
      std::printf("  note: %llu rewards joined for %llu acked\n",
                  static_cast<unsigned long long>(joined),
                  static_cast<unsigned long long>(row.daemon.count * batch));
    }
    echo_.set_reply_bytes(row.daemon.reply_bytes);
    spec.endpoint = echo_.endpoint();
    row.baseline = FromLoad("raw ZeroMQ ROUTER echo", RunLoad(spec), batch, "rewards");
    PrintRow(row);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace banditd::bench
