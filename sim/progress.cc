#include "sim/progress.h"

#include <unistd.h>

#include <cstdio>

namespace banditd::sim {

Progress::Progress(uint64_t total, std::string label, bool enabled,
                   const std::atomic<uint64_t>* done)
    : total_(total > 0 ? total : 1),
      label_(std::move(label)),
      done_(done),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {
  if (enabled) thread_ = std::thread([this] { Loop(); });
}

Progress::~Progress() { Finish(); }

void Progress::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (shown_) Draw(true);
}

void Progress::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  if (cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) return;
  while (!stop_) {
    shown_ = true;
    Draw(false);
    cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; });
  }
}

void Progress::Draw(bool final_line) {
  const uint64_t done = final_line ? total_ : done_->load(std::memory_order_relaxed);
  const double frac = static_cast<double>(done) / static_cast<double>(total_);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = frac > 0 ? secs * (1.0 - frac) / frac : 0.0;
  if (tty_) {
    constexpr int kWidth = 40;
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r%s [%s] %5.1f%%  %.0fs elapsed, %.0fs left ", label_.c_str(),
                 bar.c_str(), 100.0 * frac, secs, eta);
    if (final_line) std::fputc('\n', stderr);
  } else {
    const int decile = static_cast<int>(frac * 10);
    if (decile == last_decile_ && !final_line) return;
    if (final_line && last_decile_ == 10) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s %3d%%  %.0fs elapsed, %.0fs left\n", label_.c_str(), decile * 10, secs,
                 eta);
  }
  std::fflush(stderr);
}

}  // namespace banditd::sim
