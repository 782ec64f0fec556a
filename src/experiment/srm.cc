#include "src/experiment/srm.h"

#include <algorithm>

namespace banditd::experiment {

SrmTracker::SrmTracker(size_t arms) : arms_(arms) { Reset(0); }

void SrmTracker::Count(size_t arm, std::span<const double> alloc) {
  Period& p = periods_.back();
  p.observed[arm] += 1;
  for (size_t a = 0; a < arms_ && a < alloc.size(); ++a) p.expected[a] += alloc[a];
}

void SrmTracker::CountBatch(std::span<const uint64_t> requests, std::span<const double> alloc,
                            uint64_t version) {
  double total = 0;
  for (uint64_t r : requests) total += static_cast<double>(r);
  if (total == 0) return;
  // The newest period that had begun when the allocation was published.
  for (size_t i = periods_.size(); i-- > 0;) {
    Period& p = periods_[i];
    if (p.first_version > version) continue;
    for (size_t a = 0; a < arms_; ++a) {
      p.observed[a] += static_cast<double>(requests[a]);
      if (a < alloc.size()) p.expected[a] += total * alloc[a];
    }
    return;
  }
}

size_t SrmTracker::Eligible(const Period& p) const {
  double smallest = 0;
  bool any = false;
  for (double e : p.expected) {
    if (e > 0 && (!any || e < smallest)) {
      smallest = e;
      any = true;
    }
  }
  return any && smallest >= kMinExpected ? 1 : 0;
}

void SrmTracker::MergeOldest() {
  Period& a = periods_[0];
  const Period& b = periods_[1];
  for (size_t i = 0; i < arms_; ++i) {
    a.observed[i] += b.observed[i];
    a.expected[i] += b.expected[i];
  }
  periods_.erase(periods_.begin() + 1);
}

void SrmTracker::NewPeriod(uint64_t version) {
  if (!Eligible(periods_.back())) {
    // Too small to test on its own: it carries on into the new period (and
    // keeps its first version, so late batches still find it).
    return;
  }
  periods_.push_back(Period{version, std::vector<double>(arms_, 0.0),
                            std::vector<double>(arms_, 0.0)});
  while (periods_.size() > kMaxPeriods) MergeOldest();
}

void SrmTracker::Reset(uint64_t version) {
  periods_.assign(1, Period{version, std::vector<double>(arms_, 0.0),
                            std::vector<double>(arms_, 0.0)});
}

stats::TestResult SrmTracker::Evaluate() const {
  std::vector<double> observed, expected;
  for (const Period& p : periods_) {
    if (!Eligible(p)) continue;
    observed.insert(observed.end(), p.observed.begin(), p.observed.end());
    expected.insert(expected.end(), p.expected.begin(), p.expected.end());
  }
  return stats::SrmChiSquarePerPeriod(observed, expected, arms_);
}

double SrmTracker::counted() const {
  double n = 0;
  for (const Period& p : periods_) {
    for (double o : p.observed) n += o;
  }
  return n;
}

void SrmTracker::Restore(std::vector<Period> periods) {
  if (periods.empty()) {
    Reset(0);
    return;
  }
  for (Period& p : periods) p.first_version = 0;
  periods_ = std::move(periods);
  while (periods_.size() > kMaxPeriods) MergeOldest();
}

}  // namespace banditd::experiment
