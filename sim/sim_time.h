// Simulated time: when step t happens, which day of the week that is, and
// duration strings ("30s", "2h", "7d"). A scenario with a `traffic` section
// (docs/simulation.md, "Time") maps each step to a simulated second, so rates
// can follow a weekly cycle or decay after a launch, and stopping rules can
// be given the experiment's age.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace banditd::sim {

inline constexpr double kSecondsPerDay = 86400.0;
inline constexpr double kSecondsPerWeek = 7 * kSecondsPerDay;

// Requests arrive at requests_per_second, scaled by `weekday` on Monday to
// Friday and by `weekend` on Saturday and Sunday. Arrivals are deterministic
// (the k-th request arrives when the expected count reaches k), so the clock
// adds no noise of its own.
struct TrafficSpec {
  double requests_per_second = 0.0;  // 0: time is not modelled
  double weekday = 1.0;              // arrival-rate multipliers
  double weekend = 1.0;
  int start_day = 0;  // the day of week at time 0: 0 = Monday ... 6 = Sunday

  bool enabled() const { return requests_per_second > 0.0; }
};

// Simulated seconds since the start at which step t (1-based) happens: t / R
// with a flat rate; with a weekly cycle, the time at which the cumulative
// arrivals reach t.
double SecondsAtStep(const TrafficSpec& traffic, uint64_t t);

// The number of requests that have arrived by `seconds` (rounded down): the
// inverse of SecondsAtStep, for horizons given as durations.
uint64_t StepsAtSeconds(const TrafficSpec& traffic, double seconds);

// True when `seconds` falls on a Saturday or a Sunday.
bool IsWeekend(const TrafficSpec& traffic, double seconds);

// Share of a week's requests that arrive on weekend days.
double WeekendShare(const TrafficSpec& traffic);

// "45", "30s", "15m", "2h", "7d", "1w" (also "1.5d") into seconds; nullopt
// when malformed or negative.
std::optional<double> ParseDuration(std::string_view text);

}  // namespace banditd::sim
