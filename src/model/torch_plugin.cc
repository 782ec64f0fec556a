// libbanditd_torch.so: the only translation unit of the daemon that runs
// LibTorch. Every torch call sits inside a try block: c10::Error and any
// std::exception become Code::kModelError, never an exception across the
// plugin boundary. Loaded on demand by src/model/torch_loader.cc.
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <cstring>
#include <sstream>

#include "src/model/torch_api.h"

namespace banditd::model::internal {
namespace {

// One line of a torch error for a wire message: a C++ backtrace or a
// TorchScript traceback belongs in a debug log. TorchScript errors put the
// cause ("RuntimeError: AssertionError: ...") on their last line; others on
// their first.
std::string FirstLine(const char* what) {
  std::string s(what);
  if (s.find("Traceback of TorchScript") != std::string::npos) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    const size_t nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
  }
  const size_t nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

std::string ShapeString(c10::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

class ScriptModule final : public TorchModule {
 public:
  explicit ScriptModule(torch::jit::Module module) : module_(std::move(module)) {}

  Status Run(const std::string& who, std::span<const int64_t> shape, std::span<const float> inputs,
             std::vector<float>* out, size_t* per_example) const override {
    try {
      c10::InferenceMode guard;
      const int64_t batch = shape[0];
      // A copy, not from_blob: a model is code and may write to its input.
      at::Tensor x = torch::empty(c10::IntArrayRef(shape.data(), shape.size()), torch::kFloat32);
      std::memcpy(x.data_ptr<float>(), inputs.data(), inputs.size() * sizeof(float));
      std::vector<c10::IValue> args{std::move(x)};
      c10::IValue y = module_.forward(std::move(args));
      if (!y.isTensor()) {
        return Status(Code::kModelError,
                      who + ": forward returned " + y.tagKind() + ", not a tensor");
      }
      at::Tensor t = y.toTensor();
      if (t.dim() < 1 || t.size(0) != batch) {
        return Status(Code::kModelError, who + ": output shape " + ShapeString(t.sizes()) +
                                             " has no leading batch dimension of " +
                                             std::to_string(batch));
      }
      t = t.to(torch::kFloat32).contiguous();
      const float* p = t.data_ptr<float>();
      out->assign(p, p + t.numel());
      *per_example = static_cast<size_t>(t.numel()) / static_cast<size_t>(batch);
      return Status::Ok();
    } catch (const c10::Error& e) {
      return Status(Code::kModelError, who + ": " + FirstLine(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      return Status(Code::kModelError, who + ": " + FirstLine(e.what()));
    } catch (...) {
      return Status(Code::kModelError, who + ": unknown exception in forward");
    }
  }

  void RunUnchecked(std::span<const float> input, std::vector<float>* out) override {
    c10::InferenceMode guard;
    at::Tensor x = torch::from_blob(const_cast<float*>(input.data()),
                                    {1, static_cast<int64_t>(input.size())}, torch::kFloat32);
    at::Tensor y = module_.forward({x}).toTensor().contiguous();
    out->assign(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
  }

 private:
  // forward() is not const in the torch API but running it does not change
  // the module's state; concurrent forwards are how LibTorch serves.
  mutable torch::jit::Module module_;
};

Result<std::unique_ptr<TorchModule>> Load(std::string_view bytes) {
  try {
    std::istringstream stream{std::string(bytes)};
    torch::jit::Module module = torch::jit::load(stream, torch::kCPU);
    module.eval();
    if (!module.find_method("forward")) return Status(Code::kModelError, "no forward method");
    return std::unique_ptr<TorchModule>(std::make_unique<ScriptModule>(std::move(module)));
  } catch (const c10::Error& e) {
    return Status(Code::kModelError, FirstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return Status(Code::kModelError, FirstLine(e.what()));
  } catch (...) {
    return Status(Code::kModelError, "unknown exception while loading");
  }
}

Status SetThreads(int intra_op_threads, int inter_op_threads) {
  try {
    at::set_num_threads(intra_op_threads);
    if (at::get_num_interop_threads() != inter_op_threads) {
      at::set_num_interop_threads(inter_op_threads);
    }
  } catch (const std::exception& e) {
    return Status(Code::kFailedPrecondition,
                  "cannot set torch threads (call before any model runs): " + FirstLine(e.what()));
  }
  return Status::Ok();
}

constexpr TorchApi kApi{kTorchApiVersion, &Load, &SetThreads};

}  // namespace
}  // namespace banditd::model::internal

extern "C" __attribute__((visibility("default"))) const banditd::model::internal::TorchApi*
banditd_torch_api() {
  return &banditd::model::internal::kApi;
}
