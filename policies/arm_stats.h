// Helpers shared by the built-in policies: per-arm reward counts (mergeable
// sums), the arg-max with its documented tie rule, and per-arm parameters.
// Internal to policies/; callers see only the Policy interface.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "banditd/params.h"
#include "banditd/policy.h"
#include "policies/snapshot.h"

namespace banditd::policies {

// Rewards observed per arm: count and sum (sums, so two daemons' counts merge).
struct ArmCounts {
  explicit ArmCounts(size_t arms) : n(arms, 0.0), sum(arms, 0.0) {}

  void Add(size_t arm, double reward) {
    n[arm] += 1.0;
    sum[arm] += reward;
  }
  double Mean(size_t arm) const { return n[arm] > 0.0 ? sum[arm] / n[arm] : 0.0; }
  double Total() const {
    double t = 0.0;
    for (double x : n) t += x;
    return t;
  }
  // Empirical means as estimates (0 for an arm without rewards).
  void Estimates(std::span<ArmEstimate> out) const {
    for (size_t i = 0; i < n.size(); ++i) out[i] = ArmEstimate{n[i], sum[i], Mean(i)};
  }
  void Save(SnapshotState& s) const {
    s.arrays["n"] = n;
    s.arrays["sum"] = sum;
  }
  // Reads counts from `s` into `out`; counts must be >= 0.
  static Status Load(const SnapshotState& s, ArmCounts& out) {
    auto ns = TakeArray(s, "n", out.n.size());
    if (!ns.ok()) return ns.status();
    auto sums = TakeArray(s, "sum", out.n.size());
    if (!sums.ok()) return sums.status();
    for (double x : *ns) {
      if (x < 0.0) return Status(Code::kCorruption, "snapshot: negative count");
    }
    out.n = std::move(*ns);
    out.sum = std::move(*sums);
    return Status::Ok();
  }

  std::vector<double> n;
  std::vector<double> sum;
};

// Index of the largest value; ties go to the lowest index.
inline size_t ArgMax(std::span<const double> v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] > v[best]) best = i;
  }
  return best;
}

// A double parameter that must lie in [lo, hi] (or (lo, hi] etc. via the
// open_* flags); the error names the key and the range.
inline Result<double> GetInRange(const Params& p, std::string_view key, double fallback, double lo,
                                 double hi, bool open_lo = false, bool open_hi = false) {
  auto v = p.GetDouble(key, fallback);
  if (!v.ok()) return v.status();
  const bool ok_lo = open_lo ? *v > lo : *v >= lo;
  const bool ok_hi = open_hi ? *v < hi : *v <= hi;
  if (!(ok_lo && ok_hi)) {  // NaN fails both
    auto bound = [](double b) {
      return std::isinf(b) ? std::string(b > 0 ? "inf" : "-inf") : std::to_string(b);
    };
    return InvalidArgument(std::string(key) + " must be in " + (open_lo ? "(" : "[") + bound(lo) +
                           ", " + bound(hi) + (open_hi ? ")" : "]") + " (got " +
                           std::to_string(*v) + ")");
  }
  return *v;
}

// The Monte Carlo draw count of a P(best) allocation; its standard error per
// arm is at most 0.5 / sqrt(draws).
inline Result<size_t> GetAllocationDraws(const Params& p) {
  auto draws = p.GetInt("allocation_draws", 20000);
  if (!draws.ok()) return draws.status();
  if (*draws < 100 || *draws > 10'000'000) {
    return InvalidArgument("allocation_draws must be in [100, 10000000]");
  }
  return static_cast<size_t>(*draws);
}

}  // namespace banditd::policies
