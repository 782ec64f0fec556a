// The one translation unit of the daemon that runs LibTorch (plus the
// generator tool). Every torch call sits inside a try block: c10::Error and any
// std::exception become Code::kModelError with the model's name in the message.
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "banditd/model.h"
#include "src/model/raw_forward.h"
#include "src/model/sha256.h"

namespace banditd::model {

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

std::string ShapeString(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

class Model::Impl {
 public:
  Impl(ModelOptions options, std::string digest, torch::jit::Module module)
      : options_(std::move(options)), digest_(std::move(digest)), module_(std::move(module)) {
    input_size_ = 1;
    for (int64_t d : options_.input_shape) input_size_ *= static_cast<size_t>(d);
    batch_shape_.push_back(1);
    batch_shape_.insert(batch_shape_.end(), options_.input_shape.begin(),
                        options_.input_shape.end());
  }

  Status Run(std::span<const float> inputs, size_t batch, std::vector<float>* out,
             size_t* per_example) const {
    if (batch == 0) return Status(Code::kInvalidInput, options_.name + ": empty batch");
    if (inputs.size() != batch * input_size_) {
      return Status(Code::kInvalidInput,
                    options_.name + ": expected " + std::to_string(batch * input_size_) +
                        " input values (shape " + ShapeString(options_.input_shape) + " x " +
                        std::to_string(batch) + "), got " + std::to_string(inputs.size()));
    }
    for (float v : inputs) {
      if (!std::isfinite(v)) {
        return Status(Code::kInvalidInput, options_.name + ": input holds a non-finite value");
      }
    }
    try {
      c10::InferenceMode guard;
      std::vector<int64_t> shape = batch_shape_;
      shape[0] = static_cast<int64_t>(batch);
      // A copy, not from_blob: a model is code and may write to its input.
      at::Tensor x = torch::empty(shape, torch::kFloat32);
      std::memcpy(x.data_ptr<float>(), inputs.data(), inputs.size() * sizeof(float));
      std::vector<c10::IValue> args{std::move(x)};
      c10::IValue y = module_.forward(std::move(args));
      if (!y.isTensor()) {
        return Status(Code::kModelError,
                      options_.name + ": forward returned " + y.tagKind() + ", not a tensor");
      }
      at::Tensor t = y.toTensor();
      if (t.dim() < 1 || t.size(0) != static_cast<int64_t>(batch)) {
        return Status(Code::kModelError,
                      options_.name + ": output shape " + ShapeString(t.sizes().vec()) +
                          " has no leading batch dimension of " + std::to_string(batch));
      }
      t = t.to(torch::kFloat32).contiguous();
      const size_t n = static_cast<size_t>(t.numel());
      const size_t each = n / batch;
      if (options_.output_size != 0 && each != options_.output_size) {
        return Status(Code::kModelError, options_.name + ": output has " + std::to_string(each) +
                                             " values per example, declared " +
                                             std::to_string(options_.output_size));
      }
      const float* p = t.data_ptr<float>();
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(p[i])) {
          return Status(Code::kModelError, options_.name + ": output holds a non-finite value");
        }
      }
      out->assign(p, p + n);
      *per_example = each;
      return Status::Ok();
    } catch (const c10::Error& e) {
      return Status(Code::kModelError,
                    options_.name + ": " + FirstLine(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      return Status(Code::kModelError, options_.name + ": " + FirstLine(e.what()));
    } catch (...) {
      return Status(Code::kModelError, options_.name + ": unknown exception in forward");
    }
  }

  ModelOptions options_;
  std::string digest_;
  size_t input_size_ = 0;
  size_t output_size_ = 0;
  std::vector<int64_t> batch_shape_;
  // forward() is not const in the torch API but the module's state is not
  // changed by running it; concurrent forwards are how LibTorch serves.
  mutable torch::jit::Module module_;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

const std::string& Model::name() const { return impl_->options_.name; }
const std::string& Model::path() const { return impl_->options_.path; }
const std::string& Model::sha256() const { return impl_->digest_; }
std::span<const int64_t> Model::input_shape() const { return impl_->options_.input_shape; }
size_t Model::input_size() const { return impl_->input_size_; }
size_t Model::output_size() const { return impl_->output_size_; }

Status Model::CheckShape(std::span<const int64_t> shape) const {
  const auto& want = impl_->options_.input_shape;
  if (std::equal(shape.begin(), shape.end(), want.begin(), want.end())) return Status::Ok();
  return Status(Code::kInvalidInput, name() + ": input shape " + ShapeString(shape) +
                                         ", model expects " + ShapeString(want));
}

Status Model::Forward(std::span<const float> input, std::vector<float>* out) const {
  size_t each = 0;
  return impl_->Run(input, 1, out, &each);
}

Result<std::vector<float>> Model::Forward(std::span<const float> input) const {
  std::vector<float> out;
  Status s = Forward(input, &out);
  if (!s.ok()) return s;
  return out;
}

Status Model::ForwardBatch(std::span<const float> inputs, size_t batch, std::vector<float>* out,
                           size_t* per_example) const {
  return impl_->Run(inputs, batch, out, per_example);
}

Result<std::shared_ptr<const Model>> LoadModel(const ModelOptions& options) {
  const std::string who = "model '" + options.name + "'";
  if (options.path.empty()) return InvalidArgument(who + ": no path");
  if (options.input_shape.empty()) return InvalidArgument(who + ": no input shape");
  for (int64_t d : options.input_shape) {
    if (d <= 0 || d > (1 << 24)) {
      return InvalidArgument(who + ": bad input shape " + ShapeString(options.input_shape));
    }
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options.path, ec)) {
    return Status(Code::kNotFound, who + ": no such file '" + options.path + "'");
  }
  // Hash and parse the same bytes: no window for the file to change between.
  std::ifstream in(options.path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return Status(Code::kIoError, who + ": cannot read '" + options.path + "'");
  }
  Result<std::string> digest = Sha256Bytes(bytes);
  if (!digest.ok()) return digest.status();
  if (!options.sha256.empty() && Lower(options.sha256) != *digest) {
    return InvalidArgument(who + ": sha256 of '" + options.path + "' is " + *digest + ", pinned " +
                           Lower(options.sha256) + "; refusing to load it");
  }
  torch::jit::Module module;
  try {
    std::istringstream stream(bytes);
    module = torch::jit::load(stream, torch::kCPU);
    module.eval();
    if (!module.find_method("forward")) {
      return Status(Code::kModelError, who + ": '" + options.path + "' has no forward method");
    }
  } catch (const c10::Error& e) {
    return Status(Code::kModelError, who + ": cannot load '" + options.path +
                                         "': " + FirstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return Status(Code::kModelError,
                  who + ": cannot load '" + options.path + "': " + FirstLine(e.what()));
  }
  auto impl = std::make_unique<Model::Impl>(options, std::move(*digest), std::move(module));
  std::vector<float> zeros(impl->input_size_, 0.0f), out;
  for (int i = 0; i < options.warmup_runs; ++i) {
    size_t each = 0;
    Status s = impl->Run(zeros, 1, &out, &each);
    if (!s.ok()) return s.WithContext("warm-up of '" + options.path + "'");
    impl->output_size_ = each;
  }
  return std::shared_ptr<const Model>(std::make_shared<Model>(std::move(impl)));
}

Status SetTorchThreads(int intra_op_threads, int inter_op_threads) {
  if (intra_op_threads < 1 || inter_op_threads < 1) {
    return InvalidArgument("torch threads must be >= 1");
  }
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

// ---------------------------------------------------------------------------
// The raw baseline for benchmarks.
// ---------------------------------------------------------------------------
namespace internal {

struct RawForward::State {
  torch::jit::Module module;
};

RawForward::RawForward(std::unique_ptr<State> state) : state_(std::move(state)) {}
RawForward::~RawForward() = default;

Result<std::unique_ptr<RawForward>> RawForward::Load(const std::string& path) {
  try {
    auto state = std::make_unique<State>();
    state->module = torch::jit::load(path);
    state->module.eval();
    return std::unique_ptr<RawForward>(new RawForward(std::move(state)));
  } catch (const std::exception& e) {
    return Status(Code::kModelError, FirstLine(e.what()));
  }
}

void RawForward::Run(std::span<const float> input, std::vector<float>* out) {
  c10::InferenceMode guard;
  at::Tensor x = torch::from_blob(const_cast<float*>(input.data()),
                                  {1, static_cast<int64_t>(input.size())}, torch::kFloat32);
  at::Tensor y = state_->module.forward({x}).toTensor().contiguous();
  out->assign(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
}

}  // namespace internal
}  // namespace banditd::model
