// The banditd daemon: one I/O thread owns the ZeroMQ sockets,
// the Engine, the WAL and the decision log; inference runs on a worker pool;
// the WAL writes on its own thread; /metrics is served by its own thread from
// text the I/O thread publishes; with CURVE, a ZAP handler thread (zap.h)
// admits or refuses each connection before it reaches the sockets. With
// sockets.api_extra, each extra api endpoint has an I/O thread of its own that
// answers route-only routes from published views of the allocations and
// forwards everything else here (route_thread.h).
//
//   api (ROUTER)     route, reward (acked when durable), rewards, status
//   rewards (PULL)   reward / rewards, fire-and-forget
//   admin (ROUTER)   promote, pause, resume, reload, snapshot, ack_srm (and status)
#pragma once

#include <poll.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "banditd/clock.h"
#include "banditd/model.h"
#include "banditd/status.h"
#include "banditd/wire.h"
#include "src/config/config.h"
#include "src/experiment/engine.h"
#include "src/protocol/decoder.h"
#include "src/server/connection_counter.h"
#include "src/server/mailbox.h"
#include "src/server/reply_budget.h"
#include "src/server/route_thread.h"
#include "src/server/route_view.h"
#include "src/server/zap.h"
#include "src/state/decision_log.h"
#include "src/state/store.h"
#include "src/telemetry/metrics_server.h"

namespace banditd::server {

// The daemon's WAL record types (docs/operations.md, The state directory).
inline constexpr uint8_t kRewardRecord = 1;      // Engine::EncodeReward
inline constexpr uint8_t kCheckpointRecord = 2;  // Engine::EncodeCheckpoint

// Freed heap glibc may keep instead of returning it to the OS (set by
// banditd's main as M_TRIM_THRESHOLD); a burst of unsent replies larger than
// this is handed back explicitly once it drained (Daemon::TrimAfterReplyBurst).
inline constexpr int kKeptFreeHeapBytes = 8 << 20;

struct DaemonFlags {
  bool repair = false;    // keep what precedes a corrupt WAL record
  bool insecure = false;  // allow non-loopback binds without CURVE
  int64_t snapshot_interval_ms = 60'000;
  int64_t shutdown_grace_ms = 4'000;  // in-flight work finishes within this
};

// Per-arm telemetry that is not learning state.
struct OutputStats {
  uint64_t count = 0;
  double sum = 0, sum_sq = 0;
  std::array<uint64_t, 11> deciles{};  // first output value in [0,0.1), ..., [0.9,1], other
};

class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> Create(const config::Config& config,
                                                const DaemonFlags& flags, Clock& clock);
  ~Daemon();

  // Serves until Stop(); then finishes in-flight work, writes a snapshot and
  // returns the process exit code (0 on a clean stop).
  int Run();
  // Thread- and async-signal-safe.
  void Stop();
  // Re-reads the CURVE client key directories (SIGHUP); no-op without CURVE.
  // Thread- and async-signal-safe.
  void ReloadKeys();

  // Endpoints as bound (ephemeral tcp ports resolved), also written to
  // <state_dir>/endpoints for tools and tests.
  const std::string& api_endpoint() const { return api_endpoint_; }
  const std::string& rewards_endpoint() const { return rewards_endpoint_; }
  const std::string& admin_endpoint() const { return admin_endpoint_; }
  const std::vector<std::string>& api_extra_endpoints() const { return api_extra_endpoints_; }
  int metrics_port() const { return metrics_.port(); }

 private:
  // The routing frames of a request (at most kMaxFrames), echoed before its
  // reply. They are kept back to back in one string: ROUTER's own peer ids
  // are 5 bytes, and any envelope of up to 15 bytes in all fits std::string's
  // inline buffer, so an ordinary request's envelope does not touch the heap.
  // Longer client-chosen routing ids allocate once.
  struct Envelope {
    static constexpr size_t kMaxFrames = 3;
    std::string bytes;
    std::array<uint32_t, kMaxFrames> sizes{};
    uint32_t count = 0;
    void Add(const void* data, size_t size) {
      bytes.append(static_cast<const char*>(data), size);
      sizes[count++] = static_cast<uint32_t>(size);
    }
  };
  struct PendingRoute {
    Envelope env;
    std::string id;  // raw msgpack of the client's id
    experiment::Decision decision;
    std::vector<float> input;  // kept for the champion fallback
    size_t served_arm = 0;
    bool fallback = false;
    int64_t start_ns = 0;
    // When the champion answers for a failed challenger: a forced decision of
    // the champion (propensity 1), so a reward is credited to the arm that
    // served and does not teach the policy.
    std::optional<experiment::Decision> fallback_decision;
    std::vector<double> context;      // the request's context, for the decision log
    zmq::socket_t* socket = nullptr;  // where the reply goes (api, or a relay)
  };
  struct PendingShadow {
    size_t experiment = 0;
    size_t arm = 0;
    std::string decision;
  };
  struct PendingReward {
    uint64_t seq = 0;
    experiment::PendingReward reward;
  };
  struct PendingAck {
    // The WAL records of its accepted rewards: first_seq..last_seq, in the
    // order of accepted_ids (a batch). Answered once all are resolved.
    uint64_t first_seq = 0;
    uint64_t last_seq = 0;
    std::vector<std::string> accepted_ids;  // batches only
    bool reply = true;      // false: fire-and-forget
    bool batch = false;
    Envelope env;
    std::string id;
    uint64_t accepted = 0;
    std::vector<std::string> rejected_ids;
    std::vector<Code> rejected_codes;
    zmq::socket_t* socket = nullptr;  // where the ack goes (api, or a relay)
  };
  struct ReloadDone {
    uint64_t ticket = 0;  // key of the thread in reload_threads_
    size_t experiment = 0;
    Envelope env;
    std::string id;
    Status status;
    bool changed = false;
  };

