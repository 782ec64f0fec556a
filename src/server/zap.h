// The daemon's ZAP handler (ZeroMQ RFC 27, ZAP 1.0) and CURVE handshake
// watcher, on a thread of its own.
//
// Each CURVE socket names its ZAP domain: "api" and "rewards" admit the
// public keys of api_client_keys_dir, "admin" those of admin_client_keys_dir.
// Everything else is refused: an unlisted key, a key of the other list, an
// unknown domain, a mechanism other than CURVE. Clients that fail the CURVE
// handshake itself (NULL or PLAIN clients, a wrong server key) never reach
// ZAP; a socket monitor counts them.
//
// Fail closed: libzmq lets CURVE clients in unauthenticated when no handler
// is bound at inproc://zeromq.zap.01, unless the socket sets the draft option
// ZMQ_ZAP_ENFORCE_DOMAIN (the daemon sets it; Debian's libzmq 4.3.4 accepts
// it, a build without drafts ignores it). So, independently of that, the
// handler is bound before the daemon's sockets bind and must outlive them
// (Stop() only after they are closed), and it answers every request (a
// malformed one with 400).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "banditd/status.h"
#include "src/server/curve_keys.h"

namespace banditd::server {

// The daemon's sockets, in metric-label order.
enum class AuthSocket : size_t { kApi = 0, kRewards = 1, kAdmin = 2 };
inline constexpr std::array<const char*, 3> kAuthDomains = {"api", "rewards", "admin"};

struct AuthCounts {
  uint64_t accepted = 0;
  uint64_t refused_key = 0;        // ZAP: key not in the socket's allowlist (or not CURVE)
  uint64_t refused_handshake = 0;  // CURVE handshake failed before ZAP (mechanism, crypto)
};

class ZapHandler {
 public:
  struct Options {
    std::string api_keys_dir;
    std::string admin_keys_dir;
  };

  // Loads both allowlists (any error fails) and binds the ZAP endpoint in
  // `ctx`. The thread starts with Start().
  static Result<std::unique_ptr<ZapHandler>> Create(zmq::context_t& ctx, Options options);
  ~ZapHandler();  // Stop()

  // Watches `socket`'s handshake failures. `suffix` tells apart several
  // sockets of one kind (the extra api sockets). REQUIRES: before Start().
  Status Watch(zmq::socket_t& socket, AuthSocket which, std::string_view suffix = "");
  void Start();
  // Re-reads both directories on the handler thread; on any error the old
  // lists stay in force (and the error is logged). Async-signal-safe.
  void Reload() { reload_.store(true, std::memory_order_relaxed); }
  // Joins the thread. REQUIRES: the CURVE sockets are closed.
  void Stop();

  // Thread-safe snapshot of the counters.
  AuthCounts counts(AuthSocket which) const;
  size_t api_keys() const;
  size_t admin_keys() const;
  // Completed reloads (successful or not); for tests and logs.
  uint64_t reloads() const { return reloads_.load(std::memory_order_relaxed); }

 private:
  struct Counters {
    std::atomic<uint64_t> accepted{0}, refused_key{0}, refused_handshake{0};
  };
  ZapHandler(zmq::context_t& ctx, Options options);
  void Loop();
  void Answer();
  void OnMonitorEvent(size_t which);
  void DoReload();
  void LogRefusal(size_t which, const std::string& what);

  zmq::context_t& ctx_;
  Options options_;
  zmq::socket_t zap_;
  std::vector<std::pair<size_t, zmq::socket_t>> monitors_;
  mutable std::mutex lists_mu_;  // guards the lists (the thread reads, counts are shown)
  Allowlist api_, admin_;
  std::array<Counters, 3> counters_;
  std::atomic<bool> stop_{false}, reload_{false};
  std::atomic<uint64_t> reloads_{0};
  std::thread thread_;
  // Refusal logs: at most one line a second, with the number left out.
  int64_t last_log_ns_ = 0;
  uint64_t unlogged_ = 0;
};

}  // namespace banditd::server
