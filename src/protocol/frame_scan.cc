#include "src/protocol/frame_scan.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

namespace banditd::protocol {
namespace {

// No configuration may nest deeper than this: it sizes the walk's stack.
constexpr size_t kDepthCap = 64;

enum class Kind : uint8_t { kScalar, kStr, kBin, kExt, kArray, kMap };

struct Header {
  Kind kind = Kind::kScalar;
  size_t header_len = 1;  // bytes before the payload / the items
  uint64_t n = 0;         // scalar/str/bin/ext: payload bytes; array/map: entries
};

uint64_t ReadBigEndian(const uint8_t* p, size_t len) {
  uint64_t v = 0;
  for (size_t i = 0; i < len; ++i) v = (v << 8) | p[i];
  return v;
}

// Decodes the header at p (avail bytes readable). False when the byte is the
// reserved 0xc1 (*reserved = true) or the header itself is cut short.
bool ReadHeader(const uint8_t* p, size_t avail, Header* h, bool* reserved) {
  const uint8_t b = p[0];
  *reserved = false;
  auto sized = [&](Kind kind, size_t len_bytes, size_t extra) {
    if (avail < 1 + len_bytes) return false;
    h->kind = kind;
    h->header_len = 1 + len_bytes;
    h->n = ReadBigEndian(p + 1, len_bytes) + extra;
    return true;
  };
  auto fixed = [&](Kind kind, uint64_t n) {
    h->kind = kind;
    h->header_len = 1;
    h->n = n;
    return true;
  };
  if (b <= 0x7f || b >= 0xe0) return fixed(Kind::kScalar, 0);  // fixints
  if (b <= 0x8f) return fixed(Kind::kMap, b & 0x0f);
  if (b <= 0x9f) return fixed(Kind::kArray, b & 0x0f);
  if (b <= 0xbf) return fixed(Kind::kStr, b & 0x1f);
  switch (b) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
      return fixed(Kind::kScalar, 0);
    case 0xc1:
      *reserved = true;
      return false;
    case 0xc4:
      return sized(Kind::kBin, 1, 0);
    case 0xc5:
      return sized(Kind::kBin, 2, 0);
    case 0xc6:
      return sized(Kind::kBin, 4, 0);
    // ext: n counts the type byte and the data.
    case 0xc7:
      return sized(Kind::kExt, 1, 1);
    case 0xc8:
      return sized(Kind::kExt, 2, 1);
    case 0xc9:
      return sized(Kind::kExt, 4, 1);
    case 0xca:
    case 0xd2:
      return fixed(Kind::kScalar, 4);
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return fixed(Kind::kScalar, 8);
    case 0xcc:
    case 0xd0:
      return fixed(Kind::kScalar, 1);
    case 0xcd:
    case 0xd1:
      return fixed(Kind::kScalar, 2);
    case 0xce:
      return fixed(Kind::kScalar, 4);
    case 0xd4:
      return fixed(Kind::kExt, 2);
    case 0xd5:
      return fixed(Kind::kExt, 3);
    case 0xd6:
      return fixed(Kind::kExt, 5);
    case 0xd7:
      return fixed(Kind::kExt, 9);
    case 0xd8:
      return fixed(Kind::kExt, 17);
    case 0xd9:
      return sized(Kind::kStr, 1, 0);
    case 0xda:
      return sized(Kind::kStr, 2, 0);
    case 0xdb:
      return sized(Kind::kStr, 4, 0);
    case 0xdc:
      return sized(Kind::kArray, 2, 0);
    case 0xdd:
      return sized(Kind::kArray, 4, 0);
    case 0xde:
      return sized(Kind::kMap, 2, 0);
    default:
      return sized(Kind::kMap, 4, 0);  // 0xdf
  }
}

Status Bad(std::string what, size_t offset) {
  return Status(Code::kBadRequest, what + " (at byte " + std::to_string(offset) + ")");
}

// Walks the value at `pos`, leaving `*end` just past it. With `check` false the
// limits are not enforced (the frame is known to be valid).
// When `key` is given and the value is a map, *found is set to the raw bytes of
// the value of its first top-level string key equal to *key (left alone when
// there is none), found in the same pass.
Status Walk(std::string_view frame, size_t pos, const wire::DecodeLimits& limits, bool check,
            size_t* end, const std::string_view* key = nullptr, std::string_view* found = nullptr) {
  const auto* p = reinterpret_cast<const uint8_t*>(frame.data());
  const size_t size = frame.size();
  const size_t max_depth = std::min(limits.max_depth, kDepthCap);
  uint64_t pending[kDepthCap + 1];
  size_t depth = 0;
  pending[0] = 1;
  bool root_is_map = false;
  bool next_is_match = false;  // the depth-1 key just walked is *key
  size_t found_at = size + 1;  // start of the matching value while it is walked
  while (true) {
    while (depth > 0 && pending[depth] == 0) --depth;
    if (found_at <= size && depth <= 1) {  // back at the root map: the value ended
      *found = frame.substr(found_at, pos - found_at);
      found_at = size + 1;
      key = nullptr;  // the first match wins
    }
    if (pending[depth] == 0) break;
    if (pos >= size) return Bad("truncated frame: a value is missing", pos);
    Header h;
    bool reserved = false;
    if (!ReadHeader(p + pos, size - pos, &h, &reserved)) {
      return reserved ? Bad("reserved byte 0xc1 is not msgpack", pos)
                      : Bad("truncated frame inside a header", pos);
    }
    const size_t at = pos;
    pos += h.header_len;
    if (key != nullptr && depth == 1 && root_is_map) {
      if (pending[1] % 2 == 0) {  // a key: 2n items, keys at even counts left
        next_is_match = h.kind == Kind::kStr && h.n == key->size() && h.n <= size - pos &&
                        frame.substr(pos, h.n) == *key;
      } else if (next_is_match) {
        found_at = at;
        next_is_match = false;
      }
    }
    if (depth == 0) root_is_map = h.kind == Kind::kMap;
    --pending[depth];
    const uint64_t remain = size - pos;
    switch (h.kind) {
      case Kind::kScalar:
      case Kind::kBin:
        if (h.n > remain)
          return Bad("truncated frame: value needs " + std::to_string(h.n) + " bytes", at);
        pos += h.n;
        break;
      case Kind::kStr:
      case Kind::kExt: {
        const bool is_str = h.kind == Kind::kStr;
        const uint64_t data = is_str ? h.n : h.n - 1;  // ext: n counts the type byte
        const size_t cap = is_str ? limits.max_str : limits.max_ext;
        if (check && data > cap) {
          return Bad(std::string(is_str ? "string" : "ext") + " of " + std::to_string(data) +
                         " bytes exceeds the limit of " + std::to_string(cap) + " bytes",
                     at);
        }
        if (h.n > remain)
          return Bad("truncated frame: value needs " + std::to_string(h.n) + " bytes", at);
        pos += h.n;
        break;
      }
      case Kind::kArray:
      case Kind::kMap: {
        const bool is_map = h.kind == Kind::kMap;
        const char* what = is_map ? "map" : "array";
        if (check && h.n > (is_map ? limits.max_map : limits.max_array)) {
          return Bad(std::string(what) + " of " + std::to_string(h.n) +
                         " entries exceeds the limit of " +
                         std::to_string(is_map ? limits.max_map : limits.max_array),
                     at);
        }
        const uint64_t items = is_map ? 2 * h.n : h.n;
        if (items > remain) {
          return Bad(std::string(what) + " header claims " + std::to_string(h.n) +
                         " entries but only " + std::to_string(remain) + " bytes follow",
                     at);
        }
        if (depth + 1 > max_depth) {
          return Bad("nesting deeper than " + std::to_string(max_depth) + " levels", at);
        }
        if (items > 0) pending[++depth] = items;
        break;
      }
    }
  }
  *end = pos;
  return Status::Ok();
}

wire::DecodeLimits Unbounded() {
  constexpr size_t kMax = std::numeric_limits<size_t>::max() / 4;
  return wire::DecodeLimits{kMax, kDepthCap, kMax, kMax, kMax, kMax};
}

}  // namespace

