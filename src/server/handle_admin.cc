// status and the admin ops (promote, pause, resume, reload, snapshot, ack_srm).
#include <cmath>

#include <spdlog/spdlog.h>

#include "src/experiment/status_stats.h"
#include "src/protocol/encoder.h"
#include "src/server/config_models.h"
#include "src/server/daemon.h"
#include "src/stats/hypothesis.h"

namespace banditd::server {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// What the rule's p-value is, by rule: the label status shows next to it.
struct PKind {
  std::string_view rule, label;
  bool always_valid;
};
constexpr PKind kPKinds[] = {
    {"sequential", "always-valid p (sequential, mSPRT)", true},
    {"bandit_cs", "always-valid p (sequential, betting confidence sequence)", true},
    {"bernoulli_cs", "always-valid p (sequential, mixture likelihood ratio)", true},
    {"fixed_horizon", "fixed-horizon p (valid at the planned horizon only)", false},
    {"naive_peeking", "fixed-horizon p at every look (not valid under peeking)", false},
    {"bayes", "1 - posterior probability of being better", false},
};

// The deciding rule's own figures at its last look: nothing is recomputed
// here, so status shows exactly the statistic that decides.
wire::TestReport RuleReport(const experiment::Experiment& x,
                            const std::vector<wire::ArmReport>& arms) {
  const StopDecision& d = x.last_check();
  wire::TestReport t;
  t.method = std::string(x.stopping()->name());
  t.p_kind = "p-value of rule '" + t.method + "'";
  for (const PKind& k : kPKinds) {
    if (k.rule == t.method) {
      t.p_kind = std::string(k.label);
      t.always_valid = k.always_valid;
    }
  }
  // bernoulli_cs tests the rate ratio: its difference and interval are the
  // relative lift (ratio - 1), not a difference of means (stopping.h).
  t.difference_kind = t.method == "bernoulli_cs" ? "rate ratio - 1" : "mean difference";
  t.rule_p_value = d.p_value;
  t.looks = x.looks();
  t.stop = d.stop;
  t.difference = kNaN;
  t.ci = {kNaN, kNaN};
  t.lift = kNaN;
  if (x.looks() > 0 && d.compared_arm && *d.compared_arm < arms.size()) {
    const size_t k = *d.compared_arm;
    t.compared_arm = arms[k].name;
    t.difference = d.difference;
    t.ci = {d.ci_lo, d.ci_hi};  // infinite: unbounded, sent as nil
    t.lift = experiment::Lift(arms[k].mean, arms[x.options().champion].mean);
  }
  return t;
}

}  // namespace

wire::ExperimentReport Daemon::BuildReport(size_t e) {
  const auto& x = engine_->experiment(e);
  const auto& o = x.options();
  wire::ExperimentReport r;
  r.name = x.name();
  r.mode = std::string(NameOf(o.mode));
  r.policy = std::string(x.policy().name());
  r.epoch = x.epoch();
  r.state = x.state();
  if (x.winner()) r.winner = o.arms[*x.winner()].name;
  r.reason = x.StatusReason();
  const auto& counters = x.counters();
  std::vector<experiment::ArmSums> sums;
  for (const auto& c : counters) sums.push_back({c.n, c.reward_sum, c.reward_sum_sq});
  const std::vector<double> p_best = experiment::ProbBest(o.metric, sums);
  for (size_t a = 0; a < counters.size(); ++a) {
    wire::ArmReport ar;
    ar.name = o.arms[a].name;
    ar.n = static_cast<uint64_t>(counters[a].n);
    ar.reward_sum = counters[a].reward_sum;
    ar.mean = counters[a].n > 0 ? counters[a].reward_sum / counters[a].n : kNaN;
    ar.ci95 = experiment::MeanInterval95(o.metric, sums[a]);
    ar.allocation = x.weights()[a];
    ar.p_best = p_best[a];
    ar.model_p99_ms = o.arms[a].hosts_model && counters[a].latency.count() > 0
                          ? counters[a].latency.Quantile(0.99) / 1e6
                          : kNaN;
    ar.errors = counters[a].errors;
    r.arms.push_back(std::move(ar));
  }
  if (x.stopping() != nullptr) r.test = RuleReport(x, r.arms);
  r.srm_p_value = kNaN;
  if (x.srm_applies()) {
    const stats::TestResult t = x.SrmTest();
    wire::SrmReport s;
    s.p_value = t.p_value;
    s.chi2 = t.statistic;
    s.df = t.df;
    s.periods = x.srm().periods().size();
    s.requests = static_cast<uint64_t>(x.srm().counted());
    s.alarm = x.srm_alarm();
    s.alarm_p = x.srm_alarm() ? x.srm_alarm_p() : kNaN;
    s.alarms = x.srm_alarms();
    s.acknowledged = x.srm_acks();
    s.threshold = o.srm_threshold;
    s.rewards_p_value = x.SrmRewardsTest().p_value;
    s.rewards = static_cast<uint64_t>(x.srm_rewards().counted());
    r.srm_p_value = s.p_value;
    r.srm = s;
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
    case wire::Op::kAckSrm:
      s = x.AckSrm();
      if (s.ok()) {
        spdlog::warn("experiment '{}': sample-ratio-mismatch alarm acknowledged by an operator; "
                     "the check starts afresh",
                     x.name());
      }
      break;
    case wire::Op::kReload: {
      // Loading runs off the I/O thread; requests keep flowing to the old
      // models until each new one is ready and swapped in.
      std::vector<std::pair<std::shared_ptr<model::ModelSlot>, model::ModelOptions>> jobs;
      const auto& ec = config_.experiments[*e];
      for (size_t i = 0; i < ec.arms.size(); ++i) {
        if (!slots_[*e][i]) continue;
        jobs.emplace_back(slots_[*e][i], ModelOptionsFor(ec, ec.arms[i]));
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
               NameOf(x.state()));
  // Answered once the change is durable (ResolveCheckpoints).
  auto seq = WriteCheckpoint(*e);
  if (!seq.ok()) {
    SendError(socket, env, req.id, Code::kIoError,
              "the change is in force but could not be written to the state directory (" +
                  seq.status().ToString() + "); it is written with the next checkpoint or snapshot");
    return;
  }
  admin_acks_.push_back(PendingAdminAck{*seq, std::move(env), std::string(req.id), &socket});
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
