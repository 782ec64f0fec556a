// WAL drain in `always` mode against the raw fsync rate of the same disk, in
// the same run, and how long a Submit takes while a backlog drains (the
// route path never waits on the WAL, so this is what a reward costs the I/O
// thread).
//
//   build/bin/wal_bench [--records N] [--dir DIR]     (DIR: default /tmp)
//
// Prints one line per measurement; docs/PERFORMANCE.md ("WAL drain") has the
// figures of this machine.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "src/state/wal.h"
#include "src/state/wal_writer.h"

namespace {

using Clock = std::chrono::steady_clock;
using banditd::Durability;
using banditd::state::Env;
using banditd::state::WalOptions;
using banditd::state::WalWriter;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// A reward record's size on the wire of the WAL (39 bytes framed).
const std::string kPayload(30, 'r');

// write(2) of one framed record + fdatasync(2), `n` times: the disk's rate.
double RawFsyncRate(const std::string& dir, int n) {
  const std::string path = dir + "/raw-fsync.bin";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0640);
  if (fd < 0) {
    std::perror("open");
    std::exit(1);
  }
  std::string rec;
  banditd::state::AppendRecord(rec, 1, kPayload);
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (::write(fd, rec.data(), rec.size()) != static_cast<ssize_t>(rec.size()) ||
        ::fdatasync(fd) != 0) {
      std::perror("write/fdatasync");
      std::exit(1);
    }
  }
  const double s = Seconds(t0, Clock::now());
  ::close(fd);
  std::filesystem::remove(path);
  return n / s;
}

struct Drain {
  double rate = 0;           // records per second, submit of the first to durable of the last
  double submit_p50_ns = 0;  // one Submit while the backlog drains
  double submit_p999_ns = 0;
  double submit_max_ns = 0;
};

Drain WalDrain(const std::string& dir, Durability mode, int n) {
  const std::string wal_dir = dir + "/wal-bench";
  std::filesystem::remove_all(wal_dir);
  std::filesystem::create_directories(wal_dir);
  WalOptions o;
  o.durability = mode;
  o.max_backlog_records = static_cast<size_t>(n) + 1;
  auto w = WalWriter::Open(Env::Posix(), wal_dir, 1, o, nullptr);
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.status().ToString().c_str());
    std::exit(1);
  }
  std::vector<double> submit_ns;
  submit_ns.reserve(static_cast<size_t>(n));
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const auto s0 = Clock::now();
    auto seq = (*w)->Submit(1, kPayload);
    submit_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - s0).count());
    if (!seq.ok()) {
      std::fprintf(stderr, "submit: %s\n", seq.status().ToString().c_str());
      std::exit(1);
    }
  }
  if (!(*w)->Flush().ok()) std::exit(1);
  Drain d;
  d.rate = n / Seconds(t0, Clock::now());
  std::sort(submit_ns.begin(), submit_ns.end());
  d.submit_p50_ns = submit_ns[submit_ns.size() / 2];
  d.submit_p999_ns = submit_ns[submit_ns.size() * 999 / 1000];
  d.submit_max_ns = submit_ns.back();
  w->reset();
  std::filesystem::remove_all(wal_dir);
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  int records = 5000;
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--records") == 0) records = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  const double raw = RawFsyncRate(dir, records);
  const Drain always = WalDrain(dir, Durability::kAlways, records);
  const double raw_after = RawFsyncRate(dir, records);
  const Drain group = WalDrain(dir, Durability::kGroup, records * 20);
  std::printf("raw write+fdatasync:      %10.0f /s (before), %10.0f /s (after)\n", raw, raw_after);
  std::printf("WAL always, %d records: %10.0f /s = %.3f x the raw rate (mean of before/after)\n",
              records, always.rate, always.rate / ((raw + raw_after) / 2));
  std::printf("  Submit while it drains: p50 %.0f ns, p99.9 %.0f ns, max %.0f ns\n",
              always.submit_p50_ns, always.submit_p999_ns, always.submit_max_ns);
  std::printf("WAL group, %d records: %10.0f /s; Submit p50 %.0f ns, p99.9 %.0f ns, max %.0f ns\n",
              records * 20, group.rate, group.submit_p50_ns, group.submit_p999_ns,
              group.submit_max_ns);
  return 0;
}
