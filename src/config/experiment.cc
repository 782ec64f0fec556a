#include "src/config/experiment.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>

#include "banditd/wire.h"

namespace banditd::config {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Names travel in decision ids, metric labels and file names.
Status CheckName(const YamlNode& node, const std::string& name) {
  if (name.empty() || name.size() > 64) return node.Error("must be 1 to 64 characters");
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.') {
      return node.Error("'" + name + "' may only hold letters, digits, '_', '-' and '.'");
    }
  }
  return Status::Ok();
}

Status LoadModel(const YamlNode& node, const std::string& model_dir, bool check_files,
                 ModelConfig* out) {
  BANDITD_RETURN_IF_ERROR(node.CheckMap({"path", "input_shape", "sha256"}));
  if (!node.Has("path")) return node.Error("missing key 'path'");
  const YamlNode path = node.Child("path");
  std::string raw;
  BANDITD_RETURN_IF_ERROR(path.AsString(&raw));
  if (raw.empty()) return path.Error("must not be empty");
  out->path = ResolvePath(model_dir, raw);
  if (check_files && !std::filesystem::is_regular_file(out->path)) {
    return path.Error("no model file at " + out->path);
  }
  if (!node.Has("input_shape")) return node.Error("missing key 'input_shape'");
  const YamlNode shape = node.Child("input_shape");
  if (!shape.IsSequence() || shape.size() == 0 || shape.size() > wire::kMaxInputDims) {
    return shape.Error("must be a list of 1 to " + std::to_string(wire::kMaxInputDims) +
                       " dimensions");
  }
  out->input_shape.resize(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    const YamlNode d = shape.Item(i);
    BANDITD_RETURN_IF_ERROR(d.AsInt(&out->input_shape[i]));
    if (out->input_shape[i] < 1 || out->input_shape[i] > (int64_t{1} << 24)) {
      return d.Error("must be in [1, 16777216]");
    }
  }
  BANDITD_RETURN_IF_ERROR(node.Read("sha256", &out->sha256));
  if (!out->sha256.empty()) {
    std::transform(out->sha256.begin(), out->sha256.end(), out->sha256.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const bool hex =
        out->sha256.size() == 64 && std::all_of(out->sha256.begin(), out->sha256.end(),
                                                [](unsigned char c) { return std::isxdigit(c); });
    if (!hex) return node.Child("sha256").Error("must be 64 hexadecimal digits");
  }
  return Status::Ok();
}

Status LoadArms(const YamlNode& node, const std::string& model_dir, bool check_files,
                ExperimentConfig* exp) {
  if (!node.IsSequence() || node.size() < 2) return node.Error("must be a list of at least 2 arms");
  std::set<std::string> names;
  std::optional<size_t> champion;
  for (size_t i = 0; i < node.size(); ++i) {
    const YamlNode a = node.Item(i);
    BANDITD_RETURN_IF_ERROR(a.CheckMap({"name", "champion", "model"}));
    ArmConfig arm;
    if (!a.Has("name")) return a.Error("missing key 'name'");
    BANDITD_RETURN_IF_ERROR(a.Child("name").AsString(&arm.name));
    BANDITD_RETURN_IF_ERROR(CheckName(a.Child("name"), arm.name));
    if (!names.insert(arm.name).second) {
      return a.Child("name").Error("duplicate arm name '" + arm.name + "'");
    }
    BANDITD_RETURN_IF_ERROR(a.Read("champion", &arm.champion));
    if (arm.champion) {
      if (champion) {
        return a.Child("champion")
            .Error("arm '" + exp->arms[*champion].name + "' is already the champion");
      }
      champion = i;
    }
    const bool none =
        a.Has("model") && a.Child("model").IsScalar() && a.Child("model").raw().Scalar() == "none";
    if (a.Has("model") && !none) {
      ModelConfig model;
      BANDITD_RETURN_IF_ERROR(LoadModel(a.Child("model"), model_dir, check_files, &model));
      arm.model = std::move(model);
    }
    exp->arms.push_back(std::move(arm));
  }
  if (!champion) exp->arms[0].champion = true;  // documented default: the first arm
  exp->traffic.champion = champion.value_or(0);
  return Status::Ok();
}

// MakePolicy's message names a parameter; point at that key when it does.
Status PolicyError(const YamlNode& policy, const Status& s) {
  if (policy.IsMap() && policy.Has("params") && policy.Child("params").IsMap()) {
    const YamlNode params = policy.Child("params");
    for (const std::string& key : params.Keys()) {
      const size_t at = s.message().find(key);
      const auto ident = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      };
      if (at == std::string::npos) continue;
      if (at > 0 && ident(s.message()[at - 1])) continue;
      if (at + key.size() < s.message().size() && ident(s.message()[at + key.size()])) continue;
      return params.Child(key).Error(s.message());
    }
    return params.Error(s.message());
  }
  return policy.Error(s.message());
}

