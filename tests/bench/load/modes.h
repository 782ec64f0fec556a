// The measurements of banditd-bench. Each returns the daemon figure beside
// its same-run baseline (tests/bench/load/report.h).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/bench/load/daemon_process.h"
#include "tests/bench/load/echo.h"
#include "tests/bench/load/report.h"

namespace banditd::bench {

struct Options {
  double seconds = 5;          // longest single measurement
  uint64_t requests = 200000;  // most requests in one measurement
  int clients = 4;             // pipelined: DEALER sockets
  int inflight = 16;           // pipelined: requests in flight per socket
  int client_threads = 1;      // pipelined: client threads, each with `clients` sockets
  int batch = 100;             // rewards per `rewards` message
  uint64_t rewards = 100000;   // rewards per reward measurement
  std::string route_exp = "route";
  std::string infer_exp = "infer";
  std::string models_dir;  // champion.pt for the forward baseline
  bool warmup = true;      // false: exactly --requests reach the daemon (for profiles)
};

// A daemon to measure: endpoints, and its pid when this process started it
// (0 for --api: no RSS).
struct Target {
  Endpoints ep;
  pid_t pid = 0;
  std::string label;  // e.g. "durability group"
};

class Bench {
 public:
  explicit Bench(const Options& options) : opt_(options) {}

  Row RouteLockstep(const Target& t);
  // Pipelined routes; with several api endpoints (t.ep.api_extra) every
  // client socket connects to all of them.
  Row RoutePipelined(const Target& t, const std::string& name = "route-pipelined");
  // Lock-step and pipelined route+inference, against Model::Forward and
  // RawForward loops on the same model file.
  std::vector<Row> Inference(const Target& t);
  // Fire-and-forget `reward` and `rewards` on PULL vs a raw PULL sink.
  std::vector<Row> RewardsFireAndForget(const Target& t);
  // Acked `reward` and `rewards` on the api socket vs the echo server.
  std::vector<Row> RewardsAcked(const Target& t);

  // Routes `n` decisions (pipelined) and returns their ids.
  std::vector<std::string> Decisions(const Target& t, uint64_t n);
  // Sum of arms' joined rewards of the route experiment, from `status`.
  uint64_t RewardsJoined(const Target& t);
  // Pushes `decisions` as `rewards` batches and waits until they are joined;
  // returns the rewards joined (and the seconds in *seconds).
  uint64_t PushRewards(const Target& t, const std::vector<std::string>& decisions, size_t from,
                       size_t n, int batch, double* seconds);

 private:
  LoadSpec RouteSpec(const Target& t, bool pipelined, const std::string& exp, bool with_input);
  Row Compare(const std::string& name, const std::string& what, LoadSpec spec,
              double units_per_reply, const std::string& unit);

  Options opt_;
  EchoServer echo_;
  PullSink sink_;
  std::vector<std::string> pool_;  // unused decisions of the current target
  size_t pool_next_ = 0;
  std::string pool_owner_;  // api endpoint the pool belongs to
};

}  // namespace banditd::bench
