// The physical-limit baselines, run in-process on their own ZeroMQ context
// (so their I/O thread is separate from the client's, as the daemon's is):
//   EchoServer: a ROUTER that sends every request frame straight back,
//     zero-padded to `reply_bytes` when that is larger (the size of the
//     daemon's reply to the same request), so both runs move the same bytes;
//   PullSink: a PULL socket that counts frames and notes when the n-th came.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace banditd::bench {

class EchoServer {
 public:
  EchoServer();  // binds tcp://127.0.0.1:* and starts its thread
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  void set_reply_bytes(size_t n) { reply_bytes_.store(n); }

 private:
  void Loop();
  std::atomic<size_t> reply_bytes_{0};
  std::atomic<bool> stop_{false};
  std::string endpoint_;
  void* ctx_ = nullptr;
  void* sock_ = nullptr;
  std::thread thread_;
};

class PullSink {
 public:
  PullSink();  // binds tcp://127.0.0.1:*
  ~PullSink();
  PullSink(const PullSink&) = delete;
  PullSink& operator=(const PullSink&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  // Call before sending: the next `n` frames are awaited.
  void Expect(uint64_t n);
  // Waits (at most `timeout_s`) for the frames Expect() named; returns the
  // steady-clock time in ns when the last arrived, or 0 on timeout.
  uint64_t Wait(double timeout_s);

 private:
  void Loop();
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> target_{~0ull};
  std::atomic<uint64_t> reached_at_{0};
  std::atomic<bool> stop_{false};
  std::string endpoint_;
  void* ctx_ = nullptr;
  void* sock_ = nullptr;
  std::thread thread_;
};

}  // namespace banditd::bench
