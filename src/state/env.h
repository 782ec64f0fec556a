// Env: the seam every file operation of the state directory goes through
// (in the manner of leveldb's Env), so tests can inject a failed write, a
// failed fsync or rename, or a full disk, and assert what banditd does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/status.h"

namespace banditd::state {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;  // fdatasync: the data appended so far is durable
  virtual Status Close() = 0;
  // Writes `data` at `offset` without moving the append position (pwrite);
  // for small fixed-size files opened with OpenWritable.
  virtual Status WriteAt(uint64_t offset, std::string_view data) {
    (void)offset;
    (void)data;
    return Status(Code::kFailedPrecondition, "WriteAt is not supported by this file");
  }
};

// An exclusive advisory lock on a file, held until destroyed (or the process
// ends: the kernel releases it, so a crash never leaves a stale lock).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// What Env::Stat reports about a file.
struct FileInfo {
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // last modification, nanoseconds since the Unix epoch
};

class Env {
 public:
  virtual ~Env() = default;

  // Opens for appending, creating the file if needed.
  virtual Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) = 0;
  // Creates or truncates.
  virtual Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Status CreateDir(const std::string& dir) = 0;  // ok if it exists
  virtual bool Exists(const std::string& path) = 0;
  // File names (not paths) in `dir`, sorted.
  virtual Result<std::vector<std::string>> List(const std::string& dir) = 0;
  // Takes an exclusive lock on `path` (created if needed) without waiting and
  // writes this process's pid into it. When another process holds it:
  // kFailedPrecondition naming the holder's pid as the file records it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // Bytes an unprivileged writer can still write on the filesystem that
  // holds `dir` (statvfs: f_bavail × f_frsize).
  virtual Result<uint64_t> FreeBytes(const std::string& dir) = 0;

  // The real file system (POSIX).
  static Env& Posix();
};

// Forwards everything to another Env; tests override what they break.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env& target) : target_(target) {}
  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& p) override {
    return target_.OpenAppendable(p);
  }
  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& p) override {
    return target_.OpenWritable(p);
  }
  Result<std::string> ReadFile(const std::string& p) override { return target_.ReadFile(p); }
  Status Rename(const std::string& f, const std::string& t) override {
    return target_.Rename(f, t);
  }
  Status Remove(const std::string& p) override { return target_.Remove(p); }
  Status Truncate(const std::string& p, uint64_t n) override { return target_.Truncate(p, n); }
  Status SyncDir(const std::string& d) override { return target_.SyncDir(d); }
  Status CreateDir(const std::string& d) override { return target_.CreateDir(d); }
  bool Exists(const std::string& p) override { return target_.Exists(p); }
  Result<std::vector<std::string>> List(const std::string& d) override { return target_.List(d); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& p) override {
    return target_.LockFile(p);
  }
  Result<FileInfo> Stat(const std::string& p) override { return target_.Stat(p); }
  Result<uint64_t> FreeBytes(const std::string& d) override { return target_.FreeBytes(d); }

 protected:
  Env& target_;
};

// Writes `data` to `path` atomically: a temp file, fsync, rename over `path`,
// fsync of the directory. On any failure `path` keeps its old content.
Status WriteFileAtomically(Env& env, const std::string& path, std::string_view data);

}  // namespace banditd::state
