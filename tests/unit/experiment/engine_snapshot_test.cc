// Engine::Restore on malformed snapshots: every bad field is a kCorruption
// Status that names it, never a crash, and the engine is left unchanged.
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include "src/experiment/engine.h"
#include "tests/unit/experiment/engine_fixture.h"

namespace banditd::experiment {
namespace {

EngineOptions Options() {
  return fixture::EngineOver(
      {fixture::ThompsonExperiment(), fixture::ContextualExperiment("linucb", 2)}, 5, 1);
}

std::unique_ptr<Engine> Make(Clock& clock) {
  return fixture::CreatedOr(Engine::Create(Options(), clock),
                            [](const Status& s) { ADD_FAILURE() << s.ToString(); });
}

template <typename T>
std::string Pack(const T& v) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, v);
  return std::string(buf.data(), buf.size());
}

std::string Bin(const std::string& bytes) {
  return Pack(std::vector<char>(bytes.begin(), bytes.end()));
}

// `map_bytes` (a msgpack map) with the value of `key` replaced by the packed
// `raw_value`.
std::string Replace(const std::string& map_bytes, const std::string& key,
                    const std::string& raw_value) {
  auto oh = msgpack::unpack(map_bytes.data(), map_bytes.size());
  const msgpack::object& root = oh.get();
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(root.via.map.size);
  bool found = false;
  for (uint32_t i = 0; i < root.via.map.size; ++i) {
    const auto& kv = root.via.map.ptr[i];
    pk.pack(kv.key);
    if (kv.key.as<std::string>() == key) {
      buf.write(raw_value.data(), raw_value.size());
      found = true;
    } else {
      pk.pack(kv.val);
    }
  }
  EXPECT_TRUE(found) << key;
  return std::string(buf.data(), buf.size());
}

// A snapshot of an engine that has routed and rewarded, with contexts kept.
std::string RealSnapshot(Clock& clock) {
  auto eng = Make(clock);
  const std::vector<double> x = {1.0, 0.5};
  for (int i = 0; i < 20; ++i) {
    auto d = eng->Route("ctr", std::nullopt, std::nullopt);
    auto p = eng->Prepare(std::string(d->id.data(), d->id.size()), i % 2);
    eng->Commit(*p);
    EXPECT_TRUE(eng->Route("ctx", std::nullopt, std::nullopt, x).ok());
  }
  return eng->Snapshot();
}

TEST(EngineSnapshotTest, LedgerRowThatIsNotAnArrayIsCorruption) {
  ManualClock clock;
  auto eng = Make(clock);
  // {"ledger": [5]}
  Status s = eng->Restore(Pack(std::map<std::string, std::vector<int>>{{"ledger", {5}}}));
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_NE(s.message().find("'ledger[0]'"), std::string::npos) << s.ToString();
}