Status LoadPolicy(const YamlNode& node, ExperimentConfig* exp) {
  if (node.IsScalar()) return node.AsString(&exp->policy);  // shorthand: `policy: thompson`
  BANDITD_RETURN_IF_ERROR(node.CheckMap({"name", "params", "context_dim"}));
  if (!node.Has("name")) return node.Error("missing key 'name'");
  BANDITD_RETURN_IF_ERROR(node.Child("name").AsString(&exp->policy));
  if (node.Has("params"))
    BANDITD_RETURN_IF_ERROR(node.Child("params").AsParams(&exp->policy_params));
  int64_t dim = 0;
  BANDITD_RETURN_IF_ERROR(node.Read("context_dim", &dim, 0, 4096));
  exp->context_dim = static_cast<size_t>(dim);
  return Status::Ok();
}

// A metric's rewards must lie in the policy's domain (the registry's
// statement, PolicyRewardRange): a Beta-Bernoulli policy fed real values
// learns nonsense and leaves a state no restart can load.
Status CheckRewardDomain(const YamlNode& node, const ExperimentConfig& exp) {
  if (exp.metric != Metric::kGaussian) return Status::Ok();  // bernoulli: [0, 1] fits all
  const RewardRange range = PolicyRewardRange(exp.policy).value_or(RewardRange::Real());
  if (!range.bounded()) return Status::Ok();
  std::string real;
  for (std::string_view name : PolicyNames()) {
    if (auto r = PolicyRewardRange(name); r && !r->bounded()) {
      real += (real.empty() ? "" : ", ") + std::string(name);
    }
  }
  char bounds[64];
  std::snprintf(bounds, sizeof bounds, "[%g, %g]", range.lo, range.hi);
  const std::string why = exp.policy + " takes rewards in " + bounds +
                          "; metric gaussian sends any finite value: use a policy for "
                          "real-valued rewards (" +
                          real + ") or metric bernoulli";
  if (!node.Has("policy")) return node.Child("metric").Error("the default policy " + why);
  const YamlNode p = node.Child("policy");
  return (p.IsMap() && p.Has("name") ? p.Child("name") : p).Error(why);
}

Status LoadModeSpecific(const YamlNode& node, ExperimentConfig* exp) {
  if (node.Has("weights")) {
    const YamlNode w = node.Child("weights");
    if (exp->mode != Mode::kAb) return w.Error("is only used in mode ab");
    if (!w.IsSequence() || w.size() != exp->arms.size()) {
      return w.Error("must list one weight per arm (" + std::to_string(exp->arms.size()) + ")");
    }
    double sum = 0;
    exp->weights.resize(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      BANDITD_RETURN_IF_ERROR(w.Item(i).AsDouble(&exp->weights[i]));
      if (exp->weights[i] < 0) return w.Item(i).Error("must be >= 0");
      sum += exp->weights[i];
    }
    if (std::fabs(sum - 1.0) > 1e-6) return w.Error("must sum to 1, got " + std::to_string(sum));
  } else if (exp->mode == Mode::kAb) {
    exp->weights.assign(exp->arms.size(), 1.0 / static_cast<double>(exp->arms.size()));
  }
  if (node.Has("canary_share") && exp->mode != Mode::kCanary) {
    return node.Child("canary_share").Error("is only used in mode canary");
  }
  BANDITD_RETURN_IF_ERROR(node.Read("canary_share", &exp->canary_share, 0, 0.5, true, false));
  if (exp->mode == Mode::kShadow) {
    for (size_t i = 0; i < exp->arms.size(); ++i) {
      if (!exp->arms[i].model) {
        return node.Child("arms").Item(i).Error("mode shadow needs a model on every arm");
      }
    }
  }
  return Status::Ok();
}

