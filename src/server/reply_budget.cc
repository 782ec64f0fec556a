#include "src/server/reply_budget.h"

#include <cstdlib>
#include <new>

namespace banditd::server {

// A peer's charge. Shared by the sender's table (one reference while listed)
// and the replies in flight (one each, dropped by Free on a libzmq thread):
// the last reference deletes it.
struct ReplySender::Account {
  std::atomic<int64_t> bytes{0};
  std::atomic<uint32_t> refs{1};
};

namespace {

// Heads the allocation that holds a reply's body.
struct Block {
  ReplyBudget* budget;
  void* account;
  int64_t charge;
};

}  // namespace

ReplySender::~ReplySender() {
  for (auto& [key, a] : peers_) {
    if (a->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete a;
  }
}

void ReplySender::Free(void* /*data*/, void* hint) {
  auto* b = static_cast<Block*>(hint);
  auto* a = static_cast<Account*>(b->account);
  b->budget->bytes_.fetch_sub(b->charge, std::memory_order_relaxed);
  a->bytes.fetch_sub(b->charge, std::memory_order_release);
  if (a->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete a;
  std::free(b);
}

ReplySender::Result ReplySender::Send(zmq::socket_t& socket,
                                      std::span<const std::string_view> envelope,
                                      std::string_view payload) {
  int64_t charge = static_cast<int64_t>(payload.size() + ReplyBudget::kFrameOverhead);
  for (std::string_view f : envelope) {
    charge += static_cast<int64_t>(f.size() + ReplyBudget::kFrameOverhead);
  }
  // The peer: this socket and the routing id (for ROUTER's own 5-byte ids the
  // key fits std::string's inline buffer).
  const void* s = socket.handle();
  key_.assign(reinterpret_cast<const char*>(&s), sizeof(s));
  if (!envelope.empty()) key_.append(envelope.front());
  Account*& slot = peers_[key_];
  if (slot == nullptr) slot = new Account;
  Account* a = slot;

  const int64_t max = budget_.max_bytes_;
  const int64_t queued = a->bytes.load(std::memory_order_acquire);
  bool admit = queued == 0 || queued + charge <= budget_.max_peer_bytes();
  if (admit) {
    const int64_t limit = queued == 0 ? max : max - max / 8;
    const int64_t before = budget_.bytes_.fetch_add(charge, std::memory_order_relaxed);
    if (before + charge > limit) {
      budget_.bytes_.fetch_sub(charge, std::memory_order_relaxed);
      admit = false;
    }
  }
  void* mem = admit ? std::malloc(sizeof(Block) + payload.size()) : nullptr;
  if (mem == nullptr) {
    if (admit) budget_.bytes_.fetch_sub(charge, std::memory_order_relaxed);
    budget_.dropped_.fetch_add(1, std::memory_order_relaxed);
    return Result::kDropped;
  }
  a->bytes.fetch_add(charge, std::memory_order_relaxed);
  a->refs.fetch_add(1, std::memory_order_relaxed);
  auto* b = new (mem) Block{&budget_, a, charge};
  char* data = static_cast<char*>(mem) + sizeof(Block);
  payload.copy(data, payload.size());
  // From here the charge is released by Free, whether the body is sent
  // (libzmq frees it later) or not (the message_t frees it on scope exit).
  zmq::message_t body(data, payload.size(), &ReplySender::Free, b);
  for (std::string_view f : envelope) {
    socket.send(zmq::const_buffer(f.data(), f.size()),
                zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  }
  socket.send(body, zmq::send_flags::dontwait);
  return Result::kSent;
}

void ReplySender::Sweep() {
  for (auto it = peers_.begin(); it != peers_.end();) {
    Account* a = it->second;
    if (a->bytes.load(std::memory_order_acquire) != 0) {
      ++it;
      continue;
    }
    if (a->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete a;
    it = peers_.erase(it);
  }
}

}  // namespace banditd::server
