// Small helpers over yaml-cpp for the scenario loader: typed reads that come
// back as Status naming the key and its line, never as exceptions.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "banditd/params.h"
#include "banditd/status.h"

namespace banditd::sim {

class YamlReader {
 public:
  explicit YamlReader(std::string source) : source_(std::move(source)) {}

  // "source:LINE: message" for the node's line (1-based).
  Status Error(const YAML::Node& at, const std::string& message) const;

  // Every key of `map` must be in `known`; the error names the first stranger.
  Status CheckKeys(const YAML::Node& map, std::string_view where,
                   std::initializer_list<std::string_view> known) const;
  Status RequireMap(const YAML::Node& node, std::string_view what) const;

  Result<double> Double(const YAML::Node& node, std::string_view key) const;
  Result<uint64_t> Count(const YAML::Node& node, std::string_view key) const;  // integer >= 0
  Result<std::string> String(const YAML::Node& node, std::string_view key) const;
  Result<bool> Bool(const YAML::Node& node, std::string_view key) const;
  // A duration: seconds as a number, or "30s", "15m", "2h", "7d", "1w".
  Result<double> Seconds(const YAML::Node& node, std::string_view key) const;
  // A map of scalars / number lists into Params (ints stay ints).
  Result<Params> ParamsOf(const YAML::Node& node, std::string_view key) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

// Sets root[a][b]... = `value` for the dotted `path` (a sweep key), creating
// maps on the way; kInvalidArgument for an empty part or a part that is not a map.
Status SetPath(YAML::Node root, const std::string& path, const YAML::Node& value);

}  // namespace banditd::sim
