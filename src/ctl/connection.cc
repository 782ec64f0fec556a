#include "src/ctl/connection.h"

#include <cstring>
#include <fstream>
#include <map>

#include <zmq.hpp>

#include "src/config/loader.h"
#include "src/protocol/encoder.h"
#include "src/protocol/frame_scan.h"
#include "src/server/curve_keys.h"

namespace banditd::ctl {
namespace {

// key=value lines, as the daemon writes <state_dir>/endpoints.
Result<std::map<std::string, std::string>> ReadEndpointsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status(Code::kInvalidArgument,
                  "cannot read " + path + " (the daemon writes it once its sockets are bound)");
  }
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (!out.count("api") || !out.count("admin")) {
    return Status(Code::kInvalidArgument, path + " has no api= or admin= line");
  }
  return out;
}

bool WildcardPort(const std::string& endpoint) {
  if (endpoint.rfind("tcp://", 0) != 0) return false;
  const auto colon = endpoint.rfind(':');
  const std::string port = endpoint.substr(colon + 1);
  return port == "*" || port == "0";
}

// msgpack encoding of an unsigned integer, for the request id.
std::string PackUint(uint64_t v) {
  std::string s;
  if (v < 128) {
    s.push_back(static_cast<char>(v));
    return s;
  }
  s.push_back(static_cast<char>(0xcf));
  for (int shift = 56; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
  return s;
}

}  // namespace

std::string ConnectAddress(const std::string& bound) {
  const std::string prefix = "tcp://";
  if (bound.rfind(prefix, 0) != 0) return bound;
  const auto colon = bound.rfind(':');
  const std::string host = bound.substr(prefix.size(), colon - prefix.size());
  if (host == "*" || host == "0.0.0.0") return prefix + "127.0.0.1" + bound.substr(colon);
  if (host == "[::]" || host == "::") return prefix + "[::1]" + bound.substr(colon);
  return bound;
}

Result<std::string> ResolveEndpoint(const EndpointFlags& flags, bool admin) {
  const char* key = admin ? "admin" : "api";
  const std::string& given = admin ? flags.admin : flags.api;
  if (!given.empty()) return given;
  auto from_file = [&](const std::string& dir) -> Result<std::string> {
    auto file = ReadEndpointsFile(dir + "/endpoints");
    if (!file.ok()) return file.status();
    return ConnectAddress((*file)[key]);
  };
  if (!flags.state_dir.empty()) return from_file(flags.state_dir);
  config::LoadOptions options;
  options.check_files = false;
  auto config = config::LoadConfigFile(flags.config_path, options);
  if (!config.ok()) {
    return Status(Code::kInvalidArgument,
                  config.status().message() + (flags.config_given
                                                   ? ""
                                                   : " (give --config FILE, --state-dir DIR or "
                                                     "--api/--admin ENDPOINT)"));
  }
  const std::string& configured = admin ? config->sockets.admin : config->sockets.api;
  if (WildcardPort(configured)) return from_file(config->state_dir);
  return ConnectAddress(configured);
}

Result<ClientCurve> LoadClientCurve(const std::string& server_key_file,
                                    const std::string& client_key_file) {
  if (server_key_file.empty() && client_key_file.empty()) return ClientCurve{};
  if (server_key_file.empty() || client_key_file.empty()) {
    return Status(Code::kInvalidArgument,
                  "CURVE needs both --curve-server-key (the daemon's .pub) and --curve-key (this "
                  "client's .key)");
  }
  if (!server::CurveAvailable()) {
    return Status(Code::kInvalidArgument, "this libzmq has no CURVE support");
  }
  auto server = server::ReadKeyFile(server_key_file);
  if (!server.ok()) return server.status();
  auto client = server::LoadSecretKeyFile(client_key_file);
  if (!client.ok()) return client.status();
  return ClientCurve{*server, client->public_z85, client->secret_z85};
}

struct Connection::Impl {
  zmq::context_t ctx{1};
  zmq::socket_t socket{ctx, zmq::socket_type::dealer};
  // CURVE only: handshake failures reported by a socket monitor.
  std::optional<zmq::socket_t> monitor;
};

