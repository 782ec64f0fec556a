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
// The consumed front of the pending buffer is cut off once it is this large
// and more than half the buffer: amortised O(1) per record.
constexpr size_t kCompactBytes = 1u << 20;

}  // namespace

WalWriter::WalWriter(Env& env, std::string dir, WalOptions options, DurableCallback on_durable)
    : env_(env), dir_(std::move(dir)), options_(options), on_durable_(std::move(on_durable)) {}

std::string WalWriter::SegmentPath(uint64_t id) const { return dir_ + "/" + WalSegmentName(id); }

Result<std::unique_ptr<WritableFile>> WalWriter::CreateSegment(
    uint64_t id, const std::optional<SegmentEnd>& previous, uint64_t* bytes) {
  const std::string path = SegmentPath(id);
  auto file = env_.OpenAppendable(path);
  if (!file.ok()) return file.status();
  *bytes = 0;
  Status s;
  if (previous) {
    std::string header;
    AppendRecord(header, kSegmentHeaderRecord, EncodeSegmentEnd(*previous));
    s = (*file)->Append(header);
    if (s.ok() && options_.durability != Durability::kNone) s = (*file)->Sync();
    *bytes = header.size();
  }
  if (s.ok()) s = env_.SyncDir(dir_);
  if (!s.ok()) {
    // Never leave a half-made segment behind: a later rotation reuses the id.
    (void)(*file)->Close();
    (void)env_.Remove(path);
    return s;
  }
  return file;
}

Result<std::unique_ptr<WalWriter>> WalWriter::Open(Env& env, std::string dir, uint64_t segment_id,
                                                   WalOptions options, DurableCallback on_durable,
                                                   std::optional<SegmentEnd> previous) {
  std::unique_ptr<WalWriter> w(new WalWriter(env, std::move(dir), options, std::move(on_durable)));
  auto file = w->CreateSegment(segment_id, previous, &w->segment_bytes_);
  if (!file.ok()) return file.status();
  w->file_ = std::move(file).value();
  w->segment_id_ = segment_id;
  if (options.durability != Durability::kNone) {
    auto mark = env.OpenWritable(w->dir_ + "/" + kDurableMarkFile);
    if (!mark.ok()) return mark.status();
    w->mark_ = std::move(mark).value();
    w->WriteMark(segment_id, w->segment_bytes_);
  } else {
    // Nothing is known durable without fsync: no mark, not even a stale one.
    BANDITD_RETURN_IF_ERROR(env.Remove(w->dir_ + "/" + kDurableMarkFile));
  }
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
  if (mark_) (void)mark_->Close();
}

Result<uint64_t> WalWriter::Submit(uint8_t type, std::string_view payload) {
  if (payload.size() > kMaxRecordBytes) {
    return Status(Code::kInvalidArgument, "WAL record too large");
  }
  uint64_t seq;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failed_.ok()) return failed_;
    if (pending_ends_.size() >= options_.max_backlog_records ||
        pending_.size() - pending_head_ >= options_.max_backlog_bytes) {
      return Status(Code::kOverloaded, "the WAL backlog is full (" +
                                           std::to_string(pending_ends_.size()) +
                                           " records waiting to be written)");
    }
    if (pending_ends_.empty()) first_pending_ns_ = NowNs();
    AppendRecord(pending_, type, payload);
    pending_ends_.push_back(pending_.size());
    seq = ++submitted_seq_;
  }
  work_cv_.notify_one();
  return seq;
}

void WalWriter::WriteMark(uint64_t segment, uint64_t bytes) {
  // Best effort: a mark that could not be rewritten only lags.
  if (mark_) (void)mark_->WriteAt(0, EncodeDurableMark(DurableMark{segment, bytes}));
}

void WalWriter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::string batch;
  for (;;) {
    if (!failed_.ok()) {
      if (stop_) return;
      work_cv_.wait_for(lock, std::chrono::nanoseconds(options_.retry_interval_ns),
                        [&] { return stop_; });
      if (stop_) return;
      TryResume(lock);
      continue;
    }
    work_cv_.wait(lock, [&] { return stop_ || (!pending_ends_.empty() && !rotating_); });
    if (rotating_) continue;            // stopping: the rotation finishes first
    if (pending_ends_.empty()) return;  // stopping with nothing left
    if (options_.durability == Durability::kGroup && options_.group_window_ns > 0 && !stop_) {
      // Let the window fill: more records share the coming fsync.
      const auto deadline = std::chrono::steady_clock::time_point(
          std::chrono::nanoseconds(first_pending_ns_ + options_.group_window_ns));
      work_cv_.wait_until(lock, deadline, [&] {
        return stop_ || pending_.size() - pending_head_ >= kMaxBatchBytes;
      });
      if (rotating_) continue;
    }
    WriteBatch(lock, batch);
  }
}

