#include "tests/integration/daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace banditd::itest {
namespace fs = std::filesystem;

std::string BinDir() {
  const char* dir = std::getenv("BANDITD_BIN_DIR");
  return dir != nullptr ? dir : "build/bin";
}

std::string ModelDir() { return (fs::path(BinDir()) / ".." / "models").lexically_normal(); }

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/banditd-it-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string WriteConfig(const std::string& dir, const std::string& experiments_yaml,
                        const ConfigOptions& o) {
  const std::string path = dir + "/banditd.yaml";
  std::ofstream f(path);
  f << "sockets:\n";
  if (o.tcp) {
    f << "  api: tcp://127.0.0.1:*\n  rewards: tcp://127.0.0.1:*\n  admin: tcp://127.0.0.1:*\n";
  } else {
    f << "  api: ipc://" << dir << "/api.sock\n"
      << "  rewards: ipc://" << dir << "/rewards.sock\n"
      << "  admin: ipc://" << dir << "/admin.sock\n";
  }
  if (o.io_threads > 1) {
    f << "  api_extra:\n";
    for (int i = 2; i <= o.io_threads; ++i) {
      if (o.tcp) {
        f << "    - tcp://127.0.0.1:*\n";
      } else {
        f << "    - ipc://" << dir << "/api-" << i << ".sock\n";
      }
    }
  }
  f << "  metrics: 127.0.0.1:0\n"
    << "state_dir: " << dir << "/state\n"
    << "model_dir: " << (o.model_dir.empty() ? ModelDir() : o.model_dir) << "\n"
    << "durability:\n  mode: " << o.durability << "\n  group_window_ms: 2\n"
    << "reward_window: " << o.reward_window << "\n"
    << "inference:\n  workers: " << o.workers << "\n  intra_op_threads: 1\n"
    << "  spin_us: " << o.inference_spin_us << "\n"
    << "logging:\n  level: warn\n";
  if (o.max_frame_bytes > 0 || o.max_pending_inference > 0) {
    f << "limits:\n";
    if (o.max_frame_bytes > 0) f << "  max_frame_bytes: " << o.max_frame_bytes << "\n";
    if (o.max_pending_inference > 0)
      f << "  max_pending_inference: " << o.max_pending_inference << "\n";
  }
  f << o.extra_yaml << "experiments:\n" << experiments_yaml;
  return path;
}

int RunBanditd(const std::vector<std::string>& args, const std::string& log,
               std::chrono::seconds timeout) {
  const std::string bin = BinDir() + "/banditd";
  std::vector<std::string> argv_s = {bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -(128 + WTERMSIG(status));
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

namespace {

bool ReadEndpoints(const std::string& path, Endpoints* out) {
  std::ifstream f(path);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  if (text.find("metrics=") == std::string::npos || text.back() != '\n') return false;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "api") out->api = value;
    if (key == "rewards") out->rewards = value;
    if (key == "admin") out->admin = value;
    if (key == "metrics") out->metrics = value;
    if (key == "api_extra") {
      std::stringstream list(value);
      for (std::string ep; std::getline(list, ep, ',');) out->api_extra.push_back(ep);
    }
  }
  return !out->api.empty() && !out->rewards.empty() && !out->admin.empty();
}

}  // namespace

::testing::AssertionResult DaemonProcess::Start(const std::string& config, const std::string& dir,
                                                const std::vector<std::string>& extra_args) {
  if (pid_ > 0) return ::testing::AssertionFailure() << "already running";
  const std::string state_dir = dir + "/state";
  fs::create_directories(state_dir);
  fs::remove(state_dir + "/endpoints");
  log_path_ = dir + "/banditd-" + std::to_string(++runs_) + ".log";
  const std::string bin = BinDir() + "/banditd";
  std::vector<std::string> args = {bin, "--config", config};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  const pid_t pid = fork();
  if (pid < 0) return ::testing::AssertionFailure() << "fork failed";
  if (pid == 0) {
    const int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  pid_ = pid;
  endpoints_ = {};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return ::testing::AssertionFailure()
             << "banditd exited during start-up (status " << status << "): " << LogTail();
    }
    if (ReadEndpoints(state_dir + "/endpoints", &endpoints_)) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ::testing::AssertionFailure() << "no endpoints file after 30 s: " << LogTail();
}

void DaemonProcess::Signal(int sig) {
  signalled_ = std::chrono::steady_clock::now();
  if (pid_ > 0) kill(pid_, sig);
}

int DaemonProcess::Wait(std::chrono::milliseconds wait, std::chrono::milliseconds* took) {
  if (pid_ <= 0) return -1;
  const auto deadline = signalled_ + wait;
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (took != nullptr) {
    *took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  signalled_);
  }
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? -(128 + WTERMSIG(status)) : -1;
}

int DaemonProcess::Stop(std::chrono::milliseconds wait, std::chrono::milliseconds* took) {
  Signal(SIGTERM);
  return Wait(wait, took);
}

long DaemonProcess::RssKib() const {
  std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

std::string DaemonProcess::LogTail(size_t bytes) const {
  std::ifstream f(log_path_);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace banditd::itest
