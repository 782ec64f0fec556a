// Daemon construction: config -> engine options, state recovery, models,
// sockets.
#include <spdlog/spdlog.h>

#include <fstream>

#include "src/server/config_models.h"
#include "src/server/daemon.h"
#include "src/server/engine_options.h"
#include "src/telemetry/fd_limit.h"

namespace banditd::server {
namespace {

constexpr int kRcvHwm = 100;

// tcp://host:* endpoints resolve to the port the OS chose.
std::string LastEndpoint(zmq::socket_t& s) { return s.get(zmq::sockopt::last_endpoint); }

}  // namespace

Daemon::Daemon(const config::Config& config, const DaemonFlags& flags, Clock& clock)
    : config_(config),
      flags_(flags),
      clock_(clock),
      // One libzmq I/O thread (the sockets' TCP work) per api I/O thread: the
      // extra api sockets' connections then need not share one.
      ctx_(static_cast<int>(1 + config.sockets.api_extra.size())),
      api_(ctx_, zmq::socket_type::router),
      pull_(ctx_, zmq::socket_type::pull),
      admin_(ctx_, zmq::socket_type::router),
      decoder_([&] {
        wire::DecodeLimits l;
        l.max_frame_bytes = config.limits.max_frame_bytes;
        return l;
      }()) {
  sockets_ = {&api_, &pull_, &admin_};
  for (size_t i = 0; i < config.sockets.api_extra.size(); ++i) {
    extra_routers_.emplace_back(ctx_, zmq::socket_type::router);
  }
}

Daemon::~Daemon() {
  // The extra I/O threads use the views, the relays and the context.
  for (auto& t : io_threads_) t->Join();
  io_threads_.clear();
  relays_.clear();
  extra_routers_.clear();
  for (auto& [ticket, t] : reload_threads_) {
    if (t.joinable()) t.join();
  }
  if (pool_) pool_->Shutdown();
  // The ZAP handler outlives the sockets it guards (zap.h).
  api_.close();
  pull_.close();
  admin_.close();
  zap_.reset();
}

void Daemon::ReloadKeys() {
  if (zap_) zap_->Reload();
}

void Daemon::WarnAboutTimeGuards() const {
  // The rule holds any decision until stopping.min_duration has passed
  // (StoppingRule::SetElapsed, from the start kept in the state); 0 is
  // allowed but worth a word.
  for (size_t e = 0; e < config_.experiments.size(); ++e) {
    const auto& ec = config_.experiments[e];
    const auto& x = engine_->experiment(e);
    if (x.stopping() == nullptr) continue;
    if (ec.stopping.min_duration.count() == 0) {
      spdlog::warn(
          "experiment '{}': stopping.min_duration is 0: the stopping rule may decide as soon as "
          "its sample bounds allow, before a full weekly cycle of traffic has been seen",
          ec.name);
    }
  }
}

Result<std::unique_ptr<Daemon>> Daemon::Create(const config::Config& config,
                                               const DaemonFlags& flags, Clock& clock) {
  BANDITD_RETURN_IF_ERROR(config::CheckExposure(config, flags.insecure));
  std::unique_ptr<Daemon> d(new Daemon(config, flags, clock));
  BANDITD_RETURN_IF_ERROR(d->Init());
  return d;
}

Status Daemon::Init() {
  if (!wal_wake_.ok() || !reloads_.ok() || !stop_wake_.ok()) {
    return Status(Code::kInternal, "cannot create eventfds");
  }
  // Keys first: a CURVE misconfiguration is refused before any state is touched.
  BANDITD_RETURN_IF_ERROR(SetUpCurve());
  auto store = state::StateStore::Open(state::Env::Posix(), config_.state_dir, flags_.repair);
  if (!store.ok()) return store.status().WithContext("state_dir " + config_.state_dir);
  store_ = std::move(store).value();

  experiment::EngineOptions eo = ToEngineOptions(config_);
  std::copy(store_->decision_key().begin(), store_->decision_key().end(), eo.decision_key.begin());
  eo.seed = static_cast<uint64_t>(clock_.WallNanos());
  auto engine = experiment::Engine::Create(eo, clock_);
  if (!engine.ok()) return engine.status();
  engine_ = std::move(engine).value();

  BANDITD_RETURN_IF_ERROR(Recover());
  ReturnFreedMemory();  // the WAL and snapshot buffers recovery read
  WarnAboutTimeGuards();

  state::DecisionLogOptions lo;
  lo.max_bytes = config_.decision_log.max_bytes;
  lo.max_age_ns = config_.decision_log.max_age.count() * 1'000'000;
  lo.min_free_bytes = config_.decision_log.min_free_bytes;
  lo.rotate_bytes = config_.decision_log.rotate_bytes;
  auto log = state::DecisionLog::Open(state::Env::Posix(), config_.state_dir, lo, clock_);
  if (!log.ok()) return log.status().WithContext("decision log");
  decision_log_ = std::move(log).value();

  // Models: load every configured model before taking traffic.
  bool any_model = false;
  slots_.resize(config_.experiments.size());
  outputs_.resize(config_.experiments.size());
  for (size_t e = 0; e < config_.experiments.size(); ++e) {
    const auto& ec = config_.experiments[e];
    outputs_[e].resize(ec.arms.size());
    for (size_t ai = 0; ai < ec.arms.size(); ++ai) {
      const auto& a = ec.arms[ai];
      if (!a.model) {
        slots_[e].push_back(nullptr);
        continue;
      }
      if (!any_model) {
        BANDITD_RETURN_IF_ERROR(
            model::SetTorchThreads(static_cast<int>(config_.inference.intra_op_threads)));
        any_model = true;
      }
      auto m = LoadArmModel(config_, e, ai);  // its errors name the config key
      if (!m.ok()) return m.status();
      spdlog::info("loaded model {}/{} from {} (sha256 {})", ec.name, a.name, a.model->path,
                   (*m)->sha256().substr(0, 12));
      slots_[e].push_back(std::make_shared<model::ModelSlot>(std::move(m).value()));
    }
    NoteModelFiles(e, /*at_start=*/true);
  }
  // The E lines before the first tick, so its look (at the restored state)
  // gets its L line like every other.
  LogLooks();
  if (any_model) {
    model::PoolOptions po;
    po.workers = static_cast<int>(config_.inference.workers);
    po.queue_capacity = static_cast<size_t>(config_.limits.max_pending_inference);
    po.spin = config_.inference.spin;
    if (config_.inference.batching) {
      po.max_batch = static_cast<size_t>(config_.inference.max_batch);
      po.max_delay = config_.inference.max_queue_delay;
    }
    pool_ = std::make_unique<model::InferencePool>(po);
  }

  BANDITD_RETURN_IF_ERROR(BindSockets());
  // sockets.metrics "" turns the endpoint off (then the endpoints file says "metrics=").
  std::string metrics_bound;
  if (const std::string& m = config_.sockets.metrics; !m.empty()) {
    const auto colon = m.rfind(':');  // host:port, checked by the config loader
    const std::string host = m.substr(0, colon);
    const config::LimitsConfig& lim = config_.limits;
    telemetry::HttpLimits http;
    // A quarter of RLIMIT_NOFILE at most: HTTP clients never starve ZeroMQ or the WAL.
    http.max_connections =
        telemetry::HttpConnectionCap(static_cast<size_t>(lim.http_max_connections));
    if (http.max_connections < static_cast<size_t>(lim.http_max_connections)) {
      spdlog::warn("metrics endpoint: {} connections at most (a quarter of RLIMIT_NOFILE)",
                   http.max_connections);
    }
    http.request_timeout = lim.http_request_timeout;
    http.idle_timeout = lim.http_idle_timeout;
    http.write_timeout = lim.http_write_timeout;
    http.max_request_bytes = static_cast<size_t>(lim.http_max_request_bytes);
    BANDITD_RETURN_IF_ERROR(metrics_.Start(host, std::stoi(m.substr(colon + 1)), http)
                                .WithContext("sockets.metrics " + m));
    metrics_bound = host + ":" + std::to_string(metrics_.port());
  }

  // Tools and tests read the bound endpoints here; written atomically so a
  // reader never sees half a file, and removed at a clean shutdown.
  std::string endpoints = "api=" + api_endpoint_ + "\nrewards=" + rewards_endpoint_ +
                          "\nadmin=" + admin_endpoint_ + "\n";
  if (!api_extra_endpoints_.empty()) {
    endpoints += "api_extra=";
    for (size_t i = 0; i < api_extra_endpoints_.size(); ++i) {
      endpoints += (i ? "," : "") + api_extra_endpoints_[i];
    }
    endpoints += "\n";
  }
  // Always the last line (a reader's sign the file is complete); empty when
  // there is no metrics endpoint.
  endpoints += "metrics=" + metrics_bound + "\n";
  BANDITD_RETURN_IF_ERROR(StartIoThreads());
  BANDITD_RETURN_IF_ERROR(
      state::WriteFileAtomically(state::Env::Posix(), config_.state_dir + "/endpoints", endpoints));
  last_snapshot_ns_ = clock_.MonoNanos();
  PublishMetrics();
  return Status::Ok();
}

void Daemon::NoteModelFiles(size_t e, bool at_start) {
  auto& x = engine_->experiment(e);
  std::vector<std::string> sha;
  for (const auto& slot : slots_[e]) sha.push_back(slot ? slot->Get()->sha256() : "");
  const auto& before = x.model_sha256();
  if (at_start && !before.empty() && before != sha) {
    // The statistics of the old files do not describe the new ones: start
    // afresh, as a reload of the same change does.
    std::string changed;
    for (size_t a = 0; a < sha.size(); ++a) {
      if (before[a] != sha[a]) {
        changed += (changed.empty() ? "" : ", ") + x.options().arms[a].name + " (" +
                   before[a].substr(0, 12) + " -> " + sha[a].substr(0, 12) + ")";
      }
    }
    x.NewEpoch("model files changed since the last run: " + changed);
    spdlog::warn("experiment '{}': model files changed since the last run ({}): new epoch {}",
                 x.name(), changed, x.epoch());
  }
  x.set_model_sha256(std::move(sha));
}

Status Daemon::Recover() {
  state::RecoveryReport report;
  uint64_t bad_records = 0;
  Status s = store_->Recover(
      [&](std::string_view bytes) { return engine_->Restore(bytes); },
      [&](uint8_t type, std::string_view payload) {
        if (type == kCheckpointRecord) {
          Status c = engine_->ReplayCheckpoint(payload);
          if (c.code() == Code::kCorruption) {
            ++bad_records;  // the next checkpoint or the rewards carry on
            spdlog::warn("recovery: {}", c.ToString());
            return Status::Ok();
          }
          return c;
        }
        if (type != kRewardRecord) return Status::Ok();
        auto r = experiment::Engine::DecodeReward(payload);
        if (!r.ok()) {
          ++bad_records;
          return Status::Ok();
        }
        engine_->Replay(*r);
        return Status::Ok();
      },
      flags_.repair,
      [&] {
        state::WalOptions o;
        o.durability =
            config_.durability.mode == Durability::kAlways ? Durability::kAlways
            : config_.durability.mode == Durability::kNone ? Durability::kNone
                                                                       : Durability::kGroup;
        o.group_window_ns =
            static_cast<int64_t>(config_.durability.group_window.count()) * 1'000'000;
        o.max_backlog_records = static_cast<size_t>(config_.durability.max_backlog);
        return o;
      }(),
      [this](uint64_t, const Status&) { wal_wake_.Wake(); }, &report);
  engine_->EndReplay();
  if (!s.ok()) return s;
  for (const auto& note : report.notes) spdlog::warn("recovery: {}", note);
  for (const auto& file : report.quarantined) {
    spdlog::warn("recovery: kept the bytes it cut off in {}", file);
  }
  spdlog::info("recovered state from {}: snapshot {}, {} WAL records in {} segments{}",
               config_.state_dir, report.snapshot_loaded ? "loaded" : "absent",
               report.records_replayed, report.segments_replayed,
               bad_records ? " (" + std::to_string(bad_records) + " unreadable skipped)" : "");
  return Status::Ok();
}

Status Daemon::SetUpCurve() {
  const config::SecurityConfig& sec = config_.security;
  if (!sec.curve()) return Status::Ok();
  if (!CurveAvailable()) {
    return Status(
        Code::kInvalidArgument,
        "security is configured but this libzmq has no CURVE support (zmq_has(\"curve\"))");
  }
  auto keys = LoadServerSecretKeyFile(sec.server_secret_key_file);
  if (!keys.ok()) return keys.status().WithContext("security.server_secret_key_file");
  auto zap = ZapHandler::Create(ctx_, {sec.api_client_keys_dir, sec.admin_client_keys_dir});
  if (!zap.ok()) return zap.status();
  zap_ = std::move(zap).value();
  std::vector<std::pair<zmq::socket_t*, AuthSocket>> sockets = {
      {&api_, AuthSocket::kApi}, {&pull_, AuthSocket::kRewards}, {&admin_, AuthSocket::kAdmin}};
  for (auto& s : extra_routers_) sockets.emplace_back(&s, AuthSocket::kApi);
  for (size_t i = 0; i < sockets.size(); ++i) {
    auto [socket, which] = sockets[i];
    try {
      socket->set(zmq::sockopt::curve_server, true);
      socket->set(zmq::sockopt::curve_secretkey, keys->secret_z85);
      socket->set(zmq::sockopt::zap_domain, kAuthDomains[static_cast<size_t>(which)]);
    } catch (const zmq::error_t& e) {
      return Status(Code::kInternal, std::string("cannot set CURVE options: ") + e.what());
    }
    // Where libzmq has it (a draft option), refuse clients outright when no
    // handler answers, on top of the handler outliving the sockets.
    const int enforce = 1;
    (void)zmq_setsockopt(socket->handle(), 93 /* ZMQ_ZAP_ENFORCE_DOMAIN */, &enforce,
                         sizeof(enforce));
    // The extra api sockets (index 3 on) need monitors of their own.
    BANDITD_RETURN_IF_ERROR(zap_->Watch(*socket, which, i < 3 ? "" : "-" + std::to_string(i - 2)));
  }
  zap_->Start();
  spdlog::info("CURVE on: server public key {}, {} api client key(s), {} admin client key(s)",
               keys->public_z85, zap_->api_keys(), zap_->admin_keys());
  return Status::Ok();
}

Status Daemon::BindSockets() {
  const int64_t max_msg = static_cast<int64_t>(config_.limits.max_frame_bytes) * 4 + 4096;
  auto setup = [&](zmq::socket_t& s, const std::string& ep, std::string* bound) -> Status {
    try {
      // Frames up to 4x the decode limit still reach the decoder and get a
      // bad_request; larger ones make libzmq drop the peer's connection.
      s.set(zmq::sockopt::maxmsgsize, max_msg);
      s.set(zmq::sockopt::linger, 0);
      // Requests waiting to be read: at most kRcvHwm per connection, then
      // libzmq stops reading it (the client waits; nothing is lost). Replies
      // are bounded in bytes (reply_budget.h); the message count per peer
      // stays high so that only that bound drops replies, counted.
      s.set(zmq::sockopt::rcvhwm, kRcvHwm);
      s.set(zmq::sockopt::sndhwm, 100000);
      if (s.get(zmq::sockopt::type) == static_cast<int>(zmq::socket_type::router)) {
        s.set(zmq::sockopt::router_mandatory, false);
      }
      s.bind(ep);
      *bound = LastEndpoint(s);
    } catch (const zmq::error_t& e) {
      return Status(Code::kIoError, "cannot bind " + ep + ": " + e.what());
    }
    return Status::Ok();
  };
  // Connections accepted and closed per socket; a frame over ZMQ_MAXMSGSIZE
  // shows only as a disconnect (connection_counter.h). With CURVE the ZAP
  // handler holds each socket's monitor.
  if (!zap_) {
    std::vector<std::pair<zmq::socket_t*, std::string>> watched = {
        {&api_, "api"}, {&pull_, "rewards"}, {&admin_, "admin"}};
    for (size_t i = 0; i < extra_routers_.size(); ++i) {
      watched.emplace_back(&extra_routers_[i], "api_extra_" + std::to_string(i + 1));
    }
    for (auto& [socket, name] : watched) {
      auto c = ConnectionCounter::Watch(ctx_, *socket, name);
      if (!c.ok()) return c.status();
      connections_.push_back(std::move(c).value());
    }
  }
  if (!extra_routers_.empty()) {
    try {
      api_.set(zmq::sockopt::affinity, uint64_t{1});
    } catch (const zmq::error_t& e) {
      return Status(Code::kInternal, std::string("cannot set ZMQ_AFFINITY: ") + e.what());
    }
  }
  BANDITD_RETURN_IF_ERROR(setup(api_, config_.sockets.api, &api_endpoint_));
  BANDITD_RETURN_IF_ERROR(setup(pull_, config_.sockets.rewards, &rewards_endpoint_));
  BANDITD_RETURN_IF_ERROR(setup(admin_, config_.sockets.admin, &admin_endpoint_));
  for (size_t i = 0; i < extra_routers_.size(); ++i) {
    // ZMQ_AFFINITY: the connections of api I/O thread i + 1 go to libzmq I/O
    // thread i + 1 (the others' to any), so no two api sockets share one.
    try {
      extra_routers_[i].set(zmq::sockopt::affinity, uint64_t{1} << (i + 1));
    } catch (const zmq::error_t& e) {
      return Status(Code::kInternal, std::string("cannot set ZMQ_AFFINITY: ") + e.what());
    }
    std::string bound;
    BANDITD_RETURN_IF_ERROR(setup(extra_routers_[i], config_.sockets.api_extra[i], &bound));
    api_extra_endpoints_.push_back(bound);
  }
  spdlog::info("listening: api {} rewards {} admin {} metrics {}", api_endpoint_, rewards_endpoint_,
               admin_endpoint_, config_.sockets.metrics.empty() ? "off" : config_.sockets.metrics);
  return Status::Ok();
}

}  // namespace banditd::server