TEST(EngineSnapshotTest, EachMalformedFieldIsCorruptionNamingIt) {
  ManualClock clock;
  const std::string real = RealSnapshot(clock);
  const std::string exp_state = [&] {
    auto eng = Make(clock);
    EXPECT_TRUE(eng->Restore(real).ok());
    return eng->experiment(0).Snapshot();
  }();
  auto with_ctr = [&](const std::string& key, const std::string& raw) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_map(1);
    pk.pack("ctr");
    const std::string bin = Bin(Replace(exp_state, key, raw));
    buf.write(bin.data(), bin.size());
    return Replace(real, "experiments", std::string(buf.data(), buf.size()));
  };
  using Ints = std::vector<std::vector<int64_t>>;
  using Counters = std::vector<std::tuple<int, int, int, double, double, double>>;
  struct Case {
    std::string name, snapshot, field;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<Case> cases = {
      {"ledger not an array", Replace(real, "ledger", Pack(5)), "'ledger'"},
      {"ledger row too short", Replace(real, "ledger", Pack(Ints{{1}})), "'ledger[0]'"},
      {"ledger key not a number",
       Replace(real, "ledger", Pack(std::vector<std::tuple<int, std::string>>{{1, "x"}})),
       "'ledger[0][1] (key)'"},
      {"ledger issued negative", Replace(real, "ledger", Pack(Ints{{-1, 2}})),
       "'ledger[0][0] (issued_s)'"},
      {"ledger issued past u32", Replace(real, "ledger", Pack(Ints{{int64_t{1} << 32, 2}})),
       "'ledger[0][0] (issued_s)'"},
      {"experiments not a map", Replace(real, "experiments", Pack(std::vector<int>{})),
       "'experiments'"},
      {"experiment state not binary",
       Replace(real, "experiments", Pack(std::map<std::string, int>{{"ctr", 5}})),
       "'experiments[\"ctr\"]'"},
      {"experiment name not a string",
       Replace(real, "experiments", Pack(std::map<int, int>{{5, 5}})), "'experiments key #0'"},
      {"contexts not a map", Replace(real, "contexts", Pack(std::vector<int>{})), "'contexts'"},
      {"contexts state not binary",
       Replace(real, "contexts", Pack(std::map<std::string, std::string>{{"ctx", "x"}})),
       "'contexts[\"ctx\"]'"},
      {"context store malformed",
       Replace(real, "contexts", Pack(std::map<std::string, std::vector<char>>{{"ctx", {1, 2}}})),
       "'contexts[\"ctx\"]'"},
      {"format a string", Replace(real, "format", Pack("1")), "'format'"},
      {"horizon negative", Replace(real, "horizon", Pack(-1)), "'horizon'"},
      {"horizon a float", Replace(real, "horizon", Pack(1.5)), "'horizon'"},
      {"key not a string", Pack(std::map<int, int>{{1, 2}}), "'key #0'"},
      {"epoch a string", with_ctr("epoch", Pack("x")), "'epoch'"},
      {"epoch past u16", with_ctr("epoch", Pack(70000)), "'epoch'"},
      {"state out of range", with_ctr("state", Pack(9)), "'state'"},
      {"winner out of range", with_ctr("winner", Pack(2)), "bad winner"},
      {"winner below -1", with_ctr("winner", Pack(-2)), "'winner'"},
      {"reason not a string", with_ctr("reason", Pack(3)), "'reason'"},
      {"stale negative", with_ctr("stale", Pack(-3)), "'stale'"},
      {"counters not an array", with_ctr("counters", Pack(1)), "'counters'"},
      {"counters row short", with_ctr("counters", Pack(Ints{{1, 2}, {1, 2}})), "'counters[0]'"},
      {"counter not a number",
       with_ctr("counters",
                Pack(std::vector<std::tuple<int, int, int, std::string, double, double>>{
                    {1, 0, 0, "x", 0.0, 0.0}, {1, 0, 0, "x", 0.0, 0.0}})),
       "'counters[0][3]'"},
      {"counter NaN",
       with_ctr("counters", Pack(Counters{{1, 0, 0, 1.0, 1.0, 1.0}, {1, 0, 0, nan, 0.0, 0.0}})),
       "'counters[1][3]'"},
      {"requests negative",
       with_ctr("counters", Pack(Counters{{-1, 0, 0, 0.0, 0.0, 0.0}, {1, 0, 0, 0.0, 0.0, 0.0}})),
       "'counters[0][0]'"},
      {"policy not binary", with_ctr("policy", Pack(1)), "'policy'"},
      {"policy state malformed", with_ctr("policy", Bin("\x01\x02")), "policy: "},
      {"stopping neither binary nor nil", with_ctr("stopping", Pack(1)), "'stopping'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto eng = Make(clock);
    const std::string before = eng->Snapshot();
    const Status s = eng->Restore(c.snapshot);
    EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
    EXPECT_NE(s.message().find(c.field), std::string::npos) << s.ToString();
    EXPECT_EQ(eng->Snapshot(), before) << "a refused snapshot changed the engine";
  }
}

TEST(EngineSnapshotTest, DuplicateAndTrailingBytesAreCorruption) {
  ManualClock clock;
  const std::string real = RealSnapshot(clock);
  auto eng = Make(clock);
  EXPECT_EQ(eng->Restore(real + '\0').code(), Code::kCorruption);
  EXPECT_EQ(eng->Restore(Pack(std::vector<int>{1})).code(), Code::kCorruption);  // not a map
  // {"ledger": [], "ledger": []}
  const std::string twice = "\x82\xa6ledger\x90\xa6ledger\x90";
  const Status s = eng->Restore(twice);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_NE(s.message().find("'ledger' appears twice"), std::string::npos) << s.ToString();
  EXPECT_TRUE(eng->Restore(real).ok());
}

// A bad experiment after a good one: nothing is applied, not even the good one.
TEST(EngineSnapshotTest, ARefusedSnapshotChangesNothing) {
  ManualClock clock;
  const std::string real = RealSnapshot(clock);
  auto source = Make(clock);
  ASSERT_TRUE(source->Restore(real).ok());
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(2);
  pk.pack("ctr");
  const std::string good = Bin(source->experiment(0).Snapshot());
  buf.write(good.data(), good.size());
  pk.pack("ctx");
  pk.pack(5);
  const std::string bad = Replace(real, "experiments", std::string(buf.data(), buf.size()));
  auto eng = Make(clock);
  const std::string before = eng->Snapshot();
  EXPECT_EQ(eng->Restore(bad).code(), Code::kCorruption);
  EXPECT_EQ(eng->Snapshot(), before);
  EXPECT_EQ(eng->experiment(0).counters()[0].n + eng->experiment(0).counters()[1].n, 0.0);
}

TEST(EngineSnapshotTest, RealSnapshotRoundTrips) {
  ManualClock clock;
  const std::string real = RealSnapshot(clock);
  auto eng = Make(clock);
  ASSERT_TRUE(eng->Restore(real).ok());
  EXPECT_EQ(eng->Snapshot(), real);
  EXPECT_EQ(eng->ledger().size(), 20u);
  EXPECT_EQ(eng->experiment(1).contexts().entries(), 20u);
}

TEST(EngineSnapshotTest, UnsupportedFormatIsInvalidArgument) {
  ManualClock clock;
  auto eng = Make(clock);
  const Status s = eng->Restore(Replace(RealSnapshot(clock), "format", Pack(2)));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("format 2"), std::string::npos);
}

}  // namespace
}  // namespace banditd::experiment
