// Counts a socket's connections as libzmq reports them to a socket monitor:
// accepted, and closed (ZMQ_EVENT_DISCONNECTED).
//
// A frame over ZMQ_MAXMSGSIZE never reaches banditd: libzmq's decoder fails
// and the engine closes that peer's connection. libzmq 4.3 reports that as
// ZMQ_EVENT_DISCONNECTED alone — the same event as a peer that closed its end
// (both go through stream_engine_base_t::error; the handshake-failure events
// are only raised before the handshake completes, and the event value is the
// file descriptor, not a reason). So oversized frames cannot be told apart
// from ordinary disconnects: they are counted among the disconnects of their
// socket (docs/operations.md, "Metrics").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <zmq.hpp>

#include "banditd/status.h"

namespace banditd::server {

class ConnectionCounter {
 public:
  // Starts monitoring `socket` (before it binds: libzmq blocks its own
  // threads on a monitor nobody reads, so the reader connects first).
  // `name` labels the socket and names the monitor's inproc endpoint.
  static Result<std::unique_ptr<ConnectionCounter>> Watch(zmq::context_t& ctx,
                                                          zmq::socket_t& socket,
                                                          const std::string& name);

  // Reads the events that are waiting, without blocking. Owner thread only.
  void Poll();

  const std::string& name() const { return name_; }
  uint64_t accepted() const { return accepted_; }
  uint64_t disconnected() const { return disconnected_; }

 private:
  ConnectionCounter(std::string name, zmq::socket_t reader)
      : name_(std::move(name)), reader_(std::move(reader)) {}

  std::string name_;
  zmq::socket_t reader_;
  zmq::message_t head_, endpoint_;
  uint64_t accepted_ = 0, disconnected_ = 0;
};

}  // namespace banditd::server
