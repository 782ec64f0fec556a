// Sample-ratio mismatch (SRM): do the requests an experiment routed at random
// land on the arms as often as the allocation that drew them says?
//
// Requests are tallied per period: a period ends when the weights in force
// change for a reason other than learning (a promotion, a pause, a resume, a
// rollback, the end of a canary phase, and in `ab` mode any change of the
// weights). Each request adds its arm to `observed` and the allocation it was
// drawn from to `expected` (the sum of the propensities: n * w for fixed
// weights, the logged propensities of a bandit), so a period's expected count
// of an arm is exact even while a bandit moves its weights. The test is the
// sum of the periods' Pearson chi-squares (stats::SrmChiSquarePerPeriod).
//
// Only draws are counted: a forced route (no draw) and a route by unit (the
// arm is a function of the unit, so one unit's repeated requests are not
// independent draws) are not.
//
// Bounded: at most kMaxPeriods periods are kept; beyond, the two oldest are
// merged (their sums added — conservative: the merged statistic is never
// larger in expectation than the two apart). A period whose smallest
// positive expected count is below kMinExpected is left out of the test (the
// chi-square approximation needs expected counts of about 5), and when it
// ends it is merged into the next one instead of being dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "src/stats/hypothesis.h"

namespace banditd::experiment {

class SrmTracker {
 public:
  static constexpr size_t kMaxPeriods = 32;
  static constexpr double kMinExpected = 5.0;

  struct Period {
    uint64_t first_version = 0;  // the allocation version the period began at
    std::vector<double> observed, expected;
  };

  explicit SrmTracker(size_t arms);

  // One request drawn from `alloc` (shares summing to 1) landed on `arm`.
  void Count(size_t arm, std::span<const double> alloc);
  // requests[a] requests landed on arm a, each drawn from `alloc`, an
  // allocation of version `version`: counted in the period that version
  // belongs to (dropped when older than every period kept).
  void CountBatch(std::span<const uint64_t> requests, std::span<const double> alloc,
                  uint64_t version);
  // The weights changed at allocation version `version`: a new period.
  void NewPeriod(uint64_t version);
  // Forgets every tally and starts one period at `version` (an operator
  // acknowledged an alarm: the check starts afresh).
  void Reset(uint64_t version);

  // The test over the periods large enough; p_value NaN when none is.
  stats::TestResult Evaluate() const;
  // Requests counted in all periods kept.
  double counted() const;

  const std::vector<Period>& periods() const { return periods_; }
  // Restores periods read from a snapshot (versions are per process: every
  // restored period gets version 0, and the caller starts a new period).
  // REQUIRES: each period has `arms` entries, finite and >= 0.
  void Restore(std::vector<Period> periods);

 private:
  size_t Eligible(const Period& p) const;  // 1 when the test may use p
  void MergeOldest();

  size_t arms_;
  std::vector<Period> periods_;  // oldest first; never empty
};

}  // namespace banditd::experiment
