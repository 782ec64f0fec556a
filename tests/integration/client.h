// A small synchronous test client for banditd: a DEALER socket (or PUSH for
// the rewards socket), requests written with protocol::EncodeRequest, replies
// read with the reply decoders of src/protocol/reply_decoder.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "banditd/status.h"
#include "banditd/wire.h"
#include "src/protocol/reply_decoder.h"

namespace banditd::itest {

struct RouteArgs {
  RouteArgs(std::string e, std::optional<std::string> u = std::nullopt, std::vector<float> x = {},
            std::optional<std::string> a = std::nullopt)
      : exp(std::move(e)), unit(std::move(u)), input(std::move(x)), arm(std::move(a)) {}
  std::string exp;
  std::optional<std::string> unit;
  std::vector<float> input;  // empty: route-only
  std::optional<std::string> arm;
  std::vector<double> context;  // empty: none
};

// Request frames (the id, when non-empty, is raw msgpack, e.g. "\x05").
std::string RouteFrame(const RouteArgs& a, std::string_view id = {});
std::string RewardFrame(std::string_view decision, double value, std::string_view id = {});
std::string RewardsFrame(const std::vector<std::pair<std::string, double>>& items,
                         std::string_view id = {});
std::string StatusFrame(std::optional<std::string_view> exp = std::nullopt);
std::string AdminFrame(wire::Op op, std::string_view exp = {}, std::string_view arm = {});
// msgpack positive fixint / uint32 id for pipelined requests.
std::string IdOf(uint32_t n);

// CURVE keys of a client (Z85): the server's public key and its own pair.
struct CurveClientKeys {
  std::string server_public, client_public, client_secret;
};

class Client {
 public:
  Client(zmq::context_t& ctx, const std::string& endpoint,
         zmq::socket_type type = zmq::socket_type::dealer);
  // A CURVE client (the options are set before connecting).
  Client(zmq::context_t& ctx, const std::string& endpoint, zmq::socket_type type,
         const CurveClientKeys& curve);

  void Send(std::string_view frame);
  void SendParts(const std::vector<std::string>& frames);
  // Every frame of the next reply, or nullopt after `timeout_ms`.
  std::optional<std::vector<std::string>> RecvParts(int timeout_ms = 5000);
  // The last frame of the next reply (the reply body).
  std::optional<std::string> Recv(int timeout_ms = 5000);
  std::optional<std::string> Call(std::string_view frame, int timeout_ms = 5000);

  // Typed calls; a missing reply is Code::kIoError "no reply".
  Result<protocol::RouteResult> Route(const RouteArgs& a);
  Status Reward(std::string_view decision, double value);
  Result<protocol::RewardsResult> Rewards(const std::vector<std::pair<std::string, double>>& items);
  Result<protocol::StatusResult> GetStatus(std::optional<std::string_view> exp = std::nullopt);
  Status Admin(wire::Op op, std::string_view exp = {}, std::string_view arm = {});

  zmq::socket_t& socket() { return socket_; }

 private:
  zmq::socket_t socket_;
};

// The code of an error reply (kOk for {ok: true}), kIoError when `reply` is
// nullopt; anything unreadable is kBadRequest per the reply decoders.
Code ReplyCode(const std::optional<std::string>& reply);

// The raw msgpack of a reply's `id` (empty when none or unreadable).
std::string ReplyId(std::string_view reply);
// The uint32 of an id written by IdOf, or -1.
int64_t IdNumber(std::string_view raw_id);

// GET http://<host:port><path> (HTTP/1.0, no keep-alive): the body, or
// nullopt on a connection error or a status other than 200.
std::optional<std::string> HttpGet(const std::string& host_port, const std::string& path);
// The value of the Prometheus sample `series` (name plus labels exactly as
// printed, e.g. banditd_errors_total{code="bad_request"}), or -1 if absent.
double MetricValue(const std::string& text, const std::string& series);

// The report of experiment `name` in a status result (REQUIRES: present).
const wire::ExperimentReport* FindReport(const protocol::StatusResult& s, std::string_view name);

}  // namespace banditd::itest
