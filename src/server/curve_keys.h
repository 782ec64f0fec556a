// CURVE key files (docs/operations.md "Key management").
//
// Format, as `banditctl keygen` writes it: a text file holding one Z85 key
// (40 characters) on a line of its own; blank lines and lines starting with
// '#' are ignored, surrounding whitespace is trimmed. NAME.key holds a secret
// key (the public key is derived from it), NAME.pub a public key. An allowlist
// directory is every `*.pub` file in it (not recursive); a key's name is its
// file name without `.pub`.
//
// A `.pub` file that is a copy of a NAME.key file (its "# public key:"
// comment names the public key of its key line) is refused: it holds a
// secret. A bare secret key line without that comment cannot be told from a
// public key. The server's secret key file must be readable by its owner
// only (mode 0600 or stricter), as ssh demands of its keys.
//
// Every loader fails closed: a missing, unreadable or malformed file, or an
// allowlist directory without a single key, is an error (kInvalidArgument,
// naming the file), never an empty or partial result.
#pragma once

#include <array>
#include <map>
#include <string>

#include "banditd/status.h"

namespace banditd::server {

inline constexpr size_t kZ85KeyChars = 40;
using CurveKey = std::array<unsigned char, 32>;

struct CurveKeyPair {
  std::string public_z85;
  std::string secret_z85;
};

// Binary public key -> key name. Ordered so listings are stable.
using Allowlist = std::map<CurveKey, std::string>;

// True when libzmq was built with CURVE (libsodium).
bool CurveAvailable();

// A fresh key pair (zmq_curve_keypair).
Result<CurveKeyPair> GenerateKeyPair();

// The Z85 key of a key file, validated (40 characters that decode).
Result<std::string> ReadKeyFile(const std::string& path);

// A NAME.key file: the secret key and its derived public key.
Result<CurveKeyPair> LoadSecretKeyFile(const std::string& path);

// LoadSecretKeyFile, then CheckSecretKeyFileMode: the daemon's own key.
Result<CurveKeyPair> LoadServerSecretKeyFile(const std::string& path);

// kInvalidArgument naming `path` and `chmod 600` when the file's group or
// others have any permission on it.
Status CheckSecretKeyFileMode(const std::string& path);

// Every *.pub file of `dir`; an error when there is none, one is bad, or one
// holds a secret key.
Result<Allowlist> LoadAllowlist(const std::string& dir);

// Writes <dir>/<name>.key (mode 0600) and <dir>/<name>.pub (mode 0644).
// Refuses to overwrite an existing file. `name` is a plain file name.
Status WriteKeyPair(const std::string& dir, const std::string& name, const CurveKeyPair& keys);

// The Z85 text of a binary key (for logs).
std::string Z85Of(const CurveKey& key);

}  // namespace banditd::server
