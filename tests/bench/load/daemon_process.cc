#include "tests/bench/load/daemon_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace banditd::bench {

namespace {

// A loopback TCP port that was free a moment ago (the config loader wants
// distinct endpoint strings, so three `tcp://127.0.0.1:*` are refused).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace

std::string ConfigYaml(const DaemonSetup& setup, const std::string& state_dir) {
  std::ostringstream y;
  y << "sockets:\n"
    << "  api: tcp://127.0.0.1:" << FreePort() << "\n"
    << "  rewards: tcp://127.0.0.1:" << FreePort() << "\n"
    << "  admin: tcp://127.0.0.1:" << FreePort() << "\n";
  if (setup.io_threads > 1) {
    y << "  api_extra:\n";
    for (int i = 1; i < setup.io_threads; ++i) y << "    - tcp://127.0.0.1:" << FreePort() << "\n";
  }
  y << "  metrics: 127.0.0.1:0\n"
    << "state_dir: " << state_dir << "\n";
  if (!setup.models_dir.empty()) y << "model_dir: " << setup.models_dir << "\n";
  y << "durability:\n"
    << "  mode: " << setup.durability << "\n"
    << "  group_window_ms: " << setup.group_window_ms << "\n"
    << "reward_window: " << setup.reward_window << "\n"
    << "inference:\n"
    << "  workers: " << setup.inference_workers << "\n"
    << "  intra_op_threads: 1\n"
    << "  spin_us: " << setup.inference_spin_us << "\n";
  if (setup.inference_max_batch > 1) {
    y << "  batching:\n    enabled: true\n    max_batch: " << setup.inference_max_batch
      << "\n    max_queue_delay_us: " << setup.inference_batch_delay_us << "\n";
  }
  y << "logging:\n"
    << "  level: warn\n"
    << "experiments:\n"
    << "  - name: route\n"
    << "    mode: ab\n"
    << "    weights: [0.5, 0.5]\n"
    << "    arms:\n"
    << "      - name: a\n"
    << "        champion: true\n"
    << "      - name: b\n"
    << "    stopping:\n"
    << "      rule: fixed_horizon\n"
    << "      params: {alpha: 0.05, n_per_arm: 1000000000}\n"
    << "    on_decision: hold\n";
  if (!setup.models_dir.empty()) {
    y << "  - name: infer\n"
      << "    mode: ab\n"
      << "    weights: [0.5, 0.5]\n"
      << "    arms:\n"
      << "      - name: champion\n"
      << "        champion: true\n"
      << "        model: {path: champion.pt, input_shape: [8]}\n"
      << "      - name: challenger\n"
      << "        model: {path: challenger.pt, input_shape: [8]}\n"
      << "    stopping:\n"
      << "      rule: fixed_horizon\n"
      << "      params: {alpha: 0.05, n_per_arm: 1000000000}\n"
      << "    on_decision: hold\n";
  }
  return y.str();
}

namespace {

// Reads key=value lines; true once the last line (metrics=) is there.
bool ReadEndpoints(const std::string& path, Endpoints* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  bool complete = false;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "api") out->api = value;
    if (key == "rewards") out->rewards = value;
    if (key == "admin") out->admin = value;
    if (key == "api_extra") {
      out->api_extra.clear();
      std::stringstream list(value);
      for (std::string ep; std::getline(list, ep, ',');) out->api_extra.push_back(ep);
    }
    if (key == "metrics") complete = true;
  }
  return complete && !out->api.empty() && !out->rewards.empty();
}

}  // namespace

Result<std::unique_ptr<DaemonProcess>> DaemonProcess::Start(const std::string& banditd,
                                                            const DaemonSetup& setup,
                                                            const std::string& dir) {
  const std::string state_dir = dir + "/state";
  const std::string config_path = dir + "/banditd.yaml";
  {
    std::ofstream cfg(config_path);
    cfg << ConfigYaml(setup, state_dir);
    if (!cfg) return Status(Code::kIoError, "cannot write " + config_path);
  }
  const std::string log_path = dir + "/banditd.log";
  const pid_t pid = fork();
  if (pid < 0) return Status(Code::kInternal, "fork failed");
  if (pid == 0) {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl(banditd.c_str(), "banditd", "--config", config_path.c_str(), "--log-level", "warn",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  Endpoints endpoints;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!ReadEndpoints(state_dir + "/endpoints", &endpoints)) {
    int wstatus = 0;
    if (waitpid(pid, &wstatus, WNOHANG) == pid) {
      return Status(Code::kInternal, "banditd exited during start-up; see " + log_path);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return Status(Code::kInternal, "banditd did not write its endpoints in 60 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::unique_ptr<DaemonProcess>(new DaemonProcess(pid, std::move(endpoints)));
}

DaemonProcess::~DaemonProcess() { Stop(); }

double ReadRssMB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024.0 / 1e6;  // kB -> MB
  }
  return 0;
}

double DaemonProcess::RssMB() const { return pid_ > 0 ? ReadRssMB(pid_) : 0; }

int DaemonProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int wstatus = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (waitpid(pid_, &wstatus, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &wstatus, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

}  // namespace banditd::bench
