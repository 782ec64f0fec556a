#include "src/config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace banditd::config {
namespace {

std::string FormatNumber(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

// Parses the whole of `s` as a number; false when anything is left over.
// The whole string, nothing before or after (strtod alone would skip
// leading blanks and refuse trailing ones).
bool ParseDouble(const std::string& s, double* out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

std::string Describe(const YAML::Node& n) {
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "null";
  return "'" + n.Scalar() + "'";
}

}  // namespace

Status YamlNode::Error(std::string_view what) const {
  const std::string where = "(line " + std::to_string(line()) + "): ";
  return InvalidArgument((path_.empty() ? where : path_ + " " + where) + std::string(what));
}

bool YamlNode::Has(std::string_view key) const {
  const YAML::Node child = node_[std::string(key)];
  return child.IsDefined() && !child.IsNull();
}

bool YamlNode::HasNull(std::string_view key) const {
  const YAML::Node child = node_[std::string(key)];
  return child.IsDefined() && child.IsNull();
}

YamlNode YamlNode::Child(std::string_view key) const {
  return YamlNode(node_[std::string(key)],
                  path_.empty() ? std::string(key) : path_ + "." + std::string(key), env_);
}

YamlNode YamlNode::Item(size_t i) const {
  return YamlNode(node_[i], path_ + "[" + std::to_string(i) + "]", env_);
}

std::vector<std::string> YamlNode::Keys() const {
  std::vector<std::string> keys;
  for (const auto& kv : node_) keys.push_back(kv.first.Scalar());
  return keys;
}

Status YamlNode::CheckMap(std::initializer_list<std::string_view> known) const {
  if (!node_.IsMap()) return Error("must be a map, got " + Describe(node_));
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) {
      return YamlNode(kv.first, path_, env_).Error("keys must be strings");
    }
    const std::string key = kv.first.Scalar();
    bool found = false;
    for (auto k : known) found = found || k == key;
    if (!found) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      const std::string where = path_.empty() ? key : path_ + "." + key;
      return InvalidArgument(where + " (line " + std::to_string(kv.first.Mark().line + 1) +
                             "): unknown key (known: " + list + ")");
    }
  }
  return Status::Ok();
}

Status YamlNode::Expand(const std::string& in, std::string* out) const {
  out->clear();
  size_t i = 0;
  while (i < in.size()) {
    const size_t start = in.find("${", i);
    if (start == std::string::npos) {
      out->append(in, i, std::string::npos);
      break;
    }
    out->append(in, i, start - i);
    const size_t end = in.find('}', start);
    if (end == std::string::npos) return Error("unterminated ${...} in '" + in + "'");
    const std::string body = in.substr(start + 2, end - start - 2);
    const size_t dash = body.find(":-");
    const std::string name = body.substr(0, dash);
    if (name.empty()) return Error("empty variable name in '" + in + "'");
    std::optional<std::string> value = (*env_)(name);
    if (value && value->empty()) value.reset();  // POSIX ${VAR:-x}: empty counts as unset
    if (!value) {
      if (dash == std::string::npos) {
        return Error("environment variable " + name + " is not set (use ${" + name +
                     ":-default} for a default)");
      }
      value = body.substr(dash + 2);
    }
    out->append(*value);
    i = end + 1;
  }
  return Status::Ok();
}

Status YamlNode::AsString(std::string* out) const {
  if (!node_.IsScalar()) return Error("must be a string, got " + Describe(node_));
  return Expand(node_.Scalar(), out);
}

Status YamlNode::AsDouble(double* out) const {
  if (!node_.IsScalar() || !ParseDouble(node_.Scalar(), out) || !std::isfinite(*out)) {
    return Error("must be a finite number, got " + Describe(node_));
  }
  return Status::Ok();
}

Status YamlNode::AsInt(int64_t* out) const {
  if (!node_.IsScalar() || !ParseInt(node_.Scalar(), out)) {
    return Error("must be an integer, got " + Describe(node_));
  }
  return Status::Ok();
}

Status YamlNode::AsBool(bool* out) const {
  if (node_.IsScalar()) {
    const std::string& s = node_.Scalar();
    if (s == "true") return (*out = true), Status::Ok();
    if (s == "false") return (*out = false), Status::Ok();
  }
  return Error("must be true or false, got " + Describe(node_));
}

Status YamlNode::AsEnum(std::span<const std::string_view> names, size_t* out) const {
  std::string value;
  BANDITD_RETURN_IF_ERROR(AsString(&value));
  size_t i = 0;
  for (auto n : names) {
    if (n == value) return (*out = i), Status::Ok();
    ++i;
  }
  std::string list;
  for (auto n : names) list += (list.empty() ? "" : ", ") + std::string(n);
  return Error("must be one of " + list + ", got '" + value + "'");
}

namespace {

// A plain decimal number: digits, an optional fraction with digits, an
// optional exponent. No sign, no hex, no inf or nan (strtod takes them all).
bool ParseDecimal(const std::string& s, double* out) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i > start;
  };
  if (!digits()) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size() && ParseDouble(s, out);
}

