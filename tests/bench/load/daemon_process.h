// A banditd child process for the load generator: started with a generated
// config in a temp dir, found through <state_dir>/endpoints, stopped with
// SIGTERM (SIGKILL after a grace period). Loopback endpoints only.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "banditd/status.h"

namespace banditd::bench {

struct Endpoints {
  std::string api;
  std::string rewards;
  std::string admin;
  std::vector<std::string> api_extra;  // sockets.api_extra: one I/O thread each
};

// What the generated config contains (see ConfigYaml).
struct DaemonSetup {
  std::string durability = "group";  // always | group | none
  int group_window_ms = 2;
  int inference_workers = 2;
  std::string reward_window = "24h";  // how late a reward may come (and dedupe memory)
  std::string models_dir;       // holds champion.pt / challenger.pt; empty: no model experiment
  int io_threads = 1;           // api I/O threads: io_threads - 1 entries in sockets.api_extra
  int inference_spin_us = 0;    // inference.spin_us
  int inference_max_batch = 1;  // > 1: inference.batching on, with this max_batch
  int inference_batch_delay_us = 0;  // inference.batching.max_queue_delay_us
};

// The YAML of the bench's daemon: experiment `route` (two route-only arms,
// static A/B weights, fixed horizon far away so it never decides) and, when
// models_dir is set, experiment `infer` (champion/challenger demo models,
// 8 float inputs). Every socket on loopback TCP, on ports free at the time.
std::string ConfigYaml(const DaemonSetup& setup, const std::string& state_dir);

class DaemonProcess {
 public:
  // Writes <dir>/banditd.yaml, starts `banditd` on it (stdout/stderr to
  // <dir>/banditd.log) and waits up to 60 s for the endpoints file.
  static Result<std::unique_ptr<DaemonProcess>> Start(const std::string& banditd,
                                                      const DaemonSetup& setup,
                                                      const std::string& dir);
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  const Endpoints& endpoints() const { return endpoints_; }
  pid_t pid() const { return pid_; }
  // Resident set size of the daemon in MB (VmRSS of /proc/<pid>/status).
  double RssMB() const;
  // SIGTERM, then SIGKILL after 10 s; returns the exit status (or -1).
  int Stop();

 private:
  DaemonProcess(pid_t pid, Endpoints endpoints) : pid_(pid), endpoints_(std::move(endpoints)) {}
  pid_t pid_ = -1;
  Endpoints endpoints_;
};

// VmRSS of any process in MB; 0 when unreadable.
double ReadRssMB(pid_t pid);

}  // namespace banditd::bench
