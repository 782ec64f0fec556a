// Sticky assignment: a unit's hash u = hash(salt, unit) picks
// a slot of a fixed table of 2^16 slots, and each slot belongs to one arm.
// When the weights change, Rebalance moves only as many slots as the change
// needs (the total-variation distance between old and new shares, to within
// one slot per arm), so only the units in those slots move.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace banditd::experiment {

// u = SipHash-2-4(key derived from the experiment's salt, unit): stable across
// restarts and builds for one salt.
class UnitHasher {
 public:
  explicit UnitHasher(std::string_view salt);
  uint64_t Hash(std::string_view unit) const;

 private:
  unsigned char key_[16];
};

class AllocationTable {
 public:
  static constexpr size_t kSlots = size_t{1} << 16;

  // All slots start with arm `initial`. REQUIRES: arms >= 1, arms <= 256.
  AllocationTable(size_t arms, size_t initial);

  // Reassigns the fewest slots so that arm k holds its largest-remainder
  // share of weights[k] * kSlots. REQUIRES: weights.size() == arms, >= 0, sum > 0.
  // Returns how many slots changed arm.
  size_t Rebalance(std::span<const double> weights);

  size_t ArmForHash(uint64_t hash) const { return slots_[hash >> 48]; }

  // The probability a random unit lands on `arm`: its propensity.
  double Share(size_t arm) const {
    return static_cast<double>(counts_[arm]) / static_cast<double>(kSlots);
  }
  size_t arms() const { return counts_.size(); }

 private:
  std::vector<uint8_t> slots_;
  std::vector<uint32_t> counts_;
};

}  // namespace banditd::experiment