// "366d", "90s", "1500ms": the largest unit that divides the value.
std::string FormatDurationMs(int64_t ms) {
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}};
  if (ms == kMaxDurationMs) return "1e15ms (about 31,700 years)";
  for (const auto& [suffix, unit] : kUnits) {
    if (ms != 0 && ms % unit == 0) return std::to_string(ms / unit) + std::string(suffix);
  }
  return std::to_string(ms) + "ms";
}

}  // namespace

Status YamlNode::AsDurationMs(double unit_ms, int64_t min_ms, int64_t max_ms,
                              int64_t* out_ms) const {
  if (!node_.IsScalar()) return Error("must be a duration, got " + Describe(node_));
  std::string s;
  BANDITD_RETURN_IF_ERROR(Expand(node_.Scalar(), &s));
  double value = 0;
  double scale = unit_ms;
  if (!ParseDecimal(s, &value)) {
    static constexpr std::pair<std::string_view, double> kUnits[] = {
        {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3}, {"w", 604800e3}};
    bool parsed = false;
    for (const auto& [suffix, ms] : kUnits) {
      if (s.size() > suffix.size() &&
          s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          ParseDecimal(s.substr(0, s.size() - suffix.size()), &value)) {
        scale = ms;
        parsed = true;
        break;
      }
    }
    if (!parsed) return Error("must be a duration like 500ms, 10s, 5m, 24h, 7d or 2w, got '" + s + "'");
  }
  const double ms = value * scale;
  if (ms > 0 && ms < 0.5) {
    // It would round to 0, which for some keys means "off".
    return Error("must be a duration of 0 or at least 1ms, got '" + s + "'");
  }
  if (!(ms >= static_cast<double>(min_ms) && ms <= static_cast<double>(max_ms))) {
    const std::string range = min_ms == 0 ? "from 0 to " + FormatDurationMs(max_ms)
                                          : "from " + FormatDurationMs(min_ms) + " to " +
                                                FormatDurationMs(max_ms);
    return Error("must be a duration " + range + ", got '" + s + "'");
  }
  *out_ms = std::clamp<int64_t>(std::llround(ms), min_ms, max_ms);
  return Status::Ok();
}

Status YamlNode::AsParams(Params* out) const {
  *out = Params();
  if (node_.IsNull()) return Status::Ok();
  if (!node_.IsMap()) return Error("must be a map of parameters, got " + Describe(node_));
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    const YamlNode v(kv.second, path_ + "." + key, env_);
    if (v.IsSequence()) {
      std::vector<double> values(v.size());
      for (size_t i = 0; i < v.size(); ++i) BANDITD_RETURN_IF_ERROR(v.Item(i).AsDouble(&values[i]));
      out->Set(key, std::move(values));
      continue;
    }
    if (!v.IsScalar()) return v.Error("must be a number, string, boolean or list of numbers");
    const std::string& s = v.raw().Scalar();
    int64_t i = 0;
    double d = 0;
    bool b = false;
    if (ParseInt(s, &i)) {
      out->Set(key, i);
    } else if (ParseDouble(s, &d)) {
      if (!std::isfinite(d)) return v.Error("must be finite");
      out->Set(key, d);
    } else if (v.AsBool(&b).ok()) {
      out->Set(key, b);
    } else {
      std::string text;
      BANDITD_RETURN_IF_ERROR(v.AsString(&text));
      out->Set(key, std::move(text));
    }
  }
  return Status::Ok();
}

Status YamlNode::Read(std::string_view key, std::string* out) const {
  if (!Has(key)) return Status::Ok();
  return Child(key).AsString(out);
}

Status YamlNode::Read(std::string_view key, bool* out) const {
  if (!Has(key)) return Status::Ok();
  return Child(key).AsBool(out);
}

Status YamlNode::Read(std::string_view key, double* out, double lo, double hi, bool lo_open,
                      bool hi_open) const {
  if (!Has(key)) return Status::Ok();
  const YamlNode v = Child(key);
  double x = 0;
  BANDITD_RETURN_IF_ERROR(v.AsDouble(&x));
  const bool lo_ok = lo_open ? x > lo : x >= lo;
  const bool hi_ok = hi_open ? x < hi : x <= hi;
  if (!lo_ok || !hi_ok) {
    const bool no_hi = hi == std::numeric_limits<double>::infinity();
    if (no_hi)
      return v.Error(std::string("must be ") + (lo_open ? "> " : ">= ") + FormatNumber(lo) +
                     ", got " + FormatNumber(x));
    return v.Error(std::string("must be in ") + (lo_open ? "(" : "[") + FormatNumber(lo) + ", " +
                   FormatNumber(hi) + (hi_open ? ")" : "]") + ", got " + FormatNumber(x));
  }
  *out = x;
  return Status::Ok();
}

Status YamlNode::Read(std::string_view key, int64_t* out, int64_t lo, int64_t hi) const {
  if (!Has(key)) return Status::Ok();
  const YamlNode v = Child(key);
  int64_t x = 0;
  BANDITD_RETURN_IF_ERROR(v.AsInt(&x));
  if (x < lo || x > hi) {
    return v.Error("must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                   std::to_string(x));
  }
  *out = x;
  return Status::Ok();
}

}  // namespace banditd::config
