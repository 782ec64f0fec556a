// banditctl: route, reward, status, watch and the admin ops against a
// running banditd (docs/operations.md).
//
// Exit codes: 0 ok; 1 the daemon answered with an error (its code and
// message are printed); 2 usage or configuration error; 3 no reply within
// --timeout-ms (or the socket failed, or the daemon refused the CURVE
// handshake).
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <msgpack.hpp>

#include "src/ctl/connection.h"
#include "src/ctl/render.h"
#include "src/protocol/frame_scan.h"
#include "src/protocol/json.h"
#include "src/protocol/reply_decoder.h"
#include "src/server/curve_keys.h"

namespace banditd::ctl {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitErrorReply = 1;
constexpr int kExitUsage = 2;
constexpr int kExitTimeout = 3;

struct Options {
  EndpointFlags endpoints;
  int64_t timeout_ms = 5000;
  bool json = false;
  bool ascii = false;
  // route
  std::string exp, unit, arm, input, context;
  // reward
  std::string decision;
  double value = 0;
  // CURVE (docs/operations.md "Key management")
  std::string curve_server_key, curve_key;
  // keygen
  std::string key_dir = ".", key_name;
  // watch
  int64_t count = 0;  // 0: until interrupted
  int64_t interval_ms = 1000;
};

int Fail(int code, const std::string& message) {
  std::cerr << "banditctl: " << message << "\n";
  return code;
}

Result<std::vector<double>> ParseNumbers(const std::string& text, const char* what) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      out.push_back(std::stod(item, &used));
      if (used != item.size() && item.find_first_not_of(' ', used) != std::string::npos) {
        throw std::invalid_argument(item);
      }
    } catch (const std::exception&) {
      return Status(Code::kInvalidArgument,
                    std::string(what) + ": '" + item + "' is not a number (use 0.1,0.2,...)");
    }
  }
  return out;
}

// Sends one request on the api or admin socket. On a reply returns 0 and
// fills *reply; otherwise prints why and returns the exit code.
int Exchange(Connection& connection, const wire::Request& request, std::string* reply) {
  auto outcome = connection.Request(request, reply);
  if (!outcome.ok()) return Fail(kExitTimeout, outcome.status().message());
  if (*outcome == Outcome::kTimeout) {
    return Fail(kExitTimeout, "no reply from " + connection.endpoint() + " within " +
                                  std::to_string(connection.timeout().count()) +
                                  " ms (is banditd running there?)");
  }
  return kExitOk;
}

// The `error.code` string exactly as the daemon sent it (the reply decoders
// map a spelling they do not know to `internal`); empty when there is none.
std::string SentCode(std::string_view reply) {
  wire::DecodeLimits limits;
  limits.max_frame_bytes = reply.size();
  limits.max_map = 4096;
  limits.max_array = 1 << 22;
  limits.max_str = 1 << 20;
  if (!protocol::ScanFrame(reply, limits).ok()) return {};
  const std::string_view error = protocol::FindRootValue(reply, "error");
  if (error.empty()) return {};
  const std::string_view code = protocol::FindRootValue(error, "code");
  if (code.empty()) return {};
  try {
    msgpack::object_handle h = msgpack::unpack(code.data(), code.size());
    if (h.get().type == msgpack::type::STR) return h.get().as<std::string>();
  } catch (const std::exception&) {
  }
  return {};
}

// An error reply (or an unreadable one): prints the code and message.
int ErrorReply(const Status& s, std::string_view reply) {
  std::string code = SentCode(reply);
  if (code.empty()) code = std::string(CodeName(s.code()));
  std::cerr << "error: " << code << ": " << s.message() << "\n";
  return kExitErrorReply;
}

Result<std::unique_ptr<Connection>> Connect(const Options& o, bool admin) {
  auto endpoint = ResolveEndpoint(o.endpoints, admin);
  if (!endpoint.ok()) return endpoint.status();
  auto curve = LoadClientCurve(o.curve_server_key, o.curve_key);
  if (!curve.ok()) return curve.status();
  return Connection::Open(*endpoint, std::chrono::milliseconds(o.timeout_ms), *curve);
}

// The JSON of the whole reply (scripts read the same keys as the wire).
int PrintJson(std::string_view frame) {
  auto json = protocol::MsgpackToJson(frame);
  if (!json.ok()) return Fail(kExitErrorReply, json.status().message());
  std::cout << *json << "\n";
  return kExitOk;
}