void WalWriter::WriteBatch(std::unique_lock<std::mutex>& lock, std::string& batch) {
  // Take the batch: one record for `always`, everything for the others.
  const size_t take_records = options_.durability == Durability::kAlways ? 1 : pending_ends_.size();
  const size_t end = pending_ends_[take_records - 1];
  size_t skip = 0;  // bytes of `batch` before the records taken
  if (take_records == pending_ends_.size()) {
    // Everything: hand the buffer over instead of copying it under the lock.
    batch.clear();
    std::swap(batch, pending_);
    skip = pending_head_;
    pending_head_ = 0;
    pending_ends_.clear();
  } else {
    batch.assign(pending_, pending_head_, end - pending_head_);
    pending_head_ = end;
    pending_ends_.erase(pending_ends_.begin(), pending_ends_.begin() + take_records);
    first_pending_ns_ = NowNs();
    if (pending_head_ >= kCompactBytes && 2 * pending_head_ > pending_.size()) {
      pending_.erase(0, pending_head_);
      for (auto& e : pending_ends_) e -= pending_head_;
      pending_head_ = 0;
    }
  }
  const std::string_view data = std::string_view(batch).substr(skip);
  const uint64_t batch_last = written_seq_ + take_records;
  written_seq_ = batch_last;
  const uint64_t segment = segment_id_;
  const uint64_t segment_bytes = segment_bytes_ + data.size();
  lock.unlock();

  Status s = file_->Append(data);
  if (s.ok() && options_.durability != Durability::kNone) {
    s = file_->Sync();
    syncs_.fetch_add(1, std::memory_order_relaxed);
  }
  if (s.ok()) {
    bytes_.fetch_add(data.size(), std::memory_order_relaxed);
    WriteMark(segment, segment_bytes);
  }

  lock.lock();
  if (s.ok()) {
    segment_bytes_ = segment_bytes;
    durable_seq_.store(batch_last, std::memory_order_release);
  } else {
    // Nothing of this batch counts, nor anything queued behind it: the
    // submitters hear so and may retry. The file is cut back to its last
    // durable byte before anything is written again (TryResume).
    failed_ = s;
    const SeqRange range{batch_last - take_records + 1, submitted_seq_};
    dropped_.push_back(range);
    dropped_records_.fetch_add(range.last - range.first + 1, std::memory_order_relaxed);
    last_dropped_seq_ = range.last;
    written_seq_ = submitted_seq_;
    pending_.clear();
    pending_head_ = 0;
    pending_ends_.clear();
  }
  resolved_seq_.store(s.ok() ? batch_last : submitted_seq_, std::memory_order_release);
  const Status report = failed_;
  lock.unlock();
  if (on_durable_) on_durable_(durable_seq(), report);
  done_cv_.notify_all();
  lock.lock();
}

void WalWriter::TryResume(std::unique_lock<std::mutex>& lock) {
  const std::string path = SegmentPath(segment_id_);
  const uint64_t keep = segment_bytes_;
  lock.unlock();
  Status s = env_.Truncate(path, keep);
  if (s.ok()) s = file_->Sync();
  lock.lock();
  if (!s.ok()) return;  // still failing: try again after the interval
  failed_ = Status::Ok();
  recoveries_.fetch_add(1, std::memory_order_relaxed);
  lock.unlock();
  if (on_durable_) on_durable_(durable_seq(), Status::Ok());
  done_cv_.notify_all();
  lock.lock();
}

void WalWriter::TakeDropped(std::vector<SeqRange>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  out->insert(out->end(), dropped_.begin(), dropped_.end());
  dropped_.clear();
}

Status WalWriter::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = submitted_seq_;
  const uint64_t dropped_before = last_dropped_seq_;
  done_cv_.wait(lock, [&] { return resolved_seq() >= target; });
  if (last_dropped_seq_ != dropped_before) {
    return failed_.ok() ? Status(Code::kIoError, "WAL records were dropped by a failed write")
                        : failed_;
  }
  return failed_;
}

Result<uint64_t> WalWriter::Rotate(uint64_t id) {
  std::unique_lock<std::mutex> lock(mu_);
  // Only the batch being written goes to the old segment: wait for it.
  done_cv_.wait(lock, [&] { return !failed_.ok() || resolved_seq() >= written_seq_; });
  if (!failed_.ok()) return failed_;
  rotating_ = true;
  const SegmentEnd old{segment_id_, segment_bytes_};
  const uint64_t boundary = written_seq_;
  lock.unlock();

  uint64_t bytes = 0;
  auto file = CreateSegment(id, old, &bytes);

  lock.lock();
  rotating_ = false;
  if (file.ok()) {
    std::swap(file_, file.value());
    segment_id_ = id;
    segment_bytes_ = bytes;
    WriteMark(id, bytes);
  }
  lock.unlock();
  work_cv_.notify_all();
  if (!file.ok()) return file.status();
  (void)file.value()->Close();  // the old segment, complete and synced
  return boundary;
}

uint64_t WalWriter::segment_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segment_id_;
}

Status WalWriter::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

size_t WalWriter::backlog() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_ends_.size();
}

}  // namespace banditd::state
