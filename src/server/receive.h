// Receiving one request from a ROUTER socket, shared by the main I/O thread
// and the extra api I/O threads.
#pragma once

#include <array>
#include <cstddef>

#include <zmq.hpp>

namespace banditd::server {

// Receives one message without waiting: its first N frames into `parts`,
// any further ones into `excess` (overwritten: they are dropped). Returns how
// many frames the message had, 0 when none was waiting. The frames of a
// message arrive together, so once the first is there the rest are queued.
// Throws zmq::error_t.
template <size_t N>
size_t ReceiveFrames(zmq::socket_t& socket, std::array<zmq::message_t, N>& parts,
                     zmq::message_t& excess) {
  if (!socket.recv(parts[0], zmq::recv_flags::dontwait)) return 0;
  size_t n = 1;
  for (bool more = parts[0].more(); more; ++n) {
    zmq::message_t& m = n < N ? parts[n] : excess;
    if (!socket.recv(m, zmq::recv_flags::dontwait)) break;
    more = m.more();
  }
  return n;
}

}  // namespace banditd::server
