#include "sim/environment.h"

#include <cmath>

namespace banditd::sim {

Environment::Environment(const Scenario& scenario, uint64_t rep)
    : s_(scenario),
      rng_(Rng::ForStream(scenario.seed, 2 * rep)),
      bernoulli_(scenario.reward == RewardKind::kBernoulli),
      drift_from_(scenario.drift.size(), 0.0),
      context_(scenario.contextual() ? scenario.context.dim() : 0) {
  for (const auto& a : s_.arms) {
    means_.push_back(a.mean);
    sds_.push_back(a.sd);
  }
  if (s_.random_arms.a > 0.0) {
    for (double& m : means_) m = rng_.Beta(s_.random_arms.a, s_.random_arms.b);
  }
  RefreshBest();
}

std::optional<size_t> Environment::BeginStep(uint64_t t) {
  bool changed = false;
  for (size_t i = 0; i < s_.drift.size(); ++i) {
    const DriftSpec& d = s_.drift[i];
    if (t < d.start || t > d.end) continue;
    if (t == d.start) drift_from_[i] = means_[d.arm];
    if (d.end == d.start) {
      means_[d.arm] = d.mean;
    } else {
      const double f = static_cast<double>(t - d.start) / static_cast<double>(d.end - d.start);
      means_[d.arm] = drift_from_[i] + (d.mean - drift_from_[i]) * f;
    }
    changed = true;
  }
  std::optional<size_t> retired;
  if (s_.replacement.prob > 0.0 && rng_.Uniform() < s_.replacement.prob) {
    const size_t arm = static_cast<size_t>(rng_.Below(means_.size()));
    means_[arm] = rng_.Beta(s_.replacement.a, s_.replacement.b);
    retired = arm;
    changed = true;
  }
  if (!context_.empty()) {
    DrawContext(s_.context, rng_, context_);
    for (size_t a = 0; a < means_.size(); ++a) means_[a] = ContextualMean(s_.context, a, context_);
    changed = true;
  }
  if (changed) RefreshBest();
  if (bernoulli_) {
    u_ = rng_.Uniform();
  } else {
    z_ = rng_.Normal();
  }
  if (s_.delay.kind == DelaySpec::Kind::kRandom) {
    // Geometric on {0, 1, ...} with mean m: success probability 1 / (1 + m).
    const double m = s_.delay.mean;
    const double u = 1.0 - rng_.Uniform();  // in (0, 1]
    delay_ = m > 0.0 ? static_cast<uint64_t>(std::floor(std::log(u) / std::log(m / (1.0 + m)))) : 0;
  }
  return retired;
}

void Environment::RefreshBest() {
  best_arm_ = 0;
  best_mean_ = means_[0];
  best_unique_ = true;
  for (size_t i = 1; i < means_.size(); ++i) {
    if (means_[i] > best_mean_) {
      best_mean_ = means_[i];
      best_arm_ = i;
      best_unique_ = true;
    } else if (means_[i] == best_mean_) {
      best_unique_ = false;
    }
  }
}

}  // namespace banditd::sim
