#include "tests/integration/tmpfs.h"

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace banditd::itest {

SmallTmpfs::SmallTmpfs(std::string dir, uint64_t bytes) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const std::string options = "size=" + std::to_string(bytes) + ",mode=0750";
  if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    error_ = "mount -t tmpfs -o " + options + " tmpfs " + dir_ + ": " + std::strerror(errno);
    return;
  }
  mounted_ = true;
}

SmallTmpfs::~SmallTmpfs() {
  if (!mounted_) return;
  if (::umount2(dir_.c_str(), 0) != 0) (void)::umount2(dir_.c_str(), MNT_DETACH);
}

bool SmallTmpfs::CanMount() { return ::geteuid() == 0; }

uint64_t SmallTmpfs::FreeBytes() const {
  struct statvfs st;
  if (::statvfs(dir_.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
}

}  // namespace banditd::itest
