// `bandit-sim live` scenario files: the shipped ones load, mistakes name the
// key and line. (The traffic itself is exercised against a real daemon by
// scripts/demo.)
#include "sim/live.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace banditd::sim {
namespace {

std::filesystem::path SourceDir() {
  const char* root = std::getenv("BANDITD_SOURCE_DIR");
  return root ? root : ".";
}

TEST(LiveScenarioTest, ShippedLiveScenariosLoad) {
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(SourceDir() / "sim/scenarios/live")) {
    if (e.path().extension() != ".yaml") continue;
    ++files;
    auto o = LoadLiveScenario(e.path().string(), LiveOptions{});
    ASSERT_TRUE(o.ok()) << e.path() << ": " << o.status().ToString();
    EXPECT_GE(o->concurrency, 1);
    EXPECT_FALSE(o->experiment.empty());
  }
  EXPECT_GE(files, 1);
  auto demo = LoadLiveScenario((SourceDir() / "sim/scenarios/live/demo.yaml").string(), {});
  ASSERT_TRUE(demo.ok());
  EXPECT_EQ(demo->experiment, "ctr");
  EXPECT_GT(demo->rate, 0.0);
}

TEST(LiveScenarioTest, MistakesNameTheKeyAndLine) {
  const auto path = std::filesystem::temp_directory_path() / "banditd_live_bad.yaml";
  std::ofstream(path) << "live:\n  experiment: ctr\n  concurrenty: 8\n";
  auto o = LoadLiveScenario(path.string(), {});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("live.concurrenty (line 3)"), std::string::npos)
      << o.status().message();
  std::ofstream(path) << "live:\n  concurrency: 0\n";
  EXPECT_FALSE(LoadLiveScenario(path.string(), {}).ok());
  std::ofstream(path) << "name: not a live scenario\n";
  EXPECT_FALSE(LoadLiveScenario(path.string(), {}).ok());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace banditd::sim
