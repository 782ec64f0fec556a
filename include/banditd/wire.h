// Value types of the wire protocol (docs/protocol.md).
//
// Requests are decoded by banditd::protocol::Decoder (src/protocol/decoder.h)
// into the *view* types below: their string_views and spans point into the
// frame being decoded or into the decoder's scratch buffers, so decoding a
// route request copies nothing. They stay valid until the next Decode() on
// the same Decoder, and only while the frame's bytes are alive.
//
// Replies are encoded from the reply types below by the functions in
// src/protocol/encoder.h into a caller-owned, reused std::string.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "banditd/status.h"
#include "banditd/vocabulary.h"

namespace banditd::wire {

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

// Most dimensions a tensor input may declare in its `shape`.
inline constexpr size_t kMaxInputDims = 8;

// Bounds every decode honours. Anything past them is `bad_request` before a
// byte of it is allocated (the decoder checks the whole frame's structure
// first, then unpacks with msgpack::unpack_limit).
struct DecodeLimits {
  size_t max_frame_bytes = 1 << 20;  // the whole frame (also set as ZMQ_MAXMSGSIZE)
  size_t max_depth = 16;             // container nesting; the root map is depth 1
  size_t max_array = 1 << 16;        // items of any array (input numbers, rewards items)
  size_t max_map = 256;              // entries of any map
  size_t max_str = 4096;             // bytes of any string
  size_t max_ext = 4096;             // bytes of any ext value (only useful inside `id`)
  // bin values are bounded by max_frame_bytes alone (tensor inputs are bin).
};

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

enum class Op : uint8_t {
  kRoute,
  kReward,
  kRewards,
  kStatus,
  // Admin ops: only accepted on the admin socket (the server enforces it).
  kPromote,
  kPause,
  kResume,
  kReload,
  kSnapshot,
  kAckSrm,  // acknowledge an experiment's sample-ratio-mismatch alarm
};

// The wire spelling of an op, e.g. "route".
std::string_view OpName(Op op);
inline bool IsAdminOp(Op op) { return op >= Op::kPromote; }

// A model input as it came on the wire: either an array of numbers (rank 1)
// or a {shape, data} tensor whose data are raw little-endian float32 bytes.
struct InputView {
  enum class Form : uint8_t { kNone, kNumbers, kTensor };

  Form form = Form::kNone;
  std::array<int64_t, kMaxInputDims> shape{};  // first `rank` entries are valid
  size_t rank = 0;
  std::span<const float> numbers;  // kNumbers: the values (decoder scratch)
  std::string_view tensor_bytes;   // kTensor: 4 * num_elements() bytes inside the frame

  bool present() const { return form != Form::kNone; }
  size_t num_elements() const {
    if (form == Form::kNumbers) return numbers.size();
    return form == Form::kTensor ? tensor_bytes.size() / 4 : 0;
  }
  std::span<const int64_t> dims() const { return {shape.data(), rank}; }

  // Copies the values as floats. REQUIRES: out.size() == num_elements().
  void CopyTo(std::span<float> out) const {
    if (form == Form::kNumbers) {
      std::memcpy(out.data(), numbers.data(), numbers.size() * sizeof(float));
    } else if (form == Form::kTensor) {
      static_assert(std::endian::native == std::endian::little,
                    "tensor inputs are little-endian float32; add a byte swap for this host");
      std::memcpy(out.data(), tensor_bytes.data(), tensor_bytes.size());
    }
  }
};

struct RouteRequest {
  std::string_view exp;
  std::optional<std::string_view> unit;            // sticky assignment key
  InputView input;                                 // absent for route-only requests
  std::optional<std::span<const double>> context;  // contextual policies
  std::optional<std::string_view> arm;             // forced target arm (propensity 1)
};

// The range of a reward's `at`: Unix seconds an unsigned 32-bit count holds
// (1970 to 2106), the range of the decision ids' issue times.
inline constexpr double kMaxRewardAt = 4294967295.0;

struct RewardRequest {
  std::string_view decision;
  double value = 0;          // finite
  std::optional<double> at;  // when the outcome happened, Unix seconds in [0, kMaxRewardAt]
};

// One item of a `rewards` batch. A structurally valid item whose value is
// not finite is kept with code kInvalidValue so the reply can list it as
// rejected; the rest of the batch still counts.
struct RewardItem {
  std::string_view decision;
  double value = 0;
  Code code = Code::kOk;
};

struct RewardsRequest {
  std::span<const RewardItem> items;  // decoder scratch
};

struct StatusRequest {
  std::optional<std::string_view> exp;  // empty: every experiment
};

// promote {exp, arm}, pause/resume/reload/ack_srm {exp}, snapshot {}.
struct AdminRequest {
  std::string_view exp;  // empty for snapshot
  std::string_view arm;  // promote only
};

using RequestBody =
    std::variant<RouteRequest, RewardRequest, RewardsRequest, StatusRequest, AdminRequest>;

struct Request {
  Op op = Op::kRoute;
  // The raw msgpack bytes of the client's `id` (any msgpack value), echoed
  // verbatim in the reply; empty when the client sent none.
  std::string_view id;
  RequestBody body;