// The daemon decides with the rule, so it must keep its error rate for this
// experiment's allocation (CheckStoppingRuleFits): a bandit policy adapts
// the allocation (the `static` policy does not), the other modes split
// traffic by fixed shares.
// The shares the rule sees: mode ab's weights; the `static` policy's
// (normalised) weights in modes bandit and canary; and in mode canary the
// canary phase's split too (its rewards reach the rule as well). Every one of
// them counts for the smallest-share limits.
Status CheckStoppingFits(const YamlNode& stopping, const ExperimentConfig& exp,
                         const StoppingSpec& spec) {
  StoppingAllocation allocation;
  const bool policy_moves = exp.mode == Mode::kBandit || exp.mode == Mode::kCanary;
  allocation.adaptive = policy_moves && exp.policy != "static";
  if (exp.mode == Mode::kAb) allocation.weights = exp.weights;
  if (policy_moves && exp.policy == "static") {
    auto w = exp.policy_params.GetDoubles("weights", std::vector<double>(exp.arms.size(), 1.0));
    double total = 0;
    if (w.ok()) {
      for (double x : *w) total += x;
    }
    // Malformed weights are the policy's to refuse, with its own message.
    if (w.ok() && w->size() == exp.arms.size() && total > 0 && std::isfinite(total)) {
      for (double x : *w) allocation.weights.push_back(x / total);
    }
  }
  if (exp.mode == Mode::kCanary && exp.arms.size() > 1) {
    allocation.weights.push_back(1.0 - exp.canary_share);
    allocation.weights.push_back(exp.canary_share / static_cast<double>(exp.arms.size() - 1));
  }
  // traffic limits clamp whatever the mode's shares are: a challenger gets
  // at most the ceiling, and at most what the champion's floor leaves.
  if (exp.arms.size() > 1 && exp.traffic.active()) {
    const double others = static_cast<double>(exp.arms.size() - 1);
    allocation.weights.push_back(
        std::min(exp.traffic.challenger_ceiling, (1.0 - exp.traffic.champion_floor) / others));
  }
  if (exp.mode == Mode::kShadow) {
    return (stopping.Has("rule") ? stopping.Child("rule") : stopping)
        .Error("stopping rule '" + spec.name +
               "': mode shadow serves every request from the champion, so a rule never sees "
               "a challenger's reward and can never decide; use mode canary or ab to test it");
  }
  const Status fits = CheckStoppingRuleFits(spec, allocation);
  if (fits.ok()) return fits;
  return (stopping.Has("rule") ? stopping.Child("rule") : stopping).Error(fits.message());
}

