#include "sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "sim/contextual_yaml.h"
#include "sim/yaml_util.h"

namespace banditd::sim {
namespace {

#define SIM_ASSIGN(lhs, expr)         \
  do {                                \
    auto _r = (expr);                 \
    if (!_r.ok()) return _r.status(); \
    lhs = std::move(_r).value();      \
  } while (0)

class Parser {
 public:
  explicit Parser(const YamlReader& r) : r_(r) {}

  Result<Scenario> Parse(const YAML::Node& root) {
    BANDITD_RETURN_IF_ERROR(r_.CheckKeys(
        root, "the scenario",
        {"name", "description", "reward", "arms", "champion", "horizon", "runs", "seed",
         "environment", "policies", "decision", "report", "sweep", "context", "traffic",
         "engine"}));
    Scenario s;
    for (const char* required : {"name", "arms", "horizon", "runs", "policies"}) {
      if (!root[required]) return r_.Error(root, std::string("missing key '") + required + "'");
    }
    SIM_ASSIGN(s.name, r_.String(root["name"], "name"));
    if (root["description"])
      SIM_ASSIGN(s.description, r_.String(root["description"], "description"));
    if (root["reward"]) {
      std::string kind;
      SIM_ASSIGN(kind, r_.String(root["reward"], "reward"));
      if (kind == "gaussian") {
        s.reward = RewardKind::kGaussian;
      } else if (kind == "zero_inflated_lognormal" || kind == "bernoulli_lognormal") {
        s.reward = RewardKind::kLognormal;
        lognormal_form_ = kind;
      } else if (kind != "bernoulli") {
        return r_.Error(root["reward"],
                        "'reward' must be bernoulli, gaussian, zero_inflated_lognormal or "
                        "bernoulli_lognormal");
      }
    }
    if (root["context"]) {
      if (s.reward != RewardKind::kBernoulli)
        return r_.Error(root["context"], "contextual scenarios need Bernoulli rewards");
      BANDITD_RETURN_IF_ERROR(ParseContextFeatures(r_, root["context"], &s.context));
    }
    BANDITD_RETURN_IF_ERROR(ParseArms(root["arms"], &s));
    if (root["traffic"]) BANDITD_RETURN_IF_ERROR(ParseTraffic(root["traffic"], &s));
    if (s.timed() && root["horizon"].IsScalar() && !r_.Count(root["horizon"], "horizon").ok()) {
      // A duration ("14d"): the requests that arrive in it.
      double secs = 0;
      SIM_ASSIGN(secs, r_.Seconds(root["horizon"], "horizon"));
      s.horizon = StepsAtSeconds(s.traffic, secs);
    } else {
      SIM_ASSIGN(s.horizon, r_.Count(root["horizon"], "horizon"));
    }
    if (s.horizon == 0) return r_.Error(root["horizon"], "'horizon' must be >= 1");
    SIM_ASSIGN(s.runs, r_.Count(root["runs"], "runs"));
    if (s.runs == 0) return r_.Error(root["runs"], "'runs' must be >= 1");
    if (root["seed"]) SIM_ASSIGN(s.seed, r_.Count(root["seed"], "seed"));
    if (root["champion"]) {
      SIM_ASSIGN(s.champion, ArmIndex(root["champion"], s, "champion"));
    }
    if (root["environment"]) BANDITD_RETURN_IF_ERROR(ParseEnvironment(root["environment"], &s));
    if (root["context"] && root["traffic"])
      return r_.Error(root["traffic"], "contextual scenarios do not model time ('traffic')");
    if (root["context"] && (!s.drift.empty() || s.replacement.prob > 0.0)) {
      return r_.Error(root["environment"],
                      "contextual scenarios support 'delay' only (no drift, no replacement)");
    }
    if (root["decision"]) BANDITD_RETURN_IF_ERROR(ParseDecision(root["decision"], &s));
    if (root["report"]) {
      const YAML::Node rep = root["report"];
      BANDITD_RETURN_IF_ERROR(r_.CheckKeys(rep, "report", {"checkpoints_per_decade"}));
      if (rep["checkpoints_per_decade"]) {
        uint64_t c = 0;
        SIM_ASSIGN(c, r_.Count(rep["checkpoints_per_decade"], "checkpoints_per_decade"));
        if (c < 1 || c > 1000) {
          return r_.Error(rep["checkpoints_per_decade"],
                          "'checkpoints_per_decade' must be in [1, 1000]");
        }
        s.checkpoints_per_decade = static_cast<int>(c);
      }
    }
    BANDITD_RETURN_IF_ERROR(ParsePolicies(root["policies"], &s));
    if (root["engine"]) BANDITD_RETURN_IF_ERROR(ParseEngine(root["engine"], &s));
    return s;
  }

