#include "sim/sim_time.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

namespace banditd::sim {
namespace {

double DayMultiplier(const TrafficSpec& tr, int day_of_week) {
  return day_of_week >= 5 ? tr.weekend : tr.weekday;
}

}  // namespace

double SecondsAtStep(const TrafficSpec& tr, uint64_t t) {
  const double r = tr.requests_per_second;
  const double steps = static_cast<double>(t);
  if (tr.weekday == tr.weekend) return steps / (r * tr.weekday);
  // Requests per day, from the start day on; walk whole weeks, then days.
  double per_day[7];
  double per_week = 0.0;
  for (int k = 0; k < 7; ++k) {
    per_day[k] = r * DayMultiplier(tr, (tr.start_day + k) % 7) * kSecondsPerDay;
    per_week += per_day[k];
  }
  const double weeks = std::floor(steps / per_week);
  double rest = steps - weeks * per_week;
  for (int k = 0; k < 7; ++k) {
    if (rest <= per_day[k] || k == 6) {
      const double rate = per_day[k] / kSecondsPerDay;
      return weeks * kSecondsPerWeek + k * kSecondsPerDay + rest / rate;
    }
    rest -= per_day[k];
  }
  return weeks * kSecondsPerWeek;  // not reached
}

uint64_t StepsAtSeconds(const TrafficSpec& tr, double seconds) {
  const double weeks = std::floor(seconds / kSecondsPerWeek);
  double rest = seconds - weeks * kSecondsPerWeek;
  double steps = 0.0;
  double per_week = 0.0;
  for (int k = 0; k < 7; ++k) {
    const double rate = tr.requests_per_second * DayMultiplier(tr, (tr.start_day + k) % 7);
    per_week += rate * kSecondsPerDay;
    const double in_day = std::min(rest, kSecondsPerDay);
    steps += rate * std::max(0.0, in_day);
    rest -= kSecondsPerDay;
  }
  // A hair of slack so that 7d at 10/s is 6,048,000 and not one less.
  return static_cast<uint64_t>(std::floor(weeks * per_week + steps + 1e-6));
}

bool IsWeekend(const TrafficSpec& tr, double seconds) {
  const auto day = static_cast<int64_t>(std::floor(seconds / kSecondsPerDay));
  return (day + tr.start_day) % 7 >= 5;
}

double WeekendShare(const TrafficSpec& tr) {
  return 2.0 * tr.weekend / (5.0 * tr.weekday + 2.0 * tr.weekend);
}

std::optional<double> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double unit = 1.0;
  std::string number(text);
  switch (text.back()) {
    case 's': unit = 1.0; break;
    case 'm': unit = 60.0; break;
    case 'h': unit = 3600.0; break;
    case 'd': unit = kSecondsPerDay; break;
    case 'w': unit = kSecondsPerWeek; break;
    default: unit = 0.0;  // a bare number: seconds
  }
  if (unit > 0.0) {
    number.pop_back();
  } else {
    unit = 1.0;
  }
  if (number.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v) || v < 0.0) return std::nullopt;
  return v * unit;
}

}  // namespace banditd::sim
