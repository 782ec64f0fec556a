#include "sim/live.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <map>
#include <ostream>
#include <unordered_map>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <zmq.hpp>

#include "banditd/rng.h"
#include "banditd/wire.h"
#include "src/protocol/encoder.h"
#include "src/protocol/reply_decoder.h"

namespace banditd::sim {
namespace {

using Clock = std::chrono::steady_clock;

struct TruthArm {
  std::vector<double> weights;
  double bias = 0;
  double ctr = 0;
};

Result<std::map<std::string, TruthArm>> LoadTruth(const std::string& path) {
  std::map<std::string, TruthArm> arms;
  try {
    YAML::Node root = YAML::LoadFile(path);  // JSON is YAML
    for (const auto& kv : root["arms"]) {
      TruthArm a;
      a.weights = kv.second["weights"].as<std::vector<double>>();
      a.bias = kv.second["bias"].as<double>();
      a.ctr = kv.second["ctr"].as<double>();
      arms[kv.first.as<std::string>()] = a;
    }
  } catch (const std::exception& e) {
    return InvalidArgument("ground truth " + path + ": " + e.what());
  }
  if (arms.empty()) return InvalidArgument("ground truth " + path + " lists no arms");
  return arms;
}

// Ids are msgpack uint32 (0xce + 4 bytes big-endian) so replies can be matched.
std::string PackId(uint32_t v) {
  std::string s(5, '\0');
  s[0] = static_cast<char>(0xce);
  for (int i = 0; i < 4; ++i) s[1 + i] = static_cast<char>(v >> (24 - 8 * i));
  return s;
}

uint32_t UnpackId(std::string_view s) {
  if (s.size() != 5 || static_cast<unsigned char>(s[0]) != 0xce) return 0;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[1 + i]);
  return v;
}

struct Pending {
  enum Kind { kRoute, kRewards, kStatus } kind = kRoute;
  std::vector<float> x;                                    // route: the user's features
  std::vector<std::pair<std::string, std::string>> items;  // rewards: (decision, arm)
};

}  // namespace

Result<LiveOptions> LoadLiveScenario(const std::string& path, LiveOptions o) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    YAML::Node live = root["live"];
    if (!live) return InvalidArgument(path + ": no 'live:' map");
    for (const auto& kv : live) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "experiment")
        o.experiment = v.as<std::string>();
      else if (key == "users")
        o.users = v.as<uint64_t>();
      else if (key == "requests")
        o.max_requests = v.as<uint64_t>();
      else if (key == "duration_s")
        o.max_seconds = v.as<double>();
      else if (key == "concurrency")
        o.concurrency = v.as<int>();
      else if (key == "rate")
        o.rate = v.as<double>();
      else if (key == "reward_batch")
        o.reward_batch = v.as<int>();
      else if (key == "status_every_s")
        o.status_every_s = v.as<double>();
      else if (key == "stop_on_decision")
        o.stop_on_decision = v.as<bool>();
      else if (key == "seed")
        o.seed = v.as<uint64_t>();
      else
        return InvalidArgument(path + ": live." + key + " (line " +
                               std::to_string(kv.first.Mark().line + 1) + "): unknown key");
    }
  } catch (const std::exception& e) {
    return InvalidArgument(path + ": " + e.what());
  }
  if (o.concurrency < 1 || o.reward_batch < 1) {
    return InvalidArgument(path + ": concurrency and reward_batch must be >= 1");
  }
  return o;
}