int RunRoute(const Options& o) {
  auto conn = Connect(o, false);
  if (!conn.ok()) return Fail(kExitUsage, conn.status().message());
  std::vector<float> input;
  std::vector<double> context;
  wire::Request req;
  req.op = wire::Op::kRoute;
  wire::RouteRequest route;
  route.exp = o.exp;
  if (!o.unit.empty()) route.unit = o.unit;
  if (!o.arm.empty()) route.arm = o.arm;
  if (!o.input.empty()) {
    auto v = ParseNumbers(o.input, "--input");
    if (!v.ok()) return Fail(kExitUsage, v.status().message());
    input.assign(v->begin(), v->end());
    route.input.form = wire::InputView::Form::kNumbers;
    route.input.numbers = input;
    route.input.rank = 1;
    route.input.shape[0] = static_cast<int64_t>(input.size());
  }
  if (!o.context.empty()) {
    auto v = ParseNumbers(o.context, "--context");
    if (!v.ok()) return Fail(kExitUsage, v.status().message());
    context = std::move(v).value();
    route.context = std::span<const double>(context);
  }
  req.body = route;
  std::string reply;
  if (int rc = Exchange(**conn, req, &reply); rc != kExitOk) return rc;
  auto r = protocol::DecodeRouteReply(reply);
  if (!r.ok()) return ErrorReply(r.status(), reply);
  if (o.json) return PrintJson(reply);
  std::cout << "decision " << r->decision << "  arm " << r->arm << "  p " << r->p << "  epoch "
            << r->epoch;
  if (r->output) {
    std::cout << "  output [";
    for (size_t i = 0; i < r->output->size(); ++i) std::cout << (i ? ", " : "") << (*r->output)[i];
    std::cout << "]";
  }
  if (r->served_by) std::cout << "  served_by " << *r->served_by;
  std::cout << "\n";
  return kExitOk;
}

int RunReward(const Options& o) {
  auto conn = Connect(o, false);
  if (!conn.ok()) return Fail(kExitUsage, conn.status().message());
  wire::Request req;
  req.op = wire::Op::kReward;
  req.body = wire::RewardRequest{o.decision, o.value, std::nullopt};
  std::string reply;
  if (int rc = Exchange(**conn, req, &reply); rc != kExitOk) return rc;
  if (Status s = protocol::DecodeOkReply(reply); !s.ok()) return ErrorReply(s, reply);
  std::cout << "ok\n";
  return kExitOk;
}

wire::Request StatusRequest(const std::string& exp) {
  wire::Request req;
  req.op = wire::Op::kStatus;
  wire::StatusRequest s;
  if (!exp.empty()) s.exp = exp;
  req.body = s;
  return req;
}

int RunStatus(const Options& o) {
  auto conn = Connect(o, false);
  if (!conn.ok()) return Fail(kExitUsage, conn.status().message());
  std::string reply;
  if (int rc = Exchange(**conn, StatusRequest(o.exp), &reply); rc != kExitOk) return rc;
  auto r = protocol::DecodeStatusReply(reply);
  if (!r.ok()) return ErrorReply(r.status(), reply);
  if (o.json) {
    // {"experiments": [report, ...]}: the reports as the wire carries them.
    auto json = protocol::MsgpackToJson(protocol::FindRootValue(reply, "experiments"));
    if (!json.ok()) return Fail(kExitErrorReply, json.status().message());
    std::cout << "{\"experiments\":" << *json;
    if (auto proc = protocol::FindRootValue(reply, "process"); !proc.empty()) {
      auto pj = protocol::MsgpackToJson(proc);
      if (pj.ok()) std::cout << ",\"process\":" << *pj;
    }
    std::cout << "}\n";
    return kExitOk;
  }
  RenderOptions ro;
  ro.ascii = o.ascii;
  for (size_t i = 0; i < r->experiments.size(); ++i) {
    if (i > 0) std::cout << "\n";
    std::cout << StatusTable(r->experiments[i], ro);
  }
  if (r->process) {
    std::cout << "\ndaemon: rss " << std::fixed << std::setprecision(1)
              << r->process->rss_bytes / (1024.0 * 1024.0) << " MiB, cpu "
              << r->process->cpu_seconds << " s, up " << std::setprecision(0)
              << r->process->uptime_s << " s\n";
  }
  return kExitOk;
}

