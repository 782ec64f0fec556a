// Time is injected, never read from globals: production code takes a Clock&,
// tests pass a ManualClock so time-dependent behaviour is deterministic.
#pragma once

#include <atomic>
#include <cstdint>

namespace banditd {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic nanoseconds (arbitrary origin): for durations and deadlines.
  virtual int64_t MonoNanos() const = 0;
  // Nanoseconds since the Unix epoch: for timestamps written to logs and state.
  virtual int64_t WallNanos() const = 0;
};

// The process's real clocks (steady_clock and system_clock).
class SystemClock final : public Clock {
 public:
  int64_t MonoNanos() const override;
  int64_t WallNanos() const override;
  // A process-wide instance, for the places (main) that wire things up.
  static SystemClock& Instance();
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t wall_start_nanos = 1'700'000'000'000'000'000)
      : mono_(0), wall_(wall_start_nanos) {}
  int64_t MonoNanos() const override { return mono_.load(std::memory_order_relaxed); }
  int64_t WallNanos() const override { return wall_.load(std::memory_order_relaxed); }
  void Advance(int64_t nanos) {
    mono_.fetch_add(nanos, std::memory_order_relaxed);
    wall_.fetch_add(nanos, std::memory_order_relaxed);
  }

 private:
  std::atomic<int64_t> mono_;
  std::atomic<int64_t> wall_;
};

}  // namespace banditd
