#include "src/config/loader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "src/config/experiment.h"

namespace banditd::config {
namespace {

Status CheckEndpoint(const YamlNode& node, const std::string& endpoint) {
  for (std::string_view scheme : {"tcp://", "ipc://", "inproc://"}) {
    if (endpoint.rfind(scheme, 0) == 0 && endpoint.size() > scheme.size()) return Status::Ok();
  }
  return node.Error(
      "must be a ZeroMQ endpoint (tcp://host:port, ipc://path or inproc://name), got '" + endpoint +
      "'");
}

// host:port of the metrics endpoint: a host name or IPv4 address (no
// spaces), or a bracketed IPv6 address, and a decimal port (0: any free port).
Status CheckHostPort(const YamlNode& node, const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return node.Error("must be host:port (or \"\" for no metrics endpoint), got '" + address + "'");
  }
  const std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  const std::string_view name =
      bracketed ? std::string_view(host).substr(1, host.size() - 2) : std::string_view(host);
  const bool host_ok = std::all_of(name.begin(), name.end(), [&](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_' || (bracketed && c == ':');
  });
  if (!host_ok) return node.Error("host '" + host + "' is not a host name or address");
  const bool digits =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
  if (!digits || std::stol(port) > 65535) {
    return node.Error("port must be a number in [0, 65535], got '" + port + "'");
  }
  return Status::Ok();
}

// Extra api endpoints: one I/O thread each; extra socket i is pinned to
// libzmq I/O thread i + 1 by a 64-bit ZMQ_AFFINITY mask, hence at most 63.
constexpr size_t kMaxApiExtra = 63;

Status LoadSockets(const YamlNode& node, SocketsConfig* out) {
  BANDITD_RETURN_IF_ERROR(node.CheckMap({"api", "api_extra", "rewards", "admin", "metrics"}));
  std::set<std::string> seen;
  auto check = [&](const YamlNode& where, const std::string& value) -> Status {
    BANDITD_RETURN_IF_ERROR(CheckEndpoint(where, value));
    // A wildcard port (tcp://host:* or :0) is a fresh port per socket.
    const bool wildcard =
        value.starts_with("tcp://") && (value.ends_with(":*") || value.ends_with(":0"));
    if (!wildcard && !seen.insert(value).second) {
      return where.Error("endpoint '" + value + "' is used twice");
    }
    return Status::Ok();
  };
  for (auto [key, value] : {std::pair{"api", &out->api}, std::pair{"rewards", &out->rewards},
                            std::pair{"admin", &out->admin}}) {
    BANDITD_RETURN_IF_ERROR(node.Read(key, value));
    BANDITD_RETURN_IF_ERROR(check(node.Has(key) ? node.Child(key) : node, *value));
  }
  if (node.Has("api_extra")) {
    const YamlNode list = node.Child("api_extra");
    if (!list.IsSequence()) return list.Error("must be a list of endpoints");
    if (list.size() > kMaxApiExtra) {
      return list.Error("at most " + std::to_string(kMaxApiExtra) + " extra api endpoints");
    }
    out->api_extra.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      std::string ep;
      BANDITD_RETURN_IF_ERROR(list.Item(i).AsString(&ep));
      BANDITD_RETURN_IF_ERROR(check(list.Item(i), ep));
      out->api_extra.push_back(ep);
    }
  }
  BANDITD_RETURN_IF_ERROR(node.Read("metrics", &out->metrics));
  if (!out->metrics.empty()) {  // "": no metrics endpoint
    BANDITD_RETURN_IF_ERROR(
        CheckHostPort(node.Has("metrics") ? node.Child("metrics") : node, out->metrics));
  }
  return Status::Ok();
}

Status LoadSecurity(const YamlNode& node, const std::string& base, bool check_files,
                    SecurityConfig* out) {
  BANDITD_RETURN_IF_ERROR(
      node.CheckMap({"server_secret_key_file", "api_client_keys_dir", "admin_client_keys_dir"}));
  for (auto [key, value, is_dir] :
       {std::tuple{"server_secret_key_file", &out->server_secret_key_file, false},
        std::tuple{"api_client_keys_dir", &out->api_client_keys_dir, true},
        std::tuple{"admin_client_keys_dir", &out->admin_client_keys_dir, true}}) {
    BANDITD_RETURN_IF_ERROR(node.Read(key, value));
    if (value->empty()) continue;
    *value = ResolvePath(base, *value);
    const bool exists =
        is_dir ? std::filesystem::is_directory(*value) : std::filesystem::is_regular_file(*value);
    if (check_files && !exists) {
      return node.Child(key).Error(std::string("no ") + (is_dir ? "directory" : "file") + " at " +
                                   *value);
    }
  }
  if (!out->curve() && (!out->api_client_keys_dir.empty() || !out->admin_client_keys_dir.empty())) {
    return node.Error("client key directories need server_secret_key_file");
  }
  if (out->curve() && (out->api_client_keys_dir.empty() || out->admin_client_keys_dir.empty())) {
    return node.Error("CURVE needs api_client_keys_dir and admin_client_keys_dir (fail closed)");
  }
  return Status::Ok();
}