Connection::Connection(std::string endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout), impl_(std::make_unique<Impl>()) {}

Connection::~Connection() = default;

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& endpoint,
                                                     std::chrono::milliseconds timeout,
                                                     const ClientCurve& curve) {
  std::unique_ptr<Connection> c(new Connection(endpoint, timeout));
  try {
    if (curve.enabled()) {
      auto& s = c->impl_->socket;
      s.set(zmq::sockopt::curve_serverkey, curve.server_public);
      s.set(zmq::sockopt::curve_publickey, curve.client_public);
      s.set(zmq::sockopt::curve_secretkey, curve.client_secret);
      const char* ep = "inproc://banditctl-monitor";
      if (zmq_socket_monitor(s.handle(), ep,
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
        throw zmq::error_t();
      }
      c->impl_->monitor.emplace(c->impl_->ctx, zmq::socket_type::pair);
      c->impl_->monitor->set(zmq::sockopt::linger, 0);
      c->impl_->monitor->connect(ep);
    }
    // Never wait at exit for requests nobody will answer.
    c->impl_->socket.set(zmq::sockopt::linger, 0);
    c->impl_->socket.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
    c->impl_->socket.set(zmq::sockopt::maxmsgsize, int64_t{64} << 20);
    c->impl_->socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return Status(Code::kInvalidArgument, "cannot connect to '" + endpoint + "': " + e.what());
  }
  return c;
}

Result<Outcome> Connection::Request(wire::Request request, std::string* reply) {
  const uint64_t id = next_id_++;
  const std::string id_bytes = PackUint(id);
  request.id = id_bytes;
  std::string frame;
  protocol::EncodeRequest(request, &frame);

  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  auto& socket = impl_->socket;
  try {
    if (!socket.send(zmq::buffer(frame), zmq::send_flags::none)) return Outcome::kTimeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Outcome::kTimeout;
      zmq::pollitem_t items[2] = {{socket.handle(), 0, ZMQ_POLLIN, 0},
                                  {impl_->monitor ? impl_->monitor->handle() : nullptr, 0,
                                   static_cast<short>(impl_->monitor ? ZMQ_POLLIN : 0), 0}};
      if (zmq::poll(items, impl_->monitor ? 2 : 1, left) == 0) continue;  // re-checks the deadline
      if (items[1].revents & ZMQ_POLLIN) {
        zmq::message_t event;
        (void)impl_->monitor->recv(event, zmq::recv_flags::dontwait);
        if (event.more()) {
          zmq::message_t address;  // the event's second frame
          (void)impl_->monitor->recv(address, zmq::recv_flags::dontwait);
        }
        uint16_t what = 0;
        if (event.size() >= sizeof(what)) std::memcpy(&what, event.data(), sizeof(what));
        return Status(Code::kUnauthorized,
                      what == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                          ? "the daemon refused this client's CURVE key (not in its allowlist "
                            "for this socket)"
                          : "the CURVE handshake with " + endpoint_ +
                                " failed (wrong server key, or the daemon does not use CURVE)");
      }
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      zmq::message_t msg;
      if (!socket.recv(msg, zmq::recv_flags::dontwait)) continue;
      std::string_view body(static_cast<const char*>(msg.data()), msg.size());
      // A reply with another id answers an earlier request (one that timed
      // out). A reply without an id is ours: the daemon could not read the
      // request far enough to find it.
      wire::DecodeLimits limits;
      limits.max_frame_bytes = msg.size();
      limits.max_map = 4096;
      limits.max_array = 1 << 22;
      limits.max_str = 1 << 20;
      if (protocol::ScanFrame(body, limits).ok()) {
        const std::string_view echoed = protocol::FindRootValue(body, "id");
        if (!echoed.empty() && echoed != id_bytes) continue;
      }
      reply->assign(body);
      return Outcome::kReply;
    }
  } catch (const zmq::error_t& e) {
    return Status(Code::kIoError, std::string("socket error: ") + e.what());
  }
}

}  // namespace banditd::ctl
