#include "src/server/connection_counter.h"

#include <cstring>

namespace banditd::server {

Result<std::unique_ptr<ConnectionCounter>> ConnectionCounter::Watch(zmq::context_t& ctx,
                                                                    zmq::socket_t& socket,
                                                                    const std::string& name) {
  const std::string ep = "inproc://banditd-connections-" + name;
  try {
    if (zmq_socket_monitor(socket.handle(), ep.c_str(),
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
      throw zmq::error_t();
    }
    zmq::socket_t reader(ctx, zmq::socket_type::pair);
    reader.set(zmq::sockopt::linger, 0);
    // No high-water mark: libzmq sends monitor events blocking, from its
    // I/O threads; they must never wait for this reader.
    reader.set(zmq::sockopt::rcvhwm, 0);
    reader.connect(ep);
    return std::unique_ptr<ConnectionCounter>(new ConnectionCounter(name, std::move(reader)));
  } catch (const zmq::error_t& e) {
    return Status(Code::kInternal, "cannot monitor the " + name + " socket: " + e.what());
  }
}

void ConnectionCounter::Poll() {
  try {
    while (reader_.recv(head_, zmq::recv_flags::dontwait)) {
      if (head_.more()) (void)reader_.recv(endpoint_, zmq::recv_flags::dontwait);
      // Event frame: uint16 event, uint32 value, in host order (libzmq v1 format).
      if (head_.size() < 6) continue;
      uint16_t event = 0;
      std::memcpy(&event, head_.data(), sizeof(event));
      accepted_ += (event & ZMQ_EVENT_ACCEPTED) != 0;
      disconnected_ += (event & ZMQ_EVENT_DISCONNECTED) != 0;
    }
  } catch (const zmq::error_t&) {
    // The context is closing.
  }
}

}  // namespace banditd::server
