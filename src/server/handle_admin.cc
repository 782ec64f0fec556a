// status and the admin ops (promote, pause, resume, reload, snapshot).
#include <cmath>

#include <spdlog/spdlog.h>

#include "src/protocol/encoder.h"
#include "src/server/daemon.h"
#include "src/stats/analyze_report.h"
#include "src/stats/hypothesis.h"

namespace banditd::server {
namespace {

wire::ExperimentState ToWire(experiment::State s) {
  switch (s) {
    case experiment::State::kRunning:
      return wire::ExperimentState::kRunning;
    case experiment::State::kDecided:
      return wire::ExperimentState::kDecided;
    case experiment::State::kPromoted:
      return wire::ExperimentState::kPromoted;
    case experiment::State::kPaused:
      return wire::ExperimentState::kPaused;
    case experiment::State::kRolledBack:
      return wire::ExperimentState::kRolledBack;
  }
  return wire::ExperimentState::kRunning;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

wire::ExperimentReport Daemon::BuildReport(size_t e) {
  const auto& x = engine_->experiment(e);
  const auto& o = x.options();
  wire::ExperimentReport r;
  r.name = x.name();
  r.mode = std::string(experiment::ModeName(o.mode));
  r.policy = std::string(x.policy().name());
  r.epoch = x.epoch();
  r.state = ToWire(x.state());
  if (x.winner()) r.winner = o.arms[*x.winner()].name;
  r.reason = x.reason();
  const auto& counters = x.counters();
  bool enough = true;
  for (size_t a = 0; a < counters.size(); ++a) {
    wire::ArmReport ar;
    ar.name = o.arms[a].name;
    ar.n = static_cast<uint64_t>(counters[a].n);
    ar.reward_sum = counters[a].reward_sum;
    ar.mean = counters[a].n > 0 ? counters[a].reward_sum / counters[a].n : kNaN;
    ar.ci95 = {kNaN, kNaN};
    ar.allocation = x.weights()[a];
    ar.p_best = kNaN;
    ar.model_p99_ms = o.arms[a].hosts_model && counters[a].latency.count() > 0
                          ? counters[a].latency.Quantile(0.99) / 1e6
                          : kNaN;
    ar.errors = counters[a].errors;
    r.arms.push_back(std::move(ar));
    enough = enough && counters[a].n >= 2;
  }
  if (x.stopping() != nullptr) {
    wire::TestReport t;
    t.method = std::string(x.stopping()->name());
    t.p_value = x.last_check().p_value;
    t.always_valid_p = kNaN;
    t.lift = kNaN;
    t.lift_ci95 = {kNaN, kNaN};
    r.test = t;
  }
  r.srm_p_value = kNaN;
  if (enough) {
    // The offline analysis, run on the live sufficient statistics (the
    // champion first, as the analysis expects the control first).
    stats::AnalyzeInput in;
    in.metric = o.metric;
    std::vector<size_t> order = {o.champion};
    for (size_t a = 0; a < counters.size(); ++a) {
      if (a != o.champion) order.push_back(a);
    }
    for (size_t a : order) {
      in.arms.push_back(stats::ArmRow{o.arms[a].name, counters[a].n, counters[a].reward_sum,
                                      counters[a].reward_sum_sq});
    }
    const stats::Report rep = stats::BuildReport(in, {});
    for (size_t i = 0; i < order.size(); ++i) {
      r.arms[order[i]].ci95 = {rep.arms[i].ci95.lo, rep.arms[i].ci95.hi};
      r.arms[order[i]].p_best = rep.arms[i].p_best;
    }
    // The comparison of the best challenger against the champion.
    const stats::ComparisonReport* best = nullptr;
    for (const auto& c : rep.comparisons) {
      if (best == nullptr || c.diff > best->diff) best = &c;
    }
    if (best != nullptr && r.test) {
      r.test->always_valid_p = best->msprt_p;
      r.test->lift = best->lift;
      r.test->lift_ci95 = {best->lift_ci95.lo, best->lift_ci95.hi};
    }
  }
  // SRM is meaningful against fixed weights only (ab, canary phase).
  if (o.mode == experiment::Mode::kAb) {
    std::vector<double> observed, weights;
    double total = 0;
    for (size_t a = 0; a < counters.size(); ++a) {
      observed.push_back(static_cast<double>(counters[a].requests - counters[a].forced));
      weights.push_back(x.weights()[a]);
      total += observed.back();
    }
    if (total > 0) r.srm_p_value = stats::SrmChiSquare(observed, weights).p_value;
  }
  if (x.context_dim() > 0) {
    const auto& c = x.contexts();
    r.context_store = wire::ContextStoreReport{c.entries(), c.bytes(), c.max_bytes(), c.evictions(),
                                               x.rewards_without_context()};
  }
  return r;
}

void Daemon::HandleStatus(const wire::Request& req, const Envelope& env, zmq::socket_t& socket) {
  CollectFromIoThreads();  // the requests the extra I/O threads routed so far
  std::vector<wire::ExperimentReport> reports;
  const auto& want = req.status()->exp;
  if (want) {
    auto e = engine_->Find(*want);
    if (!e) {
      SendError(socket, env, req.id, Code::kUnknownExperiment,
                "no experiment named '" + std::string(*want) + "'");
      return;
    }
    reports.push_back(BuildReport(*e));
  } else {
    for (size_t e = 0; e < engine_->num_experiments(); ++e) reports.push_back(BuildReport(e));
  }
  const auto proc = telemetry::ReadProcessStats();
  protocol::EncodeStatusReply(
      wire::StatusReply{req.id, reports,
                        wire::ProcessReport{proc.rss_bytes, proc.cpu_seconds, proc.uptime_s}},
      &out_);
  Send(socket, env, out_);
}

void Daemon::HandleAdmin(const wire::Request& req, Envelope env, zmq::socket_t& socket) {
  const wire::AdminRequest& a = *req.admin();
  if (req.op == wire::Op::kSnapshot) {
    const Status s = WriteSnapshot();
    if (!s.ok()) {
      SendError(socket, env, req.id, s.code(), s.message());
      return;
    }
    protocol::EncodeOkReply(req.id, &out_);
    Send(socket, env, out_);
    return;
  }
  auto e = engine_->Find(a.exp);
  if (!e) {
    SendError(socket, env, req.id, Code::kUnknownExperiment,
              "no experiment named '" + std::string(a.exp) + "'");
    return;
  }
  auto& x = engine_->experiment(*e);
  Status s;
  switch (req.op) {
    case wire::Op::kPromote: {
      auto arm = x.ArmIndex(a.arm);
      s = arm ? x.Promote(*arm, "promoted '" + std::string(a.arm) + "' by an operator")
              : Status(Code::kBadRequest,
                       "experiment '" + x.name() + "' has no arm '" + std::string(a.arm) + "'");
      break;
    }
    case wire::Op::kPause:
      s = x.Pause();
      break;
    case wire::Op::kResume:
      s = x.Resume();
      break;
    case wire::Op::kReload: {
      // Loading runs off the I/O thread; requests keep flowing to the old
      // models until each new one is ready and swapped in.
      std::vector<std::pair<std::shared_ptr<model::ModelSlot>, model::ModelOptions>> jobs;
      const auto& ec = config_.experiments[*e];
      for (size_t i = 0; i < ec.arms.size(); ++i) {
        if (!slots_[*e][i]) continue;
        model::ModelOptions m;
        m.name = ec.name + "/" + ec.arms[i].name;
        m.path = ec.arms[i].model->path;
        m.input_shape = ec.arms[i].model->input_shape;
        m.sha256 = ec.arms[i].model->sha256;
        jobs.emplace_back(slots_[*e][i], m);
      }
      if (jobs.empty()) {
        s = Status(Code::kBadRequest, "experiment '" + x.name() + "' hosts no models");
        break;
      }
      const uint64_t ticket = next_reload_ticket_++;
      reload_threads_[ticket] =
          std::thread([this, ticket, exp = *e, jobs = std::move(jobs), env = std::move(env),
                       id = std::string(req.id)]() mutable {
            ReloadDone done{ticket, exp, std::move(env), std::move(id), Status::Ok(), false};
            // All or nothing: load every model first and swap only when all
            // loaded, so a failed reload leaves every arm on its previous model
            // (and a later reload still sees what changed and starts an epoch).
            std::vector<std::shared_ptr<const model::Model>> loaded;
            for (auto& [slot, options] : jobs) {
              auto m = model::LoadModel(options);
              if (!m.ok()) {
                done.status = m.status().WithContext("reload kept the previous models");
                break;
              }
              loaded.push_back(std::move(m).value());
            }
            for (size_t i = 0; done.status.ok() && i < jobs.size(); ++i) {
              const bool changed = jobs[i].first->Get()->sha256() != loaded[i]->sha256();
              Status rs = jobs[i].first->Swap(loaded[i]);
              if (!rs.ok()) {
                // Only an input-shape change is refused here; swaps already
                // made stay (their files did load) and count as a change.
                done.status = rs;
                break;
              }
              done.changed = done.changed || changed;
            }
            reloads_.Post(std::move(done));
          });
      return;  // answered in OnReloads
    }
    default:
      s = Status(Code::kUnknownOp, "not an admin op");
  }
  if (!s.ok()) {
    SendError(socket, env, req.id, s.code(), s.message());
    return;
  }
  spdlog::info("admin {} '{}': experiment is {}", wire::OpName(req.op), x.name(),
               experiment::StateName(x.state()));
  protocol::EncodeOkReply(req.id, &out_);
  Send(socket, env, out_);
}

void Daemon::OnReloads() {
  std::vector<ReloadDone> done;
  reloads_.Drain(&done);
  for (auto& d : done) {
    // Posting was the thread's last act: join it now rather than keep a
    // finished thread (and its stack) until shutdown.
    if (auto t = reload_threads_.find(d.ticket); t != reload_threads_.end()) {
      if (t->second.joinable()) t->second.join();
      reload_threads_.erase(t);
    }
    auto& x = engine_->experiment(d.experiment);
    NoteModelFiles(d.experiment, /*at_start=*/false);  // what serves now, for the snapshot
    if (!d.status.ok()) {
      if (d.changed) x.NewEpoch("models partly reloaded");  // a swap refused after others
      spdlog::error("reload of '{}' failed: {}", x.name(), d.status.ToString());
      SendError(admin_, d.env, d.id, d.status.code(), d.status.message());
      continue;
    }
    if (d.changed) {
      // New model files: what was learnt about the old ones no longer applies.
      x.NewEpoch("models reloaded");
      spdlog::info("reloaded models of '{}': new epoch {}", x.name(), x.epoch());
    } else {
      spdlog::info("reloaded models of '{}': files unchanged, epoch {} kept", x.name(), x.epoch());
    }
    protocol::EncodeOkReply(d.id, &out_);
    Send(admin_, d.env, out_);
  }
}

}  // namespace banditd::server
