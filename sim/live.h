// bandit-sim live: drives a running banditd over ZeroMQ as real traffic
// would — simulated users route, see the served model's prediction, click or
// not by the ground truth, and the clicks come back as acked rewards — then
// checks the daemon's status against what was sent and against the truth.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "banditd/status.h"

namespace banditd::sim {

struct LiveOptions {
  std::string endpoint = "tcp://127.0.0.1:5555";  // the daemon's api socket
  std::string experiment = "ctr";
  std::string ground_truth;  // ground_truth.json written by banditd-make-models
  uint64_t users = 50'000;   // distinct sticky units (0: no unit, per-request sampling)
  uint64_t max_requests = 2'000'000;
  double max_seconds = 75;
  int concurrency = 64;       // requests in flight
  double rate = 0;            // route requests per second at most (0: as fast as replies come)
  int reward_batch = 64;      // rewards per `rewards` message
  double status_every_s = 2;  // progress lines
  bool stop_on_decision = true;
  uint64_t seed = 1;
  int timeout_ms = 10'000;  // no reply for this long: give up
};

// Loads LiveOptions from a scenario file's `live:` map (keys as above).
Result<LiveOptions> LoadLiveScenario(const std::string& path, LiveOptions base);

// Runs the traffic and the final checks; returns the process exit code
// (0: the daemon's counts equal the acked rewards; 1: a check failed or the
// daemon stopped answering; 2: bad options).
int RunLive(const LiveOptions& options, std::ostream& out, std::ostream& err);

}  // namespace banditd::sim