  Daemon(const config::Config& config, const DaemonFlags& flags, Clock& clock);
  Status Init();
  Status SetUpCurve();
  Status BindSockets();
  Status Recover();
  // Start-up warning for each experiment whose stopping.min_duration is 0.
  void WarnAboutTimeGuards() const;
  // Records experiment e's model files' sha256 in its state; at start-up, a
  // file that changed since the snapshot starts a new epoch (logged).
  void NoteModelFiles(size_t e, bool at_start);
  Status StartIoThreads();

  // I/O loop pieces.
  void PollOnce(int timeout_ms);
  // Each receives and handles one message; false when none was waiting.
  bool OnApiMessage(zmq::socket_t& socket, bool admin_socket);
  bool OnPullMessage();
  void HandleRoute(const wire::Request& req, Envelope env, zmq::socket_t& socket);
  // `reply_socket` null: fire-and-forget (rewards socket).
  void HandleReward(const wire::Request& req, Envelope env, zmq::socket_t* reply_socket);
  void HandleStatus(const wire::Request& req, const Envelope& env, zmq::socket_t& socket);
  void HandleAdmin(const wire::Request& req, Envelope env, zmq::socket_t& socket);
  void OnInferenceResults();
  // Applies and acknowledges what the WAL resolved, up to sequence `limit`.
  void OnWalProgress(uint64_t limit = UINT64_MAX);
  // Whether WAL record `seq` was dropped by a failed write (wal_dropped_).
  bool WalDropped(uint64_t seq) const;
  void OnReloads();
  void Periodic();
  // Extra I/O threads: republish the views of changed allocations; fold the
  // requests they routed into the experiments and take their log lines.
  void PublishViews();
  void CollectFromIoThreads();
  Status WriteSnapshot();
  // Checkpoints (Engine::EncodeCheckpoint): `urgent` lists experiments whose
  // state just changed; the others are written when they looked or routed
  // since their last one and a second has passed.
  void WriteCheckpoints(const std::vector<size_t>& urgent);
  Result<uint64_t> WriteCheckpoint(size_t exp);
  // Answers the admin ops whose checkpoint the WAL resolved (up to `resolved`)
  // and forgets the marks of dropped checkpoints so they are written again.
  void ResolveCheckpoints(uint64_t resolved);
  void PublishMetrics();
  // Returns false when the final snapshot could not be written.
  bool Shutdown();

  void Send(zmq::socket_t& socket, const Envelope& env, const std::string& payload);
  // Gives the allocator's free pages back to the OS once a burst of unsent
  // replies has drained.
  void TrimAfterReplyBurst();
  // Gives the allocator's free pages back to the OS (glibc keeps them): after
  // a reply burst, recovery and each snapshot, whose transient buffers would
  // otherwise set the process's RSS for the rest of its life.
  void ReturnFreedMemory();
  void CountRewardRefusal(const wire::Request& req, const Status& decode_status);
  void SendError(zmq::socket_t& socket, const Envelope& env, std::string_view id, Code code,
                 std::string_view message);
  void RecordRouteReply(size_t exp, size_t arm);
  wire::ExperimentReport BuildReport(size_t exp);
  void LogStateChange(size_t exp);
  // The decision log's E line of each experiment (at start, at a new epoch)
  // and an L line after each look of its rule: with them `bandit-sim
  // export-events` knows the champion and where the rule looked.
  void LogLooks();

  config::Config config_;
  DaemonFlags flags_;
  Clock& clock_;
  std::unique_ptr<experiment::Engine> engine_;
  std::unique_ptr<state::StateStore> store_;
  std::unique_ptr<state::DecisionLog> decision_log_;
  telemetry::MetricsServer metrics_;

