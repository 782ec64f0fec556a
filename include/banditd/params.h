// Params: the typed key/value map a policy or stopping rule is configured
// with. The YAML loader fills it; factories validate it (unknown keys, wrong
// types and out-of-range values all come back as kInvalidArgument naming the key).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "banditd/status.h"

namespace banditd {

using ParamValue = std::variant<bool, int64_t, double, std::string, std::vector<double>>;

class Params {
 public:
  Params() = default;
  Params(std::initializer_list<std::pair<const std::string, ParamValue>> init) : values_(init) {}

  void Set(std::string key, ParamValue value) { values_[std::move(key)] = std::move(value); }
  bool Has(std::string_view key) const { return values_.find(key) != values_.end(); }
  const std::map<std::string, ParamValue, std::less<>>& values() const { return values_; }

  // Typed reads with a default when the key is absent; a value of the wrong
  // type is an error. Integers are accepted where a double is asked for.
  Result<double> GetDouble(std::string_view key, double fallback) const;
  Result<int64_t> GetInt(std::string_view key, int64_t fallback) const;
  Result<bool> GetBool(std::string_view key, bool fallback) const;
  Result<std::string> GetString(std::string_view key, std::string fallback) const;
  Result<std::vector<double>> GetDoubles(std::string_view key, std::vector<double> fallback) const;

  // Fails naming the first key that is not in `known`.
  Status CheckKnown(std::initializer_list<std::string_view> known) const;

 private:
  std::map<std::string, ParamValue, std::less<>> values_;
};

}  // namespace banditd
