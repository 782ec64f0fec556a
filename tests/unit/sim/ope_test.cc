// Off-policy evaluation: the join of the decision log, the estimators on a
// log small enough to compute by hand, the refusals, the target policies,
// and a CI-sized coverage run of `bandit-sim ope-validate`.
#include "sim/ope.h"

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/ope_policy.h"
#include "sim/ope_validate.h"
#include "src/state/decision_log.h"
#include "tests/unit/sim/sim_testing.h"

namespace banditd::sim::ope {
namespace {

using state::Env;

std::string FreshDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/ope_test_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

struct Row {
  std::string id, arm;
  double propensity;
  std::vector<double> context;
  bool has_reward = true;
  double reward = 0.0;
  bool forced = false;
  std::string exp = "e";
};

// Writes `rows` through the daemon's DecisionLog writer into a fresh dir.
std::string WriteLog(const std::string& name, const std::vector<Row>& rows) {
  const std::string dir = FreshDir(name);
  auto log = state::DecisionLog::Open(Env::Posix(), dir);
  EXPECT_TRUE(log.ok());
  int64_t t = 0;
  for (const auto& r : rows) {
    (*log)->Decision({.wall_ns = ++t,
                      .exp = r.exp,
                      .epoch = 1,
                      .decision = r.id,
                      .arm = r.arm,
                      .propensity = r.propensity,
                      .forced = r.forced,
                      .unit_hash = 0,
                      .context = r.context,
                      .output = {}});
  }
  for (const auto& r : rows) {
    if (r.has_reward) (*log)->Reward(++t, r.exp, r.id, r.arm, r.reward);
  }
  EXPECT_TRUE((*log)->Flush().ok());
  return dir;
}

TargetPolicy MustPolicy(const std::string& yaml) {
  auto p = ParseTargetPolicy(yaml, "policy.yaml");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : TargetPolicy{};
}

// Four randomised decisions, one forced, one unrewarded; the target always
// plays b. Weights: w = [0, 1/0.25, 0, 1/0.5] on the rewarded randomised rows.
std::vector<Row> SmallLog() {
  return {
      {"d1", "a", 0.75, {1.0}, true, 1.0}, {"d2", "b", 0.25, {0.0}, true, 1.0},
      {"d3", "a", 0.5, {1.0}, true, 0.0},  {"d4", "b", 0.5, {0.0}, true, 0.0},
      {"d5", "b", 0.5, {1.0}, false, 0.0}, {"d6", "a", 1.0, {1.0}, true, 1.0, true},
  };
}

TEST(OpeTest, JoinsRewardsAndComputesIpsAndSnipsByHand) {
  const std::string dir = WriteLog("small", SmallLog());
  auto data = LoadDecisionLog(Env::Posix(), dir, {});
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->experiment, "e");
  EXPECT_EQ(data->decisions, 6u);
  EXPECT_EQ(data->forced, 1u);
  EXPECT_EQ(data->unrewarded, 1u);
  EXPECT_EQ(data->orphan_rewards, 0u);  // d6's reward belongs to a forced decision
  ASSERT_EQ(data->samples.size(), 4u);

