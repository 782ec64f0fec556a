// Prometheus text exposition (format 0.0.4): the owner of the numbers (the
// daemon's I/O thread) writes every family into a PrometheusText on each
// tick and publishes the finished text; the HTTP thread only serves the
// newest published copy. So the request path never touches a lock or an
// atomic for metrics.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "src/common/histogram.h"

namespace banditd::telemetry {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class PrometheusText {
 public:
  // Starts a family: its # HELP and # TYPE lines ("counter", "gauge", "histogram").
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, Labels labels, double value);
  // A histogram family's samples from a latency histogram (nanoseconds),
  // exported in seconds with the given upper bounds (cumulative buckets).
  void Histogram(std::string_view name, Labels labels, const LatencyHistogram& h,
                 std::initializer_list<double> bounds_seconds);

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Head(std::string_view name, Labels labels, std::string_view extra_key = {},
            std::string_view extra_value = {});
  void Value(double v);
  std::string out_;
};

// Escapes a label value: backslash, double quote and newline.
std::string EscapeLabel(std::string_view v);

}  // namespace banditd::telemetry
