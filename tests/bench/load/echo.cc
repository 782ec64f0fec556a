#include "tests/bench/load/echo.h"

#include <zmq.h>

#include <chrono>
#include <cstring>
#include <vector>

namespace banditd::bench {
namespace {

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::string BindEphemeral(void* sock) {
  zmq_bind(sock, "tcp://127.0.0.1:*");
  char buf[256];
  size_t len = sizeof(buf);
  zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, buf, &len);
  return std::string(buf);
}

void SetCommon(void* sock) {
  const int zero = 0, timeout_ms = 100;
  zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
  zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
  zmq_setsockopt(sock, ZMQ_SNDHWM, &zero, sizeof(zero));
  zmq_setsockopt(sock, ZMQ_RCVHWM, &zero, sizeof(zero));
}

}  // namespace

EchoServer::EchoServer() {
  ctx_ = zmq_ctx_new();
  sock_ = zmq_socket(ctx_, ZMQ_ROUTER);
  SetCommon(sock_);
  endpoint_ = BindEphemeral(sock_);
  thread_ = std::thread([this] { Loop(); });
}

EchoServer::~EchoServer() {
  stop_ = true;
  thread_.join();
  zmq_close(sock_);
  zmq_ctx_term(ctx_);
}

void EchoServer::Loop() {
  zmq_msg_t identity, body;
  zmq_msg_init(&identity);
  zmq_msg_init(&body);
  std::vector<char> reply;
  while (!stop_) {
    if (zmq_msg_recv(&identity, sock_, 0) < 0) continue;  // timeout: check stop_
    if (zmq_msg_recv(&body, sock_, 0) < 0) continue;
    const size_t n = zmq_msg_size(&body);
    const size_t want = reply_bytes_.load(std::memory_order_relaxed);
    zmq_msg_send(&identity, sock_, ZMQ_SNDMORE);
    if (want > n) {
      reply.assign(want, 0);
      std::memcpy(reply.data(), zmq_msg_data(&body), n);
      zmq_send(sock_, reply.data(), want, 0);
    } else {
      zmq_msg_send(&body, sock_, 0);
    }
  }
  zmq_msg_close(&identity);
  zmq_msg_close(&body);
}

PullSink::PullSink() {
  ctx_ = zmq_ctx_new();
  sock_ = zmq_socket(ctx_, ZMQ_PULL);
  SetCommon(sock_);
  endpoint_ = BindEphemeral(sock_);
  thread_ = std::thread([this] { Loop(); });
}

PullSink::~PullSink() {
  stop_ = true;
  thread_.join();
  zmq_close(sock_);
  zmq_ctx_term(ctx_);
}

void PullSink::Loop() {
  zmq_msg_t body;
  zmq_msg_init(&body);
  while (!stop_) {
    if (zmq_msg_recv(&body, sock_, 0) < 0) continue;
    const uint64_t c = count_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (c == target_.load(std::memory_order_relaxed)) reached_at_.store(NowNs());
  }
  zmq_msg_close(&body);
}

void PullSink::Expect(uint64_t n) {
  reached_at_.store(0);
  target_.store(count_.load() + n);
}

uint64_t PullSink::Wait(double timeout_s) {
  const uint64_t deadline = NowNs() + static_cast<uint64_t>(timeout_s * 1e9);
  while (reached_at_.load() == 0 && NowNs() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return reached_at_.load();
}

}  // namespace banditd::bench
