#include <poll.h>

#include <barrier>
#include <future>
#include <map>
#include <thread>

#include "tests/unit/model/model_testing.h"

namespace banditd::model {
namespace {

using testing::Options;

std::shared_ptr<ModelSlot> Slot(const std::string& file) {
  return std::make_shared<ModelSlot>(testing::MustLoad(Options(file)));
}

// Occupies the pool's only worker until release() is called: jobs queued
// meanwhile stay queued, which makes queue-full and batching deterministic.
class Blocker {
 public:
  InferenceJob Job(std::shared_ptr<ModelSlot> slot) {
    InferenceJob job{std::move(slot), std::vector<float>(8, 0.f), 999999, {}};
    job.done = [this](InferenceResult&&) {
      entered_.set_value();
      release_.get_future().wait();
    };
    return job;
  }
  void WaitEntered() { entered_.get_future().wait(); }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> entered_, release_;
};

TEST(InferencePoolTest, ResultsReachTheIoThreadThroughTheCompletionQueue) {
  auto slot = Slot("champion.pt");
  CompletionQueue cq;
  ASSERT_GE(cq.fd(), 0);
  InferencePool pool(PoolOptions{.workers = 2});
  Rng rng(5);
  std::map<uint64_t, std::vector<float>> inputs;
  for (uint64_t tag = 0; tag < 100; ++tag) {
    inputs[tag] = testing::RandomFeatures(rng);
    ASSERT_TRUE(pool.Submit({slot, inputs[tag], tag, cq.Callback()}).ok());
  }
  std::vector<InferenceResult> got;
  while (got.size() < 100) {
    pollfd p{cq.fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, -1), 1);  // readable only when results wait
    cq.Drain(&got);
  }
  ASSERT_EQ(got.size(), 100u);
  for (const auto& r : got) {
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_NEAR(r.output[0], demo::ClickProbability(demo::kChampion, inputs[r.tag].data()), 1e-6);
    EXPECT_EQ(r.generation, 1u);
    EXPECT_EQ(r.batch_size, 1u);
    EXPECT_GT(r.compute_time.count(), 0);
    inputs.erase(r.tag);
  }
  EXPECT_TRUE(inputs.empty());  // each tag exactly once
  pollfd p{cq.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);  // drained: no longer readable
}

// Four producers push 20,000 results while the consumer polls the eventfd: a
// lost wake-up would hang here (ctest's timeout reports it).
TEST(CompletionQueueTest, NoResultIsLostAcrossWakeUps) {
  CompletionQueue cq;
  constexpr int kProducers = 4, kEach = 5000;
  std::vector<std::thread> producers;
  for (int t = 0; t < kProducers; ++t) {
    producers.emplace_back([&cq, t] {
      for (int i = 0; i < kEach; ++i) {
        InferenceResult r;
        r.tag = static_cast<uint64_t>(t) * kEach + i;
        cq.Push(std::move(r));
      }
    });
  }
  std::vector<InferenceResult> got;
  while (got.size() < kProducers * kEach) {
    pollfd p{cq.fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, -1), 1);
    cq.Drain(&got);
  }
  for (auto& t : producers) t.join();
  cq.Drain(&got);
  ASSERT_EQ(got.size(), static_cast<size_t>(kProducers * kEach));
  std::vector<bool> seen(kProducers * kEach, false);
  for (const auto& r : got) {
    ASSERT_FALSE(seen[r.tag]) << r.tag;
    seen[r.tag] = true;
  }
}

// Two slots interleaved with a batching delay: batches never mix slots, every
// job completes with its own slot's model.
TEST(InferencePoolTest, BatchingDelayServesOtherSlots) {
  auto a = Slot("champion.pt");
  auto b = Slot("challenger.pt");
  testing::Collector c;
  InferencePool pool(PoolOptions{.workers = 2,
                                 .queue_capacity = 64,
                                 .max_batch = 8,
                                 .max_delay = std::chrono::microseconds(2000)});
  for (uint64_t tag = 0; tag < 20; ++tag) {
    ASSERT_TRUE(
        pool.Submit({tag % 2 ? a : b, std::vector<float>(8, 0.3f), tag, c.Callback()}).ok());
  }
  auto results = c.WaitFor(20);
  std::vector<float> x(8, 0.3f);
  for (const auto& r : results) {
    ASSERT_TRUE(r.status.ok());
    const auto& arm = r.tag % 2 ? demo::kChampion : demo::kChallenger;
    EXPECT_NEAR(r.output[0], demo::ClickProbability(arm, x.data()), 1e-6);
  }
}

