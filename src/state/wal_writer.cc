#include "src/state/wal_writer.h"

#include <chrono>

#include "src/state/wal.h"

namespace banditd::state {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr size_t kMaxBatchBytes = 4u << 20;

}  // namespace

WalWriter::WalWriter(Env& env, std::string dir, WalOptions options, DurableCallback on_durable)
    : env_(env), dir_(std::move(dir)), options_(options), on_durable_(std::move(on_durable)) {}

Result<std::unique_ptr<WalWriter>> WalWriter::Open(Env& env, std::string dir, uint64_t segment_id,
                                                   WalOptions options, DurableCallback on_durable) {
  std::unique_ptr<WalWriter> w(new WalWriter(env, std::move(dir), options, std::move(on_durable)));
  auto file = env.OpenAppendable(w->dir_ + "/" + WalSegmentName(segment_id));
  if (!file.ok()) return file.status();
  BANDITD_RETURN_IF_ERROR(env.SyncDir(w->dir_));
  w->file_ = std::move(file).value();
  w->segment_id_ = segment_id;
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

WalWriter::~WalWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (file_) (void)file_->Close();
}

Result<uint64_t> WalWriter::Submit(uint8_t type, std::string_view payload) {
  if (payload.size() > kMaxRecordBytes) {
    return Status(Code::kInvalidArgument, "WAL record too large");
  }
  uint64_t seq;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failed_.ok()) return failed_;
    if (pending_ends_.empty()) first_pending_ns_ = NowNs();
    AppendRecord(pending_, type, payload);
    pending_ends_.push_back(pending_.size());
    seq = ++submitted_seq_;
  }
  work_cv_.notify_one();
  return seq;
}

void WalWriter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::string batch;
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || !pending_ends_.empty(); });
    if (pending_ends_.empty()) return;  // stopping with nothing left
    if (options_.durability == Durability::kGroup && options_.group_window_ns > 0 && !stop_) {
      // Let the window fill: more records share the coming fsync.
      const auto deadline = std::chrono::steady_clock::time_point(
          std::chrono::nanoseconds(first_pending_ns_ + options_.group_window_ns));
      work_cv_.wait_until(lock, deadline,
                          [&] { return stop_ || pending_.size() >= kMaxBatchBytes; });
    }
    // Take the batch: one record for `always`, everything for the others.
    size_t take_records = options_.durability == Durability::kAlways ? 1 : pending_ends_.size();
    const size_t take_bytes = pending_ends_[take_records - 1];
    batch.assign(pending_, 0, take_bytes);
    pending_.erase(0, take_bytes);
    pending_ends_.erase(pending_ends_.begin(), pending_ends_.begin() + take_records);
    for (auto& e : pending_ends_) e -= take_bytes;
    if (!pending_ends_.empty()) first_pending_ns_ = NowNs();
    const uint64_t batch_last = written_seq_ + take_records;
    written_seq_ = batch_last;
    const bool already_failed = !failed_.ok();
    lock.unlock();

    Status s = already_failed ? Status(Code::kIoError, "WAL is failed") : file_->Append(batch);
    if (s.ok() && options_.durability != Durability::kNone) {
      s = file_->Sync();
      syncs_.fetch_add(1, std::memory_order_relaxed);
    }
    if (s.ok()) {
      bytes_.fetch_add(batch.size(), std::memory_order_relaxed);
      durable_seq_.store(batch_last, std::memory_order_release);
    }

    lock.lock();
    if (!s.ok() && failed_.ok()) failed_ = s;
    const Status report = failed_;
    lock.unlock();
    if (on_durable_) on_durable_(durable_seq(), report);
    done_cv_.notify_all();
    lock.lock();
  }
}

Status WalWriter::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = submitted_seq_;
  done_cv_.wait(lock, [&] { return !failed_.ok() || durable_seq() >= target; });
  return failed_;
}

Status WalWriter::Rotate(uint64_t id) {
  BANDITD_RETURN_IF_ERROR(Flush());
  std::unique_lock<std::mutex> lock(mu_);
  // Submitters wait on the lock while the file switches; the writer is idle
  // unless new records came in since Flush: wait for those too.
  done_cv_.wait(lock, [&] { return !failed_.ok() || durable_seq() >= submitted_seq_; });
  if (!failed_.ok()) return failed_;
  auto file = env_.OpenAppendable(dir_ + "/" + WalSegmentName(id));
  if (!file.ok()) return file.status();
  BANDITD_RETURN_IF_ERROR(env_.SyncDir(dir_));
  (void)file_->Close();
  file_ = std::move(file).value();
  segment_id_ = id;
  return Status::Ok();
}

uint64_t WalWriter::segment_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segment_id_;
}

Status WalWriter::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

}  // namespace banditd::state