 private:
  Result<size_t> ArmIndex(const YAML::Node& node, const Scenario& s, std::string_view key) {
    std::string name;
    SIM_ASSIGN(name, r_.String(node, key));
    for (size_t i = 0; i < s.arms.size(); ++i) {
      if (s.arms[i].name == name) return i;
    }
    return r_.Error(node, "'" + std::string(key) + "': no arm named '" + name + "'");
  }

  Status ParseArms(const YAML::Node& arms, Scenario* s) {
    if (arms.IsSequence()) {
      for (const auto& a : arms) {
        ArmSpec spec;
        spec.name = "arm" + std::to_string(s->arms.size());
        if (s->reward == RewardKind::kLognormal) {
          BANDITD_RETURN_IF_ERROR(ParseLognormalArm(a, &spec));
          s->arms.push_back(spec);
          continue;
        }
        BANDITD_RETURN_IF_ERROR(r_.CheckKeys(a, "an arm", {"name", "mean", "sd", "theta"}));
        if (a["name"]) SIM_ASSIGN(spec.name, r_.String(a["name"], "name"));
        if (s->context.dim() > 1) {
          // Contextual: the arm's mean is sigmoid(theta · x), drawn per step.
          if (!a["theta"] || a["mean"])
            return r_.Error(a, "an arm of a contextual scenario needs 'theta' (and no 'mean')");
          BANDITD_RETURN_IF_ERROR(ParseArmTheta(r_, a["theta"], &s->context));
          s->arms.push_back(spec);
          continue;
        }
        if (a["theta"]) return r_.Error(a["theta"], "'theta' needs a 'context' section");
        if (!a["mean"]) return r_.Error(a, "an arm needs a 'mean'");
        SIM_ASSIGN(spec.mean, r_.Double(a["mean"], "mean"));
        if (a["sd"]) SIM_ASSIGN(spec.sd, r_.Double(a["sd"], "sd"));
        BANDITD_RETURN_IF_ERROR(CheckArm(a, *s, spec));
        s->arms.push_back(spec);
      }
    } else if (arms.IsMap()) {
      if (s->reward == RewardKind::kLognormal)
        return r_.Error(arms, "lognormal rewards need a list of arms");
      if (s->context.dim() > 1)
        return r_.Error(arms, "a contextual scenario lists its arms, each with a 'theta'");
      BANDITD_RETURN_IF_ERROR(r_.CheckKeys(arms, "arms", {"count", "mean", "best", "beta", "sd"}));
      if (!arms["count"]) return r_.Error(arms, "'arms' as a map needs 'count'");
      uint64_t count = 0;
      SIM_ASSIGN(count, r_.Count(arms["count"], "count"));
      if (count < 1 || count > 100000)
        return r_.Error(arms["count"], "'count' must be in [1, 100000]");
      double mean = 0, best = 0, sd = 1;
      if (arms["sd"]) SIM_ASSIGN(sd, r_.Double(arms["sd"], "sd"));
      if (arms["beta"]) {
        if (arms["mean"] || arms["best"])
          return r_.Error(arms["beta"], "'beta' excludes 'mean' and 'best'");
        BANDITD_RETURN_IF_ERROR(BetaPair(arms["beta"], &s->random_arms.a, &s->random_arms.b));
      } else {
        if (!arms["mean"])
          return r_.Error(arms, "'arms' needs 'mean' (and optionally 'best') or 'beta'");
        SIM_ASSIGN(mean, r_.Double(arms["mean"], "mean"));
        best = mean;
        if (arms["best"]) SIM_ASSIGN(best, r_.Double(arms["best"], "best"));
      }
      for (uint64_t i = 0; i < count; ++i) {
        ArmSpec spec{"arm" + std::to_string(i), i == 0 ? best : mean, sd};
        BANDITD_RETURN_IF_ERROR(CheckArm(arms, *s, spec));
        s->arms.push_back(spec);
      }
    } else {
      return r_.Error(arms, "'arms' must be a list of arms or a map {count, mean, best | beta}");
    }
    if (s->arms.empty()) return r_.Error(arms, "'arms' is empty");
    return Status::Ok();
  }

