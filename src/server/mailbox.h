// Mailbox<T>: a multi-producer queue drained by the I/O thread, with a Linux
// eventfd that zmq_poll watches next to the sockets. Producers (the WAL
// writer, reload threads, signal handlers) never touch a socket.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <vector>

namespace banditd::server {

template <typename T>
class Mailbox {
 public:
  Mailbox() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~Mailbox() {
    if (fd_ >= 0) ::close(fd_);
  }
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  int fd() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

  void Post(T item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(item));
    }
    Wake();
  }

  // Async-signal-safe: only writes the eventfd.
  void Wake() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
  }

  // Takes everything posted so far and clears the fd's readiness.
  void Drain(std::vector<T>* out) {
    uint64_t count;
    [[maybe_unused]] ssize_t n = ::read(fd_, &count, sizeof count);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& item : items_) out->push_back(std::move(item));
    items_.clear();
  }

 private:
  int fd_;
  std::mutex mu_;
  std::vector<T> items_;
};

}  // namespace banditd::server