// decision_log: sizes are a number of bytes or a string with a binary unit.
Status ReadBytes(const YamlNode& node, std::string_view key, uint64_t lo, uint64_t hi,
                 uint64_t* out) {
  if (!node.Has(key)) return Status::Ok();
  const YamlNode v = node.Child(key);
  std::string s;
  BANDITD_RETURN_IF_ERROR(v.AsString(&s));
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {{"TiB", uint64_t{1} << 40},
                                                                     {"GiB", uint64_t{1} << 30},
                                                                     {"MiB", uint64_t{1} << 20},
                                                                     {"KiB", uint64_t{1} << 10},
                                                                     {"B", 1},
                                                                     {"", 1}};
  for (const auto& [unit, scale] : kUnits) {
    if (!s.ends_with(unit)) continue;
    const std::string number = s.substr(0, s.size() - unit.size());
    uint64_t n = 0;
    auto r = std::from_chars(number.data(), number.data() + number.size(), n);
    if (number.empty() || r.ec != std::errc() || r.ptr != number.data() + number.size()) break;
    if (n > hi / scale || n * scale < lo || n * scale > hi) {
      return v.Error("must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                     " bytes");
    }
    *out = n * scale;
    return Status::Ok();
  }
  return v.Error("must be a size like 1048576, 512KiB, 256MiB or 1GiB, got '" + s + "'");
}

Status LoadDecisionLog(const YamlNode& node, DecisionLogConfig* out) {
  BANDITD_RETURN_IF_ERROR(
      node.CheckMap({"max_bytes", "max_age", "min_free_bytes", "rotate_bytes"}));
  constexpr uint64_t kMiB = uint64_t{1} << 20, kMax = uint64_t{1} << 50;
  BANDITD_RETURN_IF_ERROR(ReadBytes(node, "max_bytes", 4 * kMiB, kMax, &out->max_bytes));
  BANDITD_RETURN_IF_ERROR(ReadBytes(node, "min_free_bytes", 0, kMax, &out->min_free_bytes));
  BANDITD_RETURN_IF_ERROR(ReadBytes(node, "rotate_bytes", 64 << 10, kMax, &out->rotate_bytes));
  if (node.HasNull("max_age")) {
    return node.Error("max_age has no value: give a duration (the default is 7d; 0: no age limit)");
  }
  if (node.Has("max_age")) {
    int64_t ms = 0;
    BANDITD_RETURN_IF_ERROR(
        node.Child("max_age").AsDurationMs(1000, 0, kMaxDurationMs, &ms));  // bare: seconds
    out->max_age = std::chrono::milliseconds(ms);
  }
  return Status::Ok();
}

Status LoadTop(const YamlNode& root, const std::string& base, const LoadOptions& options,
               Config* cfg) {
  if (root.IsNull()) return InvalidArgument(cfg->source + ": the configuration is empty");
  BANDITD_RETURN_IF_ERROR(
      root.CheckMap({"sockets", "security", "state_dir", "model_dir", "durability", "reward_window",
                     "inference", "limits", "logging", "experiments", "decision_log"}));
  if (root.Has("sockets"))
    BANDITD_RETURN_IF_ERROR(LoadSockets(root.Child("sockets"), &cfg->sockets));
  if (root.Has("security")) {
    BANDITD_RETURN_IF_ERROR(
        LoadSecurity(root.Child("security"), base, options.check_files, &cfg->security));
  }
  cfg->state_dir = "state";
  BANDITD_RETURN_IF_ERROR(root.Read("state_dir", &cfg->state_dir));
  if (cfg->state_dir.empty()) return root.Child("state_dir").Error("must not be empty");
  cfg->state_dir = ResolvePath(base, cfg->state_dir);
  cfg->model_dir = ".";
  BANDITD_RETURN_IF_ERROR(root.Read("model_dir", &cfg->model_dir));
  cfg->model_dir = ResolvePath(base, cfg->model_dir.empty() ? "." : cfg->model_dir);

  if (root.Has("durability")) {
    const YamlNode d = root.Child("durability");
    BANDITD_RETURN_IF_ERROR(d.CheckMap({"mode", "group_window_ms", "max_backlog"}));
    if (d.Has("mode")) {
      BANDITD_RETURN_IF_ERROR(d.Child("mode").AsName(&cfg->durability.mode));
    }
    int64_t window = cfg->durability.group_window.count();
    BANDITD_RETURN_IF_ERROR(d.Read("group_window_ms", &window, 0, 1000));
    cfg->durability.group_window = std::chrono::milliseconds(window);
    BANDITD_RETURN_IF_ERROR(d.Read("max_backlog", &cfg->durability.max_backlog, 16, 10'000'000));
  }
  if (root.HasNull("reward_window")) {
    return root.Error("reward_window has no value: give a duration (the default is 24h)");
  }
  if (root.Has("reward_window")) {
    int64_t ms = 0;
    const YamlNode w = root.Child("reward_window");
    BANDITD_RETURN_IF_ERROR(
        w.AsDurationMs(1000, 1000, int64_t{90} * 86'400'000, &ms));  // a bare number is seconds
    cfg->reward_window = std::chrono::milliseconds(ms);
  }
  if (root.Has("inference")) {
    const YamlNode n = root.Child("inference");
    BANDITD_RETURN_IF_ERROR(n.CheckMap({"workers", "intra_op_threads", "spin_us", "batching"}));
    BANDITD_RETURN_IF_ERROR(n.Read("workers", &cfg->inference.workers, 1, 256));
    BANDITD_RETURN_IF_ERROR(n.Read("intra_op_threads", &cfg->inference.intra_op_threads, 1, 256));
    int64_t spin_us = 0;
    BANDITD_RETURN_IF_ERROR(n.Read("spin_us", &spin_us, 0, 10000));
    cfg->inference.spin = std::chrono::microseconds(spin_us);
    if (n.Has("batching")) {
      const YamlNode b = n.Child("batching");
      BANDITD_RETURN_IF_ERROR(b.CheckMap({"enabled", "max_batch", "max_queue_delay_us"}));
      BANDITD_RETURN_IF_ERROR(b.Read("enabled", &cfg->inference.batching));
      BANDITD_RETURN_IF_ERROR(b.Read("max_batch", &cfg->inference.max_batch, 1, 4096));
      int64_t us = cfg->inference.max_queue_delay.count();
      BANDITD_RETURN_IF_ERROR(b.Read("max_queue_delay_us", &us, 0, 1'000'000));
      cfg->inference.max_queue_delay = std::chrono::microseconds(us);
    }
  }
  if (root.Has("limits")) {
    const YamlNode l = root.Child("limits");
    BANDITD_RETURN_IF_ERROR(
        l.CheckMap({"max_frame_bytes", "max_pending_inference", "max_unsent_reply_bytes",
                    "http_max_connections", "http_request_timeout_ms", "http_idle_timeout_ms",
                    "http_write_timeout_ms", "http_max_request_bytes"}));
    int64_t frame = static_cast<int64_t>(cfg->limits.max_frame_bytes);
    BANDITD_RETURN_IF_ERROR(l.Read("max_frame_bytes", &frame, 1024, int64_t{64} << 20));
    cfg->limits.max_frame_bytes = static_cast<size_t>(frame);
    BANDITD_RETURN_IF_ERROR(
        l.Read("max_pending_inference", &cfg->limits.max_pending_inference, 1, 1'000'000));
    // Unsent replies: 1 MiB – 64 GiB.
    int64_t unsent = static_cast<int64_t>(cfg->limits.max_unsent_reply_bytes);
    BANDITD_RETURN_IF_ERROR(
        l.Read("max_unsent_reply_bytes", &unsent, int64_t{1} << 20, int64_t{64} << 30));
    cfg->limits.max_unsent_reply_bytes = static_cast<size_t>(unsent);
    BANDITD_RETURN_IF_ERROR(
        l.Read("http_max_connections", &cfg->limits.http_max_connections, 1, 10'000));
    for (auto [key, value] :
         {std::pair{"http_request_timeout_ms", &cfg->limits.http_request_timeout},
          std::pair{"http_idle_timeout_ms", &cfg->limits.http_idle_timeout},
          std::pair{"http_write_timeout_ms", &cfg->limits.http_write_timeout}}) {
      int64_t ms = value->count();
      BANDITD_RETURN_IF_ERROR(l.Read(key, &ms, 100, 600'000));
      *value = std::chrono::milliseconds(ms);
    }
    BANDITD_RETURN_IF_ERROR(
        l.Read("http_max_request_bytes", &cfg->limits.http_max_request_bytes, 1024, 1 << 20));
  }
  if (root.Has("logging")) {
    const YamlNode g = root.Child("logging");
    BANDITD_RETURN_IF_ERROR(g.CheckMap({"level"}));
    if (g.Has("level")) {
      size_t level = 0;
      static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                     "error", "critical", "off"};
      BANDITD_RETURN_IF_ERROR(g.Child("level").AsEnum(kLevels, &level));
      cfg->log_level = std::string(kLevels[level]);
    }
  }
  if (root.Has("decision_log")) {
    BANDITD_RETURN_IF_ERROR(LoadDecisionLog(root.Child("decision_log"), &cfg->decision_log));
  }
  if (!root.Has("experiments")) return root.Error("missing key 'experiments'");
  const YamlNode exps = root.Child("experiments");
  if (!exps.IsSequence() || exps.size() == 0) return exps.Error("must be a non-empty list");
  std::set<std::string> names;
  for (size_t i = 0; i < exps.size(); ++i) {
    ExperimentConfig exp;
    BANDITD_RETURN_IF_ERROR(
        LoadExperiment(exps.Item(i), cfg->model_dir, options.check_files, &exp));
    if (!names.insert(exp.name).second) {
      return exps.Item(i).Child("name").Error("duplicate experiment name '" + exp.name + "'");
    }
    cfg->experiments.push_back(std::move(exp));
  }
  return Status::Ok();
}

std::optional<std::string> ProcessEnv(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Result<Config> Parse(std::string_view yaml, const std::string& base_dir, const std::string& source,
                     const LoadOptions& options) {
  const EnvLookup env = options.env ? options.env : EnvLookup(&ProcessEnv);
  Config cfg;
  cfg.source = source;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    Status s = LoadTop(YamlNode(root, "", &env), base_dir, options, &cfg);
    if (!s.ok()) return s.WithContext(source);
  } catch (const YAML::Exception& e) {
    // Parse errors (and, defensively, any misuse of a node) carry a mark.
    return InvalidArgument(source + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return cfg;
}

}  // namespace

bool IsLocalEndpoint(std::string_view endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  for (std::string_view host : {"tcp://127.0.0.1:", "tcp://localhost:", "tcp://[::1]:"}) {
    if (endpoint.rfind(host, 0) == 0) return true;
  }
  return false;
}

Status CheckExposure(const Config& config, bool insecure) {
  if (insecure) return Status::Ok();
  if (!config.security.curve()) {
    std::vector<std::string> eps = {config.sockets.api, config.sockets.rewards,
                                    config.sockets.admin};
    eps.insert(eps.end(), config.sockets.api_extra.begin(), config.sockets.api_extra.end());
    for (const auto& ep : eps) {
      if (!IsLocalEndpoint(ep)) {
        return InvalidArgument("refusing to bind " + ep +
                               " without CURVE: configure security keys or pass --insecure");
      }
    }
  }
  const std::string& m = config.sockets.metrics;
  if (!m.empty()) {
    const std::string host = m.substr(0, m.rfind(':'));
    if (host != "127.0.0.1" && host != "localhost" && host != "[::1]" && host != "::1") {
      return InvalidArgument("refusing to serve /metrics on " + m +
                             ": HTTP is not covered by CURVE; bind it to 127.0.0.1 (and "
                             "scrape through a proxy) or pass --insecure");
    }
  }
  return Status::Ok();
}

Result<Config> ParseConfig(std::string_view yaml, const std::string& base_dir,
                           const LoadOptions& options) {
  return Parse(yaml, std::filesystem::absolute(base_dir).string(), "<string>", options);
}

Result<Config> LoadConfigFile(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kNotFound, "cannot read config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  const std::filesystem::path abs = std::filesystem::absolute(path).lexically_normal();
  return Parse(text.str(), abs.parent_path().string(), abs.string(), options);
}

}  // namespace banditd::config
