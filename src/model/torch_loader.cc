// Loads libbanditd_torch.so on first use (see torch_api.h for why).
#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "src/model/torch_api.h"

namespace banditd::model::internal {
namespace {

constexpr const char* kPluginName = "libbanditd_torch.so";

std::string ExecutableDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

std::vector<std::string> Candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("BANDITD_TORCH_PLUGIN"); env != nullptr && *env != '\0') {
    out.emplace_back(env);  // an explicit choice is the only one tried
    return out;
  }
  if (const std::string dir = ExecutableDir(); !dir.empty()) {
    out.push_back(dir + "/../lib/" + kPluginName);
    out.push_back(dir + "/" + kPluginName);
  }
  out.emplace_back(kPluginName);  // the dynamic linker's search path
  return out;
}

struct Loaded {
  std::once_flag once;
  std::atomic<bool> ok{false};
  const TorchApi* api = nullptr;
  Status error;
};

Loaded& State() {
  static Loaded* state = new Loaded();  // never destroyed: the plugin is never unloaded
  return *state;
}

void LoadOnce(Loaded* state) {
  std::string tried;
  for (const std::string& path : Candidates()) {
    // RTLD_LOCAL keeps torch's symbols out of the global namespace; the
    // handle is kept for the life of the process (torch does not unload).
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      tried += "\n  " + path + ": " + (why ? why : "dlopen failed");
      continue;
    }
    using Entry = const TorchApi* (*)();
    auto entry = reinterpret_cast<Entry>(dlsym(handle, kTorchApiSymbol));
    const TorchApi* api = entry ? entry() : nullptr;
    if (api == nullptr || api->version != kTorchApiVersion) {
      tried += "\n  " + path + ": not a banditd torch plugin of version " +
               std::to_string(kTorchApiVersion);
      continue;
    }
    state->api = api;
    state->ok.store(true, std::memory_order_release);
    return;
  }
  state->error = Status(Code::kModelError,
                        std::string("model support is not available: cannot load ") + kPluginName +
                            " (set BANDITD_TORCH_PLUGIN to its path); tried:" + tried);
}

}  // namespace

Result<const TorchApi*> Torch() {
  Loaded& state = State();
  std::call_once(state.once, LoadOnce, &state);
  if (!state.ok.load(std::memory_order_acquire)) return state.error;
  return state.api;
}

bool TorchLoaded() { return State().ok.load(std::memory_order_acquire); }

}  // namespace banditd::model::internal
