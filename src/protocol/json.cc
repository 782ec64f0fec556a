#include "src/protocol/json.h"

#include <charconv>
#include <cmath>
#include <msgpack.hpp>

#include "src/protocol/frame_scan.h"

namespace banditd::protocol {
namespace {

using msgpack::object;
namespace type = msgpack::type;

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (b < 0x80) return 1;
  if ((b & 0xe0) == 0xc0) {
    n = 2;
    cp = b & 0x1f;
  } else if ((b & 0xf0) == 0xe0) {
    n = 3;
    cp = b & 0x0f;
  } else if ((b & 0xf8) == 0xf0) {
    n = 4;
    cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

void AppendString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (c == '\r') {
      out->append("\\r");
    } else if (c < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    } else if (c >= 0x80) {
      const size_t n = Utf8Length(s, i);
      if (n == 0) {
        out->append("\\ufffd");
        ++i;
        continue;
      }
      out->append(s.substr(i, n));
      i += n;
      continue;
    } else {
      out->push_back(static_cast<char>(c));
    }
    ++i;
  }
  out->push_back('"');
}

void AppendHex(const char* p, size_t n, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    out->push_back(kHex[c >> 4]);
    out->push_back(kHex[c & 15]);
  }
  out->push_back('"');
}

template <typename T>
void AppendNumber(T v, std::string* out) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

// Recursion is bounded by the depth limit ScanFrame enforced.
void Append(const object& o, std::string* out) {
  switch (o.type) {
    case type::NIL:
      out->append("null");
      break;
    case type::BOOLEAN:
      out->append(o.via.boolean ? "true" : "false");
      break;
    case type::POSITIVE_INTEGER:
      AppendNumber(o.via.u64, out);
      break;
    case type::NEGATIVE_INTEGER:
      AppendNumber(o.via.i64, out);
      break;
    case type::FLOAT32:
    case type::FLOAT64:
      if (std::isfinite(o.via.f64)) {
        AppendNumber(o.via.f64, out);
      } else {
        out->append("null");
      }
      break;
    case type::STR:
      AppendString({o.via.str.ptr, o.via.str.size}, out);
      break;
    case type::BIN:
      AppendHex(o.via.bin.ptr, o.via.bin.size, out);
      break;
    case type::EXT:
      out->append("{\"ext\":");
      AppendNumber(static_cast<int>(o.via.ext.type()), out);
      out->append(",\"hex\":");
      AppendHex(o.via.ext.data(), o.via.ext.size, out);
      out->push_back('}');
      break;
    case type::ARRAY:
      out->push_back('[');
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        if (i > 0) out->push_back(',');
        Append(o.via.array.ptr[i], out);
      }
      out->push_back(']');
      break;
    case type::MAP:
      out->push_back('{');
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        if (i > 0) out->push_back(',');
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type == type::STR) {
          AppendString({kv.key.via.str.ptr, kv.key.via.str.size}, out);
        } else if (kv.key.type == type::ARRAY || kv.key.type == type::MAP) {
          // Rendering a container key as an escaped string would escape its
          // nested keys again at every level: output exponential in depth.
          out->append(kv.key.type == type::ARRAY ? "\"<array>\"" : "\"<map>\"");
        } else {
          std::string key;  // a scalar: its JSON text, escaped once
          Append(kv.key, &key);
          AppendString(key, out);
        }
        out->push_back(':');
        Append(kv.val, out);
      }
      out->push_back('}');
      break;
  }
}

}  // namespace

Result<std::string> MsgpackToJson(std::string_view frame) {
  wire::DecodeLimits limits;
  limits.max_frame_bytes = 64 << 20;
  limits.max_map = 1 << 16;
  limits.max_array = 1 << 22;
  limits.max_str = 1 << 20;
  limits.max_depth = 32;
  BANDITD_RETURN_IF_ERROR(ScanFrame(frame, limits));
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(
        frame.data(), frame.size(), nullptr, nullptr,
        msgpack::unpack_limit(limits.max_array, limits.max_map, limits.max_str,
                              limits.max_frame_bytes, limits.max_ext, limits.max_depth + 1));
  } catch (const std::exception& e) {
    return Status(Code::kBadRequest, std::string("malformed msgpack: ") + e.what());
  }
  std::string out;
  Append(handle.get(), &out);
  return out;
}

}  // namespace banditd::protocol
