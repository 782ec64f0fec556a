#include "src/experiment/context_store.h"

#include <cmath>
#include <cstring>

namespace banditd::experiment {
namespace {

constexpr uint8_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = 1 + 2 + 4;

template <typename T>
void PutLe(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

template <typename T>
T GetLe(const char* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<T>(static_cast<T>(static_cast<unsigned char>(p[i])) << (8 * i));
  }
  return v;
}

}  // namespace

void ContextStore::Put(uint64_t key, uint32_t issued_s, std::span<const double> context) {
  const size_t cost = Cost(context.size());
  if (cost > max_bytes_) {
    ++evictions_;
    return;
  }
  if (index_.count(key) != 0) Erase(key);  // keys are unique; stay consistent anyway
  while (bytes_ + cost > max_bytes_ && !queue_.empty()) PopFront();
  Entry& e = queue_.emplace_back();
  e.key = key;
  e.issued_s = issued_s;
  e.live = true;
  e.values.assign(context.begin(), context.end());
  index_[key] = &e;
  bytes_ += cost;
}

std::span<const double> ContextStore::Find(uint64_t key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return {};
  return it->second->values;
}

void ContextStore::Erase(uint64_t key) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  Entry& e = *it->second;
  bytes_ -= 8 * e.values.size();  // the queue slot stays charged until popped
  std::vector<double>().swap(e.values);
  e.live = false;
  index_.erase(it);
  DropDeadHead();
}

void ContextStore::PopFront() {
  Entry& e = queue_.front();
  if (e.live) {
    ++evictions_;
    index_.erase(e.key);
    bytes_ -= Cost(e.values.size());
  } else {
    bytes_ -= kEntryOverhead;
  }
  queue_.pop_front();
}

void ContextStore::DropDeadHead() {
  while (!queue_.empty() && !queue_.front().live) PopFront();
}

void ContextStore::Expire(uint32_t oldest_kept_s) {
  // Decisions are queued in issue order, so the expired ones are at the head
  // (a wall clock stepping back may leave a few behind until the next call).
  while (!queue_.empty() && queue_.front().issued_s < oldest_kept_s) {
    Entry& e = queue_.front();
    if (e.live) {
      index_.erase(e.key);
      bytes_ -= Cost(e.values.size());
    } else {
      bytes_ -= kEntryOverhead;
    }
    queue_.pop_front();
  }
  DropDeadHead();
}

void ContextStore::Clear() {
  queue_.clear();
  index_.clear();
  bytes_ = 0;
}

std::string ContextStore::Serialize() const {
  if (index_.empty()) return {};
  const size_t dim = index_.begin()->second->values.size();
  std::string out;
  out.reserve(kHeaderBytes + index_.size() * (12 + 8 * dim));
  out.push_back(static_cast<char>(kFormatVersion));
  PutLe<uint16_t>(out, static_cast<uint16_t>(dim));
  PutLe<uint32_t>(out, static_cast<uint32_t>(index_.size()));
  for (const Entry& e : queue_) {
    if (!e.live) continue;
    PutLe<uint64_t>(out, e.key);
    PutLe<uint32_t>(out, e.issued_s);
    for (double v : e.values) {
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      PutLe<uint64_t>(out, bits);
    }
  }
  return out;
}

Status ContextStore::Deserialize(std::string_view bytes, size_t dim) {
  if (bytes.empty()) {
    Clear();
    return Status::Ok();
  }
  auto corrupt = [](const std::string& what) {
    return Status(Code::kCorruption, "context store snapshot: " + what);
  };
  if (bytes.size() < kHeaderBytes) return corrupt("truncated header");
  if (static_cast<uint8_t>(bytes[0]) != kFormatVersion) {
    return corrupt("format version " + std::to_string(static_cast<uint8_t>(bytes[0])) +
                   " is not supported");
  }
  const size_t stored_dim = GetLe<uint16_t>(bytes.data() + 1);
  const size_t count = GetLe<uint32_t>(bytes.data() + 3);
  if (stored_dim != dim) {
    return InvalidArgument("context store snapshot holds contexts of length " +
                           std::to_string(stored_dim) + ", the policy takes " +
                           std::to_string(dim));
  }
  const size_t row = 12 + 8 * dim;
  if ((bytes.size() - kHeaderBytes) % row != 0 || (bytes.size() - kHeaderBytes) / row != count) {
    return corrupt("size does not match its entry count");
  }
  ContextStore fresh(max_bytes_);
  fresh.evictions_ = evictions_;
  std::vector<double> values(dim);
  const char* p = bytes.data() + kHeaderBytes;
  for (size_t i = 0; i < count; ++i, p += row) {
    for (size_t j = 0; j < dim; ++j) {
      const uint64_t bits = GetLe<uint64_t>(p + 12 + 8 * j);
      std::memcpy(&values[j], &bits, sizeof bits);
      if (!std::isfinite(values[j])) return corrupt("non-finite context value");
    }
    fresh.Put(GetLe<uint64_t>(p), GetLe<uint32_t>(p + 8), values);
  }
  // Entries move between deques by value; rebuild the index on the new addresses.
  queue_ = std::move(fresh.queue_);
  index_.clear();
  for (Entry& e : queue_) {
    if (e.live) index_[e.key] = &e;
  }
  bytes_ = fresh.bytes_;
  evictions_ = fresh.evictions_;
  return Status::Ok();
}

}  // namespace banditd::experiment
