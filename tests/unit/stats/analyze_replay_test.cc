// `bandit-sim analyze --rule`: the flags become the params the config file
// would give, bad flags and malformed event files are refused with the line
// and exit code 2, the replay looks at the stated cadence and reports what a
// rule fed the same events decides; `export-events` rebuilds the events from
// a decision log.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "banditd/rng.h"
#include "src/config/experiment.h"
#include "src/config/stopping_flags.h"
#include "src/config/yaml_reader.h"
#include "src/state/env.h"
#include "src/stats/analyze_replay.h"
#include "src/stats/decision_events.h"

namespace banditd::stats {
namespace {

using config::StoppingFlags;

Params YamlParams(const std::string& yaml) {
  const config::EnvLookup env = [](std::string_view) { return std::optional<std::string>(); };
  Params p;
  const Status s = config::YamlNode(YAML::Load(yaml), "params", &env).AsParams(&p);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return p;
}

TEST(StoppingFlagsTest, ParamsAreTypedAsTheConfigFileTypesThem) {
  StoppingFlags f;
  f.rule = "sequential";
  f.alpha = "0.01";
  f.tau2 = "1e-4";
  f.params = {"min_samples=1000", "flag=true", "name=abc", "xs=[0.25, 0.75]"};
  auto p = config::StoppingParamsFromFlags(f);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const Params want = YamlParams(
      "{alpha: 0.01, tau2: 1e-4, min_samples: 1000, flag: true, name: abc, xs: [0.25, 0.75]}");
  EXPECT_EQ(p->values(), want.values());
  EXPECT_TRUE(std::holds_alternative<int64_t>(p->values().at("min_samples")));
  EXPECT_TRUE(std::holds_alternative<double>(p->values().at("alpha")));
}

TEST(StoppingFlagsTest, SpecIsTheDaemons) {
  StoppingFlags f;
  f.rule = "sequential";
  f.alpha = "0.02";
  f.mde = "0.01";
  f.metric = "gaussian";
  auto spec = config::StoppingSpecFromFlags(f, 3, 2);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const StoppingSpec want = MakeStoppingSpec(
      "sequential", YamlParams("{alpha: 0.02, mde: 0.01}"), 3, 2, Metric::kGaussian);
  EXPECT_EQ(spec->name, want.name);
  EXPECT_EQ(spec->num_arms, 3u);
  EXPECT_EQ(spec->control, 2u);
  EXPECT_EQ(spec->metric, Metric::kGaussian);
  EXPECT_EQ(spec->params.values(), want.params.values());
}

TEST(StoppingFlagsTest, BadFlagsAreRefused) {
  struct Case {
    std::vector<std::string> params;
    std::string alpha, rule, metric, message;
  };
  const Case cases[] = {
      {{"min_samples"}, "", "sequential", "bernoulli", "expected key=value"},
      {{"=3"}, "", "sequential", "bernoulli", "expected key=value"},
      {{"alpha=0.1"}, "0.2", "sequential", "bernoulli", "'alpha' is given twice"},
      {{"min_samples="}, "", "sequential", "bernoulli", "'min_samples' has no value"},
      {{"xs=[1,"}, "", "sequential", "bernoulli", "is not a YAML value"},
      {{"m={a: 1}"}, "", "sequential", "bernoulli", "must be a number, string, boolean"},
      {{}, "", "peek_daily", "bernoulli", "unknown stopping rule 'peek_daily'"},
      {{}, "", "", "bernoulli", "--rule is required"},
      {{"bogus=1"}, "", "sequential", "bernoulli", "unknown parameter 'bogus'"},
      {{"min_samples=-1"}, "", "sequential", "bernoulli", "min_samples must be >= 0"},
      {{}, "1.5", "sequential", "bernoulli", "alpha must be in (0, 1)"},
      {{"min_samples=many"}, "", "naive_peeking", "bernoulli", "min_samples"},
      {{}, "", "sequential", "poisson", "--metric must be bernoulli or gaussian"},
  };
  for (const auto& c : cases) {
    StoppingFlags f;
    f.rule = c.rule;
    f.alpha = c.alpha;
    f.params = c.params;
    f.metric = c.metric;
    auto spec = config::StoppingSpecFromFlags(f, 2, 0);
    ASSERT_FALSE(spec.ok()) << c.message;
    EXPECT_NE(spec.status().message().find(c.message), std::string::npos)
        << spec.status().message();
  }
}

TEST(EventCsvTest, ParsesColumnsInAnyOrderAndSkipsComments) {
  auto f = ParseEventCsv("# comment\nreward,arm,t,propensity,look\n1,b,0.5,0.5,0\n\n0,a,1,0.25,1\n");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->events.size(), 2u);
  EXPECT_EQ(f->arms, (std::vector<std::string>{"b", "a"}));
  EXPECT_TRUE(f->has_look_column);
  EXPECT_EQ(f->events[0].arm, 0u);
  EXPECT_EQ(f->events[0].reward, 1.0);
  EXPECT_EQ(f->events[0].t, 0.5);
  EXPECT_FALSE(f->events[0].look);
  EXPECT_EQ(f->events[1].line, 5u);
  EXPECT_EQ(f->events[1].propensity, 0.25);
  EXPECT_TRUE(f->events[1].look);
  // Declared arms fix the order and the count, even for an arm without events.
  auto d = ParseEventCsv("t,arm,reward,propensity\n0,b,1,0.5\n", {"a", "b", "c"});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->arms.size(), 3u);
  EXPECT_EQ(d->events[0].arm, 1u);
}

