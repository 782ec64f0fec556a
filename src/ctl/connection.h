// banditctl's side of the wire: where the daemon listens, and one request /
// one reply over a DEALER socket with a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "banditd/status.h"
#include "banditd/wire.h"

namespace banditd::ctl {

// What the operator gave on the command line; empty strings: not given.
struct EndpointFlags {
  std::string api, admin;
  std::string state_dir;    // reads <state_dir>/endpoints
  std::string config_path;  // the daemon's config
  bool config_given = false;
};

// Resolves the endpoints, in this order: --api/--admin; the `endpoints` file
// the daemon writes into --state-dir after binding; the config's sockets
// (when an endpoint there has a wildcard port, the endpoints file of the
// config's state_dir). Only the endpoint the command uses (`admin` or api)
// must be resolvable: when the flag gives it, nothing else is read.
// kInvalidArgument when nothing says where to connect.
Result<std::string> ResolveEndpoint(const EndpointFlags& flags, bool admin);

// A tcp endpoint the daemon binds on a wildcard host (`*`, 0.0.0.0) is
// reached on the loopback address; everything else is returned as is.
std::string ConnectAddress(const std::string& bound);

// CURVE for a client (docs/operations.md "Key management"): the server's
// public key and the client's key pair, all Z85. Empty: no CURVE.
struct ClientCurve {
  std::string server_public;
  std::string client_public, client_secret;
  bool enabled() const { return !server_public.empty(); }
};

// Reads --curve-server-key (a .pub file) and --curve-key (the client's .key
// file, its public key derived). Both or neither; kInvalidArgument otherwise
// or when a file is missing or malformed.
Result<ClientCurve> LoadClientCurve(const std::string& server_key_file,
                                    const std::string& client_key_file);

// What came back for one request.
enum class Outcome { kReply, kTimeout };

// A DEALER connection to one daemon socket. Requests carry an increasing
// integer `id`; replies with another id (late answers to an earlier,
// abandoned request) are dropped; a reply without an id (the daemon could
// not read the request far enough) is taken as the answer.
class Connection {
 public:
  // With `curve` enabled the socket is a CURVE client; a refused handshake
  // (the daemon does not know this key, or the server key is wrong) makes
  // Request() fail with kUnauthorized instead of waiting for the timeout.
  static Result<std::unique_ptr<Connection>> Open(const std::string& endpoint,
                                                  std::chrono::milliseconds timeout,
                                                  const ClientCurve& curve = {});
  ~Connection();

  // Sends `request` (its id replaced by the connection's next one) and waits
  // for the reply until the timeout; *reply holds the raw reply frame.
  // Errors: kIoError when the socket fails; kUnauthorized when the CURVE
  // handshake is refused.
  Result<Outcome> Request(wire::Request request, std::string* reply);

  const std::string& endpoint() const { return endpoint_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  struct Impl;
  Connection(std::string endpoint, std::chrono::milliseconds timeout);

  std::string endpoint_;
  std::chrono::milliseconds timeout_;
  uint64_t next_id_ = 1;
  std::unique_ptr<Impl> impl_;
};

}  // namespace banditd::ctl
