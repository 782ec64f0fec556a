// InferencePool: N workers behind one bounded FIFO (mutex + condition
// variable). Submit never blocks: a full queue is `overloaded` at once, which
// is the back-pressure the server turns into a wire error.
//
// Micro-batching: a worker that takes a job also takes queued jobs for the same
// slot (up to max_batch), waiting at most max_delay for more, and runs them as
// one [B, ...] forward. If the batched forward fails, each job is retried on
// its own so one bad example (or a model that throws on some inputs) fails
// alone instead of failing its neighbours.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "banditd/model.h"

namespace banditd::model {

namespace {

using SteadyClock = std::chrono::steady_clock;

struct Pending {
  InferenceJob job;
  SteadyClock::time_point enqueued;
};

void Deliver(InferenceJob& job, InferenceResult&& result) {
  if (!job.done) return;
  try {
    job.done(std::move(result));
  } catch (...) {
    // A throwing callback is a caller bug; it must not take the worker down.
  }
}

}  // namespace

class InferencePool::Impl {
 public:
  explicit Impl(const PoolOptions& options) : options_(options) {
    if (options_.workers < 1) options_.workers = 1;
    if (options_.queue_capacity < 1) options_.queue_capacity = 1;
    if (options_.max_batch < 1) options_.max_batch = 1;
    batch_waits_ = options_.max_batch > 1 && options_.max_delay.count() > 0;
    for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  }

  Status Submit(InferenceJob&& job) {
    if (!job.slot) return Status(Code::kInternal, "inference job without a model slot");
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return Status(Code::kOverloaded, "inference pool is shutting down");
      if (queue_.size() >= options_.queue_capacity) {
        return Status(Code::kOverloaded, "inference queue full (" +
                                             std::to_string(options_.queue_capacity) + " jobs)");
      }
      queue_.push_back(Pending{std::move(job), SteadyClock::now()});
      pending_.store(queue_.size(), std::memory_order_release);
    }
    // A worker gathering a batch for another slot may be the one woken, so
    // with a batching delay every waiter is woken (workers are few).
    if (batch_waits_) {
      cv_.notify_all();
    } else {
      cv_.notify_one();
    }
    return Status::Ok();
  }

  void Shutdown() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ && workers_.empty()) return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  size_t queued() const { return pending_.load(std::memory_order_acquire); }
  const PoolOptions& options() const { return options_; }

 private:
  void WorkerLoop() {
    std::vector<Pending> batch;
    std::vector<float> inputs, outputs;
    for (;;) {
      SpinForWork();
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        batch.clear();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (options_.max_batch > 1) GatherBatch(lock, &batch);
        pending_.store(queue_.size(), std::memory_order_release);
      }
      Run(batch, &inputs, &outputs);
    }
  }

  // Busy-waits up to options_.spin for a job to appear, so a request arriving
  // while the worker is idle does not pay a futex wake-up.
  void SpinForWork() {
    if (options_.spin.count() <= 0) return;
    const auto until = SteadyClock::now() + options_.spin;
    while (pending_.load(std::memory_order_acquire) == 0 && SteadyClock::now() < until) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    }
  }

  // REQUIRES: lock held, batch holds one job. Moves queued jobs for the same
  // slot into *batch, waiting up to max_delay for the batch to fill.
  void GatherBatch(std::unique_lock<std::mutex>& lock, std::vector<Pending>* batch) {
    const ModelSlot* slot = (*batch)[0].job.slot.get();
    const auto deadline = SteadyClock::now() + options_.max_delay;
    for (;;) {
      for (auto it = queue_.begin(); it != queue_.end() && batch->size() < options_.max_batch;) {
        if (it->job.slot.get() == slot) {
          batch->push_back(std::move(*it));
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
      if (batch->size() >= options_.max_batch || stopping_ || options_.max_delay.count() <= 0) {
        return;
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        // One last sweep for jobs that arrived with the timeout.
        for (auto it = queue_.begin(); it != queue_.end() && batch->size() < options_.max_batch;) {
          if (it->job.slot.get() == slot) {
            batch->push_back(std::move(*it));
            it = queue_.erase(it);
          } else {
            ++it;
          }
        }
        return;
      }
    }
  }

  static void RunOne(const ModelSlot::Ref& ref, Pending& p, SteadyClock::time_point started,
                     InferenceResult* r) {
    const auto t0 = SteadyClock::now();
    r->status = ref.model->Forward(p.job.input, &r->output);
    r->compute_time = SteadyClock::now() - t0;
    r->queue_time = started - p.enqueued;
    r->batch_size = 1;
    if (!r->status.ok()) r->output.clear();
  }

  void RunAlone(const ModelSlot::Ref& ref, Pending& p, SteadyClock::time_point started) {
    InferenceResult r;
    r.tag = p.job.tag;
    r.generation = ref.generation;
    RunOne(ref, p, started, &r);
    Deliver(p.job, std::move(r));
  }

  void Run(std::vector<Pending>& batch, std::vector<float>* inputs, std::vector<float>* outputs) {
    const auto started = SteadyClock::now();
    // One model for the whole batch: a reload in the middle serves the next one.
    const ModelSlot::Ref ref = batch[0].job.slot->Current();
    if (batch.size() == 1) return RunAlone(ref, batch[0], started);
    // Wrong-length inputs are answered alone (invalid_input), kept out of the batch.
    const size_t in = ref.model->input_size();
    size_t good = 0;
    for (auto& p : batch) {
      if (p.job.input.size() == in) {
        if (&batch[good] != &p) batch[good] = std::move(p);
        ++good;
      } else {
        RunAlone(ref, p, started);
      }
    }
    batch.resize(good);
    if (batch.size() <= 1) {
      if (!batch.empty()) RunAlone(ref, batch[0], started);
      return;
    }
    inputs->clear();
    for (auto& p : batch) inputs->insert(inputs->end(), p.job.input.begin(), p.job.input.end());
    size_t each = 0;
    const auto t0 = SteadyClock::now();
    const Status s = ref.model->ForwardBatch(*inputs, batch.size(), outputs, &each);
    const auto compute = SteadyClock::now() - t0;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!s.ok()) {
        RunAlone(ref, batch[i], started);
        continue;
      }
      InferenceResult r;
      r.tag = batch[i].job.tag;
      r.generation = ref.generation;
      r.output.assign(outputs->begin() + i * each, outputs->begin() + (i + 1) * each);
      r.compute_time = compute;
      r.queue_time = started - batch[i].enqueued;
      r.batch_size = static_cast<uint32_t>(batch.size());
      Deliver(batch[i].job, std::move(r));
    }
  }

  PoolOptions options_;
  bool batch_waits_ = false;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  std::atomic<size_t> pending_{0};
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

InferencePool::InferencePool(const PoolOptions& options) : impl_(std::make_unique<Impl>(options)) {}
InferencePool::~InferencePool() { impl_->Shutdown(); }
Status InferencePool::Submit(InferenceJob&& job) { return impl_->Submit(std::move(job)); }
void InferencePool::Shutdown() { impl_->Shutdown(); }
size_t InferencePool::queued() const { return impl_->queued(); }
const PoolOptions& InferencePool::options() const { return impl_->options(); }

}  // namespace banditd::model