  // zero_inflated_lognormal: {name, p, mu, sigma}; bernoulli_lognormal:
  // {name, conversion, value_mean, value_sd} with the value's mean and
  // standard deviation on the natural scale (sigma^2 = ln(1 + sd^2/mean^2),
  // mu = ln(mean) - sigma^2 / 2).
  Status ParseLognormalArm(const YAML::Node& a, ArmSpec* spec) {
    spec->lognormal = true;
    if (lognormal_form_ == "zero_inflated_lognormal") {
      BANDITD_RETURN_IF_ERROR(r_.CheckKeys(a, "an arm", {"name", "p", "mu", "sigma"}));
      if (!a["p"] || !a["mu"] || !a["sigma"])
        return r_.Error(a, "a zero_inflated_lognormal arm needs 'p', 'mu' and 'sigma'");
      SIM_ASSIGN(spec->p, r_.Double(a["p"], "p"));
      SIM_ASSIGN(spec->mu, r_.Double(a["mu"], "mu"));
      SIM_ASSIGN(spec->sigma, r_.Double(a["sigma"], "sigma"));
    } else {
      BANDITD_RETURN_IF_ERROR(
          r_.CheckKeys(a, "an arm", {"name", "conversion", "value_mean", "value_sd"}));
      if (!a["conversion"] || !a["value_mean"] || !a["value_sd"])
        return r_.Error(a,
                        "a bernoulli_lognormal arm needs 'conversion', 'value_mean' and 'value_sd'");
      double m = 0, sd = 0;
      SIM_ASSIGN(spec->p, r_.Double(a["conversion"], "conversion"));
      SIM_ASSIGN(m, r_.Double(a["value_mean"], "value_mean"));
      SIM_ASSIGN(sd, r_.Double(a["value_sd"], "value_sd"));
      if (m <= 0.0 || sd <= 0.0) return r_.Error(a, "'value_mean' and 'value_sd' must be > 0");
      const double s2 = std::log1p(sd * sd / (m * m));
      spec->sigma = std::sqrt(s2);
      spec->mu = std::log(m) - s2 / 2.0;
    }
    if (a["name"]) SIM_ASSIGN(spec->name, r_.String(a["name"], "name"));
    if (spec->p < 0.0 || spec->p > 1.0) return r_.Error(a, "a lognormal arm's p must be in [0, 1]");
    if (spec->sigma <= 0.0 || spec->sigma > 10.0)
      return r_.Error(a, "a lognormal arm's sigma must be in (0, 10]");
    spec->mean = spec->p * spec->value_mean();
    return Status::Ok();
  }

