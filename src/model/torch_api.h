// The seam between the model host and LibTorch.
//
// LibTorch lives in a plugin, libbanditd_torch.so, that the host loads with
// dlopen the first time a model is loaded. Linking LibTorch into the daemon
// would cost every process ~150 MB of resident memory at start-up (its static
// initialisers register thousands of operators) even when every arm is
// route-only; loaded on demand, only daemons that host a model pay it
// (docs/models.md, "Where LibTorch is loaded").
//
// Both sides are built from this tree by the same compiler in the same build,
// so C++ types cross the boundary; kTorchApiVersion guards against a stale
// plugin left beside a newer binary.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/status.h"

namespace banditd::model::internal {

inline constexpr uint32_t kTorchApiVersion = 1;

// One loaded TorchScript module. Run is safe to call concurrently.
class TorchModule {
 public:
  virtual ~TorchModule() = default;
  // A guarded forward of `batch` examples shaped `shape` (leading dimension =
  // batch) copied from `inputs`. On success *out holds the output converted to
  // float32 and flattened, *per_example its size per example. Torch errors
  // become model_error prefixed with `who`; so does an output that is not a
  // tensor or has no leading batch dimension.
  virtual Status Run(const std::string& who, std::span<const int64_t> shape,
                     std::span<const float> inputs, std::vector<float>* out,
                     size_t* per_example) const = 0;
  // The benchmarks' baseline: a forward on a [1, n] view of `input`, as a
  // plain LibTorch program would call it (no copy, no guard, no checks).
  virtual void RunUnchecked(std::span<const float> input, std::vector<float>* out) = 0;
};

struct TorchApi {
  uint32_t version;
  // Parses a TorchScript archive held in `bytes`, in eval mode, with a
  // forward method. Errors: model_error with torch's first line.
  Result<std::unique_ptr<TorchModule>> (*load)(std::string_view bytes);
  // LibTorch's intra-op and inter-op thread counts.
  Status (*set_threads)(int intra_op_threads, int inter_op_threads);
};

// The plugin's one exported symbol.
inline constexpr const char* kTorchApiSymbol = "banditd_torch_api";

// Loads the plugin on first use (thread-safe) and returns its entry points, or
// model_error naming every place it looked and why each failed. Search order:
// $BANDITD_TORCH_PLUGIN, <executable dir>/../lib/, <executable dir>/, then the
// dynamic linker's own search path.
Result<const TorchApi*> Torch();

// True once the plugin is loaded (for status and tests: a route-only daemon
// never loads it).
bool TorchLoaded();

}  // namespace banditd::model::internal
