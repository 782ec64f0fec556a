#include "sim/environment.h"

#include <cmath>

#include "sim/sampling.h"

namespace banditd::sim {
namespace {

// The best of `means`: its index, and whether no other arm ties it.
std::pair<size_t, bool> Best(std::span<const double> means) {
  size_t best = 0;
  bool unique = true;
  for (size_t i = 1; i < means.size(); ++i) {
    if (means[i] > means[best]) {
      best = i;
      unique = true;
    } else if (means[i] == means[best]) {
      unique = false;
    }
  }
  return {best, unique};
}

}  // namespace

Environment::Environment(const Scenario& scenario, uint64_t rep)
    : s_(scenario),
      rng_(Rng::ForStream(scenario.seed, 2 * rep)),
      kind_(scenario.reward),
      weekday_mult_(scenario.num_arms(), 1.0),
      weekend_mult_(scenario.num_arms(), 1.0),
      drift_from_(scenario.drift.size(), 0.0),
      context_(scenario.contextual() ? scenario.context.dim() : 0) {
  for (const auto& a : s_.arms) {
    means_.push_back(a.mean);
    sds_.push_back(a.sd);
    rates_.push_back(a.rate());
    mus_.push_back(a.mu);
    sigmas_.push_back(a.sigma);
    value_means_.push_back(a.value_mean());
  }
  if (s_.random_arms.a > 0.0) {
    for (size_t i = 0; i < means_.size(); ++i)
      rates_[i] = means_[i] = rng_.Beta(s_.random_arms.a, s_.random_arms.b);
  }
  base_rates_ = rates_;
  for (const auto& w : s_.weekly) {
    weekday_mult_[w.arm] = w.weekday;
    weekend_mult_[w.arm] = w.weekend;
  }
  // Long-run means: novelty decayed, weekly multipliers averaged over a
  // week's requests.
  lr_means_ = means_;
  if (s_.timed()) {
    const double ws = WeekendShare(s_.traffic);
    for (size_t a = 0; a < means_.size(); ++a) {
      double rate = base_rates_[a];
      for (const auto& n : s_.novelty) {
        if (n.arm == a) rate = n.to;
      }
      lr_means_[a] =
          rate * ((1.0 - ws) * weekday_mult_[a] + ws * weekend_mult_[a]) * value_means_[a];
    }
    ApplyTime(0);
  }
  std::tie(lr_best_arm_, lr_best_unique_) = Best(lr_means_);
  RefreshBest();
}

void Environment::ApplyTime(uint64_t t) {
  seconds_ = t == 0 ? 0.0 : SecondsAtStep(s_.traffic, t);
  const bool weekend = IsWeekend(s_.traffic, seconds_);
  for (size_t a = 0; a < rates_.size(); ++a) {
    rates_[a] = base_rates_[a] * (weekend ? weekend_mult_[a] : weekday_mult_[a]);
  }
  for (const auto& n : s_.novelty) {
    const double base = n.to + (n.from - n.to) * std::exp2(-seconds_ / n.half_life);
    rates_[n.arm] = base * (weekend ? weekend_mult_[n.arm] : weekday_mult_[n.arm]);
  }
  for (size_t a = 0; a < rates_.size(); ++a) means_[a] = rates_[a] * value_means_[a];
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
  if (s_.timed()) {
    ApplyTime(t);
    changed = true;
  }
  if (changed) RefreshBest();
  switch (kind_) {
    case RewardKind::kBernoulli:
      u_ = rng_.Uniform();
      break;
    case RewardKind::kGaussian:
      z_ = rng_.Normal();
      break;
    case RewardKind::kLognormal:
      u_ = rng_.Uniform();
      z_ = rng_.Normal();
      break;
  }
  if (s_.delay.kind == DelaySpec::Kind::kRandom) {
    // Geometric on {0, 1, ...} with mean m: success probability 1 / (1 + m).
    const double m = s_.delay.mean;
    const double u = 1.0 - rng_.Uniform();  // in (0, 1]
    delay_ = m > 0.0 ? static_cast<uint64_t>(std::floor(std::log(u) / std::log(m / (1.0 + m)))) : 0;
  }
  return retired;
}

void Environment::SetTime(uint64_t t) {
  if (!s_.timed()) return;
  ApplyTime(t);
  RefreshBest();
}

uint64_t Environment::DrawSuccesses(size_t arm, uint64_t n) {
  switch (kind_) {
    case RewardKind::kBernoulli:
      return Binomial(rng_, n, means_[arm]);
    case RewardKind::kLognormal:
      return Binomial(rng_, n, rates_[arm]);
    case RewardKind::kGaussian:
      return n;  // every unit draws its own value
  }
  return n;
}

double Environment::DrawValue(size_t arm) {
  if (kind_ == RewardKind::kLognormal) return std::exp(mus_[arm] + sigmas_[arm] * rng_.Normal());
  return means_[arm] + sds_[arm] * rng_.Normal();
}

void Environment::RefreshBest() {
  std::tie(best_arm_, best_unique_) = Best(means_);
  best_mean_ = means_[best_arm_];
}

}  // namespace banditd::sim
