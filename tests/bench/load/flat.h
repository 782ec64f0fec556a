// Memory measurements of banditd-bench: RSS after N pending decisions and
// after their rewards, and RSS over a constant-rate run.
#pragma once

#include "tests/bench/load/modes.h"
#include "tests/bench/load/report.h"

namespace banditd::bench {

struct FlatOptions {
  double seconds = 180;        // length of the run
  double rate = 2000;          // routes per second, each followed by its reward
  double warmup_seconds = 30;  // left out of min/max
};

// RSS at start, after `n` routes (decisions pending: no reward yet), and
// after a fire-and-forget reward for each (batches of `batch`).
MemoryReport MeasureMemory(Bench& bench, const Target& t, uint64_t n, int batch);

// Routes at a constant rate, rewarding each decision on the PULL socket,
// sampling the daemon's RSS every 5 s.
FlatReport MeasureFlat(const Target& t, const FlatOptions& options);

}  // namespace banditd::bench
