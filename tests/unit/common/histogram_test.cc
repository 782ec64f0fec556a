#include "src/common/histogram.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "banditd/rng.h"

namespace banditd {
namespace {

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Quantile(0.99), 0.0);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 10; ++v) h.Record(v);
  EXPECT_EQ(h.Quantile(0.0), 1.5);  // bucket [1, 2) reported at its midpoint
  EXPECT_EQ(h.Quantile(1.0), 10.5);
}

// Quantiles of a wide log-normal sample within 3.2% of the exact order statistics.
TEST(LatencyHistogramTest, QuantilesWithinBucketResolution) {
  Rng rng(9);
  LatencyHistogram h;
  std::vector<double> xs;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<uint64_t>(std::exp(rng.Normal(11.0, 1.5)));
    xs.push_back(static_cast<double>(v));
    h.Record(v);
  }
  std::sort(xs.begin(), xs.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double exact = xs[static_cast<size_t>(q * (xs.size() - 1))];
    EXPECT_NEAR(h.Quantile(q) / exact, 1.0, 0.032) << "q=" << q;
  }
}

TEST(LatencyHistogramTest, MergeAddsCounts) {
  LatencyHistogram a, b;
  a.Record(100);
  b.Record(1'000'000);
  b.Record(2'000'000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 2'000'000u);
  EXPECT_NEAR(a.Quantile(1.0) / 2e6, 1.0, 0.032);
  EXPECT_NEAR(a.Quantile(0.5) / 1e6, 1.0, 0.032);
  // Values past the range saturate instead of overflowing.
  a.Record(uint64_t{1} << 50);
  EXPECT_EQ(a.count(), 4u);
}

}  // namespace
}  // namespace banditd
