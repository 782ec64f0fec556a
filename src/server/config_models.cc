#include "src/server/config_models.h"

namespace banditd::server {
namespace {

// The model key LoadModel's error is about (its contract: a failed warm-up
// is reported as "warm-up of '<path>': ...", a pin mismatch names sha256).
std::string KeyAtFault(const Status& s) {
  const std::string& m = s.message();
  if (m.starts_with("warm-up of")) return "input_shape";
  if (s.code() == Code::kInvalidArgument && m.find("sha256") != std::string::npos) return "sha256";
  if (s.code() == Code::kInvalidArgument && m.find("input shape") != std::string::npos) {
    return "input_shape";
  }
  return "path";
}

}  // namespace

model::ModelOptions ModelOptionsFor(const config::ExperimentConfig& e, const config::ArmConfig& a) {
  model::ModelOptions m;
  m.name = e.name + "/" + a.name;
  m.path = a.model->path;
  m.input_shape = a.model->input_shape;
  m.sha256 = a.model->sha256;
  return m;
}

Result<std::shared_ptr<const model::Model>> LoadArmModel(const config::Config& config, size_t e,
                                                         size_t a, int warmup_runs) {
  const config::ExperimentConfig& ec = config.experiments[e];
  model::ModelOptions options = ModelOptionsFor(ec, ec.arms[a]);
  options.warmup_runs = warmup_runs;
  auto m = model::LoadModel(options);
  if (m.ok()) return m;
  const std::string key = "experiments[" + std::to_string(e) + "].arms[" + std::to_string(a) +
                          "].model." + KeyAtFault(m.status());
  if (key.ends_with("input_shape")) {
    std::string shape;
    for (int64_t d : options.input_shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    return m.status().WithContext(key + ": the model does not run on input_shape [" + shape +
                                  "] (a batch of [1, " + shape + "] zeros)");
  }
  return m.status().WithContext(key);
}

Status CheckModels(const config::Config& config) {
  for (size_t e = 0; e < config.experiments.size(); ++e) {
    for (size_t a = 0; a < config.experiments[e].arms.size(); ++a) {
      if (!config.experiments[e].arms[a].model) continue;
      auto m = LoadArmModel(config, e, a, /*warmup_runs=*/1);
      if (!m.ok()) return m.status();
    }
  }
  return Status::Ok();
}

}  // namespace banditd::server