// stopping.min_duration (the rule's time guard) and srm.threshold.
Status LoadTimeGuardAndSrm(const YamlNode& node, ExperimentConfig* exp) {
  if (node.Has("stopping")) {
    const YamlNode s = node.Child("stopping");
    if (s.Has("params") && s.Child("params").IsMap() && s.Child("params").Has("min_duration")) {
      return s.Child("params").Child("min_duration").Error(
          "set the time guard as stopping.min_duration (a duration like 7d), not as a rule "
          "parameter");
    }
    if (s.HasNull("min_duration")) {
      return s.Error("min_duration has no value: give a duration (the default is 7d; 0 turns "
                     "the guard off)");
    }
    if (s.Has("min_duration")) {
      int64_t ms = 0;
      BANDITD_RETURN_IF_ERROR(s.Child("min_duration")
                                  .AsDurationMs(1000, 0, int64_t{366} * 86'400'000, &ms));  // bare: s
      exp->stopping.min_duration = std::chrono::seconds((ms + 999) / 1000);
    }
  }
  if (node.Has("srm")) {
    const YamlNode srm = node.Child("srm");
    BANDITD_RETURN_IF_ERROR(srm.CheckMap({"threshold", "rewards"}));
    BANDITD_RETURN_IF_ERROR(srm.Read("threshold", &exp->srm.threshold, 0, 0.5));  // 0: off
    BANDITD_RETURN_IF_ERROR(srm.Read("rewards", &exp->srm.rewards));
    if (exp->srm.rewards && (exp->arms.size() != 2 || exp->mode == Mode::kShadow)) {
      return srm.Child("rewards").Error(
          "needs two arms outside mode shadow: a reward carries only its own arm's propensity");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string ResolvePath(const std::string& base, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(base) / p;
  return p.lexically_normal().string();
}

Status LoadExperiment(const YamlNode& node, const std::string& model_dir, bool check_files,
                      ExperimentConfig* exp) {
  BANDITD_RETURN_IF_ERROR(node.CheckMap({"name", "mode", "metric", "policy", "traffic", "weights",
                                         "canary_share", "arms", "stopping", "guardrails",
                                         "on_decision", "refresh", "salt", "context_store",
                                         "srm"}));
  if (!node.Has("name")) return node.Error("missing key 'name'");
  BANDITD_RETURN_IF_ERROR(node.Child("name").AsString(&exp->name));
  BANDITD_RETURN_IF_ERROR(CheckName(node.Child("name"), exp->name));
  if (node.Has("mode")) {
    BANDITD_RETURN_IF_ERROR(node.Child("mode").AsName(&exp->mode));
  }
  if (node.Has("metric")) {
    BANDITD_RETURN_IF_ERROR(node.Child("metric").AsName(&exp->metric));
  }
  if (!node.Has("arms")) return node.Error("missing key 'arms'");
  BANDITD_RETURN_IF_ERROR(LoadArms(node.Child("arms"), model_dir, check_files, exp));

  if (node.Has("traffic")) {
    const YamlNode t = node.Child("traffic");
    BANDITD_RETURN_IF_ERROR(t.CheckMap({"champion_floor", "challenger_ceiling"}));
    BANDITD_RETURN_IF_ERROR(t.Read("champion_floor", &exp->traffic.champion_floor, 0, 1));
    BANDITD_RETURN_IF_ERROR(t.Read("challenger_ceiling", &exp->traffic.challenger_ceiling, 0, 1));
  }
  BANDITD_RETURN_IF_ERROR(LoadModeSpecific(node, exp));

  if (node.Has("policy")) BANDITD_RETURN_IF_ERROR(LoadPolicy(node.Child("policy"), exp));
  if (auto policy = MakePolicy(exp->policy_spec()); !policy.ok()) {
    if (!node.Has("policy")) return node.Error(policy.status().message());
    const YamlNode p = node.Child("policy");
    if (p.IsMap() && p.Has("name") &&
        policy.status().message().find("unknown policy") != std::string::npos) {
      return p.Child("name").Error(policy.status().message());
    }
    return PolicyError(p, policy.status());
  }
  BANDITD_RETURN_IF_ERROR(CheckRewardDomain(node, *exp));

  BANDITD_RETURN_IF_ERROR(LoadTimeGuardAndSrm(node, exp));
  if (node.Has("stopping")) {
    const YamlNode s = node.Child("stopping");
    BANDITD_RETURN_IF_ERROR(s.CheckMap({"rule", "params", "min_duration"}));
    if (s.Has("rule")) {
      size_t index = 0;
      BANDITD_RETURN_IF_ERROR(s.Child("rule").AsEnum(StoppingRuleNames(), &index));
      exp->stopping.rule = std::string(StoppingRuleNames()[index]);
    }
    if (s.Has("params")) BANDITD_RETURN_IF_ERROR(s.Child("params").AsParams(&exp->stopping.params));
    // Build the rule now, so --check catches what start-up would refuse.
    const StoppingSpec spec = MakeStoppingSpec(exp->stopping.rule, exp->stopping.params,
                                               exp->arms.size(), exp->champion(), exp->metric);
    if (auto rule = MakeStoppingRule(spec); !rule.ok()) {
      return (s.Has("params") ? s.Child("params") : s).Error(rule.status().message());
    }
    BANDITD_RETURN_IF_ERROR(CheckStoppingFits(s, *exp, spec));
  } else {
    exp->stopping.rule.clear();  // no stopping rule: an operator decides
  }
  if (node.Has("guardrails")) {
    const YamlNode g = node.Child("guardrails");
    BANDITD_RETURN_IF_ERROR(
        g.CheckMap({"max_error_rate_ratio", "max_p99_latency_ratio", "min_samples"}));
    BANDITD_RETURN_IF_ERROR(
        g.Read("max_error_rate_ratio", &exp->guardrails.max_error_rate_ratio, 1, kInf));
    BANDITD_RETURN_IF_ERROR(
        g.Read("max_p99_latency_ratio", &exp->guardrails.max_p99_latency_ratio, 1, kInf));
    BANDITD_RETURN_IF_ERROR(
        g.Read("min_samples", &exp->guardrails.min_samples, 1, int64_t{1} << 40));
  }
  if (node.Has("on_decision")) {
    BANDITD_RETURN_IF_ERROR(node.Child("on_decision").AsName(&exp->on_decision));
  }
  if (node.Has("refresh")) {
    const YamlNode r = node.Child("refresh");
    BANDITD_RETURN_IF_ERROR(r.CheckMap({"interval", "every_rewards"}));
    if (r.HasNull("interval")) {
      return r.Error("interval has no value: give a duration (the default is 1s)");
    }
    if (r.Has("interval")) {
      int64_t ms = 0;
      BANDITD_RETURN_IF_ERROR(r.Child("interval").AsDurationMs(1, 10, 3'600'000, &ms));
      exp->refresh.interval = std::chrono::milliseconds(ms);
    }
    BANDITD_RETURN_IF_ERROR(
        r.Read("every_rewards", &exp->refresh.every_rewards, 0, int64_t{1} << 40));
  }
  if (node.Has("context_store")) {
    const YamlNode c = node.Child("context_store");
    if (exp->context_dim == 0) {
      return c.Error("is only used by contextual policies (policy.context_dim > 0)");
    }
    BANDITD_RETURN_IF_ERROR(c.CheckMap({"max_bytes"}));
    int64_t bytes = static_cast<int64_t>(exp->context_store_max_bytes);
    BANDITD_RETURN_IF_ERROR(c.Read("max_bytes", &bytes, int64_t{64} << 10, int64_t{1} << 30));
    exp->context_store_max_bytes = static_cast<size_t>(bytes);
  }
  exp->salt = exp->name;
  BANDITD_RETURN_IF_ERROR(node.Read("salt", &exp->salt));
  if (exp->salt.empty()) return node.Child("salt").Error("must not be empty");
  return Status::Ok();
}

}  // namespace banditd::config
