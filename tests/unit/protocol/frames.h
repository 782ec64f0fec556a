// Helpers that build msgpack frames for the protocol tests, the fuzz corpus
// replay and the benchmark.
#pragma once

#include <cstdint>
#include <msgpack.hpp>
#include <string>
#include <string_view>

namespace banditd::protocol::testing {

// "dd ff 00 00 00" -> bytes. Spaces are ignored.
inline std::string Hex(std::string_view hex) {
  std::string out;
  int hi = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      continue;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

inline std::string ToHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// A packer writing into a string, for hand-made frames.
class FrameBuilder {
 public:
  FrameBuilder() : pk_(*this) {}
  void write(const char* p, size_t n) { bytes_.append(p, n); }
  msgpack::packer<FrameBuilder>& pk() { return pk_; }
  FrameBuilder& Str(std::string_view s) {
    pk_.pack_str(static_cast<uint32_t>(s.size()));
    pk_.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
    return *this;
  }
  FrameBuilder& Map(uint32_t n) {
    pk_.pack_map(n);
    return *this;
  }
  FrameBuilder& Array(uint32_t n) {
    pk_.pack_array(n);
    return *this;
  }
  FrameBuilder& Double(double d) {
    pk_.pack_double(d);
    return *this;
  }
  FrameBuilder& Int(int64_t i) {
    pk_.pack_int64(i);
    return *this;
  }
  FrameBuilder& Raw(std::string_view b) {
    bytes_.append(b);
    return *this;
  }
  FrameBuilder& Bin(std::string_view b) {
    pk_.pack_bin(static_cast<uint32_t>(b.size()));
    pk_.pack_bin_body(b.data(), static_cast<uint32_t>(b.size()));
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
  msgpack::packer<FrameBuilder> pk_;
};

}  // namespace banditd::protocol::testing
