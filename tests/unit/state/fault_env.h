// An Env that fails chosen operations, for fault-injection tests.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "src/state/env.h"

namespace banditd::testing {

class FaultEnv : public state::EnvWrapper {
 public:
  explicit FaultEnv(state::Env& target) : EnvWrapper(target) {}

  // Each counter: fail the n-th call from now (1 = the next one); 0 = never.
  std::atomic<int> fail_append{0}, fail_sync{0}, fail_rename{0}, fail_open{0}, fail_syncdir{0};
  std::atomic<bool> disk_full{false};  // every append fails with ENOSPC-like error
  // Every append writes half its bytes, then fails (space ran out mid-write).
  std::atomic<bool> partial_append{false};
  // Every sync waits while this is set (a slow disk).
  std::atomic<bool> hold_sync{false};
  // >= 0: FreeBytes reports this many bytes free (a filling or full disk);
  // -1: the real filesystem's figure.
  std::atomic<int64_t> free_bytes{-1};

  static bool Trip(std::atomic<int>& counter) {
    int v = counter.load();
    while (v > 0) {
      if (counter.compare_exchange_weak(v, v - 1)) return v == 1;
    }
    return false;
  }

  Result<std::unique_ptr<state::WritableFile>> OpenAppendable(const std::string& p) override {
    if (Trip(fail_open)) return Status(Code::kIoError, "injected open failure");
    auto f = target_.OpenAppendable(p);
    if (!f.ok()) return f.status();
    return std::unique_ptr<state::WritableFile>(std::make_unique<File>(*this, std::move(*f)));
  }
  Result<std::unique_ptr<state::WritableFile>> OpenWritable(const std::string& p) override {
    if (Trip(fail_open)) return Status(Code::kIoError, "injected open failure");
    auto f = target_.OpenWritable(p);
    if (!f.ok()) return f.status();
    return std::unique_ptr<state::WritableFile>(std::make_unique<File>(*this, std::move(*f)));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (Trip(fail_rename)) return Status(Code::kIoError, "injected rename failure");
    return target_.Rename(from, to);
  }
  Result<uint64_t> FreeBytes(const std::string& d) override {
    const int64_t simulated = free_bytes.load();
    if (simulated >= 0) return static_cast<uint64_t>(simulated);
    return target_.FreeBytes(d);
  }
  Status SyncDir(const std::string& d) override {
    if (Trip(fail_syncdir)) return Status(Code::kIoError, "injected directory fsync failure");
    return target_.SyncDir(d);
  }

 private:
  class File : public state::WritableFile {
   public:
    File(FaultEnv& env, std::unique_ptr<state::WritableFile> f) : env_(env), f_(std::move(f)) {}
    Status Append(std::string_view d) override {
      if (env_.disk_full) return Status(Code::kIoError, "injected: no space left on device");
      if (env_.partial_append) {
        (void)f_->Append(d.substr(0, d.size() / 2));
        return Status(Code::kIoError, "injected: no space left on device (after a short write)");
      }
      if (Trip(env_.fail_append)) return Status(Code::kIoError, "injected write failure");
      return f_->Append(d);
    }
    Status Sync() override {
      while (env_.hold_sync) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (Trip(env_.fail_sync)) return Status(Code::kIoError, "injected fsync failure");
      return f_->Sync();
    }
    Status Close() override { return f_->Close(); }
    Status WriteAt(uint64_t offset, std::string_view d) override { return f_->WriteAt(offset, d); }

   private:
    FaultEnv& env_;
    std::unique_ptr<state::WritableFile> f_;
  };
};

}  // namespace banditd::testing