  const RouteRequest* route() const { return std::get_if<RouteRequest>(&body); }
  const RewardRequest* reward() const { return std::get_if<RewardRequest>(&body); }
  const RewardsRequest* rewards() const { return std::get_if<RewardsRequest>(&body); }
  const StatusRequest* status() const { return std::get_if<StatusRequest>(&body); }
  const AdminRequest* admin() const { return std::get_if<AdminRequest>(&body); }
};

// ---------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------

struct RouteReply {
  std::string_view id;  // raw msgpack bytes from Request::id (may be empty)
  std::string_view decision;
  std::string_view arm;
  double p = 1.0;  // propensity of the chosen arm
  uint64_t epoch = 0;
  std::optional<std::span<const float>> output;  // when the arm hosts a model
  // The arm whose model produced `output` when it is not `arm` (the chosen
  // challenger failed and the champion answered).
  std::optional<std::string_view> served_by;
};

struct Rejection {
  std::string_view decision;
  Code code = Code::kInvalidValue;
};

struct RewardsReply {
  std::string_view id;
  uint64_t accepted = 0;
  std::span<const Rejection> rejected;
};

struct ErrorReply {
  std::string_view id;
  Code code = Code::kInternal;
  std::string_view message;
};

// Numbers that are not defined yet (a mean with no data, a p-value before
// the first look) are NaN here and travel as nil.
struct ArmReport {
  std::string name;
  uint64_t n = 0;  // rewards joined
  double reward_sum = 0;
  double mean = 0;
  std::array<double, 2> ci95{0, 0};  // [lo, hi]
  double allocation = 0;             // current share of traffic
  double p_best = 0;                 // posterior probability of being the best arm
  double model_p99_ms = 0;           // NaN for route-only arms
  uint64_t errors = 0;               // model errors
};

// The deciding stopping rule's own figures at its last look (restored with
// the state across restarts). No other test is computed next to it.
struct TestReport {
  std::string method;          // the stopping rule, e.g. "sequential"
  double rule_p_value = 1.0;   // the rule's running p, the value that decides
  std::string p_kind;          // what rule_p_value is, e.g. "always-valid p (sequential)"
  bool always_valid = false;   // rule_p_value is valid at every look (sequential, bandit_cs)
  uint64_t looks = 0;          // looks the rule has made this epoch
  bool stop = false;           // the rule has decided
  std::optional<std::string> compared_arm;  // the challenger the interval is for
  // What the rule compares: "mean difference" (challenger - champion), or
  // for rules on the rate ratio (bernoulli_cs) "rate ratio - 1".
  std::string difference_kind;
  double difference = 0;  // the compared challenger's, as the rule estimates it
  // The rule's interval for `difference` (StopDecision ci_lo/ci_hi; NaN
  // bounds: unbounded, e.g. before the first look or for bayes).
  std::array<double, 2> ci{0, 0};
  // (mean_compared - mean_champion) / |mean_champion| from the arms' counters.
  double lift = 0;
};

// Sample-ratio mismatch: requests drawn at random against the allocation
// that drew them, period by period (docs/protocol.md, status).
struct SrmReport {
  double p_value = 1.0;  // since the last acknowledgement; NaN: no period large enough yet
  double chi2 = 0;
  double df = 0;
  uint64_t periods = 0;     // periods kept
  uint64_t requests = 0;    // requests counted in them
  bool alarm = false;       // fired and not acknowledged: the rule's decisions are held
  double alarm_p = 1.0;     // the p-value that fired the active alarm (NaN when none)
  uint64_t alarms = 0;      // alarms fired, ever
  uint64_t acknowledged = 0;
  double threshold = 0.001;
  // srm.rewards: the same test on the rewards' arms (NaN when not checked,
  // or no test yet) and the rewards counted since the last acknowledgement.
  double rewards_p_value = std::numeric_limits<double>::quiet_NaN();
  uint64_t rewards = 0;
};

// The context store of an experiment with a contextual policy: the contexts
// of decisions waiting for their rewards (docs/contextual.md).
struct ContextStoreReport {
  uint64_t entries = 0;                  // contexts kept
  uint64_t bytes = 0;                    // memory charged to them
  uint64_t max_bytes = 0;                // the configured bound
  uint64_t evictions = 0;                // dropped to stay in the bound, since start-up
  uint64_t rewards_without_context = 0;  // rewards the policy could not learn from
};

struct ExperimentReport {
  std::string name;
  std::string mode;    // bandit | ab | shadow | canary
  std::string policy;  // registry name
  uint64_t epoch = 0;
  ExperimentState state = ExperimentState::kRunning;
  std::optional<std::string> winner;
  std::string reason;  // why the state is what it is, for a human
  std::vector<ArmReport> arms;
  std::optional<TestReport> test;
  double srm_p_value = 1.0;                         // = srm->p_value (NaN without srm)
  std::optional<SrmReport> srm;                     // nil in mode shadow
  std::optional<ContextStoreReport> context_store;  // contextual policies only
};

// The daemon process itself, in status replies (the same figures as /metrics).
struct ProcessReport {
  double rss_bytes = 0;    // resident memory
  double cpu_seconds = 0;  // user + system CPU time since start
  double uptime_s = 0;
};

struct StatusReply {
  std::string_view id;
  std::span<const ExperimentReport> experiments;
  std::optional<ProcessReport> process;
};

}  // namespace banditd::wire
