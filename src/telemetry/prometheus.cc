#include "src/telemetry/prometheus.h"

#include <charconv>
#include <cmath>

namespace banditd::telemetry {

std::string EscapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void PrometheusText::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::Head(std::string_view name, Labels labels, std::string_view extra_key,
                          std::string_view extra_value) {
  out_ += name;
  if (labels.size() == 0 && extra_key.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    out_ += EscapeLabel(v);
    out_ += '"';
  }
  if (!extra_key.empty()) {
    if (!first) out_ += ',';
    out_ += extra_key;
    out_ += "=\"";
    out_ += extra_value;
    out_ += '"';
  }
  out_ += '}';
}

void PrometheusText::Value(double v) {
  out_ += ' ';
  if (std::isnan(v)) {
    out_ += "NaN";
  } else if (std::isinf(v)) {
    out_ += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  out_ += '\n';
}

void PrometheusText::Sample(std::string_view name, Labels labels, double value) {
  Head(name, labels);
  Value(value);
}

void PrometheusText::Histogram(std::string_view name, Labels labels, const LatencyHistogram& h,
                               std::initializer_list<double> bounds_seconds) {
  const std::string bucket = std::string(name) + "_bucket";
  for (double b : bounds_seconds) {
    char le[32];
    auto r = std::to_chars(le, le + sizeof le, b);
    Head(bucket, labels, "le", std::string_view(le, static_cast<size_t>(r.ptr - le)));
    Value(static_cast<double>(h.CountAtOrBelow(static_cast<uint64_t>(b * 1e9))));
  }
  Head(bucket, labels, "le", "+Inf");
  Value(static_cast<double>(h.count()));
  Head(std::string(name) + "_sum", labels);
  Value(h.sum_nanos() / 1e9);
  Head(std::string(name) + "_count", labels);
  Value(static_cast<double>(h.count()));
}

}  // namespace banditd::telemetry
