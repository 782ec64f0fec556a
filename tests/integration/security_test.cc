// CURVE and the ZAP handler against the real banditd over loopback tcp
// (docs/operations.md "Key management"): an allowed client is
// served; a client with an unlisted key, a NULL-mechanism client and a client
// holding the api key on the admin socket are refused and served nothing; the
// daemon refuses to start on a missing, malformed or empty key set.
//
// A refused CURVE handshake looks like silence to the client: every refused
// attempt waits kRefusedWaitMs for a reply that must not come, then the test
// checks through an allowed client and /metrics that nothing was served.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "src/server/curve_keys.h"
#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {

namespace fs = std::filesystem;
using server::CurveKeyPair;

constexpr int kRefusedWaitMs = 1000;

// Keys under <dir>/keys: server.key/.pub, an api client `app`, an admin
// client `ops`, and `stranger`, listed nowhere.
struct Keys {
  CurveKeyPair server, app, ops, stranger;
};

CurveKeyPair MakePair(const std::string& dir, const std::string& name) {
  auto kp = server::GenerateKeyPair();
  EXPECT_TRUE(kp.ok()) << kp.status().ToString();
  fs::create_directories(dir);
  const Status s = server::WriteKeyPair(dir, name, *kp);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return *kp;
}

Keys MakeKeys(const std::string& dir) {
  Keys k;
  k.server = MakePair(dir + "/keys", "server");
  k.app = MakePair(dir + "/keys/api", "app");
  k.ops = MakePair(dir + "/keys/admin", "ops");
  k.stranger = MakePair(dir + "/keys/others", "stranger");
  return k;
}

std::string SecurityYaml(const std::string& dir) {
  return "security:\n  server_secret_key_file: " + dir +
         "/keys/server.key\n"
         "  api_client_keys_dir: " +
         dir + "/keys/api\n  admin_client_keys_dir: " + dir + "/keys/admin\n";
}

std::string StartCurveDaemon(const TempDir& dir, DaemonProcess* d) {
  ConfigOptions o;
  o.tcp = true;
  o.extra_yaml = SecurityYaml(dir.path());
  const std::string config = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5), o);
  EXPECT_TRUE(d->Start(config, dir.path()));
  return config;
}

CurveClientKeys As(const Keys& k, const CurveKeyPair& client) {
  return {k.server.public_z85, client.public_z85, client.secret_z85};
}