std::string ClockText() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
  return buf;
}

// A line that wraps would break the in-place redraw: on a terminal the bars
// shrink to fit its width (40 cells at most, 10 at least).
int WatchBarWidth(std::span<const wire::ExperimentReport> reports) {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return 40;
  size_t name = 0;
  for (const auto& r : reports) {
    for (const auto& a : r.arms) name = std::max(name, a.name.size());
  }
  // "  <name> <bar> 100.0%  n 1234567  mean 0.1234  p_best 0.123"
  const int rest = static_cast<int>(name) + 3 + 7 + 40;
  return std::clamp(static_cast<int>(ws.ws_col) - rest, 10, 40);
}

int RunWatch(const Options& o) {
  auto conn = Connect(o, false);
  if (!conn.ok()) return Fail(kExitUsage, conn.status().message());
  RenderOptions ro;
  ro.ascii = o.ascii;
  ro.bar_width = 40;
  // On a terminal each frame overwrites the previous one; piped output
  // (logs, tests) gets the frames one after another.
  const bool tty = isatty(STDOUT_FILENO) == 1;
  size_t previous_lines = 0;
  for (int64_t i = 0; o.count <= 0 || i < o.count; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.interval_ms));
    std::string reply;
    if (int rc = Exchange(**conn, StatusRequest(o.exp), &reply); rc != kExitOk) return rc;
    auto r = protocol::DecodeStatusReply(reply);
    if (!r.ok()) return ErrorReply(r.status(), reply);
    if (tty) ro.bar_width = WatchBarWidth(r->experiments);
    const std::string frame = WatchFrame(r->experiments, ro, ClockText());
    if (tty && previous_lines > 0) std::cout << "\x1b[" << previous_lines << "A";
    std::string line;
    std::stringstream lines(frame);
    previous_lines = 0;
    while (std::getline(lines, line)) {
      std::cout << line << (tty ? "\x1b[K" : "") << "\n";
      ++previous_lines;
    }
    if (!tty) std::cout << "\n";
    std::cout.flush();
  }
  return kExitOk;
}

int RunAdmin(const Options& o, wire::Op op) {
  auto conn = Connect(o, true);
  if (!conn.ok()) return Fail(kExitUsage, conn.status().message());
  wire::Request req;
  req.op = op;
  req.body = wire::AdminRequest{o.exp, o.arm};
  std::string reply;
  if (int rc = Exchange(**conn, req, &reply); rc != kExitOk) return rc;
  if (Status s = protocol::DecodeOkReply(reply); !s.ok()) return ErrorReply(s, reply);
  std::cout << "ok: " << wire::OpName(op) << (o.exp.empty() ? "" : " " + o.exp)
            << (o.arm.empty() || op != wire::Op::kPromote ? "" : " -> " + o.arm) << "\n";
  return kExitOk;
}

