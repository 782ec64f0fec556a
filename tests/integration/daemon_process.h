// Integration-test support: a temp dir, a generated banditd config, and the
// real banditd process (started from $BANDITD_BIN_DIR, stopped with SIGTERM).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace banditd::itest {

// $BANDITD_BIN_DIR (set by ctest); the models are in <bin>/../models.
std::string BinDir();
std::string ModelDir();

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ConfigOptions {
  std::string durability = "group";  // always | group | none
  std::string reward_window = "1h";
  size_t max_frame_bytes = 0;  // 0: the default
  int64_t max_pending_inference = 0;
  int workers = 2;
  std::string model_dir;   // empty: ModelDir()
  bool tcp = false;        // tcp://127.0.0.1:* endpoints instead of ipc://
  std::string extra_yaml;  // top-level YAML written before `experiments:`
  int io_threads = 1;      // > 1: sockets.api_extra gets io_threads - 1 endpoints
  int inference_spin_us = 0;
};

// Writes <dir>/banditd.yaml: ipc endpoints in `dir` (or ephemeral loopback
// tcp ports), metrics on
// 127.0.0.1:0, state in <dir>/state, then `experiments_yaml` (a YAML list,
// indented by two spaces) under `experiments:`. Returns the file's path.
std::string WriteConfig(const std::string& dir, const std::string& experiments_yaml,
                        const ConfigOptions& options = {});

// Runs `banditd args...` to its exit (output to `log`); the exit code, or
// -1 if it ran longer than `timeout` (then it is killed).
int RunBanditd(const std::vector<std::string>& args, const std::string& log,
               std::chrono::seconds timeout = std::chrono::seconds(30));

struct Endpoints {
  std::string api, rewards, admin, metrics;
  std::vector<std::string> api_extra;  // sockets.api_extra, as bound
};

class DaemonProcess {
 public:
  DaemonProcess() = default;
  ~DaemonProcess();  // SIGKILL if still running
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts `banditd --config <config>` with output to <dir>/banditd-<n>.log
  // and waits (up to 30 s) until <state_dir>/endpoints is complete.
  ::testing::AssertionResult Start(const std::string& config, const std::string& dir,
                                   const std::vector<std::string>& extra_args = {});
  // SIGTERM, then waits up to `wait` for the exit. The exit code, or -1 when
  // it did not exit in time (then it is killed), or -(128+signal).
  int Stop(std::chrono::milliseconds wait = std::chrono::seconds(10),
           std::chrono::milliseconds* took = nullptr);
  // Sends SIGTERM only (for tests that keep talking while it stops).
  void Signal(int sig);
  // Waits for the exit after Signal(); same result as Stop().
  int Wait(std::chrono::milliseconds wait, std::chrono::milliseconds* took = nullptr);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const Endpoints& endpoints() const { return endpoints_; }
  // VmRSS of the process in KiB (from /proc/<pid>/status), -1 on error.
  long RssKib() const;
  // The last `bytes` of the current log file.
  std::string LogTail(size_t bytes = 4000) const;

 private:
  pid_t pid_ = -1;
  int runs_ = 0;
  std::string log_path_;
  Endpoints endpoints_;
  std::chrono::steady_clock::time_point signalled_;
};

}  // namespace banditd::itest
