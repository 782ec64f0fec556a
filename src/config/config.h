// The daemon's configuration as typed values (docs/config.md documents every
// key and its default). LoadConfigFile (src/config/loader.h) fills these from
// YAML and validates them; code that receives a Config may assume it valid.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "banditd/params.h"
#include "banditd/policy.h"
#include "banditd/stopping.h"
#include "banditd/vocabulary.h"

namespace banditd::config {

struct SocketsConfig {
  std::string api = "tcp://127.0.0.1:5555";      // ROUTER: route, reward, rewards, status
  std::string rewards = "tcp://127.0.0.1:5556";  // PULL: fire-and-forget reward(s)
  std::string admin = "tcp://127.0.0.1:5557";    // ROUTER: promote, pause, resume, reload, snapshot
  std::string metrics = "127.0.0.1:9464";        // host:port of the Prometheus /metrics endpoint
  // More api ROUTER endpoints, each served by an I/O thread of its own
  // (src/server/route_thread.h); clients may connect to all of them.
  std::vector<std::string> api_extra;
};

// ZeroMQ CURVE. Empty server_secret_key_file: CURVE is off,
// and only loopback/ipc/inproc endpoints may be bound without --insecure.
struct SecurityConfig {
  std::string server_secret_key_file;  // Z85 secret key of the server
  std::string api_client_keys_dir;     // allowed client public keys for api + rewards
  std::string admin_client_keys_dir;   // allowed client public keys for admin

  bool curve() const { return !server_secret_key_file.empty(); }
};

struct DurabilityConfig {
  // always: fsync each acked reward before its ack; group: one fsync per
  // window for every ack pending in it; none: never fsync (acks mean "applied").
  Durability mode = Durability::kGroup;
  std::chrono::milliseconds group_window{2};
  // Rewards accepted but not yet written; beyond it rewards on api get
  // `overloaded` and the rewards socket is read no further (its senders wait
  // at the high-water mark) until half of it has drained.
  int64_t max_backlog = 65'536;
};

struct InferenceConfig {
  int64_t workers = 2;                             // inference worker threads
  int64_t intra_op_threads = 1;                    // torch intra-op threads, set once at start-up
  bool batching = false;                           // micro-batching of requests for the same model
  int64_t max_batch = 8;                           // requests per batch when batching
  std::chrono::microseconds max_queue_delay{200};  // longest a request waits for a batch
  // Busy-wait instead of sleeping, this long: an idle worker for its next job,
  // and the I/O loop for the results of inference in flight (0: off).
  std::chrono::microseconds spin{0};
};

struct LimitsConfig {
  size_t max_frame_bytes = 1 << 20;      // ZMQ_MAXMSGSIZE and wire::DecodeLimits::max_frame_bytes
  int64_t max_pending_inference = 1024;  // beyond this, route requests get `overloaded`
  // Memory for replies libzmq has not written to their clients yet, all peers
  // together (src/server/reply_budget.h); replies beyond it are dropped.
  size_t max_unsent_reply_bytes = size_t{64} << 20;
  // The /metrics HTTP endpoint (src/telemetry/metrics_server.h): open
  // connections beyond the cap are closed at once; each deadline is absolute.
  int64_t http_max_connections = 64;
  std::chrono::milliseconds http_request_timeout{5000};  // request line + headers
  std::chrono::milliseconds http_idle_timeout{10000};    // keep-alive pause
  std::chrono::milliseconds http_write_timeout{10000};   // one whole response
  int64_t http_max_request_bytes = 8192;                 // request line + headers
};

// The decision log's share of state_dir (docs/operations.md, "Behaviour on a
// full disk"): retention of its files and the free space it leaves the WAL.
struct DecisionLogConfig {
  uint64_t max_bytes = uint64_t{1} << 30;                         // all decisions-*.tsv together
  std::chrono::milliseconds max_age{std::chrono::hours(24 * 7)};  // 0: no age limit
  uint64_t min_free_bytes = uint64_t{256} << 20;  // below this free space, stop writing
  uint64_t rotate_bytes = uint64_t{256} << 20;    // at most max_bytes / 4 in effect
};

struct ModelConfig {
  std::string path;                  // absolute after loading
  std::vector<int64_t> input_shape;  // without the batch dimension; every dim >= 1
  std::string sha256;                // lowercase hex, or empty: not pinned
};

struct ArmConfig {
  std::string name;
  bool champion = false;
  std::optional<ModelConfig> model;  // none: route-only arm
};

struct StoppingConfig {
  // fixed_horizon | naive_peeking | sequential | bayes | bandit_cs; empty when
  // the experiment has no `stopping` map (an operator decides).
  std::string rule = "sequential";
  Params params;  // validated by MakeStoppingRule when the experiment starts
  // stopping.min_duration: the rule decides nothing before the experiment
  // has run this long (7 days unless set; an explicit 0 is allowed, with a
  // start-up warning). Given to the rule as its parameter `min_duration`.
  std::chrono::seconds min_duration{7 * 24 * 3600};
};

// srm: the sample-ratio-mismatch alarm (docs/operations.md).
struct SrmConfig {
  double threshold = 0.001;  // an alarm fires when the test's p-value falls below this
  // Also test the rewards' arms against their decisions' allocations (two
  // arms; for applications that report a reward for every decision).
  bool rewards = false;
};

// Guardrails compare each challenger with the champion.
struct GuardrailsConfig {
  double max_error_rate_ratio = 2.0;   // challenger error rate / champion's
  double max_p99_latency_ratio = 3.0;  // challenger p99 model latency / champion's
  int64_t min_samples = 200;           // requests per arm before a guardrail may trip
};

struct RefreshConfig {
  std::chrono::milliseconds interval{1000};  // recompute allocation weights this often
  int64_t every_rewards = 0;                 // ... and after this many rewards (0: off)
};

struct ExperimentConfig {
  std::string name;
  Mode mode = Mode::kBandit;
  Metric metric = Metric::kBernoulli;
  std::string policy = "thompson";
  Params policy_params;
  size_t context_dim = 0;  // > 0 for contextual policies
  // Contextual policies: bound of the store that keeps each decision's
  // context until its reward, 64 KiB – 1 GiB.
  size_t context_store_max_bytes = size_t{64} << 20;
  TrafficLimits traffic;        // traffic.champion is the champion arm's index
  std::vector<double> weights;  // mode ab: static weights, one per arm, summing to 1
  double canary_share = 0.05;   // mode canary: challengers' total share
  std::vector<ArmConfig> arms;  // >= 2; exactly one champion
  StoppingConfig stopping;
  SrmConfig srm;
  GuardrailsConfig guardrails;
  OnDecision on_decision = kDefaultOnDecision;
  RefreshConfig refresh;
  std::string salt;  // assignment hash salt; defaults to the name

