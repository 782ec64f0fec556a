// Daemon construction: config -> engine options, state recovery, models,
// sockets.
#include <spdlog/spdlog.h>

#include <fstream>

#include "src/server/daemon.h"

namespace banditd::server {
namespace {

constexpr uint8_t kRewardRecord = 1;

experiment::Mode ToMode(config::Mode m) {
  switch (m) {
    case config::Mode::kBandit:
      return experiment::Mode::kBandit;
    case config::Mode::kAb:
      return experiment::Mode::kAb;
    case config::Mode::kShadow:
      return experiment::Mode::kShadow;
    case config::Mode::kCanary:
      return experiment::Mode::kCanary;
  }
  return experiment::Mode::kBandit;
}

experiment::ExperimentOptions ToOptions(const config::ExperimentConfig& c) {
  experiment::ExperimentOptions o;
  o.name = c.name;
  o.mode = ToMode(c.mode);
  o.metric = c.metric;
  for (const auto& a : c.arms) o.arms.push_back({a.name, a.model.has_value()});
  o.champion = c.champion();
  o.policy = c.policy_spec();
  if (c.mode == config::Mode::kAb) {
    // A/B: static weights, whatever policy name the file carries.
    o.policy.name = "static";
    o.policy.params = Params{};
    if (!c.weights.empty()) o.policy.params.Set("weights", c.weights);
  }
  if (!c.stopping.rule.empty() && c.stopping.rule != "none") {
    StoppingSpec s;
    s.name = c.stopping.rule;
    s.params = c.stopping.params;
    o.stopping = s;
  }
  o.on_decision = c.on_decision == config::OnDecision::kPromote ? experiment::OnDecision::kPromote
                                                                : experiment::OnDecision::kHold;
  o.canary_share = c.canary_share;
  o.guardrails.min_requests = static_cast<uint64_t>(c.guardrails.min_samples);
  o.guardrails.max_error_rate_ratio = c.guardrails.max_error_rate_ratio;
  o.guardrails.max_p99_ratio = c.guardrails.max_p99_latency_ratio;
  o.refresh_interval_ns = static_cast<int64_t>(c.refresh.interval.count()) * 1'000'000;
  o.refresh_every_rewards =
      c.refresh.every_rewards > 0 ? static_cast<uint64_t>(c.refresh.every_rewards) : UINT64_MAX;
  o.salt = c.salt;
  o.context_store_max_bytes = c.context_store_max_bytes;
  return o;
}

model::ModelOptions ModelOptionsFor(const config::ExperimentConfig& e, const config::ArmConfig& a) {
  model::ModelOptions m;
  m.name = e.name + "/" + a.name;
  m.path = a.model->path;
  m.input_shape = a.model->input_shape;
  m.sha256 = a.model->sha256;
  return m;
}

// tcp://host:* endpoints resolve to the port the OS chose.
std::string LastEndpoint(zmq::socket_t& s) { return s.get(zmq::sockopt::last_endpoint); }

}  // namespace

Daemon::Daemon(const config::Config& config, const DaemonFlags& flags, Clock& clock)
    : config_(config),
      flags_(flags),
      clock_(clock),
      ctx_(1),
      api_(ctx_, zmq::socket_type::router),
      pull_(ctx_, zmq::socket_type::pull),
      admin_(ctx_, zmq::socket_type::router),
      decoder_([&] {
        wire::DecodeLimits l;
        l.max_frame_bytes = config.limits.max_frame_bytes;
        return l;
      }()) {}

Daemon::~Daemon() {
  for (auto& [ticket, t] : reload_threads_) {
    if (t.joinable()) t.join();
  }
  if (pool_) pool_->Shutdown();
}

Result<std::unique_ptr<Daemon>> Daemon::Create(const config::Config& config,
                                               const DaemonFlags& flags, Clock& clock) {
  if (!config.security.curve() && !flags.insecure) {
    for (const auto& ep : {config.sockets.api, config.sockets.rewards, config.sockets.admin}) {
      if (!config::IsLocalEndpoint(ep)) {
        return InvalidArgument("refusing to bind " + ep +
                               " without CURVE: configure security keys or pass --insecure");
      }
    }
  }
  std::unique_ptr<Daemon> d(new Daemon(config, flags, clock));
  BANDITD_RETURN_IF_ERROR(d->Init());
  return d;
}

Status Daemon::Init() {
  if (!wal_wake_.ok() || !reloads_.ok() || !stop_wake_.ok()) {
    return Status(Code::kInternal, "cannot create eventfds");
  }
  auto store = state::StateStore::Open(state::Env::Posix(), config_.state_dir);
  if (!store.ok()) return store.status().WithContext("state_dir " + config_.state_dir);
  store_ = std::move(store).value();

  experiment::EngineOptions eo;
  for (const auto& e : config_.experiments) eo.experiments.push_back(ToOptions(e));
  eo.reward_window_s = static_cast<uint32_t>(config_.reward_window.count() / 1000);
  std::copy(store_->decision_key().begin(), store_->decision_key().end(), eo.decision_key.begin());
  eo.seed = static_cast<uint64_t>(clock_.WallNanos());
  auto engine = experiment::Engine::Create(eo, clock_);
  if (!engine.ok()) return engine.status();
  engine_ = std::move(engine).value();

  BANDITD_RETURN_IF_ERROR(Recover());

  auto log = state::DecisionLog::Open(state::Env::Posix(), config_.state_dir);
  if (!log.ok()) return log.status().WithContext("decision log");
  decision_log_ = std::move(log).value();

  // Models: load every configured model before taking traffic.
  bool any_model = false;
  slots_.resize(config_.experiments.size());
  outputs_.resize(config_.experiments.size());
  for (size_t e = 0; e < config_.experiments.size(); ++e) {
    const auto& ec = config_.experiments[e];
    outputs_[e].resize(ec.arms.size());
    for (const auto& a : ec.arms) {
      if (!a.model) {
        slots_[e].push_back(nullptr);
        continue;
      }
      if (!any_model) {
        BANDITD_RETURN_IF_ERROR(
            model::SetTorchThreads(static_cast<int>(config_.inference.intra_op_threads)));
        any_model = true;
      }
      auto m = model::LoadModel(ModelOptionsFor(ec, a));
      if (!m.ok())
        return m.status().WithContext("experiment '" + ec.name + "' arm '" + a.name + "'");
      spdlog::info("loaded model {}/{} from {} (sha256 {})", ec.name, a.name, a.model->path,
                   (*m)->sha256().substr(0, 12));
      slots_[e].push_back(std::make_shared<model::ModelSlot>(std::move(m).value()));
    }
  }
  if (any_model) {
    model::PoolOptions po;
    po.workers = static_cast<int>(config_.inference.workers);
    po.queue_capacity = static_cast<size_t>(config_.limits.max_pending_inference);
    if (config_.inference.batching) {
      po.max_batch = static_cast<size_t>(config_.inference.max_batch);
      po.max_delay = config_.inference.max_queue_delay;
    }
    pool_ = std::make_unique<model::InferencePool>(po);
  }

  BANDITD_RETURN_IF_ERROR(BindSockets());
  auto [host, port] = [&]() -> std::pair<std::string, int> {
    const std::string& m = config_.sockets.metrics;
    const auto colon = m.rfind(':');
    return {m.substr(0, colon), std::stoi(m.substr(colon + 1))};
  }();
  BANDITD_RETURN_IF_ERROR(metrics_.Start(host, port).WithContext("metrics endpoint"));

  // Tools and tests read the bound endpoints here; written atomically so a
  // reader never sees half a file, and removed at a clean shutdown.
  const std::string endpoints = "api=" + api_endpoint_ + "\nrewards=" + rewards_endpoint_ +
                                "\nadmin=" + admin_endpoint_ + "\nmetrics=" + host + ":" +
                                std::to_string(metrics_.port()) + "\n";
  BANDITD_RETURN_IF_ERROR(
      state::WriteFileAtomically(state::Env::Posix(), config_.state_dir + "/endpoints", endpoints));
  last_snapshot_ns_ = clock_.MonoNanos();
  PublishMetrics();
  return Status::Ok();
}

Status Daemon::Recover() {
  state::RecoveryReport report;
  uint64_t bad_records = 0;
  Status s = store_->Recover(
      [&](std::string_view bytes) { return engine_->Restore(bytes); },
      [&](uint8_t type, std::string_view payload) {
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
      state::WalOptions{
          config_.durability.mode == config::DurabilityMode::kAlways ? state::Durability::kAlways
          : config_.durability.mode == config::DurabilityMode::kNone ? state::Durability::kNone
                                                                     : state::Durability::kGroup,
          static_cast<int64_t>(config_.durability.group_window.count()) * 1'000'000},
      [this](uint64_t, const Status&) { wal_wake_.Wake(); }, &report);
  if (!s.ok()) return s;
  for (const auto& note : report.notes) spdlog::warn("recovery: {}", note);
  spdlog::info("recovered state from {}: snapshot {}, {} WAL records in {} segments{}",
               config_.state_dir, report.snapshot_loaded ? "loaded" : "absent",
               report.records_replayed, report.segments_replayed,
               bad_records ? " (" + std::to_string(bad_records) + " unreadable skipped)" : "");
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
      s.set(zmq::sockopt::rcvhwm, 100000);
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
  BANDITD_RETURN_IF_ERROR(setup(api_, config_.sockets.api, &api_endpoint_));
  BANDITD_RETURN_IF_ERROR(setup(pull_, config_.sockets.rewards, &rewards_endpoint_));
  BANDITD_RETURN_IF_ERROR(setup(admin_, config_.sockets.admin, &admin_endpoint_));
  spdlog::info("listening: api {} rewards {} admin {} metrics {}", api_endpoint_, rewards_endpoint_,
               admin_endpoint_, config_.sockets.metrics);
  return Status::Ok();
}

}  // namespace banditd::server