Status ScanFrame(std::string_view frame, const wire::DecodeLimits& limits) {
  std::string_view ignored;
  return ScanFrame(frame, limits, {}, &ignored);
}

Status ScanFrame(std::string_view frame, const wire::DecodeLimits& limits,
                 std::string_view root_key, std::string_view* root_value) {
  *root_value = {};
  if (frame.empty()) return Status(Code::kBadRequest, "empty frame");
  if (frame.size() > limits.max_frame_bytes) {
    return Status(Code::kBadRequest, "frame of " + std::to_string(frame.size()) +
                                         " bytes exceeds the limit of " +
                                         std::to_string(limits.max_frame_bytes) + " bytes");
  }
  size_t end = 0;
  std::string_view value;
  BANDITD_RETURN_IF_ERROR(
      Walk(frame, 0, limits, /*check=*/true, &end, root_key.empty() ? nullptr : &root_key, &value));
  if (end != frame.size()) {
    return Bad(std::to_string(frame.size() - end) + " trailing bytes after the request map", end);
  }
  *root_value = value;
  return Status::Ok();
}

size_t ValueSize(std::string_view frame, size_t pos) {
  static const wire::DecodeLimits kUnbounded = Unbounded();
  size_t end = pos;
  if (!Walk(frame, pos, kUnbounded, /*check=*/false, &end).ok()) return frame.size() - pos;
  return end - pos;
}

std::string_view FindRootValue(std::string_view frame, std::string_view key) {
  const auto* p = reinterpret_cast<const uint8_t*>(frame.data());
  Header h;
  bool reserved = false;
  if (frame.empty() || !ReadHeader(p, frame.size(), &h, &reserved) || h.kind != Kind::kMap) {
    return {};
  }
  size_t pos = h.header_len;
  for (uint64_t i = 0; i < h.n && pos < frame.size(); ++i) {
    Header k;
    const size_t key_size = ValueSize(frame, pos);
    const bool match = ReadHeader(p + pos, frame.size() - pos, &k, &reserved) &&
                       k.kind == Kind::kStr && k.n == key.size() &&
                       frame.substr(pos + k.header_len, k.n) == key;
    pos += key_size;
    const size_t value_size = ValueSize(frame, pos);
    if (match) return frame.substr(pos, value_size);
    pos += value_size;
  }
  return {};
}

}  // namespace banditd::protocol