TEST(InferencePoolTest, FullQueueIsOverloaded) {
  auto slot = Slot("champion.pt");
  testing::Collector c;
  InferencePool pool(PoolOptions{.workers = 1, .queue_capacity = 2});
  Blocker blocker;
  ASSERT_TRUE(pool.Submit(blocker.Job(slot)).ok());
  blocker.WaitEntered();
  ASSERT_TRUE(pool.Submit({slot, std::vector<float>(8, 0.f), 1, c.Callback()}).ok());
  ASSERT_TRUE(pool.Submit({slot, std::vector<float>(8, 0.f), 2, c.Callback()}).ok());
  EXPECT_EQ(pool.queued(), 2u);
  Status s = pool.Submit({slot, std::vector<float>(8, 0.f), 3, c.Callback()});
  EXPECT_EQ(s.code(), Code::kOverloaded);
  EXPECT_NE(s.message().find("full"), std::string::npos);
  blocker.Release();
  auto results = c.WaitFor(2);
  EXPECT_EQ(results.size(), 2u);
  for (const auto& r : results) EXPECT_TRUE(r.status.ok());
  pool.Shutdown();
  EXPECT_EQ(pool.Submit({slot, std::vector<float>(8, 0.f), 4, c.Callback()}).code(),
            Code::kOverloaded);
}

TEST(InferencePoolTest, ErrorsComeBackAsResults) {
  auto champ = Slot("champion.pt");
  auto flaky = Slot("test_throwing.pt");
  testing::Collector c;
  InferencePool pool(PoolOptions{.workers = 2});
  std::vector<float> hot(8, 0.f);
  hot[0] = 2.f;
  ASSERT_TRUE(pool.Submit({champ, std::vector<float>(3, 0.f), 1, c.Callback()}).ok());
  ASSERT_TRUE(pool.Submit({flaky, hot, 2, c.Callback()}).ok());
  auto results = c.WaitFor(2);
  for (const auto& r : results) {
    EXPECT_EQ(r.status.code(), r.tag == 1 ? Code::kInvalidInput : Code::kModelError);
    EXPECT_TRUE(r.output.empty());
  }
}

TEST(InferencePoolTest, MicroBatchesQueuedJobsOfOneSlot) {
  auto slot = Slot("challenger.pt");
  auto other = Slot("champion.pt");
  testing::Collector c;
  InferencePool pool(PoolOptions{.workers = 1, .queue_capacity = 64, .max_batch = 8});
  Blocker blocker;
  ASSERT_TRUE(pool.Submit(blocker.Job(other)).ok());
  blocker.WaitEntered();
  Rng rng(9);
  std::map<uint64_t, std::vector<float>> inputs;
  for (uint64_t tag = 0; tag < 10; ++tag) {
    inputs[tag] = testing::RandomFeatures(rng);
    ASSERT_TRUE(pool.Submit({slot, inputs[tag], tag, c.Callback()}).ok());
  }
  ASSERT_TRUE(pool.Submit({other, inputs[0], 100, c.Callback()}).ok());
  blocker.Release();
  auto results = c.WaitFor(11);
  std::map<uint32_t, int> batch_sizes;
  for (const auto& r : results) {
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    const auto& arm = r.tag == 100 ? demo::kChampion : demo::kChallenger;
    const auto& x = inputs[r.tag == 100 ? 0 : r.tag];
    EXPECT_NEAR(r.output[0], demo::ClickProbability(arm, x.data()), 1e-6);
    batch_sizes[r.batch_size]++;
  }
  // 10 challenger jobs -> a batch of 8 then one of 2; the champion job alone.
  EXPECT_EQ(batch_sizes[8], 8);
  EXPECT_EQ(batch_sizes[2], 2);
  EXPECT_EQ(batch_sizes[1], 1);
}

