// SHA-256 of model files through libsodium (crypto_hash_sha256), the library
// ZeroMQ's CURVE already brings in: no hand-rolled hashing.
#include <sodium.h>

#include <array>
#include <cstdio>
#include <memory>

#include "banditd/model.h"
#include "src/model/sha256.h"

namespace banditd::model {
namespace {

std::string ToHex(const unsigned char* digest, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}

Status InitSodium() {
  // sodium_init is thread-safe and idempotent: 0 first time, 1 afterwards.
  if (sodium_init() < 0) return Status(Code::kInternal, "libsodium failed to initialise");
  return Status::Ok();
}

}  // namespace

Result<std::string> Sha256File(const std::string& path) {
  BANDITD_RETURN_IF_ERROR(InitSodium());
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return Status(Code::kNotFound, "cannot open '" + path + "'");
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::array<unsigned char, 64 * 1024> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
    crypto_hash_sha256_update(&st, buf.data(), n);
  }
  if (std::ferror(f.get())) return Status(Code::kIoError, "error reading '" + path + "'");
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest;
  crypto_hash_sha256_final(&st, digest.data());
  return ToHex(digest.data(), digest.size());
}

Result<std::string> Sha256Bytes(std::string_view bytes) {
  BANDITD_RETURN_IF_ERROR(InitSodium());
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest;
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  return ToHex(digest.data(), digest.size());
}

}  // namespace banditd::model