// Waits until the /metrics sample `series` reaches `at_least` (metrics are
// rendered once a second); returns the last value read.
double WaitForMetric(const DaemonProcess& d, const std::string& series, double at_least) {
  double v = -1;
  for (int i = 0; i < 100; ++i) {
    auto text = HttpGet(d.endpoints().metrics, "/metrics");
    if (text) v = MetricValue(*text, series);
    if (v >= at_least) return v;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return v;
}

double Metric(const DaemonProcess& d, const std::string& series) {
  auto text = HttpGet(d.endpoints().metrics, "/metrics");
  return text ? MetricValue(*text, series) : -1;
}

std::string Refused(const std::string& socket, const std::string& reason) {
  return "banditd_auth_refused_total{socket=\"" + socket + "\",reason=\"" + reason + "\"}";
}

TEST(SecurityTest, AllowedClientsAreServedAndRefusedOnesGetNothing) {
  TempDir dir;
  const Keys keys = MakeKeys(dir.path());
  DaemonProcess d;
  StartCurveDaemon(dir, &d);
  ASSERT_TRUE(d.running());
  ASSERT_EQ(d.endpoints().api.rfind("tcp://127.0.0.1:", 0), 0u) << d.endpoints().api;
  zmq::context_t ctx;

  // The allowed api client: two routes, one acked reward (3 frames).
  Client app(ctx, d.endpoints().api, zmq::socket_type::dealer, As(keys, keys.app));
  auto first = app.Route({"ab"});
  ASSERT_TRUE(first.ok()) << first.status().ToString() << d.LogTail();
  auto second = app.Route({"ab"});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(app.Reward(first->decision, 1.0).ok());

  // Refused on api: an unlisted key, the admin key (admin list only), NULL.
  // Each asks for a route and rewards `second`.
  const std::string route = RouteFrame({"ab"}, IdOf(1));
  const std::string reward = RewardFrame(second->decision, 1.0, IdOf(2));
  {
    Client stranger(ctx, d.endpoints().api, zmq::socket_type::dealer, As(keys, keys.stranger));
    Client ops_on_api(ctx, d.endpoints().api, zmq::socket_type::dealer, As(keys, keys.ops));
    Client plain(ctx, d.endpoints().api);  // NULL mechanism
    for (Client* c : {&stranger, &ops_on_api, &plain}) {
      c->Send(route);
      c->Send(reward);
    }
    for (Client* c : {&stranger, &ops_on_api, &plain}) {
      EXPECT_EQ(c->Recv(kRefusedWaitMs), std::nullopt) << "a refused client got a reply";
    }
  }
  // Refused on rewards (PUSH, fire-and-forget): an unlisted key and NULL.
  {
    Client stranger(ctx, d.endpoints().rewards, zmq::socket_type::push, As(keys, keys.stranger));
    Client plain(ctx, d.endpoints().rewards, zmq::socket_type::push);
    stranger.Send(RewardFrame(second->decision, 1.0));
    plain.Send(RewardFrame(second->decision, 1.0));
    std::this_thread::sleep_for(std::chrono::milliseconds(kRefusedWaitMs));
  }
  // Refused on admin: the api key and NULL, each trying to pause `ab`.
  {
    Client app_on_admin(ctx, d.endpoints().admin, zmq::socket_type::dealer, As(keys, keys.app));
    Client plain(ctx, d.endpoints().admin);
    for (Client* c : {&app_on_admin, &plain}) c->Send(AdminFrame(wire::Op::kPause, "ab"));
    for (Client* c : {&app_on_admin, &plain}) {
      EXPECT_EQ(c->Recv(kRefusedWaitMs), std::nullopt) << "a refused admin client got a reply";
    }
  }

  // Every refusal is counted, by socket and reason.
  EXPECT_GE(WaitForMetric(d, Refused("api", "key"), 2), 2) << "stranger and the admin key";
  EXPECT_GE(WaitForMetric(d, Refused("api", "handshake"), 1), 1) << "the NULL client";
  EXPECT_GE(WaitForMetric(d, Refused("rewards", "key"), 1), 1);
  EXPECT_GE(WaitForMetric(d, Refused("rewards", "handshake"), 1), 1);
  EXPECT_GE(WaitForMetric(d, Refused("admin", "key"), 1), 1) << "the api key on admin";
  EXPECT_GE(WaitForMetric(d, Refused("admin", "handshake"), 1), 1);

  // The allowed admin client sees: not paused, one reward applied (1 frame).
  Client ops(ctx, d.endpoints().admin, zmq::socket_type::dealer, As(keys, keys.ops));
  auto st = ops.GetStatus("ab");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  const auto* rep = FindReport(*st, "ab");
  ASSERT_NE(rep, nullptr);
  EXPECT_EQ(rep->state, ExperimentState::kRunning) << "a refused client paused it";
  uint64_t rewards = 0;
  double reward_sum = 0;
  for (const auto& arm : rep->arms) {
    rewards += arm.n;
    reward_sum += arm.reward_sum;
  }
  EXPECT_EQ(rewards, 1u);
  EXPECT_DOUBLE_EQ(reward_sum, 1.0);
  // Only the allowed clients' 4 frames reached the daemon: 2 routes served.
  EXPECT_EQ(WaitForMetric(d, "banditd_frames_total", 4), 4);
  EXPECT_EQ(Metric(d, "banditd_requests_total{experiment=\"ab\",arm=\"a\"}") +
                Metric(d, "banditd_requests_total{experiment=\"ab\",arm=\"b\"}"),
            2);
  EXPECT_EQ(Metric(d, "banditd_auth_accepted_total{socket=\"api\"}"), 1);
  EXPECT_EQ(Metric(d, "banditd_auth_accepted_total{socket=\"admin\"}"), 1);
  // `second` was never rewarded: the allowed client's reward is accepted.
  EXPECT_TRUE(app.Reward(second->decision, 0.0).ok());
  // The refusals are in the log (rate-limited, at least the first one).
  EXPECT_NE(d.LogTail(100000).find("auth: refused a client on"), std::string::npos);
  EXPECT_EQ(d.Stop(), 0);
}

// An extra api I/O thread's endpoint (sockets.api_extra) is guarded like api.
TEST(SecurityTest, ExtraApiEndpointsAdmitOnlyListedKeys) {
  TempDir dir;
  const Keys keys = MakeKeys(dir.path());
  ConfigOptions o;
  o.tcp = true;
  o.io_threads = 2;
  o.extra_yaml = SecurityYaml(dir.path());
  DaemonProcess d;
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5), o), dir.path()));
  ASSERT_EQ(d.endpoints().api_extra.size(), 1u);
  const std::string extra = d.endpoints().api_extra[0];
  zmq::context_t ctx;
  Client app(ctx, extra, zmq::socket_type::dealer, As(keys, keys.app));
  auto r = app.Route({"ab"});
  ASSERT_TRUE(r.ok()) << r.status().ToString() << d.LogTail();
  ASSERT_TRUE(app.Reward(r->decision, 1.0).ok());  // forwarded to the main thread
  {
    Client stranger(ctx, extra, zmq::socket_type::dealer, As(keys, keys.stranger));
    Client plain(ctx, extra);  // NULL mechanism
    for (Client* c : {&stranger, &plain}) c->Send(RouteFrame({"ab"}, IdOf(1)));
    for (Client* c : {&stranger, &plain}) {
      EXPECT_EQ(c->Recv(kRefusedWaitMs), std::nullopt) << "a refused client got a reply";
    }
  }
  EXPECT_GE(WaitForMetric(d, Refused("api", "key"), 1), 1);
  EXPECT_GE(WaitForMetric(d, Refused("api", "handshake"), 1), 1);
  // Only the allowed client's route and reward reached the daemon.
  EXPECT_EQ(WaitForMetric(d, "banditd_frames_total", 2), 2);
  EXPECT_EQ(Metric(d, "banditd_requests_total{experiment=\"ab\",arm=\"a\"}") +
                Metric(d, "banditd_requests_total{experiment=\"ab\",arm=\"b\"}"),
            1);
  EXPECT_EQ(d.Stop(), 0);
}

