#include "src/server/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <zmq.h>

namespace banditd::server {
namespace fs = std::filesystem;
namespace {

Status Bad(const std::string& path, const std::string& why) {
  return Status(Code::kInvalidArgument, "CURVE key file " + path + ": " + why);
}

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool DecodeZ85(const std::string& z85, CurveKey* out) {
  if (z85.size() != kZ85KeyChars) return false;
  return zmq_z85_decode(out->data(), z85.c_str()) != nullptr;
}

Status WriteNew(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return Status(errno == EEXIST ? Code::kInvalidArgument : Code::kIoError,
                  "cannot create " + path + ": " + std::strerror(errno));
  }
  // O_CREAT applies the umask: set the mode we promise explicitly.
  bool ok = ::fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Status(Code::kIoError, "cannot write " + path + ": " + std::strerror(saved));
  }
  return Status::Ok();
}

}  // namespace

bool CurveAvailable() { return zmq_has("curve") == 1; }

Result<CurveKeyPair> GenerateKeyPair() {
  char pub[kZ85KeyChars + 1] = {};
  char sec[kZ85KeyChars + 1] = {};
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Status(Code::kInternal,
                  std::string("zmq_curve_keypair failed: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{pub, sec};
}

namespace {

// The key line of a key file and the public key its comments name, if any
// (`banditctl keygen` writes "# public key: <Z85>" into NAME.key).
struct KeyFileText {
  std::string key;
  std::string commented_public;
  bool secret_header = false;  // keygen's "# banditd CURVE secret key" line
};

Result<KeyFileText> ReadKeyFileText(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Bad(path, "does not exist");
  if (!fs::is_regular_file(path, ec)) return Bad(path, "is not a regular file");
  std::ifstream in(path);
  if (!in) return Bad(path, std::string("cannot be read (") + std::strerror(errno) + ")");
  std::string line, key, commented;
  bool secret_header = false;
  int keys = 0;
  // A key file is tiny; a large one is not a key file (and not worth reading).
  for (size_t bytes = 0; std::getline(in, line);) {
    bytes += line.size() + 1;
    if (bytes > 4096) return Bad(path, "larger than 4096 bytes: not a key file");
    const std::string t = Trim(line);
    if (!t.empty() && t[0] == '#') {
      static constexpr std::string_view kPublicNote = "public key:";
      const std::string note = Trim(t.substr(1));
      if (note.starts_with(kPublicNote)) commented = Trim(note.substr(kPublicNote.size()));
      if (note.starts_with("banditd CURVE secret key")) secret_header = true;
    }
    if (t.empty() || t[0] == '#') continue;
    key = t;
    ++keys;
  }
  if (in.bad()) return Bad(path, "read error");
  if (keys == 0) return Bad(path, "holds no key (expected one Z85 line of 40 characters)");
  if (keys > 1) return Bad(path, "holds more than one key line");
  CurveKey decoded;
  if (!DecodeZ85(key, &decoded)) {
    return Bad(path, "not a Z85 key (expected 40 characters of the Z85 alphabet, got " +
                         std::to_string(key.size()) + ")");
  }
  return KeyFileText{key, commented, secret_header};
}

// The public key of a Z85 secret key, or an error naming `path`.
Result<std::string> PublicOf(const std::string& path, const std::string& secret) {
  char pub[kZ85KeyChars + 1] = {};
  if (zmq_curve_public(pub, secret.c_str()) != 0) {
    return Bad(path, std::string("cannot derive the public key: ") + zmq_strerror(zmq_errno()));
  }
  return std::string(pub);
}

// A *.pub file must hold a public key. A copy of a NAME.key file carries
// keygen's secret-key header, or names in its "# public key:" comment the
// public key of its key line: that line is a secret (and the directory of
// public keys is no place for it).
Status CheckNotSecret(const std::string& path, const KeyFileText& text) {
  bool secret = text.secret_header;
  if (!secret && !text.commented_public.empty() && text.commented_public != text.key) {
    auto pub = PublicOf(path, text.key);
    secret = pub.ok() && *pub == text.commented_public;
  }
  if (secret) {
    return Bad(path,
               "holds a SECRET key (a copy of a .key file), not a public key: put the "
               "client's NAME.pub here instead");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadKeyFile(const std::string& path) {
  BANDITD_ASSIGN_OR_RETURN(auto text, ReadKeyFileText(path));
  return text.key;
}

Status CheckSecretKeyFileMode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Bad(path, std::string("cannot stat (") + std::strerror(errno) + ")");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Bad(path, std::string("a secret key must be readable by its owner only, its mode is ") +
                         mode + ": run chmod 600 " + path);
  }
  return Status::Ok();
}

Result<CurveKeyPair> LoadSecretKeyFile(const std::string& path) {
  BANDITD_ASSIGN_OR_RETURN(auto secret, ReadKeyFile(path));
  BANDITD_ASSIGN_OR_RETURN(auto pub, PublicOf(path, secret));
  return CurveKeyPair{pub, secret};
}

Result<CurveKeyPair> LoadServerSecretKeyFile(const std::string& path) {
  BANDITD_ASSIGN_OR_RETURN(auto keys, LoadSecretKeyFile(path));
  BANDITD_RETURN_IF_ERROR(CheckSecretKeyFileMode(path));
  return keys;
}

Result<Allowlist> LoadAllowlist(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status(Code::kInvalidArgument,
                  "CURVE client key directory " + dir +
                      (fs::exists(dir, ec) ? " is not a directory" : " does not exist"));
  }
  Allowlist out;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return Status(Code::kInvalidArgument,
                  "CURVE client key directory " + dir + " cannot be read: " + ec.message());
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path p = it->path();
    if (p.extension() != ".pub" || p.filename().string()[0] == '.') continue;
    BANDITD_ASSIGN_OR_RETURN(auto text, ReadKeyFileText(p.string()));
    BANDITD_RETURN_IF_ERROR(CheckNotSecret(p.string(), text));
    CurveKey bin;
    DecodeZ85(text.key, &bin);
    const std::string name = p.stem().string();
    auto [pos, inserted] = out.emplace(bin, name);
    if (!inserted && pos->second != name) {
      // Two names for one key: keep the first in name order, deterministically.
      if (name < pos->second) pos->second = name;
    }
  }
  if (ec) {
    return Status(Code::kInvalidArgument,
                  "CURVE client key directory " + dir + " cannot be read: " + ec.message());
  }
  if (out.empty()) {
    return Status(Code::kInvalidArgument,
                  "CURVE client key directory " + dir +
                      " holds no *.pub key: nobody could connect (fail closed)");
  }
  return out;
}

Status WriteKeyPair(const std::string& dir, const std::string& name, const CurveKeyPair& keys) {
  if (name.empty() || name[0] == '.' || name.find('/') != std::string::npos) {
    return Status(Code::kInvalidArgument,
                  "key name '" + name + "' must be a plain file name (no '/', not hidden)");
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status(Code::kInvalidArgument, "no directory at " + dir);
  }
  const std::string base = (fs::path(dir) / name).string();
  for (const char* ext : {".key", ".pub"}) {
    if (fs::exists(base + ext, ec)) {
      return Status(Code::kInvalidArgument, base + ext + " exists: not overwriting a key");
    }
  }
  BANDITD_RETURN_IF_ERROR(WriteNew(base + ".key",
                                   "# banditd CURVE secret key (Z85). Keep it private.\n"
                                   "# public key: " +
                                       keys.public_z85 + "\n" + keys.secret_z85 + "\n",
                                   0600));
  return WriteNew(base + ".pub",
                  "# banditd CURVE public key (Z85) of '" + name + "'\n" + keys.public_z85 + "\n",
                  0644);
}

std::string Z85Of(const CurveKey& key) {
  char out[kZ85KeyChars + 1] = {};
  if (zmq_z85_encode(out, key.data(), key.size()) == nullptr) return "?";
  return out;
}

}  // namespace banditd::server
