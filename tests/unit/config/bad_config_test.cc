// Bad configurations: each is refused with the key path and the line of the
// offending key, e.g. "experiments[0].policy.params.prior_alpha (line 7): ...".
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/config/loader.h"

namespace banditd::config {
namespace {

struct BadCase {
  std::string name;
  std::string yaml;
  std::string expected;  // must appear in the error message
};

// The arms every case reuses: lines 3-5 of each document below.
constexpr const char* kArms = R"(    arms:
      - name: a
      - name: b
)";

std::string Exp(const std::string& extra) {
  return "experiments:\n  - name: e\n" + std::string(kArms) + extra;
}

std::vector<BadCase> Cases() {
  return {
      {"policy param out of range",
       Exp("    policy:\n      name: thompson\n      params:\n        prior_alpha: -1\n"),
       "experiments[0].policy.params.prior_alpha (line 9): policy 'thompson': prior_alpha and "
       "prior_beta must be > 0"},
      {"unknown policy", Exp("    policy:\n      name: epsilon_greedy_typo\n"),
       "experiments[0].policy.name (line 7): unknown policy 'epsilon_greedy_typo'"},
      {"unknown policy param", Exp("    policy: {name: thompson, params: {prior_alfa: 2}}\n"),
       "experiments[0].policy.params.prior_alfa (line 6): "},
      {"unknown top-level key", "experiment:\n  - name: e\n", "experiment (line 1): unknown key"},
      {"unknown experiment key", Exp("    polcy: thompson\n"),
       "experiments[0].polcy (line 6): unknown key"},
      {"bad mode", Exp("    mode: multivariate\n"),
       "experiments[0].mode (line 6): must be one of bandit, ab, shadow, canary, got "
       "'multivariate'"},
      {"bad metric", Exp("    metric: poisson\n"),
       "experiments[0].metric (line 6): must be one of bernoulli, gaussian"},
      {"gaussian metric with a Beta-Bernoulli policy",
       Exp("    metric: gaussian\n    policy: thompson\n"),
       "experiments[0].policy (line 7): thompson takes rewards in [0, 1]; metric gaussian sends "
       "any finite value: use a policy for real-valued rewards (thompson_gaussian, "
       "epsilon_greedy, static, linucb, lin_thompson) or metric bernoulli"},
      {"gaussian metric with a bounded index policy",
       Exp("    metric: gaussian\n    policy: {name: ucb1}\n"),
       "experiments[0].policy.name (line 7): ucb1 takes rewards in [0, 1]; metric gaussian"},
      {"gaussian metric with the default policy", Exp("    metric: gaussian\n"),
       "experiments[0].metric (line 6): the default policy thompson takes rewards in [0, 1]"},
      {"champion floor above 1", Exp("    traffic:\n      champion_floor: 1.5\n"),
       "experiments[0].traffic.champion_floor (line 7): must be in [0, 1], got 1.5"},
      {"floor is text", Exp("    traffic: {challenger_ceiling: half}\n"),
       "experiments[0].traffic.challenger_ceiling (line 6): must be a finite number, got 'half'"},
      {"one arm", "experiments:\n  - name: e\n    arms:\n      - name: a\n",
       "experiments[0].arms (line 4): must be a list of at least 2 arms"},
      {"duplicate arm", "experiments:\n  - name: e\n    arms:\n      - name: a\n      - name: a\n",
       "experiments[0].arms[1].name (line 5): duplicate arm name 'a'"},
      {"two champions",
       "experiments:\n  - name: e\n    arms:\n      - {name: a, champion: true}\n"
       "      - {name: b, champion: true}\n",
       "experiments[0].arms[1].champion (line 5): arm 'a' is already the champion"},
      {"model without input_shape",
       "experiments:\n  - name: e\n    arms:\n      - name: a\n        model:\n"
       "          path: a.pt\n      - name: b\n",
       "experiments[0].arms[0].model (line 6): missing key 'input_shape'"},
      {"zero input dimension",
       "experiments:\n  - name: e\n    arms:\n      - name: a\n        model:\n"
       "          path: a.pt\n          input_shape: [8, 0]\n      - name: b\n",
       "experiments[0].arms[0].model.input_shape[1] (line 7): must be in [1, 16777216]"},
      {"bad sha256",
       "experiments:\n  - name: e\n    arms:\n      - name: a\n        model:\n"
       "          path: a.pt\n          input_shape: [8]\n          sha256: abc\n"
       "      - name: b\n",
       "experiments[0].arms[0].model.sha256 (line 8): must be 64 hexadecimal digits"},
      {"unknown stopping rule", Exp("    stopping:\n      rule: wald\n"),
       "experiments[0].stopping.rule (line 7): must be one of fixed_horizon, naive_peeking, "
       "sequential, bayes, bandit_cs, bernoulli_cs, got 'wald'"},
      {"mSPRT under a bandit", Exp("    stopping:\n      rule: sequential\n      params: {mde: 0.01}\n"),
       "experiments[0].stopping.rule (line 7): stopping rule 'sequential': assumes a fixed "
       "allocation, but a bandit policy adapts it to the rewards (the arms' means are then "
       "biased and no error rate is guaranteed); use 'bernoulli_cs' (valid under any "
       "allocation)"},
      {"bayes in the daemon", Exp("    mode: ab\n    stopping:\n      rule: bayes\n"),
       "experiments[0].stopping.rule (line 8): stopping rule 'bayes': is a comparison rule for "
       "bandit-sim and does not control the false-decision rate (A/A: 54% at alpha 0.05); use "
       "'bernoulli_cs' (valid under any allocation)"},
      {"naive peeking in the daemon",
       Exp("    mode: ab\n    stopping:\n      rule: naive_peeking\n"),
       "experiments[0].stopping.rule (line 8): stopping rule 'naive_peeking': is a comparison "
       "rule for bandit-sim"},
      {"sequential beyond 99/1",
       Exp("    mode: ab\n    weights: [0.995, 0.005]\n    stopping:\n      rule: sequential\n"
           "      params: {mde: 0.01}\n"),
       "experiments[0].stopping.rule (line 9): stopping rule 'sequential': was validated down "
       "to a 99/1 split"},
      {"sequential beyond 99/1 under the static policy",
       Exp("    policy:\n      name: static\n      params:\n        weights: [0.995, 0.005]\n"
           "    stopping:\n      rule: sequential\n      params: {mde: 0.01}\n"),
       "experiments[0].stopping.rule (line 11): stopping rule 'sequential': was validated down "
       "to a 99/1 split; a share of 0.005000 is beyond it; use 'bernoulli_cs'"},
      {"sequential in a 0.5% canary",
       Exp("    mode: canary\n    canary_share: 0.005\n    policy:\n      name: static\n"
           "    stopping:\n      rule: sequential\n      params: {mde: 0.01}\n"),
       "experiments[0].stopping.rule (line 11): stopping rule 'sequential': was validated down "
       "to a 99/1 split"},
      {"fixed_horizon in a canary that hands over to thompson",
       Exp("    mode: canary\n    stopping:\n      rule: fixed_horizon\n"
           "      params: {n_per_arm: 1000}\n"),
       "experiments[0].stopping.rule (line 8): stopping rule 'fixed_horizon': assumes a fixed "
       "allocation"},
      {"an arm with no share",
       Exp("    mode: ab\n    weights: [1, 0]\n    stopping:\n      rule: bernoulli_cs\n"),
       "experiments[0].stopping.rule (line 9): stopping rule 'bernoulli_cs': an arm with a share "
       "of 0 gets no traffic, so the rule can never decide"},
      {"the static policy giving an arm nothing",
       Exp("    policy:\n      name: static\n      params:\n        weights: [1, 0]\n"
           "    stopping:\n      rule: bernoulli_cs\n"),
       "experiments[0].stopping.rule (line 11): stopping rule 'bernoulli_cs': an arm with a share "
       "of 0"},
      {"min_duration without a value",
       Exp("    stopping:\n      rule: bernoulli_cs\n      min_duration:\n"),
       "experiments[0].stopping (line 7): min_duration has no value"},
      {"min_duration beyond any range",
       Exp("    stopping:\n      rule: bernoulli_cs\n      min_duration: 1e30\n"),
       "experiments[0].stopping.min_duration (line 8): must be a duration from 0 to 366d, got "
       "'1e30'"},
      {"min_duration over a leap year",
       Exp("    stopping:\n      rule: bernoulli_cs\n      min_duration: 367d\n"),
       "experiments[0].stopping.min_duration (line 8): must be a duration from 0 to 366d"},
      {"a duration with a leading blank, as it is refused with a trailing one",
       Exp("    stopping:\n      rule: bernoulli_cs\n      min_duration: \" 7d\"\n"),
       "experiments[0].stopping.min_duration (line 8): must be a duration like"},
      {"sequential under a challenger ceiling",
       Exp("    mode: ab\n    traffic: {challenger_ceiling: 0.005}\n    stopping:\n"
           "      rule: sequential\n      params: {mde: 0.01}\n"),
       "experiments[0].stopping.rule (line 9): stopping rule 'sequential': was validated down "
       "to a 99/1 split; a share of 0.005000"},
      {"a champion floor that leaves the challenger nothing",
       Exp("    traffic: {champion_floor: 1.0}\n    stopping:\n      rule: bernoulli_cs\n"),
       "experiments[0].stopping.rule (line 8): stopping rule 'bernoulli_cs': an arm with a share "
       "of 0"},
      {"a stopping rule in mode shadow",
       "experiments:\n  - name: e\n    mode: shadow\n    arms:\n"
       "      - {name: a, model: {path: a.pt, input_shape: [8]}}\n"
       "      - {name: b, model: {path: b.pt, input_shape: [8]}}\n"
       "    stopping:\n      rule: bernoulli_cs\n",
       "experiments[0].stopping.rule (line 8): stopping rule 'bernoulli_cs': mode shadow serves "
       "every request from the champion"},
      {"srm.rewards with three arms",
       "experiments:\n  - name: e\n    arms:\n      - name: a\n      - name: b\n      - name: c\n"
       "    srm: {rewards: true}\n",
       "experiments[0].srm.rewards (line 7): needs two arms outside mode shadow"},
      {"guardrail ratio below 1", Exp("    guardrails:\n      max_error_rate_ratio: 0.5\n"),
       "experiments[0].guardrails.max_error_rate_ratio (line 7): must be >= 1, got 0.5"},
      {"bad on_decision", Exp("    on_decision: rollback\n"),
       "experiments[0].on_decision (line 6): must be one of hold, promote"},
      {"weights outside ab", Exp("    weights: [0.5, 0.5]\n"),
       "experiments[0].weights (line 6): is only used in mode ab"},
      {"weights not summing to 1", Exp("    mode: ab\n    weights: [0.5, 0.4]\n"),
       "experiments[0].weights (line 7): must sum to 1"},
      {"shadow arm without model", Exp("    mode: shadow\n"),
       "experiments[0].arms[0] (line 4): mode shadow needs a model on every arm"},
      {"canary share too big", Exp("    mode: canary\n    canary_share: 0.8\n"),
       "experiments[0].canary_share (line 7): must be in (0, 0.5], got 0.8"},
      {"duplicate experiment", Exp("  - name: e\n" + std::string(kArms)),
       "experiments[1].name (line 6): duplicate experiment name 'e'"},
      {"bad experiment name", "experiments:\n  - name: my exp\n" + std::string(kArms),
       "experiments[0].name (line 2): 'my exp' may only hold letters"},
      {"no experiments", "state_dir: /tmp\n", "(line 1): missing key 'experiments'"},
      {"bad durability", "durability:\n  mode: sometimes\n" + Exp(""),
       "durability.mode (line 2): must be one of always, group, none"},
      {"group window too long", "durability: {group_window_ms: 5000}\n" + Exp(""),
       "durability.group_window_ms (line 1): must be in [0, 1000], got 5000"},
      {"bad endpoint", "sockets:\n  api: 127.0.0.1:5555\n" + Exp(""),
       "sockets.api (line 2): must be a ZeroMQ endpoint"},
      {"same endpoint twice",
       "sockets:\n  api: tcp://127.0.0.1:7000\n  rewards: tcp://127.0.0.1:7000\n" + Exp(""),
       "sockets.rewards (line 3): endpoint 'tcp://127.0.0.1:7000' is used twice"},
      {"spin too long", "inference: {spin_us: 20000}\n" + Exp(""),
       "inference.spin_us (line 1): must be in [0, 10000], got 20000"},
      {"api_extra not a list", "sockets:\n  api_extra: tcp://127.0.0.1:7001\n" + Exp(""),
       "sockets.api_extra (line 2): must be a list of endpoints"},
      {"api_extra bad endpoint", "sockets:\n  api_extra: [tcp://127.0.0.1:7001, nope]\n" + Exp(""),
       "sockets.api_extra[1] (line 2): must be a ZeroMQ endpoint"},
      {"api_extra reuses api",
       "sockets:\n  api: tcp://127.0.0.1:7000\n  api_extra:\n    - tcp://127.0.0.1:7000\n" +
           Exp(""),
       "sockets.api_extra[0] (line 4): endpoint 'tcp://127.0.0.1:7000' is used twice"},
      {"bad metrics port", "sockets:\n  metrics: localhost:http\n" + Exp(""),
       "sockets.metrics (line 2): port must be a number"},
      {"metrics port with a space", "sockets:\n  metrics: '127.0.0.1: 80'\n" + Exp(""),
       "sockets.metrics (line 2): port must be a number in [0, 65535], got ' 80'"},
      {"metrics port with a sign", "sockets:\n  metrics: '127.0.0.1:+80'\n" + Exp(""),
       "sockets.metrics (line 2): port must be a number in [0, 65535], got '+80'"},
      {"metrics port too big", "sockets:\n  metrics: 127.0.0.1:65536\n" + Exp(""),
       "sockets.metrics (line 2): port must be a number in [0, 65535]"},
      {"metrics host with a space", "sockets:\n  metrics: 'my host:80'\n" + Exp(""),
       "sockets.metrics (line 2): host 'my host' is not a host name or address"},
      {"metrics without a port", "sockets:\n  metrics: localhost\n" + Exp(""),
       "sockets.metrics (line 2): must be host:port (or \"\" for no metrics endpoint)"},
      {"bad reward window", "reward_window: forever\n" + Exp(""),
       "reward_window (line 1): must be a duration like 500ms"},
      {"reward window beyond its range", "reward_window: 91d\n" + Exp(""),
       "reward_window (line 1): must be a duration from 1s to 90d, got '91d'"},
      {"reward window with a trailing blank", "reward_window: \"10s \"\n" + Exp(""),
       "reward_window (line 1): must be a duration like 500ms"},
      {"a reward window with no value (as min_duration)", "reward_window:\n" + Exp(""),
       "reward_window has no value"},
      {"a retention age with no value", "decision_log:\n  max_age:\n" + Exp(""),
       "max_age has no value"},
      {"a hexadecimal duration", "reward_window: 0x10\n" + Exp(""),
       "reward_window (line 1): must be a duration like 500ms"},
      {"a signed duration", "reward_window: \"+10s\"\n" + Exp(""),
       "reward_window (line 1): must be a duration like 500ms"},
      {"a fraction without digits", "reward_window: \"1.s\"\n" + Exp(""),
       "reward_window (line 1): must be a duration like 500ms"},
      {"a retention age that would round to 0 (no limit)",
       "decision_log:\n  max_age: 0.4ms\n" + Exp(""),
       "decision_log.max_age (line 2): must be a duration of 0 or at least 1ms, got '0.4ms'"},
      {"zero workers", "inference:\n  workers: 0\n" + Exp(""),
       "inference.workers (line 2): must be in [1, 256], got 0"},
      {"batch size text", "inference:\n  batching: {enabled: yes-please}\n" + Exp(""),
       "inference.batching.enabled (line 2): must be true or false"},
      {"tiny frame limit", "limits:\n  max_frame_bytes: 10\n" + Exp(""),
       "limits.max_frame_bytes (line 2): must be in [1024, 67108864], got 10"},
      {"tiny unsent reply bound", "limits:\n  max_unsent_reply_bytes: 1000\n" + Exp(""),
       "limits.max_unsent_reply_bytes (line 2): must be in [1048576, 68719476736], got 1000"},
      {"bad log level", "logging: {level: verbose}\n" + Exp(""),
       "logging.level (line 1): must be one of trace, debug, info, warn, error, critical, off"},
      {"unset variable", "model_dir: ${NO_SUCH_VARIABLE_X}\n" + Exp(""),
       "model_dir (line 1): environment variable NO_SUCH_VARIABLE_X is not set"},
      {"curve without client keys", "security:\n  server_secret_key_file: k\n" + Exp(""),
       "security (line 2): CURVE needs api_client_keys_dir and admin_client_keys_dir"},
      {"yaml syntax error", "experiments: [\n", "line 2: "},
      {"experiments is a map", "experiments:\n  name: e\n",
       "experiments (line 2): must be a non-empty list"},
      {"context store without a contextual policy",
       Exp("    context_store: {max_bytes: 1000000}\n"),
       "experiments[0].context_store (line 6): is only used by contextual policies"},
      {"context store too small",
       Exp("    policy: {name: linucb, context_dim: 4}\n    context_store: {max_bytes: 1000}\n"),
       "experiments[0].context_store.max_bytes (line 7): must be in [65536, 1073741824], got 1000"},
      {"context store unknown key",
       Exp("    policy: {name: linucb, context_dim: 4}\n    context_store: {max_entries: 10}\n"),
       "experiments[0].context_store.max_entries (line 7): unknown key"},
  };
}

TEST(BadConfigTest, EachErrorNamesTheKeyPathAndLine) {
  LoadOptions options;
  options.check_files = false;
  options.env = [](std::string_view) { return std::optional<std::string>(); };
  const auto cases = Cases();
  ASSERT_GE(cases.size(), 15u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + "\n" + c.yaml);
    auto cfg = ParseConfig(c.yaml, "/cfg", options);
    ASSERT_FALSE(cfg.ok());
    EXPECT_EQ(cfg.status().code(), Code::kInvalidArgument);
    EXPECT_NE(cfg.status().message().find(c.expected), std::string::npos)
        << "got: " << cfg.status().message();
  }
}

}  // namespace
}  // namespace banditd::config
