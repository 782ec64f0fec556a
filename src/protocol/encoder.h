// Encoders for the wire messages (docs/protocol.md).
//
// Replies (server side): each function clears *out and writes one msgpack
// map into it. Pass the same std::string every time: once its capacity has
// grown to the usual reply size, encoding a reply does not allocate.
// A non-empty `id` is the raw msgpack of the client's id and is copied
// verbatim, so the client gets back exactly the bytes it sent.
//
// Requests (client side: banditctl, bandit-sim live, tests): EncodeRequest
// writes the map Decoder::Decode reads back.
#pragma once

#include <string>
#include <string_view>

#include "banditd/wire.h"

namespace banditd::protocol {

void EncodeRouteReply(const wire::RouteReply& reply, std::string* out);

// {ok: true, id?}: the reply to `reward` and to the admin ops.
void EncodeOkReply(std::string_view id, std::string* out);

void EncodeRewardsReply(const wire::RewardsReply& reply, std::string* out);

// {ok: true, id?, experiments: [report, ...]}.
void EncodeStatusReply(const wire::StatusReply& reply, std::string* out);

// {ok: false, id?, error: {code, message}}; code spelled by CodeName().
void EncodeErrorReply(const wire::ErrorReply& reply, std::string* out);

// The request map for `request` (op, id when non-empty, and the op's keys).
// Tensor inputs are written as {shape, data: bin}, number inputs as an array
// of float32.
void EncodeRequest(const wire::Request& request, std::string* out);

}  // namespace banditd::protocol
