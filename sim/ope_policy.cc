#include "sim/ope_policy.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "sim/yaml_util.h"

namespace banditd::sim::ope {

void TargetPolicy::Learn(size_t arm, double reward, std::span<const double> context) {
  if (policy_) policy_->Update(arm, reward, context_dim_ ? context : std::span<const double>{});
}

void TargetPolicy::Probabilities(std::span<const double> x, std::span<double> out) {
  const size_t k = arms_.size();
  switch (kind_) {
    case Kind::kStatic:
      std::copy(weights_.begin(), weights_.end(), out.begin());
      break;
    case Kind::kRule:
      std::fill(out.begin(), out.end(), 0.0);
      out[x[feature_] > threshold_ ? above_ : below_] = 1.0;
      break;
    case Kind::kLinear: {
      for (size_t a = 0; a < k; ++a) {
        double z = 0.0;
        for (size_t j = 0; j < context_dim_; ++j) z += theta_[a][j] * x[j];
        out[a] = z;
      }
      if (temperature_ <= 0.0) {
        // Greedy; ties go to the lowest index (as linucb's choice).
        const size_t best =
            static_cast<size_t>(std::max_element(out.begin(), out.end()) - out.begin());
        std::fill(out.begin(), out.end(), 0.0);
        out[best] = 1.0;
      } else {
        const double top = *std::max_element(out.begin(), out.end());
        double sum = 0.0;
        for (double& v : out) sum += (v = std::exp((v - top) / temperature_));
        for (double& v : out) v /= sum;
      }
      break;
    }
    case Kind::kRegistry:
      policy_->Allocation(rng_, context_dim_ ? x : std::span<const double>{}, out);
      break;
  }
  if (epsilon_ > 0.0) {
    for (double& v : out) v = (1.0 - epsilon_) * v + epsilon_ / static_cast<double>(k);
  }
}

#define OPE_ASSIGN(lhs, expr)         \
  do {                                \
    auto _r = (expr);                 \
    if (!_r.ok()) return _r.status(); \
    lhs = std::move(_r).value();      \
  } while (0)

class TargetPolicyParser {
 public:
  explicit TargetPolicyParser(const YamlReader& r) : r_(r) {}

  Result<TargetPolicy> Parse(const YAML::Node& root) {
    if (!root.IsMap()) return r_.Error(root, "a policy file must be a YAML map");
    BANDITD_RETURN_IF_ERROR(
        r_.CheckKeys(root, "the policy",
                     {"arms", "context_dim", "epsilon", "static", "rule", "linear", "policy"}));
    TargetPolicy p;
    const YAML::Node arms = root["arms"];
    if (!arms || !arms.IsSequence() || arms.size() < 1)
      return r_.Error(root, "'arms' must list the arm names, as logged, in the policy's order");
    for (const auto& a : arms) {
      std::string name;
      OPE_ASSIGN(name, r_.String(a, "arms"));
      if (std::find(p.arms_.begin(), p.arms_.end(), name) != p.arms_.end())
        return r_.Error(a, "arm '" + name + "' is listed twice");
      p.arms_.push_back(name);
    }
    if (root["context_dim"]) {
      uint64_t d = 0;
      OPE_ASSIGN(d, r_.Count(root["context_dim"], "context_dim"));
      if (d > 4096) return r_.Error(root["context_dim"], "'context_dim' must be <= 4096");
      p.context_dim_ = d;
    }
    if (root["epsilon"]) {
      OPE_ASSIGN(p.epsilon_, r_.Double(root["epsilon"], "epsilon"));
      if (!(p.epsilon_ >= 0.0 && p.epsilon_ <= 1.0))
        return r_.Error(root["epsilon"], "'epsilon' must be in [0, 1]");
    }
    const int kinds = (root["static"] ? 1 : 0) + (root["rule"] ? 1 : 0) + (root["linear"] ? 1 : 0) +
                      (root["policy"] ? 1 : 0);
    if (kinds != 1)
      return r_.Error(root, "the policy needs exactly one of 'static', 'rule', 'linear', 'policy'");
    if (root["static"]) BANDITD_RETURN_IF_ERROR(Static(root["static"], &p));
    if (root["rule"]) BANDITD_RETURN_IF_ERROR(Rule(root["rule"], &p));
    if (root["linear"]) BANDITD_RETURN_IF_ERROR(Linear(root["linear"], &p));
    if (root["policy"]) BANDITD_RETURN_IF_ERROR(Registry(root["policy"], &p));
    if (p.epsilon_ > 0.0) {
      std::ostringstream e;
      e << ", mixed with uniform at epsilon " << p.epsilon_;
      p.description_ += e.str();
    }
    return p;
  }

