// A small, fast, seeded random number generator (xoshiro256++, Blackman &
// Vigna 2019) with the variates the policies need. Every random choice in
// banditd goes through an Rng that the caller owns and seeds, so a run is
// reproducible from its seed.
//
// Variates are the classic sampling algorithms (ziggurat normal, Marsaglia–
// Tsang gamma, beta as a ratio of gammas), written here rather than taken
// from <random> because libstdc++'s distributions are several times slower
// when built per call (Thompson sampling draws with new parameters every
// time); each is cited where it is defined. Only exp/log/sqrt/pow are used:
// no special function is hand-rolled here.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
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

  // Normal(mean, stddev) by the ziggurat method (Marsaglia & Tsang 2000, "The
  // ziggurat method for generating random variables", J. Stat. Softw. 5(8)),
  // with 128 layers and Doornik's (2005) floating-point formulation: one
  // 64-bit draw gives the layer (low 7 bits) and the abscissa (top 53 bits);
  // about 98.8% of draws are accepted by the rectangle test alone.
  double Normal(double mean = 0.0, double stddev = 1.0) { return mean + stddev * StdNormal(); }

  // Gamma(shape, scale) by Marsaglia & Tsang 2000 ("A simple method for
  // generating gamma variables", ACM TOMS 26(3)): for shape >= 1, d = shape −
  // 1/3, c = 1/sqrt(9d), X = d(1 + cZ)^3 accepted by their squeeze or log test;
  // for shape < 1, Gamma(shape + 1) · U^(1/shape) (their §6).
  // REQUIRES: shape > 0, scale > 0.
  double Gamma(double shape, double scale = 1.0) {
    if (shape < 1.0) {
      // U in (0, 1]: U = 0 would give 0 for every shape.
      const double u = 1.0 - Uniform();
      return Gamma(shape + 1.0, scale) * std::pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double z, v;
      do {
        z = StdNormal();
        v = 1.0 + c * z;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = Uniform();
      const double z2 = z * z;
      if (u < 1.0 - 0.0331 * z2 * z2) return d * v * scale;
      if (u > 0.0 && std::log(u) < 0.5 * z2 + d * (1.0 - v + std::log(v))) return d * v * scale;
    }
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
  struct Ziggurat {
    static constexpr int kLayers = 128;
    static constexpr double kR = 3.442619855899;       // start of the tail
    static constexpr double kV = 9.91256303526217e-3;  // area of each layer
    double x[kLayers + 1];
    double ratio[kLayers];  // x[i+1] / x[i]: the rectangle test

    Ziggurat() {
      double f = std::exp(-0.5 * kR * kR);
      x[0] = kV / f;  // base layer: rectangle plus tail, of area kV
      x[1] = kR;
      x[kLayers] = 0.0;
      for (int i = 2; i < kLayers; ++i) {
        x[i] = std::sqrt(-2.0 * std::log(kV / x[i - 1] + f));
        f = std::exp(-0.5 * x[i] * x[i]);
      }
      for (int i = 0; i < kLayers; ++i) ratio[i] = x[i + 1] / x[i];
    }
  };

  static const Ziggurat& Zig() {
    static const Ziggurat z;
    return z;
  }

  double StdNormal() {
    const Ziggurat& z = Zig();
    for (;;) {
      const uint64_t bits = (*this)();
      const int i = static_cast<int>(bits & (Ziggurat::kLayers - 1));
      // Uniform in [-1, 1) from the top 53 bits.
      const double u = static_cast<double>(bits >> 11) * 0x1.0p-52 - 1.0;
      if (std::fabs(u) < z.ratio[i]) return u * z.x[i];
      if (i == 0) return Tail(u < 0.0);
      // Wedge between layers i and i+1: accept under the density.
      const double x = u * z.x[i];
      const double f0 = std::exp(-0.5 * (z.x[i] * z.x[i] - x * x));
      const double f1 = std::exp(-0.5 * (z.x[i + 1] * z.x[i + 1] - x * x));
      if (f1 + Uniform() * (f0 - f1) < 1.0) return x;
    }
  }

  // The tail beyond kR (Marsaglia 1964).
  double Tail(bool negative) {
    double x, y;
    do {
      x = std::log(1.0 - Uniform()) / Ziggurat::kR;
      y = std::log(1.0 - Uniform());
    } while (-2.0 * y < x * x);
    return negative ? x - Ziggurat::kR : Ziggurat::kR - x;
  }

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
