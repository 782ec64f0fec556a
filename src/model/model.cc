// The model host's side of a model: validation, pins, warm-up and output
// checks. The forward itself runs in the LibTorch plugin (torch_api.h); no
// torch header is included here.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "banditd/model.h"
#include "src/model/raw_forward.h"
#include "src/model/sha256.h"
#include "src/model/torch_api.h"

namespace banditd::model {

namespace {

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
  Impl(ModelOptions options, std::string digest, std::unique_ptr<internal::TorchModule> module)
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
    std::vector<int64_t> shape = batch_shape_;
    shape[0] = static_cast<int64_t>(batch);
    size_t each = 0;
    BANDITD_RETURN_IF_ERROR(module_->Run(options_.name, shape, inputs, out, &each));
    if (options_.output_size != 0 && each != options_.output_size) {
      return Status(Code::kModelError, options_.name + ": output has " + std::to_string(each) +
                                           " values per example, declared " +
                                           std::to_string(options_.output_size));
    }
    for (float v : *out) {
      if (!std::isfinite(v)) {
        return Status(Code::kModelError, options_.name + ": output holds a non-finite value");
      }
    }
    *per_example = each;
    return Status::Ok();
  }

  ModelOptions options_;
  std::string digest_;
  size_t input_size_ = 0;
  size_t output_size_ = 0;
  std::vector<int64_t> batch_shape_;
  std::unique_ptr<internal::TorchModule> module_;  // Run is const and thread-safe
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
  Result<const internal::TorchApi*> torch = internal::Torch();
  if (!torch.ok()) return torch.status().WithContext(who);
  auto module = (*torch)->load(bytes);
  if (!module.ok()) {
    return Status(Code::kModelError,
                  who + ": cannot load '" + options.path + "': " + module.status().message());
  }
  auto impl = std::make_unique<Model::Impl>(options, std::move(*digest), std::move(module).value());
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
  Result<const internal::TorchApi*> torch = internal::Torch();
  if (!torch.ok()) return torch.status();
  return (*torch)->set_threads(intra_op_threads, inter_op_threads);
}

// ---------------------------------------------------------------------------
// The raw baseline for benchmarks.
// ---------------------------------------------------------------------------
namespace internal {

struct RawForward::State {
  std::unique_ptr<TorchModule> module;
};

RawForward::RawForward(std::unique_ptr<State> state) : state_(std::move(state)) {}
RawForward::~RawForward() = default;

Result<std::unique_ptr<RawForward>> RawForward::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kNotFound, "cannot open '" + path + "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<const TorchApi*> torch = Torch();
  if (!torch.ok()) return torch.status();
  auto module = (*torch)->load(bytes);
  if (!module.ok()) return module.status();
  auto state = std::make_unique<State>();
  state->module = std::move(module).value();
  return std::unique_ptr<RawForward>(new RawForward(std::move(state)));
}

void RawForward::Run(std::span<const float> input, std::vector<float>* out) {
  state_->module->RunUnchecked(input, out);
}

}  // namespace internal
}  // namespace banditd::model