  TargetPolicy p = MustPolicy("arms: [a, b]\nstatic: [0, 1]\n");
  auto r = Evaluate(*data, p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->n, 4u);
  // w r = [0, 4, 0, 0]: IPS = 1, se = sd([0,4,0,0]) / 2 = 2 / 2 = 1.
  ASSERT_EQ(r->estimates[0].name, "ips");
  EXPECT_DOUBLE_EQ(r->estimates[0].value, 1.0);
  EXPECT_NEAR(r->estimates[0].se, 1.0, 1e-12);
  EXPECT_NEAR(r->estimates[0].lo, 1.0 - 1.959963984540054, 1e-12);
  // SNIPS = 4 / (4 + 2) = 2/3; se = sqrt(16 (1/3)^2 + 4 (2/3)^2) / 6.
  ASSERT_EQ(r->estimates[1].name, "snips");
  EXPECT_NEAR(r->estimates[1].value, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(r->estimates[1].se, std::sqrt(16.0 / 9.0 + 16.0 / 9.0) / 6.0, 1e-12);
  // ESS = 6^2 / (16 + 4) = 1.8; mean weight 1.5; max 4.
  EXPECT_NEAR(r->ess, 1.8, 1e-12);
  EXPECT_NEAR(r->mean_weight, 1.5, 1e-12);
  EXPECT_DOUBLE_EQ(r->max_weight, 4.0);
  EXPECT_DOUBLE_EQ(r->logged_value, 0.5);
  ASSERT_EQ(r->estimates[2].name, "dr");
  EXPECT_TRUE(std::isfinite(r->estimates[2].value));

  // Unrewarded decisions may count as reward 0 instead.
  auto zero = LoadDecisionLog(Env::Posix(), dir, {"", true});
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->samples.size(), 5u);
  EXPECT_EQ(zero->samples[4].reward, 0.0);
}

TEST(OpeTest, DoublyRobustEqualsTheDirectMethodWhenTheModelIsExact) {
  // Rewards are a deterministic linear function of the context per arm, so
  // the ridge model (tiny penalty) predicts them exactly: every residual is
  // 0 and DR is the mean over contexts of the target's modelled reward.
  std::vector<Row> rows;
  double truth = 0;
  for (int i = 0; i < 200; ++i) {
    const double x = (i % 10) / 10.0;
    const bool b = i % 3 == 0;
    const double reward = b ? 0.2 + 0.5 * x : 0.6 - 0.3 * x;
    rows.push_back({"d" + std::to_string(i), b ? "b" : "a", b ? 0.4 : 0.6, {x}, true, reward});
    truth += 0.6 - 0.3 * x;  // the target plays a
  }
  const std::string dir = WriteLog("linear", rows);
  auto data = LoadDecisionLog(Env::Posix(), dir, {});
  ASSERT_TRUE(data.ok());
  TargetPolicy p = MustPolicy("arms: [a, b]\nstatic: [1, 0]\n");
  EvalOptions options;
  options.ridge_lambda = 1e-9;
  auto r = Evaluate(*data, p, options);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->estimates[2].value, truth / 200.0, 1e-6);
  // Its se is then the sample s.d. of the modelled rewards 0.6 - 0.3 x over sqrt(n).
  double ss = 0;
  for (int i = 0; i < 200; ++i) {
    const double e = 0.6 - 0.3 * ((i % 10) / 10.0) - truth / 200.0;
    ss += e * e;
  }
  EXPECT_NEAR(r->estimates[2].se, std::sqrt(ss / 199.0 / 200.0), 1e-6);
}

Status LoadError(const std::string& name, const std::vector<Row>& rows, const std::string& policy,
                 const JoinOptions& join = {}) {
  auto data = LoadDecisionLog(Env::Posix(), WriteLog(name, rows), join);
  if (!data.ok()) return data.status();
  auto p = ParseTargetPolicy(policy, "policy.yaml");
  if (!p.ok()) return p.status();
  auto r = Evaluate(*data, *p);
  return r.ok() ? Status::Ok() : r.status();
}

TEST(OpeTest, RefusesBadLogsWithStableMessages) {
  const std::string pol = "arms: [a, b]\nstatic: [1, 1]\n";
  const std::string ctx_pol =
      "arms: [a, b]\ncontext_dim: 2\nrule: {feature: 1, above: a, below: b}\n";
  struct Case {
    std::string name;
    std::vector<Row> rows;
    std::string policy, needle;
    JoinOptions join{};
  };
  const double nan = std::nan("");
  const std::vector<Case> cases = {
      {"zero", {{"d1", "a", 0.0, {}}}, pol, "propensity must be in (0, 1] (got 0)"},
      {"negative", {{"d1", "a", -0.5, {}}}, pol, "propensity must be in (0, 1] (got -0.5)"},
      {"above_one", {{"d1", "a", 1.5, {}}}, pol, "propensity must be in (0, 1]"},
      {"nan", {{"d1", "a", nan, {}}}, pol, "decision 'd1': propensity is not a number"},
      {"no_reward", {{"d1", "a", 0.5, {}, false}}, pol, "no rewarded decisions"},
      {"forced", {{"d1", "a", 1.0, {}, true, 1.0, true}}, pol, "no randomised decisions"},
      {"ctx_len",
       {{"d1", "a", 0.5, {1.0, 0.0, 3.0}, true, 1.0}},
       ctx_pol,
       "decision 'd1' has a context of length 3; the policy takes 2"},
      {"no_ctx",
       {{"d1", "a", 0.5, {}, true, 1.0}},
       ctx_pol,
       "decision 'd1' has a context of length 0; the policy takes 2"},
      {"arm", {{"d1", "c", 0.5, {}, true, 1.0}}, pol, "the log's arm 'c'"},
      {"ctx_nan",
       {{"d1", "a", 0.5, {1.0, nan}, true, 1.0}},
       ctx_pol,
       "decision 'd1': its context is not finite"},
      {"fit_range",
       {{"d1", "a", 0.5, {}, true, 2.0}, {"d2", "a", 0.5, {}, true, 1.0}},
       "arms: [a, b]\npolicy: {name: thompson, fit_fraction: 0.5}\n",
       "decision 'd1': the policy cannot learn from its reward"},
      {"two_exps",
       {{"d1", "a", 0.5, {}, true, 1.0, false, "x"}, {"d2", "a", 0.5, {}, true, 1.0, false, "y"}},
       pol,
       "several experiments (x, y): choose one with --experiment"},
      {"which_exp",
       {{"d1", "a", 0.5, {}, true, 1.0}},
       pol,
       "no decisions of experiment 'zz'",
       JoinOptions{"zz", false}},
  };
  for (const auto& c : cases) {
    Status s = LoadError(c.name, c.rows, c.policy, c.join);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << c.name;
    EXPECT_NE(s.message().find(c.needle), std::string::npos)
        << c.name << ": " << s.message() << "\n  wanted: " << c.needle;
  }
}

