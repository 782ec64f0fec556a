// Index policies (UCB1, KL-UCB): try every arm once, then pick the arm with
// the highest index, a function of the arm's count, reward sum and the total
// count. Deterministic given the state, so the allocation is the indicator of
// the arm Choose would pick. Ties go to the lowest index. An arm counts as
// tried once it has a reward (with delayed rewards an untried arm keeps being
// chosen until its first reward arrives; the traffic limits wrapper or a
// static warm-up phase is how to bound that).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "policies/arm_stats.h"
#include "policies/builtin.h"

namespace banditd::policies {

class IndexPolicy : public Policy {
 public:
  explicit IndexPolicy(size_t arms) : counts_(arms) {}

  size_t num_arms() const override { return counts_.n.size(); }

  size_t Choose(Rng&, std::span<const double>) const override { return Pick(); }

  void Update(size_t arm, double reward, std::span<const double>) override {
    counts_.Add(arm, reward);
    total_ += 1.0;
    cached_ = false;
  }

  void Allocation(Rng&, std::span<const double>, std::span<double> out) const override {
    std::fill(out.begin(), out.end(), 0.0);
    out[Pick()] = 1.0;
  }

  void Estimates(std::span<ArmEstimate> out) const override { counts_.Estimates(out); }

  std::string Snapshot() const override {
    SnapshotState s;
    counts_.Save(s);
    return EncodeSnapshot(name(), Version(), num_arms(), s);
  }

  Status Restore(std::string_view bytes) override {
    auto s = DecodeSnapshot(bytes, name(), Version(), num_arms());
    if (!s.ok()) return s.status();
    ArmCounts counts(num_arms());
    BANDITD_RETURN_IF_ERROR(ArmCounts::Load(*s, counts));
    counts_ = std::move(counts);
    total_ = counts_.Total();
    cached_ = false;
    return Status::Ok();
  }

  // The index of an arm with count n >= 1 and reward sum `sum`, when `t`
  // rewards have been seen in all.
  virtual double Index(double n, double sum, double t) const = 0;

  // A cheap upper bound on Index, or +inf when Index is cheap itself. The
  // pick skips computing the index of an arm whose bound is below the best
  // index found (by more than kBoundSlack, to absorb rounding), which leaves
  // the pick unchanged.
  virtual double IndexUpperBound(double, double, double) const {
    return std::numeric_limits<double>::infinity();
  }
  static constexpr double kBoundSlack = 1e-9;

 protected:
  virtual int Version() const { return 1; }

 private:
  // The pick only changes on Update, so it is computed once per update
  // (KL-UCB's index costs a root-finding per arm).
  size_t Pick() const {
    if (!cached_) {
      pick_ = ComputePick();
      cached_ = true;
    }
    return pick_;
  }

  size_t ComputePick() const {
    for (size_t i = 0; i < num_arms(); ++i) {
      if (counts_.n[i] == 0.0) return i;  // untried arms first, lowest index
    }
    // Start from the arm with the highest bound, then visit the others in
    // order; an arm whose bound cannot reach the best index is skipped.
    bounds_.resize(num_arms());
    size_t start = 0;
    for (size_t i = 0; i < num_arms(); ++i) {
      bounds_[i] = IndexUpperBound(counts_.n[i], counts_.sum[i], total_);
      if (bounds_[i] > bounds_[start]) start = i;
    }
    size_t best = start;
    double best_index = Index(counts_.n[start], counts_.sum[start], total_);
    for (size_t i = 0; i < num_arms(); ++i) {
      if (i == start || bounds_[i] + kBoundSlack < best_index) continue;
      const double v = Index(counts_.n[i], counts_.sum[i], total_);
      if (v > best_index || (v == best_index && i < best)) {
        best_index = v;
        best = i;
      }
    }
    return best;
  }

  ArmCounts counts_;
  double total_ = 0.0;
  mutable std::vector<double> bounds_;  // scratch, sized once
  mutable size_t pick_ = 0;
  mutable bool cached_ = false;
};

}  // namespace banditd::policies