 private:
  Result<size_t> ArmIndex(const YAML::Node& node, const TargetPolicy& p, std::string_view key) {
    std::string name;
    OPE_ASSIGN(name, r_.String(node, key));
    for (size_t i = 0; i < p.arms_.size(); ++i) {
      if (p.arms_[i] == name) return i;
    }
    return r_.Error(node, "'" + std::string(key) + "': no arm named '" + name + "' in 'arms'");
  }

  Result<std::vector<double>> Numbers(const YAML::Node& node, std::string_view key, size_t n) {
    if (!node.IsSequence() || node.size() != n)
      return r_.Error(
          node, "'" + std::string(key) + "' must be a list of " + std::to_string(n) + " numbers");
    std::vector<double> out;
    for (const auto& v : node) {
      double x = 0;
      OPE_ASSIGN(x, r_.Double(v, key));
      if (!std::isfinite(x)) return r_.Error(v, "'" + std::string(key) + "' must be finite");
      out.push_back(x);
    }
    return out;
  }

  Status Static(const YAML::Node& node, TargetPolicy* p) {
    p->kind_ = TargetPolicy::Kind::kStatic;
    OPE_ASSIGN(p->weights_, Numbers(node, "static", p->arms_.size()));
    double sum = 0;
    for (double w : p->weights_) {
      if (w < 0.0) return r_.Error(node, "'static' weights must be >= 0");
      sum += w;
    }
    if (!(sum > 0.0)) return r_.Error(node, "'static' weights must not all be 0");
    for (double& w : p->weights_) w /= sum;
    p->description_ = "static weights";
    return Status::Ok();
  }

  Status Rule(const YAML::Node& node, TargetPolicy* p) {
    BANDITD_RETURN_IF_ERROR(r_.CheckKeys(node, "rule", {"feature", "threshold", "above", "below"}));
    for (const char* k : {"feature", "above", "below"}) {
      if (!node[k]) return r_.Error(node, std::string("'rule' needs '") + k + "'");
    }
    p->kind_ = TargetPolicy::Kind::kRule;
    uint64_t f = 0;
    OPE_ASSIGN(f, r_.Count(node["feature"], "feature"));
    if (p->context_dim_ == 0 || f >= p->context_dim_)
      return r_.Error(node["feature"],
                      "'feature' must index the context: set 'context_dim' > " + std::to_string(f));
    p->feature_ = f;
    if (node["threshold"]) OPE_ASSIGN(p->threshold_, r_.Double(node["threshold"], "threshold"));
    OPE_ASSIGN(p->above_, ArmIndex(node["above"], *p, "above"));
    OPE_ASSIGN(p->below_, ArmIndex(node["below"], *p, "below"));
    std::ostringstream d;
    d << "rule: context[" << f << "] > " << p->threshold_ << " ? " << p->arms_[p->above_] << " : "
      << p->arms_[p->below_];
    p->description_ = d.str();
    return Status::Ok();
  }