// Writes <dir>/<name>.key (secret, 0600) and <dir>/<name>.pub.
int RunKeygen(const Options& o) {
  if (!server::CurveAvailable()) return Fail(kExitUsage, "this libzmq has no CURVE support");
  auto keys = server::GenerateKeyPair();
  if (!keys.ok()) return Fail(kExitErrorReply, keys.status().message());
  if (Status s = server::WriteKeyPair(o.key_dir, o.key_name, *keys); !s.ok()) {
    return Fail(s.code() == Code::kInvalidArgument ? kExitUsage : kExitErrorReply, s.message());
  }
  const std::string base = o.key_dir + "/" + o.key_name;
  std::cout << "wrote " << base << ".key (secret, mode 0600) and " << base << ".pub\n"
            << "public key " << keys->public_z85 << "\n";
  return kExitOk;
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"banditctl: operate a running banditd (route, reward, status, watch, admin ops)"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the subcommand
  app.add_option("-c,--config", o.endpoints.config_path,
                 "the daemon's config: endpoints come from its sockets (default config/demo.yaml)");
  app.add_option("--state-dir", o.endpoints.state_dir,
                 "read the endpoints the daemon bound from <DIR>/endpoints");
  app.add_option("--api", o.endpoints.api, "api endpoint, e.g. tcp://127.0.0.1:5555");
  app.add_option("--admin", o.endpoints.admin, "admin endpoint, e.g. tcp://127.0.0.1:5557");
  app.add_option("--timeout-ms", o.timeout_ms, "give up when no reply comes within this")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{3'600'000}));
  app.add_option("--curve-server-key", o.curve_server_key,
                 "CURVE: the daemon's public key file (.pub); needs --curve-key");
  app.add_option("--curve-key", o.curve_key,
                 "CURVE: this client's secret key file (.key, from `banditctl keygen`)");

  auto* route = app.add_subcommand("route", "route one request and print the decision");
  route->add_option("exp", o.exp, "experiment")->required();
  route->add_option("--unit", o.unit, "sticky-assignment key");
  route->add_option("--input", o.input, "model input, comma-separated numbers");
  route->add_option("--context", o.context, "context features, comma-separated numbers");
  route->add_option("--arm", o.arm, "force this arm");
  route->add_flag("--json", o.json, "print the reply as JSON");

  auto* reward = app.add_subcommand("reward", "send an acked reward for a decision");
  reward->add_option("decision", o.decision, "decision id from route")->required();
  reward->add_option("value", o.value, "the reward")->required();

  auto* status = app.add_subcommand("status", "per-arm statistics, allocation and the test");
  status->add_option("exp", o.exp, "one experiment (default: all)");
  status->add_flag("--json", o.json, "print the reports as JSON");
  status->add_flag("--ascii", o.ascii, "draw bars with ASCII characters");

  auto* watch = app.add_subcommand("watch", "live allocation bars, refreshed in place");
  watch->add_option("exp", o.exp, "one experiment (default: all)");
  watch->add_option("--count", o.count, "stop after N refreshes (default: run until Ctrl-C)");
  watch->add_option("--interval-ms", o.interval_ms, "time between refreshes")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{10}, int64_t{3'600'000}));
  watch->add_flag("--ascii", o.ascii, "draw bars with ASCII characters");

  auto* promote = app.add_subcommand("promote", "send 100% of an experiment's traffic to an arm");
  promote->add_option("exp", o.exp, "experiment")->required();
  promote->add_option("arm", o.arm, "the arm to promote")->required();
  auto* pause = app.add_subcommand("pause", "stop learning and freeze the allocation");
  pause->add_option("exp", o.exp, "experiment")->required();
  auto* resume = app.add_subcommand("resume", "undo pause");
  resume->add_option("exp", o.exp, "experiment")->required();
  auto* reload = app.add_subcommand("reload", "reload the experiment's model files");
  reload->add_option("exp", o.exp, "experiment")->required();
  auto* snapshot = app.add_subcommand("snapshot", "write a state snapshot now");
  auto* ack_srm = app.add_subcommand(
      "ack-srm",
      "acknowledge an experiment's sample-ratio-mismatch alarm: its held decision may proceed "
      "and the check starts afresh");
  ack_srm->add_option("exp", o.exp, "experiment")->required();
  auto* keygen = app.add_subcommand("keygen", "write a CURVE key pair NAME.key + NAME.pub (Z85)");
  keygen->add_option("--name", o.key_name, "file name of the pair, e.g. server or app1")
      ->required();
  keygen->add_option("--out", o.key_dir, "directory to write into (must exist)")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  o.endpoints.config_given = !o.endpoints.config_path.empty();
  if (!o.endpoints.config_given) o.endpoints.config_path = "config/demo.yaml";

  if (route->parsed()) return RunRoute(o);
  if (reward->parsed()) return RunReward(o);
  if (status->parsed()) return RunStatus(o);
  if (watch->parsed()) return RunWatch(o);
  if (promote->parsed()) return RunAdmin(o, wire::Op::kPromote);
  if (pause->parsed()) return RunAdmin(o, wire::Op::kPause);
  if (resume->parsed()) return RunAdmin(o, wire::Op::kResume);
  if (reload->parsed()) return RunAdmin(o, wire::Op::kReload);
  if (snapshot->parsed()) return RunAdmin(o, wire::Op::kSnapshot);
  if (ack_srm->parsed()) return RunAdmin(o, wire::Op::kAckSrm);
  if (keygen->parsed()) return RunKeygen(o);
  return Fail(kExitUsage, "no subcommand");
}

}  // namespace
}  // namespace banditd::ctl

int main(int argc, char** argv) { return banditd::ctl::Main(argc, argv); }
