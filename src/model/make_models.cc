// banditd-make-models OUTDIR: writes the demo and test TorchScript models with
// torch::jit::Module::define (no Python, no downloads), plus ground_truth.json.
//
//   champion.pt, challenger.pt  logistic CTR models over 8 features, forward(x: [B, 8]) -> [B, 1]
//   ground_truth.json           their weights, biases, feature distribution and true CTRs
//   test_throwing.pt            like the champion, but raises when any x[:, 0] > 0.5
//   test_wide_output.pt         returns [B, 2] (p, 1 - p): a shape other than declared
//   test_scalar_output.pt       returns a 0-dim tensor: no batch dimension at all
//   test_slow.pt                200 rounds of tanh(y @ M) before the logistic head
//
// The build runs it into <build>/models/ (src/model/CMakeLists.txt).
#include <torch/script.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "src/model/demo_models.h"

namespace {

namespace demo = banditd::model::demo;
namespace fs = std::filesystem;

constexpr const char* kLogistic = R"JIT(
def forward(self, x):
    return torch.sigmoid(torch.matmul(x, self.weight) + self.bias).unsqueeze(1)
)JIT";

constexpr const char* kThrowing = R"JIT(
def forward(self, x):
    assert not bool(torch.any(x[:, 0] > self.threshold)), "test_throwing: feature 0 above threshold"
    return torch.sigmoid(torch.matmul(x, self.weight) + self.bias).unsqueeze(1)
)JIT";

constexpr const char* kWide = R"JIT(
def forward(self, x):
    p = torch.sigmoid(torch.matmul(x, self.weight) + self.bias)
    return torch.stack([p, 1.0 - p], dim=1)
)JIT";

constexpr const char* kScalar = R"JIT(
def forward(self, x):
    return torch.sigmoid(torch.sum(torch.matmul(x, self.weight) + self.bias))
)JIT";

constexpr const char* kSlow = R"JIT(
def forward(self, x):
    y = x
    for _ in range(self.rounds):
        y = torch.tanh(torch.matmul(y, self.mix))
    return torch.sigmoid(torch.matmul(y, self.weight) + self.bias).unsqueeze(1)
)JIT";

// The weights and bias of `arm`; the caller adds attributes, then define()s
// forward (TorchScript resolves self.<attr> when the method is compiled).
torch::jit::Module Logistic(const std::string& class_name, const demo::LogisticArm& arm) {
  torch::jit::Module m(class_name);
  m.register_parameter("weight",
                       torch::tensor(std::vector<float>(arm.weights.begin(), arm.weights.end())),
                       /*is_buffer=*/false);
  m.register_parameter("bias", torch::tensor(std::vector<float>{arm.bias}), false);
  return m;
}

// Write to a temporary name and rename: a build interrupted half-way never
// leaves a truncated model where the daemon would load it.
void Save(torch::jit::Module& m, const fs::path& path) {
  const fs::path tmp = path.string() + ".tmp";
  m.eval();
  m.save(tmp.string());
  fs::rename(tmp, path);
}

std::string ArmJson(const demo::LogisticArm& arm, const char* file) {
  std::string s =
      "    \"" + std::string(arm.name) + "\": {\"file\": \"" + file + "\", \"weights\": [";
  for (int i = 0; i < demo::kFeatures; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%s%.9g", i ? ", " : "", arm.weights[i]);
    s += buf;
  }
  char buf[128];
  std::snprintf(buf, sizeof(buf), "], \"bias\": %.9g, \"ctr\": %.9f}", arm.bias,
                demo::AverageCtr(arm));
  return s + buf;
}

void WriteGroundTruth(const fs::path& path) {
  const double c = demo::AverageCtr(demo::kChampion), h = demo::AverageCtr(demo::kChallenger);
  std::ofstream out(path.string() + ".tmp");
  char lift[160];
  std::snprintf(lift, sizeof(lift), "  \"ctr_difference\": %.9f,\n  \"relative_lift\": %.9f\n",
                h - c, (h - c) / c);
  out << "{\n"
      << "  \"model\": \"p(click | x) = sigmoid(w . x + b), forward(x: [B, 8]) -> [B, 1]\",\n"
      << "  \"features\": {\"dim\": 8, \"distribution\": \"normal\", \"mean\": 0, \"stddev\": 1,"
      << " \"independent\": true},\n"
      << "  \"arms\": {\n"
      << ArmJson(demo::kChampion, "champion.pt") << ",\n"
      << ArmJson(demo::kChallenger, "challenger.pt") << "\n  },\n"
      << lift << "}\n";
  out.close();
  fs::rename(path.string() + ".tmp", path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: banditd-make-models OUTDIR\n";
    return 2;
  }
  const fs::path dir(argv[1]);
  try {
    fs::create_directories(dir);
    auto champion = Logistic("Champion", demo::kChampion);
    champion.define(kLogistic);
    Save(champion, dir / "champion.pt");
    auto challenger = Logistic("Challenger", demo::kChallenger);
    challenger.define(kLogistic);
    Save(challenger, dir / "challenger.pt");

    auto throwing = Logistic("Throwing", demo::kChampion);
    throwing.register_attribute("threshold", c10::FloatType::get(), 0.5);
    throwing.define(kThrowing);
    Save(throwing, dir / "test_throwing.pt");
    auto wide = Logistic("WideOutput", demo::kChampion);
    wide.define(kWide);
    Save(wide, dir / "test_wide_output.pt");
    auto scalar = Logistic("ScalarOutput", demo::kChampion);
    scalar.define(kScalar);
    Save(scalar, dir / "test_scalar_output.pt");

    torch::jit::Module slow("Slow");
    slow.register_parameter("weight", torch::full({8}, 0.1f), false);
    slow.register_parameter("bias", torch::tensor(std::vector<float>{-3.0f}), false);
    slow.register_parameter("mix", torch::eye(8) * 0.9f, false);
    slow.register_attribute("rounds", c10::IntType::get(), int64_t{200});
    slow.define(kSlow);
    Save(slow, dir / "test_slow.pt");

    WriteGroundTruth(dir / "ground_truth.json");
  } catch (const std::exception& e) {
    std::cerr << "banditd-make-models: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