TEST(SecurityTest, AllowedPushRewardsApplyAndSighupReloadsTheKeys) {
  TempDir dir;
  const Keys keys = MakeKeys(dir.path());
  DaemonProcess d;
  StartCurveDaemon(dir, &d);
  ASSERT_TRUE(d.running());
  zmq::context_t ctx;
  Client app(ctx, d.endpoints().api, zmq::socket_type::dealer, As(keys, keys.app));
  auto r = app.Route({"ab"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Client push(ctx, d.endpoints().rewards, zmq::socket_type::push, As(keys, keys.app));
  push.Send(RewardFrame(r->decision, 1.0));
  EXPECT_GE(
      WaitForMetric(d, "banditd_arm_rewards_total{experiment=\"ab\",arm=\"" + r->arm + "\"}", 1), 1)
      << "the allowed PUSH client's reward was not applied";

  // The stranger is refused until its key is listed and SIGHUP re-reads the
  // directory; new connections then pass (existing ones are not re-checked).
  {
    Client stranger(ctx, d.endpoints().api, zmq::socket_type::dealer, As(keys, keys.stranger));
    EXPECT_EQ(stranger.Call(RouteFrame({"ab"}), kRefusedWaitMs), std::nullopt);
  }
  fs::copy_file(dir.path() + "/keys/others/stranger.pub", dir.path() + "/keys/api/stranger.pub");
  d.Signal(SIGHUP);
  bool served = false;
  for (int i = 0; i < 10 && !served; ++i) {
    Client stranger(ctx, d.endpoints().api, zmq::socket_type::dealer, As(keys, keys.stranger));
    served = ReplyCode(stranger.Call(RouteFrame({"ab"}), kRefusedWaitMs)) == Code::kOk;
  }
  EXPECT_TRUE(served) << "a key added to the directory is not accepted after SIGHUP";

  // A reload that fails (a malformed key) keeps the previous lists.
  {
    std::ofstream bad(dir.path() + "/keys/api/broken.pub");
    bad << "not a key\n";
  }
  d.Signal(SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Client again(ctx, d.endpoints().api, zmq::socket_type::dealer, As(keys, keys.stranger));
  EXPECT_EQ(ReplyCode(again.Call(RouteFrame({"ab"}), 5000)), Code::kOk);
  EXPECT_NE(d.LogTail(100000).find("previous allowlists stay in force"), std::string::npos)
      << d.LogTail();
  EXPECT_EQ(d.Stop(), 0);
}

// What CURVE costs per round trip over loopback tcp: the same route-only
// requests, one at a time, without and with CURVE (informational `[ rate ]`
// lines, not asserted; the handshake is once per connection).
TEST(SecurityTest, RoundTripRateWithAndWithoutCurve) {
  constexpr int kRequests = 3000;
  zmq::context_t ctx;
  for (bool curve : {false, true}) {
    TempDir dir;
    const Keys keys = MakeKeys(dir.path());
    ConfigOptions o;
    o.tcp = true;
    if (curve) o.extra_yaml = SecurityYaml(dir.path());
    DaemonProcess d;
    ASSERT_TRUE(d.Start(WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5), o), dir.path()));
    auto client = curve ? std::make_unique<Client>(ctx, d.endpoints().api, zmq::socket_type::dealer,
                                                   As(keys, keys.app))
                        : std::make_unique<Client>(ctx, d.endpoints().api);
    ASSERT_TRUE(client->Route({"ab"}).ok());  // connected (and admitted)
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kRequests; ++i) ASSERT_TRUE(client->Route({"ab"}).ok());
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[ rate ] route-only over tcp, synchronous, %s: %.0f req/s (%d in %.3f s)\n",
                curve ? "CURVE" : "no CURVE", kRequests / secs, kRequests, secs);
    EXPECT_EQ(d.Stop(), 0);
  }
}