TEST(EventCsvTest, MalformedLinesNameTheLine) {
  const std::string h = "t,arm,reward,propensity\n";
  const std::pair<std::string, std::string> cases[] = {
      {"", "empty file"},
      {"# only a comment\n", "empty file"},
      {h, "no events"},
      {"t,arm,reward\n0,a,1\n", "line 1: missing column 'propensity'"},
      {"t,arm,reward,propensity,extra\n", "line 1: unknown column 'extra'"},
      {"t,arm,t,reward,propensity\n", "line 1: duplicate column 't'"},
      {h + "0,a,1,0.5\n0,a,1\n", "line 3: expected 4 fields, found 3"},
      {h + "# c\n0,a,1,0.5\nx,a,1,0.5\n", "line 4: column 't': 'x' is not a number"},
      {h + "0,a,nan,0.5\n", "line 2: column 'reward': 'nan' is not a finite number"},
      {h + "0,a,inf,0.5\n", "line 2: column 'reward'"},
      {h + "-1,a,1,0.5\n", "line 2: t < 0"},
      {h + "0,a,1,0\n", "line 2: propensity 0 is not in (0, 1]"},
      {h + "0,a,1,1.5\n", "line 2: propensity 1.5 is not in (0, 1]"},
      {h + "0,,1,0.5\n", "line 2: empty arm name"},
      {h + "0,a,1,\n", "line 2: empty value in column 'propensity'"},
      {"t,arm,reward,propensity,look\n0,a,1,0.5,2\n", "line 2: look must be 0 or 1"},
  };
  for (const auto& [text, message] : cases) {
    auto f = ParseEventCsv(text);
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_NE(f.status().message().find(message), std::string::npos)
        << text << " -> " << f.status().message();
  }
  auto undeclared = ParseEventCsv(h + "0,a,1,0.5\n0,z,1,0.5\n", {"a", "b"});
  ASSERT_FALSE(undeclared.ok());
  EXPECT_NE(undeclared.status().message().find("line 3: arm 'z' is not one of --arms"),
            std::string::npos);
}

// Events of an A/B test with a real effect: control 0.10, treatment 0.13,
// 50/50, fixed seed.
std::string AbEvents(size_t n, bool look_column, uint64_t look_every) {
  Rng rng(20261124);
  std::string s = look_column ? "t,arm,reward,propensity,look\n" : "t,arm,reward,propensity\n";
  for (size_t i = 0; i < n; ++i) {
    const bool treat = rng.Uniform() < 0.5;
    const double rate = treat ? 0.13 : 0.10;
    const int reward = rng.Uniform() < rate ? 1 : 0;
    s += std::to_string(0.01 * static_cast<double>(i)) + "," + (treat ? "new" : "old") + "," +
         std::to_string(reward) + ",0.5";
    if (look_column) s += (i + 1) % look_every == 0 ? ",1" : ",0";
    s += "\n";
  }
  return s;
}

class ReplayCommandTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = ::testing::TempDir() + "replay_" +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
                             std::to_string(files_++) + ".csv";
    std::ofstream(path) << text;
    return path;
  }
  int Run(const std::string& text, StoppingFlags flags, ReplayOptions o) {
    out_.str("");
    err_.str("");
    o.events_path = Write(text);
    return RunReplayCommand(
        o,
        [&](size_t k, size_t c) { return config::StoppingSpecFromFlags(flags, k, c); }, out_,
        err_);
  }
  static StoppingFlags Sequential() {
    StoppingFlags f;
    f.rule = "sequential";
    f.alpha = "0.05";
    f.tau2 = "0.0001";
    f.params = {"min_samples=200"};
    return f;
  }
  static std::string P(double p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", p);
    return buf;
  }
  std::ostringstream out_, err_;
  int files_ = 0;
};

TEST_F(ReplayCommandTest, DecisionLookAndPAreThoseOfTheRuleFedTheSameEvents) {
  const std::string text = AbEvents(20000, false, 0);
  ReplayOptions o;
  o.control = "old";
  o.look_every = 500;
  ASSERT_EQ(Run(text, Sequential(), o), 0) << err_.str();
  // The same events through the same rule, by hand.
  auto file = ParseEventCsv(text);
  ASSERT_TRUE(file.ok());
  const size_t control = file->arms[0] == "old" ? 0 : 1;
  auto rule = MakeStoppingRule(MakeStoppingSpec(
      "sequential", YamlParams("{alpha: 0.05, tau2: 0.0001, min_samples: 200}"), 2, control,
      Metric::kBernoulli));
  ASSERT_TRUE(rule.ok());
  StopDecision d;
  uint64_t look = 0, events = 0;
  for (const auto& e : file->events) {
    (*rule)->Observe(e.arm, e.reward, e.propensity);
    if (++events % 500 != 0) continue;
    ++look;
    d = (*rule)->Check();
    if (d.stop) break;
  }
  ASSERT_TRUE(d.stop) << "the fixture should decide within 20000 events";
  ASSERT_TRUE(d.winner.has_value());
  const std::string s = out_.str();
  EXPECT_NE(s.find("decision: STOP at look " + std::to_string(look) + " (after " +
                   std::to_string(events) + " of 20000 events"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("winner '" + file->arms[*d.winner] + "'"), std::string::npos) << s;
  EXPECT_NE(s.find("  p " + P(d.p_value) + "\n"), std::string::npos) << s;
  EXPECT_NE(s.find("interval [" + P(d.ci_lo) + ", " + P(d.ci_hi) + "]"), std::string::npos) << s;
  EXPECT_NE(s.find("rule sequential {alpha: 0.05, min_samples: 200, tau2: 1e-04}"),
            std::string::npos)
      << s;

  // The same cadence marked in the file's look column: the same output
  // after the header line that names the cadence.
  const std::string by_count = s.substr(s.find("\n\n"));
  o.look_every = 0;
  ASSERT_EQ(Run(AbEvents(20000, true, 500), Sequential(), o), 0) << err_.str();
  EXPECT_EQ(out_.str().substr(out_.str().find("\n\n")), by_count);
}

TEST_F(ReplayCommandTest, TraceAndJsonListEveryLook) {
  ReplayOptions o;
  o.control = "old";
  o.look_every = 1000;
  o.trace = true;
  o.json = true;
  ASSERT_EQ(Run(AbEvents(3000, false, 0), Sequential(), o), 0) << err_.str();
  const std::string s = out_.str();
  EXPECT_NE(s.find("\"looks\": 3"), std::string::npos) << s;
  EXPECT_NE(s.find("{\"look\": 3, \"events\": 3000"), std::string::npos) << s;
  EXPECT_NE(s.find("\"look_every\": 1000"), std::string::npos) << s;
  EXPECT_NE(s.find("\"control\": \"old\""), std::string::npos) << s;
}

TEST_F(ReplayCommandTest, NoDecisionSaysSo) {
  ReplayOptions o;
  o.look_every = 100;
  ASSERT_EQ(Run(AbEvents(250, false, 0), Sequential(), o), 0) << err_.str();
  EXPECT_NE(out_.str().find("decision: none after 2 looks (250 events)"), std::string::npos)
      << out_.str();
}

TEST_F(ReplayCommandTest, BadInputExitsTwoWithTheReason) {
  const std::string good = "t,arm,reward,propensity\n0,a,1,0.5\n1,b,0,0.5\n";
  ReplayOptions every;
  every.look_every = 1;
  StoppingFlags unknown = Sequential();
  unknown.rule = "peek_daily";
  EXPECT_EQ(Run(good, unknown, every), 2);
  EXPECT_NE(err_.str().find("unknown stopping rule 'peek_daily'"), std::string::npos);
  StoppingFlags bad_param = Sequential();
  bad_param.params = {"min_samples=-5"};
  EXPECT_EQ(Run(good, bad_param, every), 2);
  EXPECT_NE(err_.str().find("min_samples must be >= 0"), std::string::npos) << err_.str();
  EXPECT_EQ(Run(good + "2,a,1\n", Sequential(), every), 2);
  EXPECT_NE(err_.str().find(": line 4: expected 4 fields, found 3"), std::string::npos)
      << err_.str();
  EXPECT_EQ(Run(good, Sequential(), ReplayOptions{}), 2);
  EXPECT_NE(err_.str().find("--look-every"), std::string::npos) << err_.str();
  ReplayOptions control = every;
  control.control = "zz";
  EXPECT_EQ(Run(good, Sequential(), control), 2);
  EXPECT_NE(err_.str().find("--control 'zz' is not an arm"), std::string::npos) << err_.str();
  EXPECT_EQ(Run(good + "3,a,2,0.5\n", Sequential(), every), 2);
  EXPECT_NE(err_.str().find("line 4: reward 2 is outside [0, 1]"), std::string::npos)
      << err_.str();
  EXPECT_EQ(Run(good + "0.5,a,1,0.5\n", Sequential(), every), 2);
  EXPECT_NE(err_.str().find("line 4: t goes backwards (0.5 after line 3)"), std::string::npos)
      << err_.str();
  // bernoulli_cs counts successes: the daemon refuses a fractional reward.
  StoppingFlags bcs;
  bcs.rule = "bernoulli_cs";
  EXPECT_EQ(Run(good + "3,a,0.5,0.5\n", bcs, every), 2);
  EXPECT_NE(err_.str().find("line 4: stopping rule bernoulli_cs counts successes"),
            std::string::npos)
      << err_.str();
  ReplayOptions dup = every;
  dup.arms = {"a", "a"};
  EXPECT_EQ(Run(good, Sequential(), dup), 2);
  // bandit_cs takes exactly two arms: the rule's own refusal.
  StoppingFlags cs;
  cs.rule = "bandit_cs";
  ReplayOptions three = every;
  three.arms = {"a", "b", "c"};
  EXPECT_EQ(Run(good, cs, three), 2);
  EXPECT_NE(err_.str().find("bandit_cs"), std::string::npos) << err_.str();
  out_.str("");
  ReplayOptions missing = every;
  missing.events_path = "/nonexistent/events.csv";
  EXPECT_EQ(RunReplayCommand(
                missing, [](size_t, size_t) { return Result<StoppingSpec>(StoppingSpec{}); },
                out_, err_),
            2);
  EXPECT_TRUE(out_.str().empty());
}

class ExportEventsTest : public ::testing::Test {
 protected:
  std::string Dir() {
    const std::string dir = ::testing::TempDir() + "export_" +
                            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
  }
  static std::string D(int64_t ns, int epoch, const std::string& id, const std::string& arm,
                       const std::string& p, int forced = 0) {
    return "D\t" + std::to_string(ns) + "\tctr\t" + std::to_string(epoch) + "\t" + id + "\t" +
           arm + "\t" + p + "\t" + std::to_string(forced) + "\t-\t-\t-\n";
  }
  static std::string R(int64_t ns, const std::string& id, const std::string& arm,
                       const std::string& v) {
    return "R\t" + std::to_string(ns) + "\tctr\t" + id + "\t" + arm + "\t" + v + "\n";
  }
};

TEST_F(ExportEventsTest, JoinsRewardsOfTheEpochInLogOrder) {
  const std::string dir = Dir();
  const int64_t t0 = 1'700'000'000'000'000'000;
  std::ofstream(dir + "/decisions-000000.tsv")
      << "# banditd decision log v1\n"
      << D(t0 - 5'000'000'000, 1, "old1", "a", "0.5") << R(t0 - 4'000'000'000, "gone", "a", "1")
      << D(t0, 2, "d1", "b", "0.30000001192092896") << D(t0 + 1000, 2, "d2", "a", "0.5")
      << D(t0 + 2000, 2, "f1", "a", "1", 1) << D(t0 + 3000, 2, "d3", "a", "1e-9");
  std::ofstream(dir + "/decisions-000001.tsv")
      << "# banditd decision log v1\n"
      << R(t0 + 1'500'000'000, "d2", "a", "0") << R(t0 + 2'000'000'000, "d1", "b", "1")
      << R(t0 + 2'100'000'000, "old1", "a", "1") << R(t0 + 2'200'000'000, "f1", "a", "1")
      << R(t0 + 2'500'000'000, "d3", "a", "0.25");
  auto r = ExportEvents(state::Env::Posix(), dir, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->experiment, "ctr");
  EXPECT_EQ(r->epoch, 2);
  EXPECT_EQ(r->events, 3u);
  EXPECT_EQ(r->forced, 1u);
  EXPECT_EQ(r->other_epochs, 1u);
  EXPECT_EQ(r->early_orphans, 1u);
  EXPECT_EQ(r->arms, (std::vector<std::string>{"b", "a"}));
  const std::string body = r->csv.substr(r->csv.find("t,arm,"));
  EXPECT_EQ(body,
            "t,arm,reward,propensity\n1.5,a,0,0.5\n2,b,1,0.30000001192092896\n2.5,a,0.25,1e-06\n");
  // The export parses as an event file.
  EXPECT_TRUE(ParseEventCsv(r->csv).ok());

  // Epoch 1 began before the reward of 'gone', whose decision is not in the
  // log: its events cannot be rebuilt.
  auto old = ExportEvents(state::Env::Posix(), dir, {"ctr", 1});
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("'gone' has no decision line"), std::string::npos)
      << old.status().message();
}

// With the daemon's E line (arms, champion) and L lines (the rule's looks),
// the export puts the champion first and marks the rewards each look
// followed; analyze reads both, and an arm outside the '# arms:' line is
// refused.
TEST_F(ExportEventsTest, ChampionFirstAndTheRulesLooksMarked) {
  const std::string dir = Dir();
  const int64_t t0 = 1'700'000'000'000'000'000;
  std::ofstream(dir + "/decisions-000000.tsv")
      << "E\t" << t0 << "\tctr\t0\tchamp\tnew,champ\n"
      << D(t0, 0, "d1", "new", "0.5") << D(t0 + 1, 0, "d2", "champ", "0.5")
      << D(t0 + 2, 0, "d3", "new", "0.5") << R(t0 + 1'000'000'000, "d1", "new", "1")
      << "L\t" << t0 + 1'000'000'001 << "\tctr\t0\t1\n"
      << "L\t" << t0 + 1'000'000'002 << "\tctr\t0\t2\n"  // a look at the same data
      << R(t0 + 2'000'000'000, "d2", "champ", "0")
      << R(t0 + 3'000'000'000, "d3", "new", "1")
      << "L\t" << t0 + 3'000'000'001 << "\tctr\t0\t3\n";
  auto r = ExportEvents(state::Env::Posix(), dir, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->champion_known);
  EXPECT_EQ(r->arms, (std::vector<std::string>{"champ", "new"}));
  EXPECT_EQ(r->looks, 3u);
  EXPECT_NE(r->csv.find("# arms: champ,new\n"), std::string::npos) << r->csv;
  const std::string body = r->csv.substr(r->csv.find("t,arm,"));
  EXPECT_EQ(body, "t,arm,reward,propensity,look\n1,new,1,0.5,1\n2,champ,0,0.5,0\n3,new,1,0.5,1\n")
      << r->csv;
  auto parsed = ParseEventCsv(r->csv);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->arms, (std::vector<std::string>{"champ", "new"}));  // control first
  ASSERT_EQ(parsed->events.size(), 3u);
  EXPECT_TRUE(parsed->events[0].look);
  EXPECT_FALSE(parsed->events[1].look);
  EXPECT_EQ(parsed->events[0].arm, 1u);
  auto stranger = ParseEventCsv("# arms: a,b\nt,arm,reward,propensity\n0,c,1,0.5\n");
  ASSERT_FALSE(stranger.ok());
  EXPECT_NE(stranger.status().message().find("line 3: arm 'c' is not one of --arms or the"),
            std::string::npos)
      << stranger.status().message();
  // --arms wins over the line.
  auto declared = ParseEventCsv(r->csv, {"new", "champ"});
  ASSERT_TRUE(declared.ok());
  EXPECT_EQ(declared->arms, (std::vector<std::string>{"new", "champ"}));

  // A repeated R line counts once (as in the daemon); an R line whose arm
  // contradicts its decision, or E lines that disagree, are refused.
  std::ofstream(dir + "/decisions-000001.tsv") << R(t0 + 4'000'000'000, "d3", "new", "1");
  auto twice = ExportEvents(state::Env::Posix(), dir, {});
  ASSERT_TRUE(twice.ok()) << twice.status().ToString();
  EXPECT_EQ(twice->events, 3u);
  EXPECT_EQ(twice->duplicates, 1u);
  std::ofstream(dir + "/decisions-000001.tsv") << R(t0 + 4'000'000'000, "d2", "new", "1");
  auto contradicts = ExportEvents(state::Env::Posix(), dir, {});
  ASSERT_FALSE(contradicts.ok());
  EXPECT_NE(contradicts.status().message().find("names arm 'new' but the decision chose 'champ'"),
            std::string::npos)
      << contradicts.status().message();
  std::ofstream(dir + "/decisions-000001.tsv") << "E\t" << t0 + 5 << "\tctr\t0\tnew\tnew,champ\n";
  auto swapped = ExportEvents(state::Env::Posix(), dir, {});
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.status().message().find("disagree on its arms or champion"), std::string::npos)
      << swapped.status().message();
}

TEST_F(ExportEventsTest, RefusesWhatCannotBeRebuilt) {
  const int64_t t0 = 1'700'000'000'000'000'000;
  {
    const std::string dir = Dir();
    std::ofstream(dir + "/decisions-000000.tsv")
        << "# banditd decision log v1\n"
        << D(t0, 1, "d1", "a", "0.5") << "# 12 lines dropped from 1 to 2 ns: disk_reserve\n"
        << R(t0 + 1, "d1", "a", "1");
    auto r = ExportEvents(state::Env::Posix(), dir, {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("decisions-000000.tsv line 3: the log dropped lines"),
              std::string::npos)
        << r.status().message();
  }
  {
    const std::string dir = Dir();
    std::ofstream(dir + "/decisions-000000.tsv")
        << D(t0, 1, "d1", "a", "0.5") << R(t0 + 1, "lost", "a", "1");
    auto r = ExportEvents(state::Env::Posix(), dir, {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("'lost' has no decision line"), std::string::npos)
        << r.status().message();
  }
  {
    const std::string dir = Dir();
    std::ofstream(dir + "/decisions-000000.tsv")
        << D(t0, 1, "d1", "a", "0.5")
        << "D\t1\tother\t1\tx\ta\t0.5\t0\t-\t-\t-\n";
    auto r = ExportEvents(state::Env::Posix(), dir, {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("several experiments (ctr, other)"), std::string::npos);
    auto none = ExportEvents(state::Env::Posix(), dir, {"ctr", std::nullopt});
    ASSERT_FALSE(none.ok());
    EXPECT_NE(none.status().message().find("no rewards"), std::string::npos);
  }
}

}  // namespace
}  // namespace banditd::stats