int RunLive(const LiveOptions& o, std::ostream& out, std::ostream& err) {
  auto truth = LoadTruth(o.ground_truth);
  if (!truth.ok()) {
    err << "bandit-sim live: " << truth.status().message() << "\n";
    return 2;
  }
  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 0);
  sock.connect(o.endpoint);

  Rng rng(o.seed);
  const size_t dim = truth->begin()->second.weights.size();
  std::unordered_map<uint32_t, Pending> pending;
  uint32_t next_id = 1;
  std::string buf;
  auto send_request = [&](wire::Request& req, Pending p) {
    const uint32_t id = next_id++;
    const std::string id_bytes = PackId(id);
    req.id = id_bytes;
    protocol::EncodeRequest(req, &buf);
    sock.send(zmq::buffer(buf), zmq::send_flags::none);
    pending.emplace(id, std::move(p));
  };

  std::map<std::string, uint64_t> routed, acked, clicks;
  std::vector<std::pair<std::string, std::string>> batch;  // (decision, arm)
  uint64_t sent_routes = 0, rejected = 0;
  std::string state = "running", decided_reason, winner;
  const auto start = Clock::now();
  auto last_status = start;
  auto last_reply = start;
  bool stopping = false;

  auto flush_rewards = [&](std::vector<std::pair<std::string, double>>& values) {
    if (batch.empty()) return;
    std::vector<wire::RewardItem> items;
    for (size_t i = 0; i < batch.size(); ++i) items.push_back({batch[i].first, values[i].second});
    wire::Request req;
    req.op = wire::Op::kRewards;
    req.body = wire::RewardsRequest{items};
    Pending p;
    p.kind = Pending::kRewards;
    p.items = std::move(batch);
    send_request(req, std::move(p));
    batch.clear();
    values.clear();
  };
  std::vector<std::pair<std::string, double>> values;

  auto route_one = [&] {
    Pending p;
    p.x.resize(dim);
    std::string unit;
    if (o.users > 0) {
      // A user's features are fixed: drawn from the user's own stream.
      const uint64_t u = rng.Below(o.users);
      Rng user(Rng::ForStream(o.seed, u + 1));
      for (auto& v : p.x) v = static_cast<float>(user.Normal());
      unit = "user-" + std::to_string(u);
    } else {
      for (auto& v : p.x) v = static_cast<float>(rng.Normal());
    }
    wire::Request req;
    req.op = wire::Op::kRoute;
    wire::RouteRequest r;
    r.exp = o.experiment;
    if (!unit.empty()) r.unit = unit;
    r.input.form = wire::InputView::Form::kNumbers;
    r.input.numbers = p.x;
    r.input.rank = 1;
    r.input.shape[0] = static_cast<int64_t>(dim);
    req.body = r;
    send_request(req, std::move(p));
    ++sent_routes;
  };

  auto print_status = [&](const protocol::StatusResult& s) {
    for (const auto& e : s.experiments) {
      if (e.name != o.experiment) continue;
      const double secs = std::chrono::duration<double>(Clock::now() - start).count();
      out << std::fixed << std::setprecision(1) << std::setw(6) << secs << "s  " << std::setw(9)
          << sent_routes << " routed  ";
      for (const auto& a : e.arms) {
        const int bar = static_cast<int>(std::lround(a.allocation * 20));
        out << a.name << " [" << std::string(bar, '#') << std::string(20 - bar, '.') << "] "
            << std::setprecision(3) << a.allocation << " mean " << std::setprecision(4) << a.mean
            << "  ";
      }
      out << NameOf(e.state) << "\n";
      state = std::string(NameOf(e.state));
      if (e.state != ExperimentState::kRunning) {
        decided_reason = e.reason;
        winner = e.winner.value_or("");
      }
    }
    out.flush();
  };

  auto status_request = [&] {
    wire::Request req;
    req.op = wire::Op::kStatus;
    req.body = wire::StatusRequest{std::string_view(o.experiment)};
    Pending p;
    p.kind = Pending::kStatus;
    send_request(req, std::move(p));
  };

  // Route slots not in use because of the rate limit, refilled as time allows.
  int idle_slots = 0;
  auto allowed = [&] {
    if (o.rate <= 0) return true;
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    return static_cast<double>(sent_routes) < o.rate * secs + 1;
  };
  for (int i = 0; i < o.concurrency; ++i) {
    if (allowed())
      route_one();
    else
      ++idle_slots;
  }
  zmq::message_t msg;
  while (!pending.empty() || (idle_slots > 0 && !stopping)) {
    while (idle_slots > 0 && !stopping && allowed()) {
      route_one();
      --idle_slots;
    }
    zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(o.rate > 0 ? 5 : 200));
    const auto now = Clock::now();
    if (now - last_status >= std::chrono::duration<double>(o.status_every_s) && !stopping) {
      last_status = now;
      status_request();
    }
    if (!(item.revents & ZMQ_POLLIN)) {
      if (!pending.empty() && now - last_reply > std::chrono::milliseconds(o.timeout_ms)) {
        err << "bandit-sim live: no reply from " << o.endpoint << " for " << o.timeout_ms
            << " ms\n";
        return 1;
      }
      continue;
    }
    last_reply = now;
    while (sock.recv(msg, zmq::recv_flags::dontwait)) {
      const std::string_view frame(static_cast<const char*>(msg.data()), msg.size());
      // Every reply map carries our id; peek it through the route decoder's
      // id field, or a status/rewards decode.
      auto route = protocol::DecodeRouteReply(frame);
      Pending p;
      auto take = [&](uint32_t rid) {
        auto it = pending.find(rid);
        if (it == pending.end()) return false;
        p = std::move(it->second);
        pending.erase(it);
        return true;
      };
      if (route.ok() && take(UnpackId(route->id))) {
        const std::string& served = route->served_by ? *route->served_by : route->arm;
        ++routed[served];
        auto t = truth->find(served);
        if (t != truth->end()) {
          double z = t->second.bias;
          for (size_t k = 0; k < dim; ++k) z += t->second.weights[k] * p.x[k];
          const double v = rng.Bernoulli(1.0 / (1.0 + std::exp(-z))) ? 1.0 : 0.0;
          batch.emplace_back(route->decision, route->arm);
          values.emplace_back(route->decision, v);
          if (v > 0) ++clicks[route->arm];
        }
      } else if (auto rw = protocol::DecodeRewardsReply(frame); rw.ok() && take(UnpackId(rw->id))) {
        std::map<std::string, std::string> arm_of;
        for (const auto& [d, a] : p.items) arm_of[d] = a;
        for (const auto& [d, code] : rw->rejected) {
          arm_of.erase(d);
          ++rejected;
        }
        for (const auto& [d, a] : arm_of) ++acked[a];
      } else if (auto st = protocol::DecodeStatusReply(frame); st.ok() && take(UnpackId(st->id))) {
        print_status(*st);
        if (o.stop_on_decision && state != "running") stopping = true;
      } else {
        // An error reply (e.g. overloaded): the daemon refused a request
        // of ours; the run cannot be checked exactly any more.
        err << "bandit-sim live: error reply: " << route.status().ToString() << "\n";
        return 1;
      }
      const double secs = std::chrono::duration<double>(now - start).count();
      if (secs >= o.max_seconds || sent_routes >= o.max_requests) stopping = true;
      if (p.kind == Pending::kRoute && !stopping) {
        if (allowed())
          route_one();
        else
          ++idle_slots;
      }
      if (static_cast<int>(batch.size()) >= o.reward_batch || (stopping && !batch.empty())) {
        flush_rewards(values);
      }
    }
    if (stopping && !batch.empty()) flush_rewards(values);
  }

  // Final check: the daemon's per-arm reward counts equal the rewards it acked.
  wire::Request req;
  req.op = wire::Op::kStatus;
  req.body = wire::StatusRequest{std::string_view(o.experiment)};
  const std::string id_bytes = PackId(next_id++);
  req.id = id_bytes;
  protocol::EncodeRequest(req, &buf);
  sock.send(zmq::buffer(buf), zmq::send_flags::none);
  zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(o.timeout_ms));
  if (!(item.revents & ZMQ_POLLIN) || !sock.recv(msg)) {
    err << "bandit-sim live: no final status\n";
    return 1;
  }
  auto st = protocol::DecodeStatusReply(
      std::string_view(static_cast<const char*>(msg.data()), msg.size()));
  if (!st.ok() || st->experiments.empty()) {
    err << "bandit-sim live: bad final status: " << st.status().ToString() << "\n";
    return 1;
  }
  print_status(*st);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  out << "\n"
      << sent_routes << " routes and " << rejected << " rejected rewards in "
      << std::setprecision(1) << secs << " s (" << std::setprecision(0) << sent_routes / secs
      << " routes/s)\n";
  bool consistent = true;
  out << std::setprecision(4);
  for (const auto& a : st->experiments[0].arms) {
    const double truth_ctr = truth->count(a.name) ? truth->at(a.name).ctr : std::nan("");
    const double se = std::sqrt(truth_ctr * (1 - truth_ctr) / std::max<double>(1, a.n));
    const bool counts_ok = a.n == acked[a.name];
    consistent = consistent && counts_ok;
    out << "  " << std::left << std::setw(12) << a.name << std::right << " rewards " << std::setw(8)
        << a.n << (counts_ok ? " = " : " != ") << acked[a.name] << " acked; mean " << a.mean
        << " vs true CTR " << truth_ctr << " (" << std::setprecision(2)
        << (a.n > 0 ? (a.mean - truth_ctr) / se : 0.0) << " se)\n"
        << std::setprecision(4);
  }
  if (state != "running") {
    out << "decision: " << state << (winner.empty() ? "" : " '" + winner + "'") << " — "
        << decided_reason << "\n";
  } else {
    out << "decision: none yet (still running when the traffic ended)\n";
  }
  out << (consistent ? "check: the daemon's counts equal the acknowledged rewards\n"
                     : "check FAILED: counts differ from the acknowledged rewards\n");
  return consistent ? 0 : 1;
}

}  // namespace banditd::sim
