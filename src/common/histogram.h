// A log-linear latency histogram (HDR-style): values up to 2^40 ns (~18 min)
// in buckets whose width is 1/32 of their power of two, so any quantile is
// reported within ~3% relative error. Fixed size, no allocation after
// construction; not thread-safe (one owner records; merge to combine).
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace banditd {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 5;  // 32 sub-buckets per power of two
  static constexpr int kMaxBits = 40;
  static constexpr int kBuckets = (kMaxBits - kSubBits + 1) << kSubBits;

  void Record(uint64_t nanos) {
    ++counts_[Index(nanos)];
    ++total_;
    sum_ += static_cast<double>(nanos);
    if (nanos > max_) max_ = nanos;
  }

  void Merge(const LatencyHistogram& other) {
    for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    sum_ += other.sum_;
    if (other.max_ > max_) max_ = other.max_;
  }

  void Reset() { *this = LatencyHistogram(); }

  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }
  double sum_nanos() const { return sum_; }

  // How many recorded values are <= `nanos`, to bucket resolution (values in
  // the bucket holding `nanos` count when the bucket's midpoint is <= nanos).
  uint64_t CountAtOrBelow(uint64_t nanos) const {
    uint64_t n = 0;
    for (int i = 0; i < kBuckets; ++i) {
      if (Lower(i) > nanos) break;
      if (0.5 * (static_cast<double>(Lower(i)) + static_cast<double>(Lower(i + 1))) <=
          static_cast<double>(nanos)) {
        n += counts_[i];
      }
    }
    return n;
  }

  // The q-quantile (0 <= q <= 1) as the midpoint of its bucket; 0 when empty.
  double Quantile(double q) const {
    if (total_ == 0) return 0.0;
    const auto rank = static_cast<uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank)
        return 0.5 * (static_cast<double>(Lower(i)) + static_cast<double>(Lower(i + 1)));
    }
    return static_cast<double>(max_);
  }

 private:
  static int Index(uint64_t v) {
    if (v < (uint64_t{1} << kSubBits)) return static_cast<int>(v);
    if (v >= (uint64_t{1} << kMaxBits)) v = (uint64_t{1} << kMaxBits) - 1;
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - kSubBits;
    return ((shift + 1) << kSubBits) + static_cast<int>((v >> shift) & ((1 << kSubBits) - 1));
  }
  // The smallest value of bucket i.
  static uint64_t Lower(int i) {
    if (i < (1 << kSubBits)) return static_cast<uint64_t>(i);
    const int shift = (i >> kSubBits) - 1;
    const uint64_t sub = static_cast<uint64_t>(i & ((1 << kSubBits) - 1));
    return ((uint64_t{1} << kSubBits) | sub) << shift;
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  double sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace banditd