  // traffic: {requests_per_second, weekly: {weekday, weekend}, start: monday}
  Status ParseTraffic(const YAML::Node& t, Scenario* s) {
    BANDITD_RETURN_IF_ERROR(
        r_.CheckKeys(t, "traffic", {"requests_per_second", "weekly", "start"}));
    if (!t["requests_per_second"]) return r_.Error(t, "'traffic' needs 'requests_per_second'");
    TrafficSpec& tr = s->traffic;
    SIM_ASSIGN(tr.requests_per_second, r_.Double(t["requests_per_second"], "requests_per_second"));
    if (tr.requests_per_second <= 0.0 || tr.requests_per_second > 1e9)
      return r_.Error(t["requests_per_second"], "'requests_per_second' must be in (0, 1e9]");
    if (t["weekly"]) {
      BANDITD_RETURN_IF_ERROR(WeekPair(t["weekly"], "traffic.weekly", &tr.weekday, &tr.weekend));
      if (tr.weekday <= 0.0 || tr.weekend <= 0.0)
        return r_.Error(t["weekly"], "arrival multipliers must be > 0");
    }
    if (t["start"]) {
      static constexpr const char* kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                              "friday", "saturday", "sunday"};
      std::string day;
      SIM_ASSIGN(day, r_.String(t["start"], "start"));
      tr.start_day = -1;
      for (int k = 0; k < 7; ++k) {
        if (day == kDays[k]) tr.start_day = k;
      }
      if (tr.start_day < 0) return r_.Error(t["start"], "'start' must be a day (monday ... sunday)");
    }
    return Status::Ok();
  }

  // {weekday: m1, weekend: m2}, both optional (default 1).
  Status WeekPair(const YAML::Node& w, std::string_view where, double* weekday, double* weekend) {
    BANDITD_RETURN_IF_ERROR(r_.CheckKeys(w, where, {"weekday", "weekend"}));
    if (w["weekday"]) SIM_ASSIGN(*weekday, r_.Double(w["weekday"], "weekday"));
    if (w["weekend"]) SIM_ASSIGN(*weekend, r_.Double(w["weekend"], "weekend"));
    return Status::Ok();
  }

  // A list of maps, or one map standing for a list of one (so a sweep can
  // address its keys: environment.novelty.half_life).
  std::vector<YAML::Node> ListOrOne(const YAML::Node& n) {
    std::vector<YAML::Node> out;
    if (n.IsMap()) {
      out.push_back(n);
    } else {
      for (const auto& x : n) out.push_back(x);
    }
    return out;
  }

  Status ParseTimeEffects(const YAML::Node& env, Scenario* s) {
    for (const char* key : {"weekly", "novelty"}) {
      if (!env[key]) continue;
      if (!s->timed())
        return r_.Error(env[key], std::string("'") + key + "' needs a 'traffic' section");
      if (!env[key].IsMap() && !env[key].IsSequence())
        return r_.Error(env[key], std::string("'") + key + "' must be a map or a list of maps");
    }
    if (env["weekly"]) {
      for (const auto& w : ListOrOne(env["weekly"])) {
        BANDITD_RETURN_IF_ERROR(r_.CheckKeys(w, "a weekly cycle", {"arm", "weekday", "weekend"}));
        if (!w["arm"]) return r_.Error(w, "a weekly cycle needs 'arm'");
        WeeklyRateSpec spec;
        SIM_ASSIGN(spec.arm, ArmIndex(w["arm"], *s, "arm"));
        if (w["weekday"]) SIM_ASSIGN(spec.weekday, r_.Double(w["weekday"], "weekday"));
        if (w["weekend"]) SIM_ASSIGN(spec.weekend, r_.Double(w["weekend"], "weekend"));
        if (spec.weekday < 0.0 || spec.weekend < 0.0)
          return r_.Error(w, "rate multipliers must be >= 0");
        for (const auto& o : s->weekly) {
          if (o.arm == spec.arm) return r_.Error(w, "one weekly cycle per arm");
        }
        s->weekly.push_back(spec);
      }
    }
    if (env["novelty"]) {
      for (const auto& n : ListOrOne(env["novelty"])) {
        BANDITD_RETURN_IF_ERROR(
            r_.CheckKeys(n, "a novelty effect", {"arm", "from", "to", "half_life"}));
        if (!n["arm"] || !n["to"] || !n["half_life"])
          return r_.Error(n, "a novelty effect needs 'arm', 'to' and 'half_life' ('from' "
                             "defaults to the arm's rate)");
        NoveltySpec spec;
        SIM_ASSIGN(spec.arm, ArmIndex(n["arm"], *s, "arm"));
        spec.from = s->arms[spec.arm].rate();
        if (n["from"]) SIM_ASSIGN(spec.from, r_.Double(n["from"], "from"));
        SIM_ASSIGN(spec.to, r_.Double(n["to"], "to"));
        SIM_ASSIGN(spec.half_life, r_.Seconds(n["half_life"], "half_life"));
        if (spec.half_life <= 0.0) return r_.Error(n["half_life"], "'half_life' must be > 0");
        for (const auto& o : s->novelty) {
          if (o.arm == spec.arm) return r_.Error(n, "one novelty effect per arm");
        }
        s->novelty.push_back(spec);
      }
    }
    // Every rate the clock can produce must be a valid one.
    if (s->reward != RewardKind::kGaussian) {
      for (size_t a = 0; a < s->arms.size(); ++a) {
        double hi = s->arms[a].rate();
        for (const auto& n : s->novelty) {
          if (n.arm == a) hi = std::max(n.from, n.to);
          if (n.arm == a && std::min(n.from, n.to) < 0.0)
            return r_.Error(env["novelty"], "a novelty effect's rates must be in [0, 1]");
        }
        for (const auto& w : s->weekly) {
          if (w.arm == a) hi *= std::max(w.weekday, w.weekend);
        }
        if (hi > 1.0) {
          return r_.Error(env, "arm '" + s->arms[a].name +
                                   "': a weekly multiplier or novelty effect takes its rate "
                                   "above 1");
        }
      }
    }
    return Status::Ok();
  }

