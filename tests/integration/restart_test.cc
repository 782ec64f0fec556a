// Restart equivalence: a daemon restarted in the middle of its
// traffic — once gracefully (SIGTERM: snapshot at shutdown), once by SIGKILL
// (WAL replay) — ends with exactly the posterior an uninterrupted run of the
// same acknowledged rewards gives. "Exactly": the policies' snapshot bytes
// are compared, so every double of a posterior must match bit for bit.
//
// How the two are compared: the rewards come from a fixed seed and each is
// acknowledged before the next is sent; the test keeps the acknowledged
// (arm, value) sequence per experiment and replays it into a fresh policy of
// the configured spec, with no restart. At the end the daemon stops
// gracefully and its state directory is recovered (snapshot, then any WAL)
// into an engine built from the same config.
#include <csignal>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "banditd/policy.h"
#include "banditd/rng.h"
#include "src/config/loader.h"
#include "src/server/engine_options.h"
#include "src/state/store.h"
#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {

struct Acked {
  size_t arm = 0;
  double value = 0;
};

// Thompson sampling on Bernoulli rewards and Normal-Gamma Thompson sampling
// on real-valued rewards: one posterior of counts, one of running moments.
std::string Experiments() {
  return "  - name: bt\n    mode: bandit\n    policy:\n      name: thompson\n"
         "    refresh:\n      interval: 20ms\n"
         "    arms:\n      - name: a\n        champion: true\n      - name: b\n" +
         kNoStop +
         "  - name: gs\n    mode: bandit\n    metric: gaussian\n"
         "    policy:\n      name: thompson_gaussian\n"
         "    refresh:\n      interval: 20ms\n"
         "    arms:\n      - name: a\n        champion: true\n      - name: b\n" +
         kNoStop;
}

TEST(RestartTest, RestartsEndWithTheUninterruptedPosterior) {
  TempDir dir;
  const std::string config_path = WriteConfig(dir.path(), Experiments());
  auto config = config::LoadConfigFile(config_path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();

  zmq::context_t ctx;
  Rng rng(6021);
  const std::map<std::string, std::vector<double>> truth = {{"bt", {0.3, 0.6}}, {"gs", {0.0, 0.5}}};
  std::map<std::string, std::vector<Acked>> acked;
  constexpr int kPerPhase = 400;  // per experiment, three phases

  DaemonProcess d;
  for (int phase = 0; phase < 3; ++phase) {
    ASSERT_TRUE(d.Start(config_path, dir.path())) << "phase " << phase;
    Client api(ctx, d.endpoints().api);
    for (int i = 0; i < kPerPhase; ++i) {
      for (const std::string exp : {"bt", "gs"}) {
        auto r = api.Route({exp});
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        const size_t arm = r->arm == "a" ? 0 : 1;
        const double mu = truth.at(exp)[arm];
        const double value = exp == "bt" ? (rng.Uniform() < mu ? 1.0 : 0.0) : mu + rng.Normal();
        Status s = api.Reward(r->decision, value);
        ASSERT_TRUE(s.ok()) << s.ToString();  // acknowledged: it must survive
        acked[exp].push_back({arm, value});
      }
    }
    if (phase == 0) {
      EXPECT_EQ(d.Stop(), 0) << d.LogTail();  // graceful: snapshot at shutdown
    } else if (phase == 1) {
      d.Signal(SIGKILL);  // no snapshot: the acked rewards are in the WAL only
      d.Wait(std::chrono::seconds(10));
    } else {
      EXPECT_EQ(d.Stop(), 0) << d.LogTail();
    }
  }

  // Both arms were served in each experiment (the comparison means little if
  // one arm's posterior is the prior).
  for (const auto& [exp, seq] : acked) {
    size_t on_b = 0;
    for (const Acked& a : seq) on_b += a.arm;
    EXPECT_GT(on_b, 0u) << exp;
    EXPECT_LT(on_b, seq.size()) << exp;
  }

  // The daemon's state, recovered as its next start would.
  auto store = state::StateStore::Open(state::Env::Posix(), config->state_dir, /*repair=*/false);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  experiment::EngineOptions eo = server::ToEngineOptions(*config);
  std::copy((*store)->decision_key().begin(), (*store)->decision_key().end(),
            eo.decision_key.begin());
  SystemClock clock;
  auto engine = experiment::Engine::Create(eo, clock);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  std::string snapshot;
  size_t wal_records = 0;
  state::RecoveryReport report;
  Status recovered = (*store)->Recover(
      [&](std::string_view bytes) {
        snapshot.assign(bytes);
        return Status::Ok();
      },
      [&](uint8_t, std::string_view) {
        ++wal_records;
        return Status::Ok();
      },
      /*repair=*/false, state::WalOptions{}, nullptr, &report);
  ASSERT_TRUE(recovered.ok()) << recovered.ToString();
  // The last stop was graceful: everything is in its snapshot.
  EXPECT_EQ(wal_records, 0u);
  ASSERT_FALSE(snapshot.empty());
  ASSERT_TRUE((*engine)->Restore(snapshot).ok());

  for (size_t e = 0; e < config->experiments.size(); ++e) {
    const std::string& name = config->experiments[e].name;
    auto replay = MakePolicy(server::ToExperimentOptions(config->experiments[e]).policy);
    ASSERT_TRUE(replay.ok()) << replay.status().ToString();
    for (const Acked& a : acked[name]) (*replay)->Update(a.arm, a.value, {});
    const Policy& live = (*engine)->experiment(e).policy();
    EXPECT_EQ(live.Snapshot(), (*replay)->Snapshot()) << name << ": posterior differs";
    ArmEstimate got[2], want[2];
    live.Estimates(got);
    (*replay)->Estimates(want);
    for (size_t arm = 0; arm < 2; ++arm) {
      EXPECT_EQ(got[arm].n, want[arm].n) << name << " arm " << arm;
      EXPECT_EQ(got[arm].reward_sum, want[arm].reward_sum) << name << " arm " << arm;
      EXPECT_EQ(got[arm].mean, want[arm].mean) << name << " arm " << arm;
    }
    EXPECT_EQ(static_cast<size_t>(want[0].n + want[1].n), 3u * kPerPhase) << name;
  }
}

}  // namespace
}  // namespace banditd::itest
