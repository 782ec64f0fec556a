#include "src/experiment/decision_id.h"

#include <algorithm>
#include <cstring>

#include <sodium.h>

namespace banditd::experiment {
namespace {

constexpr size_t kBodyBytes = kDecisionRefBytes;
constexpr size_t kIdBytes = 30;
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

template <typename T>
void Put(unsigned char*& p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) *p++ = static_cast<unsigned char>(v >> (8 * i));
}

template <typename T>
T Get(const unsigned char*& p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(*p++) << (8 * i));
  return v;
}

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

Status Unknown() {
  return Status(Code::kUnknownDecision, "not a decision id issued by this daemon");
}

}  // namespace

uint32_t DecisionTime::Seconds(int64_t mono_ns) const {
  const int64_t s = Nanos(mono_ns) / 1'000'000'000;
  return static_cast<uint32_t>(std::clamp<int64_t>(s, 0, UINT32_MAX));
}

uint16_t ExperimentTag(std::string_view name) {
  // FNV-1a 32-bit, folded to 16 bits: stable across builds and platforms.
  uint32_t h = 2166136261u;
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  return static_cast<uint16_t>(h ^ (h >> 16));
}

void PackRef(const DecisionRef& ref, unsigned char* out) {
  unsigned char* p = out;
  Put(p, ref.tag);
  Put(p, ref.epoch);
  Put(p, ref.arm);
  Put(p, ref.flags);
  Put(p, ref.boot);
  Put(p, ref.seq);
  Put(p, ref.issued_s);
  uint32_t prop_bits;
  std::memcpy(&prop_bits, &ref.propensity, sizeof prop_bits);
  Put(p, prop_bits);
}

DecisionRef UnpackRef(const unsigned char* in) {
  const unsigned char* p = in;
  DecisionRef ref;
  ref.tag = Get<uint16_t>(p);
  ref.epoch = Get<uint16_t>(p);
  ref.arm = Get<uint8_t>(p);
  ref.flags = Get<uint8_t>(p);
  ref.boot = Get<uint32_t>(p);
  ref.seq = Get<uint32_t>(p);
  ref.issued_s = Get<uint32_t>(p);
  const uint32_t prop_bits = Get<uint32_t>(p);
  std::memcpy(&ref.propensity, &prop_bits, sizeof prop_bits);
  return ref;
}

void DecisionCodec::Encode(const DecisionRef& ref, DecisionIdText& out) const {
  unsigned char raw[kIdBytes];
  PackRef(ref, raw);
  crypto_shorthash(raw + kBodyBytes, raw, kBodyBytes, key_.data());
  // 30 bytes -> 40 characters, 3 bytes at a time.
  for (size_t i = 0, o = 0; i < kIdBytes; i += 3) {
    const uint32_t v = (uint32_t{raw[i]} << 16) | (uint32_t{raw[i + 1]} << 8) | raw[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
}

Result<DecisionRef> DecisionCodec::Decode(std::string_view id) const {
  if (id.size() != kDecisionIdLength) return Unknown();
  unsigned char raw[kIdBytes];
  for (size_t i = 0, o = 0; i < kDecisionIdLength; i += 4) {
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      const int d = DecodeChar(id[i + j]);
      if (d < 0) return Unknown();
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    raw[o++] = static_cast<unsigned char>(v >> 16);
    raw[o++] = static_cast<unsigned char>(v >> 8);
    raw[o++] = static_cast<unsigned char>(v);
  }
  unsigned char mac[crypto_shorthash_BYTES];
  crypto_shorthash(mac, raw, kBodyBytes, key_.data());
  if (sodium_memcmp(mac, raw + kBodyBytes, sizeof mac) != 0) return Unknown();

  return UnpackRef(raw);
}

}  // namespace banditd::experiment