  // engine: per_step | batched. The batched engine needs every contender to
  // route by allocation weights and feedback without delay (docs/simulation.md).
  Status ParseEngine(const YAML::Node& e, Scenario* s) {
    std::string v;
    SIM_ASSIGN(v, r_.String(e, "engine"));
    if (v == "per_step") {
      s->engine = EngineKind::kPerStep;
      return Status::Ok();
    }
    if (v != "batched") return r_.Error(e, "'engine' must be per_step or batched");
    s->engine = EngineKind::kBatched;
    if (s->contextual()) return r_.Error(e, "the batched engine needs a non-contextual scenario");
    if (s->replacement.prob > 0.0 || s->delay.kind != DelaySpec::Kind::kNone || !s->drift.empty())
      return r_.Error(e, "the batched engine supports no drift, replacement or delay (with "
                         "'traffic', rates may change with 'weekly' and 'novelty')");
    if (!s->route_by_weights)
      return r_.Error(e, "the batched engine routes by allocation weights ('routing: choose' is "
                         "per step)");
    // A segment's rewards reach the policy grouped by arm: exact only for
    // policies whose state is a function of each arm's sums.
    for (const auto& c : s->contenders) {
      for (std::string_view n : {"discounted_thompson", "sliding_window_thompson"}) {
        if (c.policy.name == n) {
          return r_.Error(e, "'" + c.label + "': " + std::string(n) +
                                 " depends on the order of its rewards; use engine: per_step");
        }
      }
    }
    return Status::Ok();
  }

  Status CheckArm(const YAML::Node& at, const Scenario& s, const ArmSpec& a) {
    if (s.reward == RewardKind::kBernoulli && (a.mean < 0.0 || a.mean > 1.0)) {
      return r_.Error(at, "a Bernoulli arm's mean must be in [0, 1]");
    }
    if (a.sd <= 0.0) return r_.Error(at, "'sd' must be > 0");
    return Status::Ok();
  }

  Status BetaPair(const YAML::Node& node, double* a, double* b) {
    if (!node.IsSequence() || node.size() != 2) return r_.Error(node, "'beta' must be [a, b]");
    SIM_ASSIGN(*a, r_.Double(node[0], "beta"));
    SIM_ASSIGN(*b, r_.Double(node[1], "beta"));
    if (*a <= 0.0 || *b <= 0.0) return r_.Error(node, "'beta' parameters must be > 0");
    return Status::Ok();
  }

