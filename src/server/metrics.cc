// /metrics: the I/O thread renders everything once a second.
#include <cmath>

#include "src/server/daemon.h"
#include "src/telemetry/prometheus.h"

namespace banditd::server {

void Daemon::PublishMetrics() {
  CollectFromIoThreads();
  telemetry::PrometheusText t;
  const auto proc = telemetry::ReadProcessStats();
  t.Family("banditd_process_resident_memory_bytes", "gauge", "Resident set size.");
  t.Sample("banditd_process_resident_memory_bytes", {}, proc.rss_bytes);
  t.Family("banditd_process_cpu_seconds_total", "counter", "User + system CPU time.");
  t.Sample("banditd_process_cpu_seconds_total", {}, proc.cpu_seconds);
  t.Family("banditd_process_threads", "gauge", "Threads of the process.");
  t.Sample("banditd_process_threads", {}, proc.threads);
  // Frames the extra I/O threads forwarded were counted again when the
  // main thread read them from the relays.
  uint64_t frames = frames_, refused_by_threads = 0;
  for (const auto& th : io_threads_) {
    const RouteThreadStats& st = th->stats();
    frames +=
        st.frames.load(std::memory_order_relaxed) - st.forwarded.load(std::memory_order_relaxed);
    refused_by_threads += st.refused.load(std::memory_order_relaxed);
  }
  t.Family("banditd_frames_total", "counter", "Frames received on all sockets.");
  t.Sample("banditd_frames_total", {}, static_cast<double>(frames));
  if (!io_threads_.empty()) {
    t.Family("banditd_io_thread_requests_total", "counter",
             "Requests read by each extra api I/O thread: answered there (routed, refused) "
             "or forwarded to the main I/O thread.");
    for (size_t i = 0; i < io_threads_.size(); ++i) {
      const RouteThreadStats& st = io_threads_[i]->stats();
      const std::string thread = std::to_string(i + 1);
      for (auto [result, n] :
           {std::pair{"routed", &st.routed}, std::pair{"forwarded", &st.forwarded},
            std::pair{"refused", &st.refused}}) {
        t.Sample("banditd_io_thread_requests_total", {{"thread", thread}, {"result", result}},
                 static_cast<double>(n->load(std::memory_order_relaxed)));
      }
    }
  }

  t.Family("banditd_replies_dropped_total", "counter",
           "Replies dropped, by reason: reply_memory (over limits.max_unsent_reply_bytes).");
  t.Sample("banditd_replies_dropped_total", {{"reason", "reply_memory"}},
           static_cast<double>(reply_budget_.dropped()));
  t.Family("banditd_unsent_reply_bytes", "gauge",
           "Memory charged to replies libzmq has not written to their clients yet.");
  t.Sample("banditd_unsent_reply_bytes", {}, static_cast<double>(reply_budget_.bytes()));
  t.Family("banditd_unsent_reply_max_bytes", "gauge",
           "The bound of banditd_unsent_reply_bytes (limits.max_unsent_reply_bytes).");
  t.Sample("banditd_unsent_reply_max_bytes", {}, static_cast<double>(reply_budget_.max_bytes()));

  if (!connections_.empty()) {
    t.Family("banditd_connections_accepted_total", "counter",
             "Connections accepted, by socket (without CURVE).");
    t.Family("banditd_disconnects_total", "counter",
             "Connections closed, by socket (without CURVE): by the peer, or by libzmq for a "
             "frame over ZMQ_MAXMSGSIZE (libzmq reports both alike).");
    for (const auto& c : connections_) {
      c->Poll();
      t.Sample("banditd_connections_accepted_total", {{"socket", c->name()}},
               static_cast<double>(c->accepted()));
      t.Sample("banditd_disconnects_total", {{"socket", c->name()}},
               static_cast<double>(c->disconnected()));
    }
  }

  t.Family("banditd_errors_total", "counter", "Requests refused, by error code.");
  bool bad_request_seen = false;
  for (const auto& [code, n] : errors_by_code_) {
    const bool bad = code == CodeName(Code::kBadRequest);
    bad_request_seen = bad_request_seen || bad;
    t.Sample("banditd_errors_total", {{"code", code}},
             static_cast<double>(n + (bad ? refused_by_threads : 0)));
  }
  if (!bad_request_seen && refused_by_threads > 0) {
    t.Sample("banditd_errors_total", {{"code", std::string(CodeName(Code::kBadRequest))}},
             static_cast<double>(refused_by_threads));
  }
  t.Family("banditd_rewards_total", "counter",
           "Rewards by result: accepted (durable and applied) or the refusal code.");
  for (const auto& [result, n] : rewards_by_result_) {
    t.Sample("banditd_rewards_total", {{"result", result}}, static_cast<double>(n));
  }
  if (zap_) {
    AuthCounts counts[kAuthDomains.size()];
    for (size_t i = 0; i < kAuthDomains.size(); ++i) {
      counts[i] = zap_->counts(static_cast<AuthSocket>(i));
    }
    t.Family("banditd_auth_accepted_total", "counter",
             "CURVE clients admitted by the ZAP handler, by socket.");
    for (size_t i = 0; i < kAuthDomains.size(); ++i) {
      t.Sample("banditd_auth_accepted_total", {{"socket", kAuthDomains[i]}},
               static_cast<double>(counts[i].accepted));
    }
    t.Family("banditd_auth_refused_total", "counter",
             "Clients refused, by socket and reason: key (not in the socket's allowlist) or "
             "handshake (no CURVE, or another server key).");
    for (size_t i = 0; i < kAuthDomains.size(); ++i) {
      t.Sample("banditd_auth_refused_total", {{"socket", kAuthDomains[i]}, {"reason", "key"}},
               static_cast<double>(counts[i].refused_key));
      t.Sample("banditd_auth_refused_total", {{"socket", kAuthDomains[i]}, {"reason", "handshake"}},
               static_cast<double>(counts[i].refused_handshake));
    }
  }
  const Status wal = store_->wal().health();
  t.Family("banditd_wal_healthy", "gauge", "1 while the WAL accepts writes; 0 after a failure.");
  t.Sample("banditd_wal_healthy", {}, wal.ok() ? 1 : 0);
  t.Family("banditd_wal_fsyncs_total", "counter", "fsync calls of the WAL.");
  t.Sample("banditd_wal_fsyncs_total", {}, static_cast<double>(store_->wal().syncs()));
  t.Family("banditd_wal_backlog_records", "gauge",
           "Rewards waiting to be written to the WAL (bounded by durability.max_backlog).");
  t.Sample("banditd_wal_backlog_records", {}, static_cast<double>(store_->wal().backlog()));
  t.Family("banditd_wal_dropped_records_total", "counter",
           "WAL records dropped by a failed write (their rewards were refused, never acked).");
  t.Sample("banditd_wal_dropped_records_total", {},
           static_cast<double>(store_->wal().dropped_records()));
  t.Family("banditd_wal_resumed_total", "counter",
           "Times the WAL took writes again by itself after a failure (e.g. disk space back).");
  t.Sample("banditd_wal_resumed_total", {}, static_cast<double>(store_->wal().recoveries()));
  t.Family("banditd_snapshot_failures_total", "counter", "Snapshots that could not be written.");
  t.Sample("banditd_snapshot_failures_total", {}, static_cast<double>(snapshot_failures_));
  const state::DecisionLogStats dl = decision_log_->stats();
  const state::DecisionLogState dl_state = decision_log_->state();
  t.Family("banditd_decision_log_writing", "gauge",
           "1 while the decision log writes; 0 while it is stopped (see ..._stopped).");
  t.Sample("banditd_decision_log_writing", {},
           dl_state == state::DecisionLogState::kWriting ? 1 : 0);
  t.Family("banditd_decision_log_stopped", "gauge",
           "1 for the reason the decision log is stopped: disk_reserve (free space below "
           "decision_log.min_free_bytes) or write_error.");
  t.Family("banditd_decision_log_dropped_total", "counter",
           "Decision-log lines dropped while stopped, by reason.");
  for (auto [state, dropped] :
       {std::pair{state::DecisionLogState::kStoppedDiskReserve, dl.dropped_disk_reserve},
        std::pair{state::DecisionLogState::kStoppedWriteError, dl.dropped_write_error}}) {
    const std::string reason(state::DecisionLogStateName(state));
    t.Sample("banditd_decision_log_stopped", {{"reason", reason}}, dl_state == state ? 1 : 0);
    t.Sample("banditd_decision_log_dropped_total", {{"reason", reason}},
             static_cast<double>(dropped));
  }
  t.Family("banditd_decision_log_lines_total", "counter",
           "Lines handed to the decision log (written or dropped).");
  t.Sample("banditd_decision_log_lines_total", {}, static_cast<double>(dl.lines));
  t.Family("banditd_decision_log_write_errors_total", "counter", "Failed decision-log writes.");
  t.Sample("banditd_decision_log_write_errors_total", {}, static_cast<double>(dl.write_errors));
  t.Family("banditd_decision_log_bytes", "gauge", "Size of the decision-log files in state_dir.");
  t.Sample("banditd_decision_log_bytes", {}, static_cast<double>(dl.bytes));
  t.Family("banditd_decision_log_removed_files_total", "counter",
           "Decision-log files removed by retention (max_bytes, max_age).");
  t.Sample("banditd_decision_log_removed_files_total", {}, static_cast<double>(dl.files_removed));
  t.Family("banditd_decision_log_removed_bytes_total", "counter",
           "Bytes of the decision-log files removed by retention.");
  t.Sample("banditd_decision_log_removed_bytes_total", {}, static_cast<double>(dl.bytes_removed));
  t.Family("banditd_pending", "gauge", "Work in flight, by kind.");
  t.Sample("banditd_pending", {{"kind", "inference"}}, static_cast<double>(routes_.size()));
  t.Sample("banditd_pending", {{"kind", "reward_writes"}}, static_cast<double>(unapplied_.size()));
  t.Family("banditd_reward_ledger_size", "gauge",
           "Decisions rewarded inside the reward window (kept for de-duplication).");
  t.Sample("banditd_reward_ledger_size", {}, static_cast<double>(engine_->ledger().size()));

  // Contextual experiments: the store of decisions' contexts (docs/contextual.md).
  t.Family("banditd_context_store_entries", "gauge",
           "Contexts kept for decisions waiting for their rewards.");
  t.Family("banditd_context_store_bytes", "gauge", "Memory charged to the kept contexts.");
  t.Family("banditd_context_store_max_bytes", "gauge", "The context store's configured bound.");
  t.Family("banditd_context_store_evictions_total", "counter",
           "Contexts dropped (oldest first) to stay within the bound.");
  t.Family("banditd_rewards_without_context_total", "counter",
           "Rewards applied to the counters only: their decision's context was not kept.");
  for (size_t e = 0; e < engine_->num_experiments(); ++e) {
    const auto& x = engine_->experiment(e);
    if (x.context_dim() == 0) continue;
    const auto& c = x.contexts();
    t.Sample("banditd_context_store_entries", {{"experiment", x.name()}},
             static_cast<double>(c.entries()));
    t.Sample("banditd_context_store_bytes", {{"experiment", x.name()}},
             static_cast<double>(c.bytes()));
    t.Sample("banditd_context_store_max_bytes", {{"experiment", x.name()}},
             static_cast<double>(c.max_bytes()));
    t.Sample("banditd_context_store_evictions_total", {{"experiment", x.name()}},
             static_cast<double>(c.evictions()));
    t.Sample("banditd_rewards_without_context_total", {{"experiment", x.name()}},
             static_cast<double>(x.rewards_without_context()));
  }

  // Sample-ratio mismatch (docs/operations.md, "Sample-ratio mismatch").
  t.Family("banditd_srm_p_value", "gauge",
           "p-value of the per-period sample-ratio-mismatch test since the last "
           "acknowledgement (NaN until a period is large enough).");
  t.Family("banditd_srm_alarm", "gauge",
           "1 while a sample-ratio-mismatch alarm is active (the stopping rule's decisions are "
           "held until ack_srm).");
  t.Family("banditd_srm_alarms_total", "counter", "Sample-ratio-mismatch alarms fired.");
  t.Family("banditd_srm_rewards_p_value", "gauge",
           "p-value of the same test on the rewards' arms (srm.rewards; NaN until large enough).");
  for (size_t e = 0; e < engine_->num_experiments(); ++e) {
    const auto& x = engine_->experiment(e);
    if (!x.srm_applies()) continue;
    t.Sample("banditd_srm_p_value", {{"experiment", x.name()}}, x.SrmTest().p_value);
    if (x.options().srm_rewards) {
      t.Sample("banditd_srm_rewards_p_value", {{"experiment", x.name()}},
               x.SrmRewardsTest().p_value);
    }
    t.Sample("banditd_srm_alarm", {{"experiment", x.name()}}, x.srm_alarm() ? 1 : 0);
    t.Sample("banditd_srm_alarms_total", {{"experiment", x.name()}},
             static_cast<double>(x.srm_alarms()));
  }

  t.Family("banditd_experiment_state", "gauge", "1 for the experiment's current state.");
  t.Family("banditd_epoch", "gauge", "The experiment's epoch.");
  for (size_t e = 0; e < engine_->num_experiments(); ++e) {
    const auto& x = engine_->experiment(e);
    t.Sample("banditd_experiment_state",
             {{"experiment", x.name()}, {"state", NameOf(x.state())}}, 1);
    t.Sample("banditd_epoch", {{"experiment", x.name()}}, x.epoch());
  }
  struct Series {
    const char* name;
    const char* type;
    const char* help;
  };
  const Series per_arm[] = {
      {"banditd_requests_total", "counter", "Requests routed to the arm."},
      {"banditd_forced_total", "counter", "Requests that forced the arm."},
      {"banditd_model_errors_total", "counter", "Model failures while serving."},
      {"banditd_arm_rewards_total", "counter", "Rewards applied to the arm."},
      {"banditd_arm_reward_sum", "counter", "Sum of the arm's rewards."},
      {"banditd_allocation", "gauge", "Current share of traffic."},
      {"banditd_posterior_mean", "gauge", "The policy's estimate of the arm's mean reward."},
      {"banditd_output_mean", "gauge", "Mean of the model's first output value."},
      {"banditd_output_stddev", "gauge", "Standard deviation of the model's first output value."},
  };
  for (size_t s = 0; s < std::size(per_arm); ++s) {
    t.Family(per_arm[s].name, per_arm[s].type, per_arm[s].help);
    for (size_t e = 0; e < engine_->num_experiments(); ++e) {
      const auto& x = engine_->experiment(e);
      std::vector<ArmEstimate> est(x.num_arms());
      x.policy().Estimates(est);
      for (size_t a = 0; a < x.num_arms(); ++a) {
        const auto& c = x.counters()[a];
        const auto& out = outputs_[e][a];
        const double mean = out.count ? out.sum / out.count : 0;
        double v = 0;
        switch (s) {
          case 0:
            v = static_cast<double>(c.requests);
            break;
          case 1:
            v = static_cast<double>(c.forced);
            break;
          case 2:
            v = static_cast<double>(c.errors);
            break;
          case 3:
            v = c.n;
            break;
          case 4:
            v = c.reward_sum;
            break;
          case 5:
            v = x.weights()[a];
            break;
          case 6:
            v = est[a].mean;
            break;
          case 7:
            v = mean;
            break;
          case 8:
            v = out.count > 1 ? std::sqrt(std::max(0.0, out.sum_sq / out.count - mean * mean)) : 0;
            break;
        }
        t.Sample(per_arm[s].name, {{"experiment", x.name()}, {"arm", x.options().arms[a].name}}, v);
      }
    }
  }
  t.Family("banditd_model_latency_seconds", "histogram", "Model forward latency per arm.");
  t.Family("banditd_output_bucket_total", "counter",
           "First output value per arm in tenths of [0, 1] (bucket 'other' outside it).");
  for (size_t e = 0; e < engine_->num_experiments(); ++e) {
    const auto& x = engine_->experiment(e);
    for (size_t a = 0; a < x.num_arms(); ++a) {
      if (!x.options().arms[a].hosts_model) continue;
      const std::string& arm = x.options().arms[a].name;
      t.Histogram("banditd_model_latency_seconds", {{"experiment", x.name()}, {"arm", arm}},
                  x.counters()[a].latency,
                  {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25});
      static const char* kBuckets[] = {"0.0", "0.1", "0.2", "0.3", "0.4",  "0.5",
                                       "0.6", "0.7", "0.8", "0.9", "other"};
      for (size_t b = 0; b < 11; ++b) {
        t.Sample("banditd_output_bucket_total",
                 {{"experiment", x.name()}, {"arm", arm}, {"from", kBuckets[b]}},
                 static_cast<double>(outputs_[e][a].deciles[b]));
      }
    }
  }
  metrics_.AppendMetrics(&t);
  metrics_.Publish(t.Take());
}

}  // namespace banditd::server
