#include "banditd/params.h"

#include <cmath>

namespace banditd {
namespace {

Status WrongType(std::string_view key, std::string_view want) {
  return InvalidArgument("parameter '" + std::string(key) + "' must be " + std::string(want));
}

}  // namespace

Result<double> Params::GetDouble(std::string_view key, double fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (auto* d = std::get_if<double>(&it->second)) {
    if (!std::isfinite(*d)) return WrongType(key, "a finite number");
    return *d;
  }
  if (auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  return WrongType(key, "a number");
}

Result<int64_t> Params::GetInt(std::string_view key, int64_t fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (auto* i = std::get_if<int64_t>(&it->second)) return *i;
  if (auto* d = std::get_if<double>(&it->second)) {
    if (std::isfinite(*d) && std::floor(*d) == *d && std::fabs(*d) < 9.0e15) {
      return static_cast<int64_t>(*d);
    }
  }
  return WrongType(key, "an integer");
}

Result<bool> Params::GetBool(std::string_view key, bool fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (auto* b = std::get_if<bool>(&it->second)) return *b;
  return WrongType(key, "true or false");
}

Result<std::string> Params::GetString(std::string_view key, std::string fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (auto* s = std::get_if<std::string>(&it->second)) return *s;
  return WrongType(key, "a string");
}

Result<std::vector<double>> Params::GetDoubles(std::string_view key,
                                               std::vector<double> fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (auto* v = std::get_if<std::vector<double>>(&it->second)) {
    for (double x : *v) {
      if (!std::isfinite(x)) return WrongType(key, "a list of finite numbers");
    }
    return *v;
  }
  return WrongType(key, "a list of numbers");
}

Status Params::CheckKnown(std::initializer_list<std::string_view> known) const {
  for (const auto& [key, value] : values_) {
    bool found = false;
    for (auto k : known) found = found || (k == key);
    if (!found) {
      std::string list;
      for (auto k : known) {
        if (!list.empty()) list += ", ";
        list += k;
      }
      return InvalidArgument("unknown parameter '" + key +
                             "' (known: " + (list.empty() ? std::string("none") : list) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace banditd