  Status ParseEnvironment(const YAML::Node& env, Scenario* s) {
    BANDITD_RETURN_IF_ERROR(r_.CheckKeys(env, "environment",
                                         {"drift", "replacement", "delay", "weekly", "novelty"}));
    BANDITD_RETURN_IF_ERROR(ParseTimeEffects(env, s));
    if (s->timed() && (env["drift"] || env["replacement"])) {
      return r_.Error(env, "with 'traffic', rates change with 'weekly' and 'novelty' (no step-"
                           "based 'drift', no 'replacement')");
    }
    if (env["drift"]) {
      if (!env["drift"].IsSequence()) return r_.Error(env["drift"], "'drift' must be a list");
      for (const auto& d : env["drift"]) {
        BANDITD_RETURN_IF_ERROR(r_.CheckKeys(d, "a drift", {"arm", "at", "from", "to", "mean"}));
        DriftSpec spec;
        if (!d["arm"] || !d["mean"]) return r_.Error(d, "a drift needs 'arm' and 'mean'");
        SIM_ASSIGN(spec.arm, ArmIndex(d["arm"], *s, "arm"));
        SIM_ASSIGN(spec.mean, r_.Double(d["mean"], "mean"));
        if (d["at"] && !d["from"] && !d["to"]) {
          SIM_ASSIGN(spec.start, r_.Count(d["at"], "at"));
          spec.end = spec.start;
        } else if (d["from"] && d["to"] && !d["at"]) {
          SIM_ASSIGN(spec.start, r_.Count(d["from"], "from"));
          SIM_ASSIGN(spec.end, r_.Count(d["to"], "to"));
          if (spec.end <= spec.start) return r_.Error(d["to"], "'to' must be after 'from'");
        } else {
          return r_.Error(d, "a drift needs either 'at' (a step) or 'from' and 'to' (gradual)");
        }
        if (s->reward == RewardKind::kBernoulli && (spec.mean < 0 || spec.mean > 1)) {
          return r_.Error(d["mean"], "a Bernoulli arm's mean must be in [0, 1]");
        }
        if (s->reward == RewardKind::kLognormal)
          return r_.Error(d, "'drift' needs Bernoulli or Gaussian arms");
        s->drift.push_back(spec);
      }
    }
    if (env["replacement"]) {
      const YAML::Node rep = env["replacement"];
      BANDITD_RETURN_IF_ERROR(
          r_.CheckKeys(rep, "replacement", {"prob", "beta", "notice", "pending"}));
      if (!rep["prob"]) return r_.Error(rep, "'replacement' needs 'prob'");
      SIM_ASSIGN(s->replacement.prob, r_.Double(rep["prob"], "prob"));
      if (s->replacement.prob < 0 || s->replacement.prob > 1) {
        return r_.Error(rep["prob"], "'prob' must be in [0, 1]");
      }
      if (rep["beta"])
        BANDITD_RETURN_IF_ERROR(BetaPair(rep["beta"], &s->replacement.a, &s->replacement.b));
      if (rep["notice"]) {
        std::string v;
        SIM_ASSIGN(v, r_.String(rep["notice"], "notice"));
        if (v != "at_once" && v != "next_delivery")
          return r_.Error(rep["notice"], "'notice' must be at_once or next_delivery");
        s->replacement.notice = v == "at_once" ? ReplacementSpec::Notice::kAtOnce
                                               : ReplacementSpec::Notice::kNextDelivery;
      }
      if (rep["pending"]) {
        std::string v;
        SIM_ASSIGN(v, r_.String(rep["pending"], "pending"));
        if (v != "drop" && v != "deliver")
          return r_.Error(rep["pending"], "'pending' must be drop or deliver");
        s->replacement.pending =
            v == "drop" ? ReplacementSpec::Pending::kDrop : ReplacementSpec::Pending::kDeliver;
      }
      if (s->reward != RewardKind::kBernoulli)
        return r_.Error(rep, "'replacement' needs Bernoulli arms");
    }
    if (env["delay"]) {
      const YAML::Node d = env["delay"];
      BANDITD_RETURN_IF_ERROR(r_.CheckKeys(d, "delay", {"every", "mean"}));
      if (d["every"] && !d["mean"]) {
        s->delay.kind = DelaySpec::Kind::kBatch;
        SIM_ASSIGN(s->delay.every, r_.Count(d["every"], "every"));
        if (s->delay.every < 1) return r_.Error(d["every"], "'every' must be >= 1");
      } else if (d["mean"] && !d["every"]) {
        s->delay.kind = DelaySpec::Kind::kRandom;
        SIM_ASSIGN(s->delay.mean, r_.Double(d["mean"], "mean"));
        if (s->delay.mean < 0 || s->delay.mean > 1e9)
          return r_.Error(d["mean"], "'mean' must be in [0, 1e9]");
      } else {
        return r_.Error(d, "'delay' needs either 'every' (batches) or 'mean' (random delay)");
      }
    }
    return Status::Ok();
  }

