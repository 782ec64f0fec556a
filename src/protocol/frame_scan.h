// A bounded structural check of one msgpack document, done before anything
// is unpacked. It walks the bytes without allocating and refuses:
//   - truncated data, trailing bytes after the root value, the reserved byte 0xc1,
//   - containers nested deeper than the limit,
//   - any container claiming more items than bytes remain in the frame
//     (every item needs at least one byte), or more than the limits allow,
//   - strings / bins / exts longer than the limits or than the frame.
// Because the walk must reach the end of the frame, a frame that passes holds
// at most one msgpack object per byte, which bounds what unpacking it can
// allocate (about 24 bytes per frame byte) no matter what headers claim.
#pragma once

#include <cstddef>
#include <string_view>

#include "banditd/status.h"
#include "banditd/wire.h"

namespace banditd::protocol {

// OK when `frame` holds exactly one well-formed msgpack value within `limits`;
// otherwise kBadRequest saying what is wrong and at which byte offset.
Status ScanFrame(std::string_view frame, const wire::DecodeLimits& limits);

// The same check, which also finds what FindRootValue(frame, root_key) would
// return, in the same pass: set on success only (empty when there is none).
// A non-empty root_key is required for the search.
Status ScanFrame(std::string_view frame, const wire::DecodeLimits& limits,
                 std::string_view root_key, std::string_view* root_value);

// Size in bytes of the msgpack value that starts at frame[pos].
// REQUIRES: frame passed ScanFrame and pos starts a value inside it.
size_t ValueSize(std::string_view frame, size_t pos);

// The raw bytes of the value of the string key `key` in the root map, or an
// empty view when the root is not a map or has no such key.
// REQUIRES: frame passed ScanFrame.
std::string_view FindRootValue(std::string_view frame, std::string_view key);

}  // namespace banditd::protocol