  // Before the context: libzmq releases the last replies while it closes.
  ReplyBudget reply_budget_{config_.limits.max_unsent_reply_bytes};
  zmq::context_t ctx_;
  zmq::socket_t api_, pull_, admin_;
  std::string api_endpoint_, rewards_endpoint_, admin_endpoint_;
  // With CURVE: authenticates clients of the three sockets. Stopped only
  // after they are closed (see zap.h).
  std::unique_ptr<ZapHandler> zap_;
  // Without CURVE: the sockets' connections, counted from socket monitors
  // (with CURVE each socket's one monitor is the ZAP handler's).
  std::vector<std::unique_ptr<ConnectionCounter>> connections_;
  protocol::Decoder decoder_;
  std::string out_;                     // reused reply buffer
  ReplySender replies_{reply_budget_};  // the main I/O thread's replies
  int64_t reply_peak_ = 0;              // most bytes charged since the last trim
  // Receive buffers, reused: a request's frames (routing frames + body), and
  // where frames beyond them are dropped.
  std::array<zmq::message_t, Envelope::kMaxFrames + 1> parts_;
  zmq::message_t excess_;
  // The sockets the I/O loop reads: api, rewards, admin, then the main end
  // of each extra I/O thread's relay (read like api). The poll set
  // (PollOnce): their ZMQ_FDs, then the eventfds of the completions, WAL
  // progress, reloads and stop mailboxes.
  static constexpr size_t kApi = 0, kPull = 1, kAdmin = 2;
  std::vector<zmq::socket_t*> sockets_;
  std::vector<struct pollfd> pollfds_;
  // Per socket: messages may wait, so the next round tries to receive
  // without waiting on its fd first.
  std::vector<uint8_t> try_recv_;

  // Extra I/O threads (sockets.api_extra): their ROUTER sockets until they
  // start, the relays' main ends, the views they read, their log lines.
  std::vector<zmq::socket_t> extra_routers_;
  std::vector<std::string> api_extra_endpoints_;
  std::vector<std::unique_ptr<zmq::socket_t>> relays_;
  std::unique_ptr<ViewBoard> views_;
  std::vector<std::unique_ptr<RouteThread>> io_threads_;
  Mailbox<LogChunk> io_thread_log_;
  std::vector<uint8_t> any_model_;  // per experiment: some arm hosts a model

  // Models: slots_[experiment][arm], null for route-only arms.
  std::vector<std::vector<std::shared_ptr<model::ModelSlot>>> slots_;
  std::unique_ptr<model::InferencePool> pool_;
  model::CompletionQueue completions_;
  std::vector<model::InferenceResult> results_;
  uint64_t next_tag_ = 1;
  std::unordered_map<uint64_t, PendingRoute> routes_;
  std::unordered_map<uint64_t, PendingShadow> shadows_;
  // inference.spin: while results are due, the loop does not sleep until here.
  int64_t spin_until_ns_ = 0;

  Mailbox<int> wal_wake_;
  Mailbox<ReloadDone> reloads_;
  Mailbox<int> stop_wake_;
  std::atomic<bool> stop_{false};
  std::deque<PendingReward> unapplied_;
  std::deque<PendingAck> acks_;
  // What an experiment's last checkpoint held, to see when it is due again.
  struct CheckpointMark {
    uint16_t epoch = 0;
    int state = -1;
    bool srm_alarm = false;
    uint64_t srm_alarms = 0, srm_acks = 0, looks = 0, routed = 0;
    uint64_t seq = 0;      // its WAL record
    int64_t at_ns = 0;
    // Changes that are written at once (state, epoch, SRM alarm, an op).
    bool SameState(const CheckpointMark& o) const {
      return epoch == o.epoch && state == o.state && srm_alarm == o.srm_alarm &&
             srm_alarms == o.srm_alarms && srm_acks == o.srm_acks;
    }
  };
  CheckpointMark MarkOf(size_t exp) const;
  std::vector<CheckpointMark> checkpointed_;
  struct LoggedLooks {
    int epoch = -1;  // -1: no E line yet
    uint64_t looks = 0;
  };
  std::vector<LoggedLooks> logged_looks_;
  // Admin ops answered once their checkpoint is durable.
  struct PendingAdminAck {
    uint64_t seq = 0;
    Envelope env;
    std::string id;
    zmq::socket_t* socket = nullptr;
  };
  std::deque<PendingAdminAck> admin_acks_;
  uint64_t wal_seq_seen_ = 0;
  // WAL records dropped by a failed write, not yet matched to their rewards.
  std::deque<state::SeqRange> wal_dropped_;
  bool wal_failed_logged_ = false;
  uint64_t snapshot_failures_ = 0;

  // Telemetry owned by the I/O thread.
  std::vector<std::vector<OutputStats>> outputs_;
  std::unordered_map<std::string, uint64_t> errors_by_code_;
  std::unordered_map<std::string, uint64_t> rewards_by_result_;
  uint64_t frames_ = 0;
  int64_t last_tick_ns_ = 0, last_flush_ns_ = 0, last_snapshot_ns_ = 0, last_metrics_ns_ = 0;
  // Reload threads by ticket; each is joined when its ReloadDone arrives.
  std::unordered_map<uint64_t, std::thread> reload_threads_;
  uint64_t next_reload_ticket_ = 1;
};

}  // namespace banditd::server
