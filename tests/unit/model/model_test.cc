#include <cmath>
#include <cstdio>
#include <fstream>

#include "tests/unit/model/model_testing.h"

namespace banditd::model {
namespace {

using testing::Options;

TEST(ModelTest, ChampionAndChallengerMatchTheLogisticFormula) {
  Rng rng(7);
  for (const auto* arm : {&demo::kChampion, &demo::kChallenger}) {
    auto m = testing::MustLoad(Options(std::string(arm->name) + ".pt", arm->name));
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->input_size(), 8u);
    EXPECT_EQ(m->output_size(), 1u);
    EXPECT_EQ(m->sha256().size(), 64u);
    for (int i = 0; i < 50; ++i) {
      auto x = testing::RandomFeatures(rng);
      auto y = m->Forward(x);
      ASSERT_TRUE(y.ok()) << y.status().ToString();
      ASSERT_EQ(y->size(), 1u);
      // float32 arithmetic in torch vs double here: 1e-6 absolute is ample.
      EXPECT_NEAR((*y)[0], demo::ClickProbability(*arm, x.data()), 1e-6);
    }
  }
}

TEST(ModelTest, DemoGroundTruthCtrs) {
  // The documented figures (docs/models.md): 5.00% and 5.50%, within 1e-6.
  EXPECT_NEAR(demo::AverageCtr(demo::kChampion), 0.050, 1e-6);
  EXPECT_NEAR(demo::AverageCtr(demo::kChallenger), 0.055, 1e-6);
  // And the loaded model agrees with the integral: Monte Carlo over 20,000
  // users, batched; the standard error of the mean is < 0.0006.
  auto m = testing::MustLoad(Options("challenger.pt"));
  ASSERT_NE(m, nullptr);
  Rng rng(11);
  const size_t n = 20000;
  std::vector<float> xs;
  for (size_t i = 0; i < n; ++i) {
    auto x = testing::RandomFeatures(rng);
    xs.insert(xs.end(), x.begin(), x.end());
  }
  std::vector<float> out;
  size_t each = 0;
  ASSERT_TRUE(m->ForwardBatch(xs, n, &out, &each).ok());
  ASSERT_EQ(each, 1u);
  double mean = 0;
  for (float p : out) mean += p;
  mean /= n;
  EXPECT_NEAR(mean, 0.055, 0.002);  // > 3 standard errors
}

TEST(ModelTest, BatchEqualsOneByOne) {
  auto m = testing::MustLoad(Options("champion.pt"));
  ASSERT_NE(m, nullptr);
  Rng rng(3);
  std::vector<float> xs, out;
  std::vector<std::vector<float>> singles;
  for (int i = 0; i < 5; ++i) {
    auto x = testing::RandomFeatures(rng);
    xs.insert(xs.end(), x.begin(), x.end());
    singles.push_back(*m->Forward(x));
  }
  size_t each = 0;
  ASSERT_TRUE(m->ForwardBatch(xs, 5, &out, &each).ok());
  ASSERT_EQ(out.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(out[i], singles[i][0], 1e-7);
  EXPECT_EQ(m->ForwardBatch(xs, 4, &out, &each).code(), Code::kInvalidInput);
}

TEST(ModelTest, WrongInputIsInvalidInput) {
  auto m = testing::MustLoad(Options("champion.pt"));
  ASSERT_NE(m, nullptr);
  std::vector<float> seven(7, 0.f), nine(9, 0.f), eight(8, 0.f);
  EXPECT_EQ(m->Forward(seven).status().code(), Code::kInvalidInput);
  EXPECT_EQ(m->Forward(nine).status().code(), Code::kInvalidInput);
  EXPECT_EQ(m->Forward(std::span<const float>()).status().code(), Code::kInvalidInput);
  eight[3] = std::nanf("");
  EXPECT_EQ(m->Forward(eight).status().code(), Code::kInvalidInput);
  eight[3] = INFINITY;
  EXPECT_EQ(m->Forward(eight).status().code(), Code::kInvalidInput);
  const int64_t good[] = {8}, flat_bad[] = {2, 4}, wrong[] = {9};
  EXPECT_TRUE(m->CheckShape(good).ok());
  EXPECT_EQ(m->CheckShape(flat_bad).code(), Code::kInvalidInput);
  EXPECT_EQ(m->CheckShape(wrong).code(), Code::kInvalidInput);
  EXPECT_NE(m->CheckShape(wrong).message().find("[8]"), std::string::npos);
}

TEST(ModelTest, ThrowingModelIsModelErrorAndTheProcessLives) {
  auto m = testing::MustLoad(Options("test_throwing.pt", "flaky"));
  ASSERT_NE(m, nullptr);  // zeros pass the warm-up: it throws only when x[0] > 0.5
  std::vector<float> x(8, 0.f);
  x[0] = 1.f;
  for (int i = 0; i < 3; ++i) {
    auto y = m->Forward(x);
    ASSERT_EQ(y.status().code(), Code::kModelError);
    EXPECT_NE(y.status().message().find("feature 0 above threshold"), std::string::npos)
        << y.status().message();
    EXPECT_EQ(y.status().message().find('\n'), std::string::npos);  // no backtrace
  }
  x[0] = 0.f;
  auto y = m->Forward(x);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_NEAR((*y)[0], demo::ClickProbability(demo::kChampion, x.data()), 1e-6);
}

TEST(ModelTest, OutputShapeChecks) {
  // Undeclared: the wide model serves two values per example.
  auto wide = testing::MustLoad(Options("test_wide_output.pt"));
  ASSERT_NE(wide, nullptr);
  EXPECT_EQ(wide->output_size(), 2u);
  std::vector<float> x(8, 0.25f);
  auto y = wide->Forward(x);
  ASSERT_TRUE(y.ok());
  EXPECT_NEAR((*y)[0] + (*y)[1], 1.0, 1e-6);
  // Declared 1: refused at load (the warm-up sees the mismatch).
  auto o = Options("test_wide_output.pt");
  o.output_size = 1;
  auto refused = LoadModel(o);
  EXPECT_EQ(refused.status().code(), Code::kModelError);
  EXPECT_NE(refused.status().message().find("declared 1"), std::string::npos);
  // No batch dimension: refused at load; without warm-up, at forward.
  EXPECT_EQ(LoadModel(Options("test_scalar_output.pt")).status().code(), Code::kModelError);
  auto s = Options("test_scalar_output.pt");
  s.warmup_runs = 0;
  auto scalar = testing::MustLoad(s);
  ASSERT_NE(scalar, nullptr);
  EXPECT_EQ(scalar->Forward(x).status().code(), Code::kModelError);
}

TEST(ModelTest, SlowModelServes) {
  auto m = testing::MustLoad(Options("test_slow.pt"));
  ASSERT_NE(m, nullptr);
  auto y = m->Forward(std::vector<float>(8, 1.f));
  ASSERT_TRUE(y.ok());
  // 200 rounds of tanh(0.9 y) shrink y to ~0: the head gives sigmoid(-3).
  EXPECT_NEAR((*y)[0], demo::Sigmoid(-3.0), 1e-4);
}

TEST(ModelTest, Sha256PinIsEnforced) {
  const std::string path = testing::ModelPath("champion.pt");
  auto digest = Sha256File(path);
  ASSERT_TRUE(digest.ok());
  auto o = Options("champion.pt");
  o.sha256 = *digest;
  EXPECT_NE(testing::MustLoad(o), nullptr);
  for (char& c : o.sha256) c = static_cast<char>(std::toupper(c));
  EXPECT_NE(testing::MustLoad(o), nullptr);  // hex case does not matter
  auto bad = Options("champion.pt");
  bad.sha256 = *Sha256File(testing::ModelPath("challenger.pt"));
  auto refused = LoadModel(bad);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("refusing"), std::string::npos);
  EXPECT_NE(refused.status().message().find(*digest), std::string::npos);
}

TEST(ModelTest, Sha256KnownVector) {
  const std::string path = ::testing::TempDir() + "/banditd_sha_abc";
  std::ofstream(path) << "abc";
  auto d = Sha256File(path);
  ASSERT_TRUE(d.ok());  // FIPS 180-2 appendix B.1
  EXPECT_EQ(*d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::remove(path.c_str());
  EXPECT_EQ(Sha256File(path).status().code(), Code::kNotFound);
}

TEST(ModelTest, BadFilesAndOptionsGiveClearErrors) {
  auto missing = LoadModel(Options("no_such_model.pt", "ghost"));
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("no_such_model.pt"), std::string::npos);
  EXPECT_NE(missing.status().message().find("ghost"), std::string::npos);

  const std::string junk = ::testing::TempDir() + "/banditd_junk.pt";
  std::ofstream(junk) << "this is not a TorchScript archive";
  ModelOptions o = Options("x");
  o.path = junk;
  auto garbage = LoadModel(o);
  EXPECT_EQ(garbage.status().code(), Code::kModelError);
  EXPECT_NE(garbage.status().message().find("cannot load"), std::string::npos);
  std::remove(junk.c_str());

  auto no_shape = Options("champion.pt");
  no_shape.input_shape.clear();
  EXPECT_EQ(LoadModel(no_shape).status().code(), Code::kInvalidArgument);
  auto neg = Options("champion.pt");
  neg.input_shape = {-8};
  EXPECT_EQ(LoadModel(neg).status().code(), Code::kInvalidArgument);
  // A shape the model cannot run fails its warm-up: model_error, not a crash.
  auto wrong = Options("champion.pt");
  wrong.input_shape = {5};
  EXPECT_EQ(LoadModel(wrong).status().code(), Code::kModelError);
}

TEST(ModelTest, TorchThreads) {
  EXPECT_TRUE(SetTorchThreads(1).ok());
  EXPECT_TRUE(SetTorchThreads(1).ok());  // the same again is fine
  EXPECT_EQ(SetTorchThreads(0).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace banditd::model