  size_t champion() const { return traffic.champion; }
  // What MakePolicy needs to build this experiment's policy.
  PolicySpec policy_spec() const {
    return PolicySpec{policy, arms.size(), context_dim, policy_params, traffic};
  }
};

struct Config {
  std::string source;  // the file it came from (absolute), or "<string>"
  SocketsConfig sockets;
  SecurityConfig security;
  std::string state_dir;  // absolute after loading
  std::string model_dir;  // absolute; relative model paths resolve against it
  DurabilityConfig durability;
  std::chrono::milliseconds reward_window{std::chrono::hours(24)};
  InferenceConfig inference;
  LimitsConfig limits;
  std::string log_level = "info";  // trace | debug | info | warn | error | critical | off
  DecisionLogConfig decision_log;
  std::vector<ExperimentConfig> experiments;
};


// True for endpoints that only the local host can reach: tcp on 127.0.0.1,
// [::1] or localhost, and every ipc:// or inproc:// endpoint.
bool IsLocalEndpoint(std::string_view endpoint);

// What banditd exposes beyond this host without protection: a ZeroMQ
// endpoint that is not local while CURVE is off, or a /metrics endpoint
// (HTTP, never covered by CURVE) on a host other than 127.0.0.1, localhost
// or [::1]. kInvalidArgument naming the endpoint unless `insecure`. The same
// check serves start-up and --check.
Status CheckExposure(const Config& config, bool insecure);

}  // namespace banditd::config
