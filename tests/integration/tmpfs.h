// A small tmpfs mounted at a directory, for tests that fill a disk: the real
// filesystem behaviour (ENOSPC, statvfs) at a size a test can reach.
#pragma once

#include <cstdint>
#include <string>

namespace banditd::itest {

class SmallTmpfs {
 public:
  // Mounts a tmpfs of `bytes` at `dir` (created if missing). Mounting needs
  // root (CAP_SYS_ADMIN); check mounted() and error().
  SmallTmpfs(std::string dir, uint64_t bytes);
  // Unmounts; lazily (MNT_DETACH) if something still uses it.
  ~SmallTmpfs();
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;

  // Tests that need a tmpfs skip only when this is false (not root).
  static bool CanMount();

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  // Free bytes on the tmpfs (statvfs f_bavail × f_frsize), 0 on error.
  uint64_t FreeBytes() const;

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace banditd::itest
