// The process's descriptor budget: RLIMIT_NOFILE's soft limit is raised to
// the hard limit at start-up so that the ZeroMQ sockets, the WAL and
// snapshots have room, and the /metrics server's connection cap is kept to
// a small share of it (HttpConnectionCap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace banditd::telemetry {

struct FdLimits {
  uint64_t soft_before = 0;
  uint64_t soft = 0;  // after raising
  uint64_t hard = 0;
  std::string error;  // why raising failed (the soft limit then stays as it was)
};

// Raises the soft RLIMIT_NOFILE to the hard limit (to fs.nr_open when the
// hard limit is unlimited).
FdLimits RaiseFdLimit();

// The /metrics connection cap for a configured cap: at most a quarter of the
// current soft RLIMIT_NOFILE, so HTTP clients can never take the descriptors
// the rest of the daemon needs.
size_t HttpConnectionCap(size_t configured);

}  // namespace banditd::telemetry
