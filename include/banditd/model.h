// Model hosting: TorchScript models behind a torch-free interface.
//
// Only src/model includes LibTorch headers; everything here is plain C++ so the
// server, the experiment logic and the simulator compile without torch.
//
// Contract of a hosted model (docs/models.md):
//   - a TorchScript module whose forward(x) takes ONE float32 tensor of shape
//     [B, *input_shape] (the host adds the leading batch dimension B >= 1) and
//     returns ONE tensor whose first dimension is B; example i's output is
//     row i, flattened, converted to float32;
//   - every torch call is guarded: a c10::Error or std::exception becomes
//     Code::kModelError, never a dead process;
//   - inputs are validated before forward (length, shape, finiteness) and a
//     bad input is Code::kInvalidInput.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "banditd/status.h"

namespace banditd::model {

struct ModelOptions {
  std::string name;                  // for messages and metrics, e.g. "ctr/challenger"
  std::string path;                  // the .pt file; only configured paths are loaded
  std::vector<int64_t> input_shape;  // per example, without the batch dimension; e.g. {8}
  // Optional sha256 pin (64 hex digits, any case). A file whose digest differs
  // is refused before torch parses it: model files are code.
  std::string sha256;
  // Optional declared per-example output size; 0 = whatever the model returns.
  // An output of another size is a model_error.
  size_t output_size = 0;
  // Forward passes on zeros run by LoadModel: proves the model runs on the
  // declared shape (a reload that fails here keeps the old model) and lets the
  // TorchScript profiling executor settle before live traffic.
  int warmup_runs = 3;
};

// Sets LibTorch's intra-op and inter-op thread counts. Call once at start-up,
// before any model runs (torch refuses to change inter-op threads later; that
// failure is returned, never thrown). Default per worker is 1: with N inference
// workers on a small machine, more would oversubscribe the cores.
Status SetTorchThreads(int intra_op_threads, int inter_op_threads = 1);

// The SHA-256 of a file as 64 lowercase hex digits.
Result<std::string> Sha256File(const std::string& path);

// One loaded model. Immutable after LoadModel and safe to share between
// threads: Forward may run concurrently from several threads.
class Model {
 public:
  class Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& name() const;
  const std::string& path() const;
  const std::string& sha256() const;  // digest of the file that was loaded
  std::span<const int64_t> input_shape() const;
  size_t input_size() const;   // product of input_shape: floats per example
  size_t output_size() const;  // floats per example, learnt at warm-up (0 if no warm-up)

  // OK when `shape` equals the declared input shape (for wire inputs sent as
  // {shape, data}); invalid_input otherwise.
  Status CheckShape(std::span<const int64_t> shape) const;

  // One example: `input` holds input_size() floats. The output replaces *out
  // (its capacity is reused, so a caller-owned buffer avoids allocation).
  Status Forward(std::span<const float> input, std::vector<float>* out) const;
  Result<std::vector<float>> Forward(std::span<const float> input) const;

  // `batch` examples laid out contiguously (batch * input_size() floats) in one
  // forward. *out gets batch * (*per_example) floats, example-major.
  Status ForwardBatch(std::span<const float> inputs, size_t batch, std::vector<float>* out,
                      size_t* per_example) const;

 private:
  std::unique_ptr<Impl> impl_;
};

// Loads, verifies (pin, shape, warm-up) and returns a model. Errors:
// not_found / io_error (file), invalid_argument (pin mismatch, bad options),
// model_error (torch refused the file or the warm-up failed).
Result<std::shared_ptr<const Model>> LoadModel(const ModelOptions& options);

// Where an arm's model lives, hot-reloadable: readers copy a reference to the
// current model under a mutex held for that pointer copy only (libstdc++ 12's
// std::atomic<std::shared_ptr> unlocks a load with a relaxed store, which
// ThreadSanitizer rightly reports as a race), Reload loads the new file fully
// — off the request path — and swaps atomically. In-flight forwards keep the
// model they started with alive; a failed reload keeps the old model.
class ModelSlot {
 public:
  // A model with the generation it was installed as (1 for the first, +1 per
  // successful swap), read together so a result names the model that ran.
  struct Ref {
    std::shared_ptr<const Model> model;
    uint64_t generation = 0;
  };

