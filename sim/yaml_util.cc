#include "sim/yaml_util.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "sim/sim_time.h"

namespace banditd::sim {
namespace {

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

bool ParseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

Status YamlReader::Error(const YAML::Node& at, const std::string& message) const {
  const int line = at.IsDefined() ? at.Mark().line + 1 : 0;
  std::string where = source_;
  if (line > 0) where += ":" + std::to_string(line);
  return InvalidArgument(where + ": " + message);
}

Status YamlReader::RequireMap(const YAML::Node& node, std::string_view what) const {
  if (!node.IsMap()) return Error(node, std::string(what) + " must be a map");
  return Status::Ok();
}

Status YamlReader::CheckKeys(const YAML::Node& map, std::string_view where,
                             std::initializer_list<std::string_view> known) const {
  BANDITD_RETURN_IF_ERROR(RequireMap(map, where));
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = it->first.Scalar();
    bool found = false;
    for (auto k : known) found = found || k == key;
    if (found) continue;
    std::string list;
    for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return Error(it->first,
                 "unknown key '" + key + "' in " + std::string(where) + " (known: " + list + ")");
  }
  return Status::Ok();
}

Result<double> YamlReader::Double(const YAML::Node& node, std::string_view key) const {
  double v = 0;
  if (!node.IsScalar() || !ParseDouble(node.Scalar(), &v)) {
    return Error(node, "'" + std::string(key) + "' must be a finite number");
  }
  return v;
}

Result<uint64_t> YamlReader::Count(const YAML::Node& node, std::string_view key) const {
  int64_t v = 0;
  double d = 0;
  if (node.IsScalar() && ParseInt(node.Scalar(), &v) && v >= 0) return static_cast<uint64_t>(v);
  // Accept 1e6-style integers.
  if (node.IsScalar() && ParseDouble(node.Scalar(), &d) && d >= 0 && d < 9.0e18 &&
      std::floor(d) == d) {
    return static_cast<uint64_t>(d);
  }
  return Error(node, "'" + std::string(key) + "' must be a non-negative integer");
}

Result<std::string> YamlReader::String(const YAML::Node& node, std::string_view key) const {
  if (!node.IsScalar()) return Error(node, "'" + std::string(key) + "' must be a string");
  return node.Scalar();
}

Result<bool> YamlReader::Bool(const YAML::Node& node, std::string_view key) const {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return Error(node, "'" + std::string(key) + "' must be true or false");
}

Result<double> YamlReader::Seconds(const YAML::Node& node, std::string_view key) const {
  if (node.IsScalar()) {
    if (auto v = ParseDuration(node.Scalar())) return *v;
  }
  return Error(node, "'" + std::string(key) +
                         "' must be a duration: seconds, or a number with s, m, h, d or w "
                         "(\"30s\", \"2h\", \"7d\")");
}

Result<Params> YamlReader::ParamsOf(const YAML::Node& node, std::string_view key) const {
  Params params;
  if (!node.IsMap()) return Error(node, "'" + std::string(key) + "' must be a map");
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.Scalar();
    const YAML::Node& v = it->second;
    if (v.IsSequence()) {
      std::vector<double> xs;
      for (const auto& x : v) {
        double d = 0;
        if (!x.IsScalar() || !ParseDouble(x.Scalar(), &d)) {
          return Error(x, "parameter '" + name + "' must be a list of numbers");
        }
        xs.push_back(d);
      }
      params.Set(name, std::move(xs));
    } else if (v.IsScalar()) {
      const std::string& s = v.Scalar();
      int64_t i = 0;
      double d = 0;
      if (s == "true" || s == "false") {
        params.Set(name, s == "true");
      } else if (ParseInt(s, &i)) {
        params.Set(name, i);
      } else if (ParseDouble(s, &d)) {
        params.Set(name, d);
      } else {
        params.Set(name, s);
      }
    } else {
      return Error(v, "parameter '" + name + "' must be a scalar or a list of numbers");
    }
  }
  return params;
}

Status SetPath(YAML::Node root, const std::string& path, const YAML::Node& value) {
  YAML::Node cur = root;
  size_t pos = 0;
  while (true) {
    const size_t dot = path.find('.', pos);
    const std::string part =
        path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (part.empty()) return InvalidArgument("sweep key '" + path + "' is malformed");
    if (dot == std::string::npos) {
      cur[part] = value;
      return Status::Ok();
    }
    YAML::Node next = cur[part];
    if (!next.IsDefined() || next.IsNull()) cur[part] = YAML::Node(YAML::NodeType::Map);
    next.reset(cur[part]);
    if (!next.IsMap())
      return InvalidArgument("sweep key '" + path + "': '" + part + "' is not a map");
    cur.reset(next);
    pos = dot + 1;
  }
}

}  // namespace banditd::sim