  Status ParseDecision(const YAML::Node& d, Scenario* s) {
    BANDITD_RETURN_IF_ERROR(
        r_.CheckKeys(d, "decision", {"check_every", "propensity_every", "on_decision", "routing"}));
    if (d["check_every"]) SIM_ASSIGN(s->check_every, r_.Count(d["check_every"], "check_every"));
    if (d["propensity_every"])
      SIM_ASSIGN(s->propensity_every, r_.Count(d["propensity_every"], "propensity_every"));
    if (s->check_every < 1 || s->propensity_every < 1) return r_.Error(d, "intervals must be >= 1");
    if (d["on_decision"]) {
      std::string v;
      SIM_ASSIGN(v, r_.String(d["on_decision"], "on_decision"));
      if (v != "promote" && v != "continue")
        return r_.Error(d["on_decision"], "'on_decision' must be promote or continue");
      s->promote_on_decision = v == "promote";
    }
    if (d["routing"]) {
      std::string v;
      SIM_ASSIGN(v, r_.String(d["routing"], "routing"));
      if (v != "weights" && v != "choose") {
        return r_.Error(d["routing"], "'routing' must be weights or choose");
      }
      s->route_by_weights = v == "weights";
    }
    return Status::Ok();
  }

  Status ParsePolicies(const YAML::Node& list, Scenario* s) {
    if (!list.IsSequence() || list.size() == 0)
      return r_.Error(list, "'policies' must be a non-empty list");
    for (const auto& p : list) {
      BANDITD_RETURN_IF_ERROR(
          r_.CheckKeys(p, "a policy", {"name", "label", "params", "limits", "stopping"}));
      if (!p["name"]) return r_.Error(p, "a policy needs a 'name'");
      ContenderSpec c;
      c.policy.num_arms = s->arms.size();
      if (s->contextual()) c.policy.context_dim = s->context.dim();
      SIM_ASSIGN(c.policy.name, r_.String(p["name"], "name"));
      c.label = c.policy.name;
      if (p["label"]) SIM_ASSIGN(c.label, r_.String(p["label"], "label"));
      if (p["params"]) SIM_ASSIGN(c.policy.params, r_.ParamsOf(p["params"], "params"));
      c.policy.limits.champion = s->champion;
      if (p["limits"]) {
        const YAML::Node l = p["limits"];
        BANDITD_RETURN_IF_ERROR(
            r_.CheckKeys(l, "limits", {"champion_floor", "challenger_ceiling"}));
        if (l["champion_floor"])
          SIM_ASSIGN(c.policy.limits.champion_floor,
                     r_.Double(l["champion_floor"], "champion_floor"));
        if (l["challenger_ceiling"])
          SIM_ASSIGN(c.policy.limits.challenger_ceiling,
                     r_.Double(l["challenger_ceiling"], "challenger_ceiling"));
      }
      if (p["stopping"]) {
        const YAML::Node st = p["stopping"];
        BANDITD_RETURN_IF_ERROR(r_.CheckKeys(st, "stopping", {"name", "params"}));
        if (!st["name"]) return r_.Error(st, "'stopping' needs a 'name'");
        if (s->replacement.prob > 0 || s->random_arms.a > 0) {
          return r_.Error(st, "stopping rules need fixed arms (no replacement, no random arms)");
        }
        if (s->arms.size() < 2) return r_.Error(st, "stopping rules need at least two arms");
        std::string name;
        SIM_ASSIGN(name, r_.String(st["name"], "name"));
        Params params;
        if (st["params"]) SIM_ASSIGN(params, r_.ParamsOf(st["params"], "params"));
        StoppingSpec spec = MakeStoppingSpec(
            std::move(name), std::move(params), s->arms.size(), s->champion,
            s->reward == RewardKind::kBernoulli ? Metric::kBernoulli : Metric::kGaussian);
        if (spec.params.Has("min_duration")) {
          // The rule takes seconds; the file may say "7d". Only simulated
          // time gives the rule a clock (StoppingRule::SetElapsed).
          const YAML::Node md = st["params"]["min_duration"];
          if (!s->timed())
            return r_.Error(md, "'min_duration' needs simulated time (a 'traffic' section)");
          double secs = 0;
          SIM_ASSIGN(secs, r_.Seconds(md, "min_duration"));
          spec.params.Set("min_duration", secs);
        }
        c.stopping = std::move(spec);
      }
      for (const auto& other : s->contenders) {
        if (other.label == c.label)
          return r_.Error(p, "duplicate policy label '" + c.label + "' (set 'label')");
      }
      s->contenders.push_back(std::move(c));
    }
    return Status::Ok();
  }

