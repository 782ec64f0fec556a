// YamlNode: a yaml-cpp node that knows its key path, so every validation
// error can say where it is: "experiments[0].policy.params.prior_alpha
// (line 12): must be > 0". Internal to src/config.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/params.h"
#include "banditd/status.h"
#include "banditd/vocabulary.h"

namespace banditd::config {

// Looks up an environment variable (injected so tests need not touch the
// process environment).
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// The longest duration a config value can hold (about 31,700 years).
inline constexpr int64_t kMaxDurationMs = 1'000'000'000'000'000;

class YamlNode {
 public:
  YamlNode(YAML::Node node, std::string path, const EnvLookup* env)
      : node_(std::move(node)), path_(std::move(path)), env_(env) {}

  const std::string& path() const { return path_; }
  int line() const { return node_.IsDefined() ? node_.Mark().line + 1 : 0; }
  const YAML::Node& raw() const { return node_; }
  bool IsMap() const { return node_.IsMap(); }
  bool IsSequence() const { return node_.IsSequence(); }
  bool IsScalar() const { return node_.IsScalar(); }
  bool IsNull() const { return node_.IsNull(); }

  // "path (line N): what", as kInvalidArgument.
  Status Error(std::string_view what) const;

  // REQUIRES: IsMap() for Has/Child/Keys, IsSequence() for Item/size.
  bool Has(std::string_view key) const;
  // The key is there with no value (`key:` or `key: null`), which Has counts as absent.
  bool HasNull(std::string_view key) const;
  YamlNode Child(std::string_view key) const;
  YamlNode Item(size_t i) const;
  size_t size() const { return node_.size(); }
  std::vector<std::string> Keys() const;

  // Fails (naming the key and its line) when this is not a map, or holds a
  // key that is not in `known`.
  Status CheckMap(std::initializer_list<std::string_view> known) const;

  // Scalar reads of this node. Strings get ${VAR} and ${VAR:-default} expanded.
  Status AsString(std::string* out) const;
  Status AsDouble(double* out) const;
  Status AsInt(int64_t* out) const;
  Status AsBool(bool* out) const;
  // One of `names`; *out is its index.
  Status AsEnum(std::span<const std::string_view> names, size_t* out) const;
  // One of the names of vocabulary E (banditd/vocabulary.h).
  template <typename E>
  Status AsName(E* out) const {
    size_t index = 0;
    BANDITD_RETURN_IF_ERROR(AsEnum(NamesOf<E>(), &index));
    *out = static_cast<E>(index);
    return Status::Ok();
  }
  // A duration: a bare number of `unit_ms` milliseconds, or a number with a
  // unit, "500ms", "10s", "5m", "24h", "7d", "2w" (no blanks). Outside
  // [min_ms, max_ms] it is refused, naming the range in the same units.
  Status AsDurationMs(double unit_ms, int64_t min_ms, int64_t max_ms, int64_t* out_ms) const;
  // A Params map: scalars become bool/int/double/string, lists of numbers
  // become vector<double>.
  Status AsParams(Params* out) const;

  // Optional-key reads: leave *out alone when `key` is absent or null.
  Status Read(std::string_view key, std::string* out) const;
  Status Read(std::string_view key, bool* out) const;
  // Range checks: value must lie in [lo, hi] (open ends when the *_open flags
  // are set); the error states the bound.
  Status Read(std::string_view key, double* out, double lo, double hi, bool lo_open = false,
              bool hi_open = false) const;
  Status Read(std::string_view key, int64_t* out, int64_t lo, int64_t hi) const;

 private:
  Status Expand(const std::string& in, std::string* out) const;

  YAML::Node node_;
  std::string path_;
  const EnvLookup* env_;
};

}  // namespace banditd::config
