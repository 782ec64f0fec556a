// A progress bar on stderr for long simulations. It stays silent for the
// first second (short runs print nothing), then redraws every 200 ms on a
// terminal, or writes a line every 10% when stderr is a file or pipe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace banditd::sim {

class Progress {
 public:
  // Reads `*done` (advanced by the workers) against `total`.
  Progress(uint64_t total, std::string label, bool enabled, const std::atomic<uint64_t>* done);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Stops the bar; prints the final state if anything was shown.
  void Finish();

 private:
  void Loop();
  void Draw(bool final_line);

  uint64_t total_;
  std::string label_;
  const std::atomic<uint64_t>* done_;
  bool tty_;
  bool shown_ = false;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace banditd::sim
