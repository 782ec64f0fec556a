// Exact binomial and multinomial draws for the batched engine: counts of
// many Bernoulli trials at once, from the caller's Rng.
#pragma once

#include <cstdint>
#include <span>

#include "banditd/rng.h"

namespace banditd::sim {

// Binomial(n, p), exactly. Small means by inversion (expected O(np) work);
// large ones by Knuth's order-statistic recursion (TAOCP vol. 2, 3.4.1,
// exercise / algorithm for the binomial): the i-th smallest of n uniforms is
// Beta(i, n + 1 - i), and the trials on either side of it are again uniform,
// so each Beta draw halves n — O(log n) Beta draws.
// REQUIRES: 0 <= p <= 1.
uint64_t Binomial(Rng& rng, uint64_t n, double p);

// Multinomial(n, weights) into `out` (same size), by successive binomials.
// Weights need not sum to 1 exactly; their sum must be > 0.
void Multinomial(Rng& rng, uint64_t n, std::span<const double> weights, std::span<uint64_t> out);

}  // namespace banditd::sim
