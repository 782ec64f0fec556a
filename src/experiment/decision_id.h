// Decision ids: opaque to clients, yet enough for banditd to attribute a
// reward to its experiment, epoch and arm — even after a restart, and without
// a table lookup — and to refuse forged or mangled ids.
//
// An id is 30 bytes, written as 40 base64url characters:
//   tag u16 | epoch u16 | arm u8 | flags u8 | boot u32 | seq u32 |
//   issued_s u32 | propensity f32 | mac u64
// all little-endian, where mac = SipHash-2-4 (libsodium crypto_shorthash) of
// the first 22 bytes under the daemon's secret key (kept in state_dir).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "banditd/clock.h"
#include "banditd/status.h"

namespace banditd::experiment {

struct DecisionRef {
  uint16_t tag = 0;         // ExperimentTag(name)
  uint16_t epoch = 0;       // the experiment's epoch when decided
  uint8_t arm = 0;          // index of the arm that served
  uint8_t flags = 0;        // kForcedFlag, ...
  uint32_t boot = 0;        // random per daemon start
  uint32_t seq = 0;         // per-boot counter
  uint32_t issued_s = 0;    // wall-clock seconds when decided
  float propensity = 0.0f;  // probability with which `arm` was chosen

  static constexpr uint8_t kForcedFlag = 1;

  // Unique per decision: the key rewards are de-duplicated on.
  uint64_t key() const { return (static_cast<uint64_t>(boot) << 32) | seq; }
};

// The time decisions are stamped with (issued_s) and the reward window runs
// on: the wall clock read once, advanced by the monotonic clock, so a step of
// the wall clock while the daemon runs moves neither. Every thread that
// issues decisions uses the engine's (Engine::decision_time), so their times
// agree. Default-constructed it is the monotonic clock alone: set it.
class DecisionTime {
 public:
  DecisionTime() = default;
  explicit DecisionTime(const Clock& clock) : offset_ns_(clock.WallNanos() - clock.MonoNanos()) {}

  // Nanoseconds since the Unix epoch at monotonic time `mono_ns`.
  int64_t Nanos(int64_t mono_ns) const { return mono_ns + offset_ns_; }
  // Whole seconds, as in a DecisionRef (clamped to its u32).
  uint32_t Seconds(int64_t mono_ns) const;

 private:
  int64_t offset_ns_ = 0;
};

inline constexpr size_t kDecisionIdLength = 40;
inline constexpr size_t kDecisionRefBytes = 22;

// The 22-byte little-endian layout above (without the MAC), shared by the id
// and by the WAL's reward records.
void PackRef(const DecisionRef& ref, unsigned char* out);
DecisionRef UnpackRef(const unsigned char* in);
using DecisionKey = std::array<unsigned char, 16>;
using DecisionIdText = std::array<char, kDecisionIdLength>;

// A stable 16-bit tag for an experiment name (distinct names in one config
// must have distinct tags: the config loader checks).
uint16_t ExperimentTag(std::string_view name);

class DecisionCodec {
 public:
  explicit DecisionCodec(const DecisionKey& key) : key_(key) {}

  // Writes the id's 40 characters; allocates nothing.
  void Encode(const DecisionRef& ref, DecisionIdText& out) const;

  // kUnknownDecision for anything that is not an id this key signed.
  Result<DecisionRef> Decode(std::string_view id) const;

 private:
  DecisionKey key_;
};

}  // namespace banditd::experiment
