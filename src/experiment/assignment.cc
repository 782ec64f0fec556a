#include "src/experiment/assignment.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <sodium.h>

namespace banditd::experiment {

UnitHasher::UnitHasher(std::string_view salt) {
  static_assert(sizeof(key_) == crypto_shorthash_KEYBYTES);
  crypto_generichash(key_, sizeof key_, reinterpret_cast<const unsigned char*>(salt.data()),
                     salt.size(), nullptr, 0);
}

uint64_t UnitHasher::Hash(std::string_view unit) const {
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(unit.data()), unit.size(), key_);
  uint64_t h = 0;
  for (size_t i = 0; i < sizeof out; ++i) h |= static_cast<uint64_t>(out[i]) << (8 * i);
  return h;
}

AllocationTable::AllocationTable(size_t arms, size_t initial)
    : slots_(kSlots, static_cast<uint8_t>(initial)), counts_(arms, 0) {
  counts_[initial] = kSlots;
}

size_t AllocationTable::Rebalance(std::span<const double> weights) {
  const size_t k = counts_.size();
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  // Largest-remainder apportionment of kSlots.
  std::vector<uint32_t> target(k);
  std::vector<std::pair<double, size_t>> remainders(k);
  size_t given = 0;
  for (size_t i = 0; i < k; ++i) {
    const double exact = weights[i] / total * static_cast<double>(kSlots);
    target[i] = static_cast<uint32_t>(std::floor(exact));
    given += target[i];
    remainders[i] = {exact - std::floor(exact), i};
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t r = 0; given < kSlots; ++r, ++given) ++target[remainders[r % k].second];

  // Arms over target give up their highest slots; arms under target take the
  // freed slots in index order. Deterministic, and moves exactly the surplus.
  std::vector<uint32_t> freed;
  for (size_t s = kSlots; s-- > 0;) {
    const uint8_t arm = slots_[s];
    if (counts_[arm] > target[arm]) {
      --counts_[arm];
      freed.push_back(static_cast<uint32_t>(s));
    }
  }
  std::sort(freed.begin(), freed.end());
  size_t next = 0;
  for (size_t arm = 0; arm < k; ++arm) {
    while (counts_[arm] < target[arm]) {
      slots_[freed[next++]] = static_cast<uint8_t>(arm);
      ++counts_[arm];
    }
  }
  return freed.size();
}

}  // namespace banditd::experiment