TEST(OpeTest, RefusesLogsWithoutPropensities) {
  // Only rewards: no decision, so no propensity.
  const std::string dir = FreshDir("rewards_only");
  {
    std::ofstream f(dir + "/decisions-000000.tsv");
    f << "# banditd decision log v1\nR\t1\te\td1\ta\t1\n";
  }
  auto a = LoadDecisionLog(Env::Posix(), dir, {});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "the log has no decisions (D lines), so no propensities");
  // A D line whose propensity column is empty or missing: named by file and line.
  const std::string file = dir + "/decisions-000001.tsv";
  {
    std::ofstream f(file);
    f << "# banditd decision log v1\nD\t1\te\t1\td1\ta\t-\t0\t-\t-\t-\n";
  }
  auto b = LoadDecisionLog(Env::Posix(), file, {});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(),
            file +
                " line 2: decision without a propensity: the log carries no propensities, "
                "which off-policy evaluation needs");
  auto c = LoadDecisionLog(Env::Posix(), FreshDir("empty"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kNotFound);
}

TEST(OpeTargetPolicyTest, RuleLinearSoftmaxAndEpsilon) {
  TargetPolicy rule = MustPolicy(
      "arms: [a, b]\ncontext_dim: 2\nepsilon: 0.2\n"
      "rule: {feature: 1, threshold: 0.5, above: a, below: b}\n");
  std::vector<double> p(2);
  rule.Probabilities(std::vector<double>{1.0, 1.0}, p);
  EXPECT_DOUBLE_EQ(p[0], 0.9);
  EXPECT_DOUBLE_EQ(p[1], 0.1);
  rule.Probabilities(std::vector<double>{1.0, 0.0}, p);
  EXPECT_DOUBLE_EQ(p[0], 0.1);

  TargetPolicy soft = MustPolicy(
      "arms: [a, b]\ncontext_dim: 2\nlinear: {theta: [[0, 1], [0, 0]], temperature: 0.5}\n");
  soft.Probabilities(std::vector<double>{1.0, 1.0}, p);
  EXPECT_NEAR(p[0], 1.0 / (1.0 + std::exp(-2.0)), 1e-12);
  EXPECT_NEAR(p[0] + p[1], 1.0, 1e-12);
  TargetPolicy greedy =
      MustPolicy("arms: [a, b]\ncontext_dim: 2\nlinear: {theta: [[0, 1], [0.5, 0]]}\n");
  greedy.Probabilities(std::vector<double>{1.0, 0.2}, p);
  EXPECT_EQ(p[1], 1.0);
}

TEST(OpeTargetPolicyTest, RegistryPoliciesAtPriorFittedOrRestored) {
  // linucb at its prior: every score ties, the lowest index wins.
  TargetPolicy prior =
      MustPolicy("arms: [a, b]\ncontext_dim: 2\npolicy: {name: linucb, params: {alpha: 0}}\n");
  std::vector<double> p(2);
  prior.Probabilities(std::vector<double>{1.0, 1.0}, p);
  EXPECT_EQ(p[0], 1.0);
  // Fitted on the first half of a log where b pays when x1 = 1.
  std::vector<Row> rows;
  for (int i = 0; i < 400; ++i) {
    const double x1 = i % 2;
    const bool b = (i / 2) % 2 == 0;
    const double reward = b ? x1 : 0.5;
    rows.push_back({"d" + std::to_string(i), b ? "b" : "a", 0.5, {1.0, x1}, true, reward});
  }
  auto data = LoadDecisionLog(Env::Posix(), WriteLog("fit", rows), {});
  ASSERT_TRUE(data.ok());
  TargetPolicy fit = MustPolicy(
      "arms: [a, b]\ncontext_dim: 2\n"
      "policy: {name: linucb, params: {alpha: 0}, fit_fraction: 0.5}\n");
  auto r = Evaluate(*data, fit);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->fitted, 200u);
  EXPECT_EQ(r->n, 200u);
  // The fitted greedy rule plays b when x1 = 1 (pays 1) and a otherwise (0.5): 0.75.
  EXPECT_NEAR(r->estimates[0].value, 0.75, 0.1);
  fit.Probabilities(std::vector<double>{1.0, 1.0}, p);
  EXPECT_EQ(p[1], 1.0);
  fit.Probabilities(std::vector<double>{1.0, 0.0}, p);
  EXPECT_EQ(p[0], 1.0);

  // Bad specs are refused with the key's line.
  for (const char* bad : {
           "arms: [a, b]\nstatic: [1]\n",
           "arms: [a, b]\nstatic: [1, 1]\nrule: {feature: 0, above: a, below: b}\n",
           "arms: [a, b]\nrule: {feature: 0, above: a, below: b}\n",
           "arms: [a, b]\ncontext_dim: 2\nrule: {feature: 1, above: a, below: c}\n",
           "arms: [a, b]\npolicy: {name: linucb}\n",
           "arms: [a, b]\npolicy: {name: thompson, snapshot: /nonexistent/snap}\n",
           "arms: [a, a]\nstatic: [1, 1]\n",
       }) {
    auto p2 = ParseTargetPolicy(bad, "policy.yaml");
    EXPECT_FALSE(p2.ok()) << bad;
    if (!p2.ok()) {
      EXPECT_EQ(p2.status().message().rfind("policy.yaml:", 0), 0u) << bad;
    }
  }
}

