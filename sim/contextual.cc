#include "sim/contextual.h"

#include "sim/contextual_yaml.h"

namespace banditd::sim {

void DrawContext(const ContextSpec& spec, Rng& rng, std::span<double> x) {
  x[0] = 1.0;
  for (size_t i = 0; i < spec.features.size(); ++i) {
    const FeatureSpec& f = spec.features[i];
    double v = 0.0;
    switch (f.kind) {
      case FeatureSpec::Kind::kBernoulli:
        v = rng.Uniform() < f.a ? 1.0 : 0.0;
        break;
      case FeatureSpec::Kind::kNormal:
        v = rng.Normal(f.a, f.b);
        break;
      case FeatureSpec::Kind::kUniform:
        v = f.a + (f.b - f.a) * rng.Uniform();
        break;
    }
    x[i + 1] = v;
  }
}

double ContextualMean(const ContextSpec& spec, size_t arm, std::span<const double> x) {
  const std::vector<double>& th = spec.theta[arm];
  double z = 0.0;
  for (size_t j = 0; j < th.size(); ++j) z += th[j] * x[j];
  return Sigmoid(z);
}

namespace {

Status Pair(const YamlReader& r, const YAML::Node& node, std::string_view key, double* a,
            double* b) {
  if (!node.IsSequence() || node.size() != 2)
    return r.Error(node, "'" + std::string(key) + "' must be a pair [a, b]");
  auto x = r.Double(node[0], key);
  if (!x.ok()) return x.status();
  auto y = r.Double(node[1], key);
  if (!y.ok()) return y.status();
  *a = *x;
  *b = *y;
  return Status::Ok();
}

}  // namespace

Status ParseContextFeatures(const YamlReader& r, const YAML::Node& node, ContextSpec* spec) {
  BANDITD_RETURN_IF_ERROR(r.CheckKeys(node, "context", {"features"}));
  const YAML::Node list = node["features"];
  if (!list || !list.IsSequence() || list.size() == 0)
    return r.Error(node, "'context' needs a non-empty list 'features'");
  for (const auto& f : list) {
    BANDITD_RETURN_IF_ERROR(
        r.CheckKeys(f, "a feature", {"name", "bernoulli", "normal", "uniform", "count"}));
    FeatureSpec spec_f;
    spec_f.name = "x" + std::to_string(spec->features.size() + 1);
    if (f["name"]) {
      auto n = r.String(f["name"], "name");
      if (!n.ok()) return n.status();
      spec_f.name = *n;
    }
    const int kinds = (f["bernoulli"] ? 1 : 0) + (f["normal"] ? 1 : 0) + (f["uniform"] ? 1 : 0);
    if (kinds != 1)
      return r.Error(f, "a feature needs exactly one of 'bernoulli', 'normal', 'uniform'");
    if (f["bernoulli"]) {
      auto p = r.Double(f["bernoulli"], "bernoulli");
      if (!p.ok()) return p.status();
      if (!(*p >= 0.0 && *p <= 1.0))
        return r.Error(f["bernoulli"], "'bernoulli' must be in [0, 1]");
      spec_f.kind = FeatureSpec::Kind::kBernoulli;
      spec_f.a = *p;
    } else if (f["normal"]) {
      spec_f.kind = FeatureSpec::Kind::kNormal;
      BANDITD_RETURN_IF_ERROR(Pair(r, f["normal"], "normal", &spec_f.a, &spec_f.b));
      if (!(spec_f.b > 0.0) || !std::isfinite(spec_f.a) || !std::isfinite(spec_f.b))
        return r.Error(f["normal"], "'normal' is [mean, sd] with a finite mean and sd > 0");
    } else {
      spec_f.kind = FeatureSpec::Kind::kUniform;
      BANDITD_RETURN_IF_ERROR(Pair(r, f["uniform"], "uniform", &spec_f.a, &spec_f.b));
      if (!(spec_f.b > spec_f.a) || !std::isfinite(spec_f.a) || !std::isfinite(spec_f.b))
        return r.Error(f["uniform"], "'uniform' is [lo, hi] with lo < hi, both finite");
    }
    uint64_t count = 1;
    if (f["count"]) {
      auto c = r.Count(f["count"], "count");
      if (!c.ok()) return c.status();
      count = *c;
      if (count < 1 || count > 4095) return r.Error(f["count"], "'count' must be in [1, 4095]");
    }
    for (uint64_t k = 0; k < count; ++k) {
      FeatureSpec copy = spec_f;
      if (count > 1) copy.name += std::to_string(k + 1);
      spec->features.push_back(std::move(copy));
    }
  }
  if (spec->dim() > 4096) return r.Error(list, "a context has at most 4096 values");
  return Status::Ok();
}

Status ParseArmTheta(const YamlReader& r, const YAML::Node& node, ContextSpec* spec) {
  const size_t d = spec->dim();
  if (!node.IsSequence() || node.size() != d) {
    return r.Error(node, "'theta' must be a list of " + std::to_string(d) +
                             " numbers (the constant, then one per context feature)");
  }
  std::vector<double> th;
  for (const auto& v : node) {
    auto x = r.Double(v, "theta");
    if (!x.ok()) return x.status();
    if (!std::isfinite(*x)) return r.Error(v, "'theta' values must be finite");
    th.push_back(*x);
  }
  spec->theta.push_back(std::move(th));
  return Status::Ok();
}

}  // namespace banditd::sim
