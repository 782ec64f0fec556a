// LibTorch is a plugin loaded on first use (src/model/torch_api.h). Its own
// test executable, because whether torch is mapped depends on what ran before
// in the process: the first test must run before anything loads a model.
#include <cstdlib>
#include <fstream>
#include <string>

#include "src/model/torch_api.h"
#include "tests/unit/model/model_testing.h"

namespace banditd::model {
namespace {

bool TorchMapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libtorch_cpu") != std::string::npos) return true;
  }
  return false;
}

TEST(TorchPluginTest, LoadedOnlyWhenTheFirstModelIs) {
  // Everything a route-only daemon touches of the model host is here already
  // (linked in), yet LibTorch is not in the address space.
  ASSERT_FALSE(internal::TorchLoaded());
  EXPECT_FALSE(TorchMapped());
  CompletionQueue queue;  // a route-only daemon's I/O loop still builds one
  EXPECT_FALSE(TorchMapped());

  auto m = testing::MustLoad(testing::Options("challenger.pt"));
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(internal::TorchLoaded());
  EXPECT_TRUE(TorchMapped());
  Rng rng(7);
  auto out = m->Forward(testing::RandomFeatures(rng));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->size(), 1u);
}

// A missing plugin is a clear model_error naming where it looked — never a
// crash — and the daemon's route-only arms are unaffected (they never ask).
TEST(TorchPluginDeathTest, MissingPluginIsAModelErrorNamingThePath) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("BANDITD_TORCH_PLUGIN", "/nonexistent/libbanditd_torch.so", 1);
        auto m = LoadModel(testing::Options("challenger.pt"));
        const std::string msg = m.ok() ? "" : m.status().ToString();
        std::exit(!m.ok() && m.status().code() == Code::kModelError &&
                          msg.find("/nonexistent/libbanditd_torch.so") != std::string::npos &&
                          msg.find("BANDITD_TORCH_PLUGIN") != std::string::npos
                      ? 3
                      : 4);
      },
      ::testing::ExitedWithCode(3), "");
}

}  // namespace
}  // namespace banditd::model