  Status Linear(const YAML::Node& node, TargetPolicy* p) {
    BANDITD_RETURN_IF_ERROR(r_.CheckKeys(node, "linear", {"theta", "temperature"}));
    if (p->context_dim_ == 0) return r_.Error(node, "'linear' needs 'context_dim' >= 1");
    const YAML::Node th = node["theta"];
    if (!th || !th.IsSequence() || th.size() != p->arms_.size())
      return r_.Error(node, "'linear' needs 'theta': one list of context_dim numbers per arm");
    p->kind_ = TargetPolicy::Kind::kLinear;
    for (const auto& row : th) {
      std::vector<double> v;
      OPE_ASSIGN(v, Numbers(row, "theta", p->context_dim_));
      p->theta_.push_back(std::move(v));
    }
    if (node["temperature"]) {
      OPE_ASSIGN(p->temperature_, r_.Double(node["temperature"], "temperature"));
      if (!(p->temperature_ >= 0.0) || !std::isfinite(p->temperature_))
        return r_.Error(node["temperature"], "'temperature' must be >= 0 (0: argmax)");
    }
    p->description_ = p->temperature_ > 0.0 ? "linear scores, softmax" : "linear scores, argmax";
    return Status::Ok();
  }

  Status Registry(const YAML::Node& node, TargetPolicy* p) {
    BANDITD_RETURN_IF_ERROR(
        r_.CheckKeys(node, "policy", {"name", "params", "snapshot", "fit_fraction"}));
    if (!node["name"]) return r_.Error(node, "'policy' needs a 'name' (a policy registry name)");
    p->kind_ = TargetPolicy::Kind::kRegistry;
    PolicySpec spec;
    OPE_ASSIGN(spec.name, r_.String(node["name"], "name"));
    spec.num_arms = p->arms_.size();
    spec.context_dim = p->context_dim_;
    if (node["params"]) OPE_ASSIGN(spec.params, r_.ParamsOf(node["params"], "params"));
    auto made = MakePolicy(spec);
    if (!made.ok()) return r_.Error(node, made.status().message());
    p->policy_ = std::move(made).value();
    // A non-contextual policy ignores the context whatever context_dim says.
    if (p->policy_->context_dim() == 0) p->context_dim_ = 0;
    p->description_ = "policy '" + spec.name + "'";
    if (node["snapshot"] && node["fit_fraction"])
      return r_.Error(node, "'snapshot' and 'fit_fraction' exclude each other");
    if (node["snapshot"]) {
      std::string path;
      OPE_ASSIGN(path, r_.String(node["snapshot"], "snapshot"));
      std::ifstream in(path, std::ios::binary);
      if (!in) return r_.Error(node["snapshot"], "cannot open snapshot file '" + path + "'");
      std::stringstream buf;
      buf << in.rdbuf();
      Status s = p->policy_->Restore(buf.str());
      if (!s.ok()) return r_.Error(node["snapshot"], "snapshot '" + path + "': " + s.message());
      p->description_ += " restored from " + path;
    } else if (node["fit_fraction"]) {
      OPE_ASSIGN(p->fit_fraction_, r_.Double(node["fit_fraction"], "fit_fraction"));
      if (!(p->fit_fraction_ > 0.0 && p->fit_fraction_ < 1.0))
        return r_.Error(node["fit_fraction"], "'fit_fraction' must be in (0, 1)");
      std::ostringstream d;
      d << ", fitted on the first " << p->fit_fraction_ * 100 << "% of the log, then frozen";
      p->description_ += d.str();
    } else {
      p->description_ += " at its prior (no snapshot, no fit)";
    }
    return Status::Ok();
  }

  const YamlReader& r_;
};

Result<TargetPolicy> ParseTargetPolicy(std::string_view yaml, std::string_view source) {
  YamlReader reader{std::string(source)};
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    return TargetPolicyParser(reader).Parse(root);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string(source) + ":" + std::to_string(e.mark.line + 1) +
                           ": malformed YAML: " + e.msg);
  }
}

Result<TargetPolicy> LoadTargetPolicyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(Code::kNotFound, "cannot open policy file '" + path + "'");
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseTargetPolicy(buf.str(), path);
}

}  // namespace banditd::sim::ope
