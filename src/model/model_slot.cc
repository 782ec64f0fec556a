// ModelSlot: hot reload by swapping an immutable, fully loaded model.
#include <algorithm>
#include <cassert>
#include <mutex>

#include "banditd/model.h"

namespace banditd::model {

ModelSlot::ModelSlot(std::shared_ptr<const Model> model) : current_{std::move(model), 1} {
  assert(Current().model != nullptr && "ModelSlot needs a model");
}

Status ModelSlot::Reload(const ModelOptions& options) {
  // Loading (file read, hash, parse, warm-up) happens before the swap, on the
  // caller's thread: readers never wait for it and a failure changes nothing.
  Result<std::shared_ptr<const Model>> loaded = LoadModel(options);
  if (!loaded.ok()) return loaded.status().WithContext("reload kept the previous model");
  return Swap(std::move(*loaded));
}

Status ModelSlot::Swap(std::shared_ptr<const Model> model) {
  if (!model) return InvalidArgument("cannot swap in a null model");
  // One writer at a time: two concurrent reloads must not both read the same
  // generation and publish the same number.
  std::lock_guard<std::mutex> lock(reload_mu_);
  const Ref old = Current();
  if (old.model && !std::ranges::equal(old.model->input_shape(), model->input_shape())) {
    return Status(Code::kInvalidArgument,
                  "reload kept the previous model: '" + model->name() +
                      "' declares another input shape than the model it would replace");
  }
  Ref next{std::move(model), old.generation + 1};
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::swap(current_, next);
  }
  // `next` now holds the previous model: if no forward still uses it, it is
  // destroyed here, outside the readers' lock.
  return Status::Ok();
}

}  // namespace banditd::model
