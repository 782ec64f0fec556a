// banditd: the daemon. See docs/operations.md.
//   banditd [--config FILE] [--check] [--log-level LEVEL] [--repair] [--insecure]
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "src/config/loader.h"
#include "src/server/config_models.h"
#include "src/server/curve_keys.h"
#include "src/server/daemon.h"
#include "src/telemetry/fd_limit.h"

namespace {

std::atomic<banditd::server::Daemon*> g_daemon{nullptr};
// A SIGTERM/SIGINT that came while the daemon was starting: it stops as soon
// as it can serve (after writing its endpoints file, a supervisor may signal
// at any moment; the default action would kill it without a snapshot).
std::atomic<bool> g_stop_requested{false};

void OnSignal(int) {
  g_stop_requested.store(true);
  if (auto* d = g_daemon.load(); d != nullptr) d->Stop();
}

void OnHangup(int) {
  if (auto* d = g_daemon.load(); d != nullptr) d->ReloadKeys();
}

// glibc gives the top of its heaps back to the OS as soon as 128 KiB there
// are free, and takes them back a moment later: the requests queued for
// clients that send faster than they read (up to 100 per connection) fill
// and drain all the time, and RSS followed them by megabytes. Keeping up to
// 8 MiB of freed heap makes RSS the high-water mark of that churn instead.
// The daemon still hands memory back explicitly where it knows a peak has
// passed: after recovery, after each snapshot and after a burst of unsent
// replies (Daemon::ReturnFreedMemory). Process-wide, so set here and not by
// the library.
void KeepFreedHeap() {
#ifdef __GLIBC__
  mallopt(M_TRIM_THRESHOLD, banditd::server::kKeptFreeHeapBytes);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  KeepFreedHeap();
  CLI::App app{
      "banditd: routes live requests between a champion and challenger models, "
      "learns from rewards, decides and promotes."};
  std::string config_path = "config/demo.yaml";
  std::string log_level;
  bool check = false;
  banditd::server::DaemonFlags flags;
  app.add_option("-c,--config", config_path, "YAML config file")->capture_default_str();
  app.add_flag("--check", check,
               "validate the config, the key files and the models (each loaded and run once on its "
               "input_shape) and exit");
  app.add_option(
      "--log-level", log_level,
      "trace|debug|info|warn|error|critical|off (default: config, or BANDITD_LOG_LEVEL)");
  app.add_flag("--repair", flags.repair,
               "start even if the WAL has a corrupt record: keep what precedes it");
  app.add_flag("--insecure", flags.insecure, "allow non-loopback binds without CURVE");
  app.add_option("--snapshot-interval-ms", flags.snapshot_interval_ms,
                 "how often to write a snapshot (0: only on shutdown)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto config = banditd::config::LoadConfigFile(config_path);
  if (!config.ok()) {
    std::cerr << "banditd: " << config.status().message() << "\n";
    return 2;
  }
  if (log_level.empty()) {
    const char* env = std::getenv("BANDITD_LOG_LEVEL");
    log_level = env != nullptr ? env : config->log_level;
  }
  const auto level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off") {
    // spdlog reads any unknown name as "off": refuse it instead of going silent.
    std::cerr << "banditd: unknown log level '" << log_level
              << "' (trace, debug, info, warn, error, critical, off)\n";
    return 2;
  }
  spdlog::set_level(level);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  if (check) {
    // Start-up's refusal to expose endpoints, with the same --insecure.
    if (banditd::Status s = banditd::config::CheckExposure(*config, flags.insecure); !s.ok()) {
      std::cerr << "banditd: " << s.message() << "\n";
      return 2;
    }
    if (config->security.curve()) {
      // The key files are part of what --check promises: the same loaders
      // the daemon uses at start-up.
      const auto& sec = config->security;
      banditd::Status s =
          banditd::server::LoadServerSecretKeyFile(sec.server_secret_key_file).status();
      if (s.ok()) s = banditd::server::LoadAllowlist(sec.api_client_keys_dir).status();
      if (s.ok()) s = banditd::server::LoadAllowlist(sec.admin_client_keys_dir).status();
      if (!s.ok()) {
        std::cerr << "banditd: " << s.message() << "\n";
        return 2;
      }
    }
    // The models too: each is loaded and run once on its input_shape, as
    // start-up does.
    if (banditd::Status s = banditd::server::CheckModels(*config); !s.ok()) {
      std::cerr << "banditd: " << config->source << ": " << s.message() << "\n";
      return 2;
    }
    std::cout << "banditd: " << config_path << " is valid (" << config->experiments.size()
              << " experiment(s))\n";
    return 0;
  }

  // The descriptor budget (docs/operations.md, Metrics): as many descriptors
  // as the hard limit allows, so ZeroMQ, the WAL and snapshots keep room.
  const auto fds = banditd::telemetry::RaiseFdLimit();
  if (fds.error.empty()) {
    spdlog::info("RLIMIT_NOFILE: soft {} (was {}), hard {}", fds.soft, fds.soft_before, fds.hard);
  } else {
    spdlog::warn("RLIMIT_NOFILE: soft {}, hard {}; cannot raise: {}", fds.soft, fds.hard,
                 fds.error);
  }
  // Handlers first: a signal during start-up is kept and honoured once the
  // daemon runs.
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGHUP, OnHangup);  // re-read the CURVE client keys
  auto daemon = banditd::server::Daemon::Create(*config, flags, banditd::SystemClock::Instance());
  if (!daemon.ok()) {
    spdlog::critical("cannot start: {}", daemon.status().ToString());
    // 2: the configuration or the environment is refused (a bad key, a state
    // directory another daemon holds); 1: anything else (damaged state, I/O).
    const banditd::Code code = daemon.status().code();
    return code == banditd::Code::kInvalidArgument || code == banditd::Code::kFailedPrecondition
               ? 2
               : 1;
  }
  g_daemon.store(daemon->get());
  if (g_stop_requested.load()) (*daemon)->Stop();
  const int rc = (*daemon)->Run();
  g_daemon = nullptr;
  return rc;
}