// Runs `command` (stderr merged), returns its exit status and output.
std::pair<int, std::string> Shell(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, out};
  char buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, got);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The command line: a report with exit 0; a refusal with exit 1 and the
// stable message on stderr.
TEST(OpeCliTest, ReportsAndRefusesWithExitStatus) {
  const char* bin_dir = std::getenv("BANDITD_BIN_DIR");
  const std::string bin = std::string(bin_dir ? bin_dir : "build/bin") + "/bandit-sim";
  ASSERT_TRUE(std::filesystem::exists(bin)) << bin;
  const std::string dir = WriteLog("cli", SmallLog());
  const std::string policy = dir + "/../ope_test_cli_policy.yaml";
  {
    std::ofstream f(policy);
    f << "arms: [a, b]\nstatic: [0, 1]\n";
  }
  auto [ok_status, ok_out] = Shell(bin + " ope --log " + dir + " --policy " + policy + " --json");
  EXPECT_EQ(ok_status, 0) << ok_out;
  EXPECT_NE(ok_out.find("\"ips\": {\"value\": 1,"), std::string::npos) << ok_out;

  const std::string zero = WriteLog("cli_zero", {{"d1", "a", 0.0, {}}});
  auto [bad_status, bad_out] = Shell(bin + " ope --log " + zero + " --policy " + policy);
  EXPECT_EQ(bad_status, 1);
  EXPECT_EQ(bad_out,
            "bandit-sim: invalid_argument: decision 'd1': propensity must be in (0, 1] (got 0)\n");
}

// CI-sized `bandit-sim ope-validate`: 30 replications of 2,000 decisions per
// logging policy on contextual_flip.yaml (the full run is 200 x 10,000). At
// 2,000 decisions the measured coverage (200 replications, seed 3) is 92.0%
// for IPS and 93.5% for DR under Thompson logging, 94.5-95% under uniform;
// with a true coverage of 92%, 23 or fewer of 30 happen with probability
// 0.8% (binomial), so IPS and DR must cover in >= 24 of 30 here.
TEST(OpeValidateTest, CiSizedCoverage) {
  auto loaded = LoadScenarioFile("sim/scenarios/contextual_flip.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  std::ifstream in("sim/scenarios/ope/flip_target.yaml");
  const std::string target((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(target.empty());
  ValidateOptions options;
  options.reps = 30;
  options.decisions = 2000;
  options.seed = 3;
  options.threads = 2;
  options.truth_draws = 200000;
  options.work_dir = FreshDir("validate");
  auto r = RunOpeValidation(loaded->front(), target, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->truth, 0.3366, 0.003);  // the full run's 2M-draw value: 0.33659
  ASSERT_EQ(r->rows.size(), 6u);
  for (const auto& row : r->rows) {
    EXPECT_EQ(row.reps, 30u);
    if (row.estimator != "snips") {
      EXPECT_GE(row.covered, 24u) << row.logger << " " << row.estimator;
    }
    // Unbiased up to noise: rmse / sqrt(30) is about 0.005 here.
    EXPECT_NEAR(row.mean_estimate, r->truth, 0.015) << row.logger << " " << row.estimator;
  }
  // The logs were removed.
  EXPECT_TRUE(std::filesystem::is_empty(options.work_dir));
}

}  // namespace
}  // namespace banditd::sim::ope
