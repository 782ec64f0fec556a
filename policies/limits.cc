// Traffic limits on top of any policy: a floor for the champion's share and a
// ceiling for each challenger's. Choices are drawn from the projected
// allocation, so a choice's propensity is exactly the share reported.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "policies/builtin.h"
#include "policies/snapshot.h"

namespace banditd::policies {

Status CheckLimits(const TrafficLimits& limits, size_t num_arms) {
  if (!(limits.champion_floor >= 0.0 && limits.champion_floor <= 1.0)) {
    return InvalidArgument("champion_floor must be in [0, 1]");
  }
  if (!(limits.challenger_ceiling >= 0.0 && limits.challenger_ceiling <= 1.0)) {
    return InvalidArgument("challenger_ceiling must be in [0, 1]");
  }
  if (limits.active() && limits.champion >= num_arms) {
    return InvalidArgument("champion index " + std::to_string(limits.champion) +
                           " is not one of the " + std::to_string(num_arms) + " arms");
  }
  return Status::Ok();
}

void ProjectOntoLimits(const TrafficLimits& limits, std::span<double> p) {
  const size_t c = limits.champion;
  if (p[c] < limits.champion_floor) {
    const double rest = 1.0 - p[c];
    const double scale = rest > 0.0 ? (1.0 - limits.champion_floor) / rest : 0.0;
    for (size_t i = 0; i < p.size(); ++i) {
      if (i != c) p[i] *= scale;
    }
    p[c] = limits.champion_floor;
  }
  double excess = 0.0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (i != c && p[i] > limits.challenger_ceiling) {
      excess += p[i] - limits.challenger_ceiling;
      p[i] = limits.challenger_ceiling;
    }
  }
  p[c] += excess;
}

namespace {

constexpr int kVersion = 1;

class Limited final : public Policy {
 public:
  Limited(PolicyPtr inner, const TrafficLimits& limits)
      : inner_(std::move(inner)), limits_(limits), alloc_(inner_->num_arms()) {}

  std::string_view name() const override { return inner_->name(); }
  size_t num_arms() const override { return inner_->num_arms(); }
  size_t context_dim() const override { return inner_->context_dim(); }

  size_t Choose(Rng& rng, std::span<const double> context) const override {
    if (context_dim() > 0) {
      // Contextual allocations depend on the request: project per request.
      thread_local std::vector<double> p;
      p.resize(num_arms());
      inner_->Allocation(rng, context, p);
      ProjectOntoLimits(limits_, p);
      return Sample(rng, p);
    }
    Refresh(rng);
    return Sample(rng, alloc_);
  }

  void Update(size_t arm, double reward, std::span<const double> context) override {
    inner_->Update(arm, reward, context);
    ++updates_;
    ++since_refresh_;
  }

  void Allocation(Rng& rng, std::span<const double> context, std::span<double> out) const override {
    if (context_dim() > 0) {
      inner_->Allocation(rng, context, out);
      ProjectOntoLimits(limits_, out);
      return;
    }
    Refresh(rng);
    std::copy(alloc_.begin(), alloc_.end(), out.begin());
  }

  void Estimates(std::span<ArmEstimate> out) const override { inner_->Estimates(out); }

  std::string Snapshot() const override {
    SnapshotState s;
    s.blobs["inner"] = inner_->Snapshot();
    s.arrays["alloc"] = alloc_;
    s.arrays["counters"] = {static_cast<double>(updates_), static_cast<double>(since_refresh_),
                            fresh_ ? 1.0 : 0.0};
    return EncodeSnapshot("limited", kVersion, num_arms(), s);
  }

  Status Restore(std::string_view bytes) override {
    BANDITD_ASSIGN_OR_RETURN(auto s, DecodeSnapshot(bytes, "limited", kVersion, num_arms()));
    BANDITD_ASSIGN_OR_RETURN(auto alloc, TakeArray(s, "alloc", num_arms()));
    BANDITD_ASSIGN_OR_RETURN(auto counters, TakeArray(s, "counters", 3));
    auto inner = s.blobs.find("inner");
    if (inner == s.blobs.end()) return Status(Code::kCorruption, "snapshot: missing inner policy");
    BANDITD_RETURN_IF_ERROR(inner_->Restore(inner->second));
    alloc_ = alloc;
    updates_ = static_cast<uint64_t>((counters)[0]);
    since_refresh_ = static_cast<uint64_t>((counters)[1]);
    fresh_ = (counters)[2] != 0.0;
    return Status::Ok();
  }

 private:
  // The allocation is recomputed after each of the first 10 updates, then
  // whenever the updates since the last refresh reach 10% of all updates, and
  // at least every 1,000 updates: O(log n) recomputations early on, when the
  // posterior moves fast, and a lag of at most 1,000 rewards later. A refresh
  // is a full inner Allocation (for Thompson with more than two arms, 20,000
  // Monte Carlo draws: milliseconds), so refreshing after every update for
  // long would cost far more than the choices themselves.
  void Refresh(Rng& rng) const {
    const uint64_t due = std::clamp<uint64_t>(updates_ / 10, 1, 1000);
    if (fresh_ && since_refresh_ < due) return;
    inner_->Allocation(rng, {}, alloc_);
    ProjectOntoLimits(limits_, alloc_);
    since_refresh_ = 0;
    fresh_ = true;
  }

  static size_t Sample(Rng& rng, std::span<const double> p) {
    return SampleDiscrete(rng.Uniform(), p);
  }

  PolicyPtr inner_;
  TrafficLimits limits_;
  mutable std::vector<double> alloc_;
  mutable bool fresh_ = false;
  uint64_t updates_ = 0;
  mutable uint64_t since_refresh_ = 0;
};

}  // namespace

PolicyPtr WrapWithLimits(PolicyPtr inner, const TrafficLimits& limits) {
  return std::make_unique<Limited>(std::move(inner), limits);
}

}  // namespace banditd::policies
