// The baseline the benchmarks compare the host against: a TorchScript
// forward called directly, the way a plain LibTorch program would, with no
// validation, no guard against exceptions and no pool. Not for the daemon.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "banditd/status.h"

namespace banditd::model::internal {

class RawForward {
 public:
  static Result<std::unique_ptr<RawForward>> Load(const std::string& path);
  ~RawForward();
  // One example of `input.size()` floats as a [1, n] tensor; output flattened.
  void Run(std::span<const float> input, std::vector<float>* out);

 private:
  struct State;
  explicit RawForward(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace banditd::model::internal