  // REQUIRES: model != nullptr.
  explicit ModelSlot(std::shared_ptr<const Model> model);

  Ref Current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  std::shared_ptr<const Model> Get() const { return Current().model; }
  uint64_t generation() const { return Current().generation; }

  // Loads `options` and swaps it in on success. The new model must declare the
  // same input shape as the old one (callers route inputs validated against it).
  Status Reload(const ModelOptions& options);
  // Swaps in an already loaded model (same shape rule).
  Status Swap(std::shared_ptr<const Model> model);

 private:
  mutable std::mutex mu_;  // guards current_; held for a copy or an assignment
  Ref current_;
  std::mutex reload_mu_;  // serialises writers, so a load never blocks readers
};

// ---------------------------------------------------------------------------
// Inference worker pool: keeps torch off the I/O thread.
// ---------------------------------------------------------------------------

struct InferenceResult {
  uint64_t tag = 0;           // the caller's tag, echoed
  Status status;              // ok, invalid_input or model_error
  std::vector<float> output;  // on success
  uint64_t generation = 0;    // slot generation of the model that ran
  // Latency accounting for per-arm histograms (p99 per arm):
  std::chrono::nanoseconds queue_time{0};    // Submit -> a worker took the job
  std::chrono::nanoseconds compute_time{0};  // the forward (whole batch when batched)
  uint32_t batch_size = 1;                   // examples in the forward that served it
};

// Called on a worker thread. Must be quick and must not block: hand the result
// to the I/O thread (e.g. through CompletionQueue below) and return.
using InferenceCallback = std::function<void(InferenceResult&&)>;

struct InferenceJob {
  std::shared_ptr<ModelSlot> slot;  // the current model at run time serves the job
  std::vector<float> input;         // input_size() floats (moved in: no copy)
  uint64_t tag = 0;
  InferenceCallback done;
};

struct PoolOptions {
  int workers = 1;
  size_t queue_capacity = 1024;  // jobs waiting; a full queue refuses with overloaded
  // Micro-batching per slot (like Triton's max_queue_delay_microseconds); off
  // when max_batch <= 1. A worker that takes a job also takes the queued jobs
  // for the same slot, waiting at most max_delay for the batch to fill.
  size_t max_batch = 1;
  std::chrono::microseconds max_delay{0};
  // An idle worker spins this long before sleeping on the condition variable:
  // trades a little CPU for the wake-up latency of a futex (tens of µs).
  std::chrono::microseconds spin{0};
};

class InferencePool {
 public:
  explicit InferencePool(const PoolOptions& options);
  ~InferencePool();  // Shutdown()
  InferencePool(const InferencePool&) = delete;
  InferencePool& operator=(const InferencePool&) = delete;

  // Never blocks. overloaded when the queue is full or the pool is stopping;
  // then `job.done` is NOT called (the caller answers the request itself).
  Status Submit(InferenceJob&& job);
  // Refuses new jobs, finishes the queued ones, joins the workers. Idempotent.
  void Shutdown();

  size_t queued() const;
  const PoolOptions& options() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// A multi-producer queue of results drained by one consumer (the I/O thread),
// with a Linux eventfd that becomes readable when results are waiting, so the
// I/O loop polls it next to its ZeroMQ sockets (zmq_poll takes raw fds) and
// never blocks on a worker.
class CompletionQueue {
 public:
  CompletionQueue();
  ~CompletionQueue();
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;

  int fd() const { return fd_; }
  void Push(InferenceResult&& result);
  // Swaps out everything queued (appends to *out) and clears the fd's readiness.
  void Drain(std::vector<InferenceResult>* out);
  InferenceCallback Callback() {
    return [this](InferenceResult&& r) { Push(std::move(r)); };
  }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  int fd_ = -1;
};

}  // namespace banditd::model
