// Decoder: one ZeroMQ frame (one msgpack map with string keys) -> a typed
// wire::Request (docs/protocol.md). Hostile input is expected: every failure
// is a Status with a stable wire code and a message naming the key, never an
// exception and never unbounded allocation.
//
// Hot path: a Decoder owns a msgpack zone and scratch buffers that are reused
// from one Decode to the next, and strings come back as views into the frame,
// so a route request of ordinary size decodes without touching the heap.
// A Decoder is not thread-safe; keep one per thread.
#pragma once

#include <msgpack.hpp>
#include <string_view>
#include <vector>

#include "banditd/status.h"
#include "banditd/wire.h"

namespace banditd::protocol {

class Decoder {
 public:
  explicit Decoder(wire::DecodeLimits limits = {});
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes `frame` into *out. On success the views in *out point into
  // `frame` and into this decoder; they stay valid until the next Decode and
  // while `frame` is alive. On failure *out->id still holds the client's id
  // when the frame was a well-formed map that carried one, so the error
  // reply can echo it; the rest of *out is unspecified. Codes: kBadRequest
  // (malformed frame, missing key, wrong type), kUnknownOp, kInvalidValue
  // (non-finite or out-of-range number), kInvalidInput (bad `input`),
  // kBadContext (bad `context`).
  Status Decode(std::string_view frame, wire::Request* out);

  const wire::DecodeLimits& limits() const { return limits_; }

 private:
  Status DecodeRoute(const msgpack::object& root, wire::Request* out);
  Status DecodeInput(const msgpack::object& v, wire::InputView* in);
  Status DecodeContext(const msgpack::object& v, std::span<const double>* out);
  Status DecodeReward(const msgpack::object& root, wire::Request* out);
  Status DecodeRewards(const msgpack::object& root, wire::Request* out);
  Status DecodeStatus(const msgpack::object& root, wire::Request* out);
  Status DecodeAdmin(const msgpack::object& root, wire::Request* out);

  wire::DecodeLimits limits_;
  msgpack::zone zone_;
  std::vector<float> numbers_;
  std::vector<double> context_;
  std::vector<wire::RewardItem> items_;
};

}  // namespace banditd::protocol