// Start-up with a broken key set: exit code 2, a message naming the problem,
// and no socket bound (no endpoints file).
struct BadKeys {
  const char* what;
  std::function<void(const std::string& dir)> damage;
  const char* message;
  bool also_check = false;  // run `banditd --check` on it too
};

TEST(SecurityTest, StartUpIsRefusedWhenAKeyIsMissingMalformedOrTheListIsEmpty) {
  const std::vector<BadKeys> cases = {
      {"server key missing", [](const std::string& d) { fs::remove(d + "/keys/server.key"); },
       "no file at"},
      {"server key malformed",
       [](const std::string& d) {
         fs::remove(d + "/keys/server.key");
         std::ofstream(d + "/keys/server.key") << "0123456789\n";
       },
       "not a Z85 key", true},
      {"server key is a directory",
       [](const std::string& d) {
         fs::remove(d + "/keys/server.key");
         fs::create_directory(d + "/keys/server.key");
       },
       "server_secret_key_file"},
      {"api list empty", [](const std::string& d) { fs::remove(d + "/keys/api/app.pub"); },
       "holds no *.pub key", true},
      {"admin list has a malformed key",
       [](const std::string& d) { std::ofstream(d + "/keys/admin/bad.pub") << "short\n"; },
       "bad.pub: not a Z85 key"},
      {"admin dir missing", [](const std::string& d) { fs::remove_all(d + "/keys/admin"); },
       "no directory at"},
      {"api key file unreadable (a directory)",
       [](const std::string& d) { fs::create_directory(d + "/keys/api/sub.pub"); },
       "is not a regular file"},
      {"server key readable by the group",
       [](const std::string& d) { fs::permissions(d + "/keys/server.key", fs::perms(0640)); },
       "server.key: a secret key must be readable by its owner only, its mode is 0640: run "
       "chmod 600",
       true},
      {"api list holds a secret key (a .key copied to .pub)",
       [](const std::string& d) {
         fs::copy_file(d + "/keys/api/app.key", d + "/keys/api/app-copy.pub");
       },
       "app-copy.pub: holds a SECRET key", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    TempDir dir;
    MakeKeys(dir.path());
    ConfigOptions o;
    o.tcp = true;
    o.extra_yaml = SecurityYaml(dir.path());
    const std::string config = WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5), o);
    c.damage(dir.path());
    const std::string log = dir.path() + "/banditd.log";
    EXPECT_EQ(RunBanditd({"--config", config}, log), 2);
    std::ifstream f(log);
    std::stringstream text;
    text << f.rdbuf();
    EXPECT_NE(text.str().find(c.message), std::string::npos) << text.str();
    EXPECT_FALSE(fs::exists(dir.path() + "/state/endpoints")) << "it bound its sockets";
    // --check reads the key files the same way.
    if (c.also_check) {
      EXPECT_EQ(RunBanditd({"--config", config, "--check"}, log), 2);
    }
  }
}

}  // namespace
}  // namespace banditd::itest