TEST(InferencePoolTest, OneBadExampleDoesNotFailItsBatch) {
  auto flaky = Slot("test_throwing.pt");
  testing::Collector c;
  InferencePool pool(PoolOptions{.workers = 1, .queue_capacity = 64, .max_batch = 8});
  Blocker blocker;
  ASSERT_TRUE(pool.Submit(blocker.Job(flaky)).ok());
  blocker.WaitEntered();
  std::vector<float> calm(8, 0.1f), hot(8, 0.1f);
  hot[0] = 3.f;
  ASSERT_TRUE(pool.Submit({flaky, calm, 1, c.Callback()}).ok());
  ASSERT_TRUE(pool.Submit({flaky, hot, 2, c.Callback()}).ok());  // throws in forward
  ASSERT_TRUE(pool.Submit({flaky, std::vector<float>(5, 0.f), 3, c.Callback()}).ok());
  ASSERT_TRUE(pool.Submit({flaky, calm, 4, c.Callback()}).ok());
  blocker.Release();
  auto results = c.WaitFor(4);
  for (const auto& r : results) {
    if (r.tag == 2) {
      EXPECT_EQ(r.status.code(), Code::kModelError);
    } else if (r.tag == 3) {
      EXPECT_EQ(r.status.code(), Code::kInvalidInput);
    } else {
      ASSERT_TRUE(r.status.ok()) << r.status.ToString();
      EXPECT_NEAR(r.output[0], demo::ClickProbability(demo::kChampion, calm.data()), 1e-6);
    }
  }
}

TEST(InferencePoolTest, ShutdownFinishesQueuedJobs) {
  auto slot = Slot("champion.pt");
  testing::Collector c;
  {
    InferencePool pool(PoolOptions{.workers = 1, .queue_capacity = 200});
    for (uint64_t tag = 0; tag < 200; ++tag) {
      ASSERT_TRUE(pool.Submit({slot, std::vector<float>(8, 0.f), tag, c.Callback()}).ok());
    }
  }  // destructor: Shutdown
  EXPECT_EQ(c.WaitFor(200).size(), 200u);
}

// Reload while 3 submitter threads keep the pool busy: every job completes
// OK, and results name the generation that ran. Submitters work in rounds;
// the main thread reloads between rounds while the workers are still busy
// with the last round's jobs, so later rounds run on newer generations.
TEST(InferencePoolTest, HotReloadUnderLoadLosesNoRequest) {
  auto slot = Slot("champion.pt");
  testing::Collector c;
  InferencePool pool(PoolOptions{.workers = 2, .queue_capacity = 4096, .max_batch = 4});
  constexpr int kRounds = 10, kPerRound = 100, kPerThread = kRounds * kPerRound;
  std::barrier sync(4);
  std::vector<std::thread> submitters;
  for (int t = 0; t < 3; ++t) {
    submitters.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (int i = 0; i < kPerRound; ++i) {
          const uint64_t tag = static_cast<uint64_t>(t) * kPerThread + round * kPerRound + i;
          // The queue holds everything: Submit never refuses here.
          EXPECT_TRUE(pool.Submit({slot, std::vector<float>(8, 0.2f), tag, c.Callback()}).ok());
        }
        sync.arrive_and_wait();  // round submitted
        sync.arrive_and_wait();  // reload done
      }
    });
  }
  for (int round = 0; round < kRounds; ++round) {
    sync.arrive_and_wait();
    EXPECT_TRUE(slot->Reload(Options(round % 2 ? "champion.pt" : "challenger.pt")).ok());
    sync.arrive_and_wait();
  }
  for (auto& t : submitters) t.join();
  auto results = c.WaitFor(3 * kPerThread);
  std::vector<float> x(8, 0.2f);
  const double champ = demo::ClickProbability(demo::kChampion, x.data());
  const double chall = demo::ClickProbability(demo::kChallenger, x.data());
  for (const auto& r : results) {
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    // Even generations are the challenger, odd ones the champion.
    EXPECT_NEAR(r.output[0], r.generation % 2 ? champ : chall, 1e-6) << r.generation;
    // A job submitted in round k ran after at least k reloads.
    const uint64_t round = (r.tag % kPerThread) / kPerRound;
    EXPECT_GE(r.generation, round + 1);
  }
  EXPECT_EQ(results.size(), 3u * kPerThread);
  EXPECT_EQ(slot->generation(), 11u);
}

}  // namespace
}  // namespace banditd::model