  const YamlReader& r_;
  std::string lognormal_form_;  // the 'reward' name of a lognormal scenario
};

Result<std::vector<Scenario>> ParseNode(const YAML::Node& root, const YamlReader& reader) {
  if (!root.IsMap()) return reader.Error(root, "a scenario must be a YAML map");
  Parser parser(reader);
  std::vector<Scenario> out;
  const YAML::Node sweep = root["sweep"];
  // The document as written must be valid on its own (errors keep their lines).
  auto base = parser.Parse(root);
  if (!base.ok()) return base.status();
  if (!sweep) {
    out.push_back(std::move(base).value());
    return out;
  }
  BANDITD_RETURN_IF_ERROR(reader.CheckKeys(sweep, "sweep", {"key", "values"}));
  if (!sweep["key"] || !sweep["values"] || !sweep["values"].IsSequence() ||
      sweep["values"].size() == 0) {
    return reader.Error(sweep, "'sweep' needs 'key' (a dotted path) and a non-empty list 'values'");
  }
  std::string key;
  SIM_ASSIGN(key, reader.String(sweep["key"], "key"));
  for (const auto& v : sweep["values"]) {
    YAML::Node copy = YAML::Clone(root);
    copy.remove("sweep");
    Status set = SetPath(copy, key, v);
    if (!set.ok()) return reader.Error(sweep["key"], set.message());
    auto variant = parser.Parse(copy);
    if (!variant.ok()) {
      return reader.Error(v, "sweep value '" + YAML::Dump(v) + "': " + variant.status().message());
    }
    variant->variant = key + "=" + YAML::Dump(v);
    out.push_back(std::move(variant).value());
  }
  return out;
}

}  // namespace

Result<std::vector<Scenario>> ParseScenario(std::string_view yaml, std::string_view source) {
  YamlReader reader{std::string(source)};
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    return ParseNode(root, reader);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string(source) + ":" + std::to_string(e.mark.line + 1) +
                           ": malformed YAML: " + e.msg);
  }
}

Result<std::vector<Scenario>> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(Code::kNotFound, "cannot open scenario file '" + path + "'");
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseScenario(buf.str(), path);
}

}  // namespace banditd::sim
