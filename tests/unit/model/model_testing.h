// Shared helpers for the model tests: paths of the generated models and a
// thread-safe collector of pool results.
#pragma once

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "banditd/model.h"
#include "banditd/rng.h"
#include "src/model/demo_models.h"

namespace banditd::model::testing {

inline std::string ModelPath(const std::string& file) {
  return std::string(BANDITD_MODELS_DIR) + "/" + file;
}

inline ModelOptions Options(const std::string& file, const std::string& name = "m") {
  ModelOptions o;
  o.name = name;
  o.path = ModelPath(file);
  o.input_shape = {demo::kFeatures};
  return o;
}

inline std::shared_ptr<const Model> MustLoad(const ModelOptions& o) {
  auto m = LoadModel(o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : nullptr;
}

inline std::vector<float> RandomFeatures(Rng& rng) {
  std::vector<float> x(demo::kFeatures);
  for (float& v : x) v = static_cast<float>(rng.Normal());
  return x;
}

// Collects results delivered on worker threads.
class Collector {
 public:
  InferenceCallback Callback() {
    return [this](InferenceResult&& r) {
      std::lock_guard<std::mutex> lock(mu_);
      results_.push_back(std::move(r));
      cv_.notify_all();
    };
  }
  // Waits (no timing assertion: a hang is reported by ctest's timeout) until n results.
  std::vector<InferenceResult> WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return results_.size() >= n; });
    return results_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<InferenceResult> results_;
};

}  // namespace banditd::model::testing
