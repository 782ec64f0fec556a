// CompletionQueue: results from workers to the I/O thread through a
// mutex-protected vector plus an eventfd the I/O loop polls. The lock is held
// only for a push_back or a swap, never across a forward.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <mutex>

#include "banditd/model.h"

namespace banditd::model {

class CompletionQueue::Impl {
 public:
  std::mutex mu;
  std::vector<InferenceResult> items;
};

CompletionQueue::CompletionQueue()
    : impl_(std::make_unique<Impl>()), fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

CompletionQueue::~CompletionQueue() {
  if (fd_ >= 0) ::close(fd_);
}

void CompletionQueue::Push(InferenceResult&& result) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    was_empty = impl_->items.empty();
    impl_->items.push_back(std::move(result));
  }
  // One wake-up per empty -> non-empty transition is enough: Drain takes all.
  if (was_empty && fd_ >= 0) {
    const uint64_t one = 1;
    ssize_t rc;
    do {
      rc = ::write(fd_, &one, sizeof(one));
    } while (rc < 0 && errno == EINTR);
  }
}

void CompletionQueue::Drain(std::vector<InferenceResult>* out) {
  if (fd_ >= 0) {
    uint64_t count;
    // Clear readiness first: a Push after this point re-arms the fd.
    (void)!::read(fd_, &count, sizeof(count));
  }
  std::vector<InferenceResult> taken;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    taken.swap(impl_->items);
  }
  for (auto& r : taken) out->push_back(std::move(r));
}

}  // namespace banditd::model
