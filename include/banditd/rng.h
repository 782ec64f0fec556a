// A small, fast, seeded random number generator (xoshiro256++, Blackman &
// Vigna 2019) with the variates the policies need. Every random choice in
// banditd goes through an Rng that the caller owns and seeds, so a run is
// reproducible from its seed.
//
// Variates use <random>'s distributions (Marsaglia–Tsang gamma, polar normal)
// driven by this generator; no special function is hand-rolled here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>

namespace banditd {

class Rng {
 public:
  using result_type = uint64_t;

  explicit Rng(uint64_t seed = 0x9E3779B97F4A7C15ull) { Seed(seed); }

  // An independent stream for (seed, stream): replication r of a simulation
  // uses Rng::ForStream(seed, r), whatever thread runs it.
  static Rng ForStream(uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (0xD1B54A32D192ED03ull * (stream + 1));
    return Rng(SplitMix64(x));
  }

  void Seed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& w : s_) w = SplitMix64(x);
  }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  result_type operator()() {
    const uint64_t result = Rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n). REQUIRES: n > 0. (Lemire's multiply-shift;
  // the bias is below 2^-32 for the arm counts used here.)
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>((*this)()) * n) >> 64);
  }

  bool Bernoulli(double p) { return Uniform() < p; }

  double Normal(double mean = 0.0, double stddev = 1.0) {
    return std::normal_distribution<double>(mean, stddev)(*this);
  }

  // Gamma(shape, scale). REQUIRES: shape > 0, scale > 0.
  double Gamma(double shape, double scale = 1.0) {
    return std::gamma_distribution<double>(shape, scale)(*this);
  }

  // Beta(a, b) as X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b). REQUIRES: a, b > 0.
  double Beta(double a, double b) {
    const double x = Gamma(a);
    const double y = Gamma(b);
    const double s = x + y;
    // Both gammas can underflow to 0 for tiny shapes; fall back on the mean.
    return s > 0.0 ? x / s : a / (a + b);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  uint64_t s_[4];
};

// The index i with sum(p[0..i)) <= u < sum(p[0..i]): a draw from the discrete
// distribution p given u ~ Uniform[0,1). Never returns an index of weight 0,
// even when rounding leaves u past the total.
// REQUIRES: p non-empty, p >= 0, some p[i] > 0.
inline size_t SampleDiscrete(double u, std::span<const double> p) {
  size_t last = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0.0) continue;
    if (u < p[i]) return i;
    u -= p[i];
    last = i;
  }
  return last;
}

}  // namespace banditd
