#include "src/server/zap.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>

namespace banditd::server {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr int kPollMs = 200;  // how soon Stop() and Reload() are noticed

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Printable(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(c >= 32 && c < 127 ? c : '?');
  return out;
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& ctx, Options options)
    : ctx_(ctx), options_(std::move(options)), zap_(ctx, zmq::socket_type::rep) {}

Result<std::unique_ptr<ZapHandler>> ZapHandler::Create(zmq::context_t& ctx, Options options) {
  auto api = LoadAllowlist(options.api_keys_dir);
  if (!api.ok()) return api.status().WithContext("security.api_client_keys_dir");
  auto admin = LoadAllowlist(options.admin_keys_dir);
  if (!admin.ok()) return admin.status().WithContext("security.admin_client_keys_dir");
  std::unique_ptr<ZapHandler> z(new ZapHandler(ctx, std::move(options)));
  z->api_ = std::move(api).value();
  z->admin_ = std::move(admin).value();
  try {
    z->zap_.set(zmq::sockopt::linger, 0);
    z->zap_.bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    return Status(Code::kInternal, std::string("cannot bind the ZAP handler: ") + e.what());
  }
  return z;
}

ZapHandler::~ZapHandler() { Stop(); }

Status ZapHandler::Watch(zmq::socket_t& socket, AuthSocket which, std::string_view suffix) {
  const size_t i = static_cast<size_t>(which);
  const std::string ep =
      std::string("inproc://banditd-auth-monitor-") + kAuthDomains[i] + std::string(suffix);
  try {
    if (zmq_socket_monitor(
            socket.handle(), ep.c_str(),
            ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0) {
      throw zmq::error_t();
    }
    zmq::socket_t pair(ctx_, zmq::socket_type::pair);
    pair.set(zmq::sockopt::linger, 0);
    pair.connect(ep);
    monitors_.emplace_back(i, std::move(pair));
  } catch (const zmq::error_t& e) {
    return Status(Code::kInternal,
                  "cannot monitor the " + std::string(kAuthDomains[i]) + " socket: " + e.what());
  }
  return Status::Ok();
}

void ZapHandler::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void ZapHandler::Stop() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
}

AuthCounts ZapHandler::counts(AuthSocket which) const {
  const Counters& c = counters_[static_cast<size_t>(which)];
  return {c.accepted.load(std::memory_order_relaxed), c.refused_key.load(std::memory_order_relaxed),
          c.refused_handshake.load(std::memory_order_relaxed)};
}

size_t ZapHandler::api_keys() const {
  std::lock_guard lock(lists_mu_);
  return api_.size();
}

size_t ZapHandler::admin_keys() const {
  std::lock_guard lock(lists_mu_);
  return admin_.size();
}

void ZapHandler::Loop() {
  std::vector<zmq::pollitem_t> items;
  items.push_back({zap_.handle(), 0, ZMQ_POLLIN, 0});
  for (auto& [which, m] : monitors_) items.push_back({m.handle(), 0, ZMQ_POLLIN, 0});
  while (!stop_.load(std::memory_order_relaxed)) {
    if (reload_.exchange(false, std::memory_order_relaxed)) DoReload();
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(kPollMs));
      // Every pending request is answered before anything else: a client
      // waits in its handshake until it is.
      while (zap_.get(zmq::sockopt::events) & ZMQ_POLLIN) Answer();
      for (size_t i = 0; i < monitors_.size(); ++i) {
        while (monitors_[i].second.get(zmq::sockopt::events) & ZMQ_POLLIN) {
          OnMonitorEvent(i);
        }
      }
    } catch (const zmq::error_t& e) {
      // Never leave the loop while the daemon runs: an unbound handler would
      // let CURVE clients in unauthenticated.
      if (e.num() != EINTR) spdlog::error("ZAP handler: {}", e.what());
    }
  }
  for (auto& [which, m] : monitors_) m.close();
  zap_.close();
}

void ZapHandler::Answer() {
  std::vector<zmq::message_t> frames;
  zmq::message_t msg;
  do {
    if (!zap_.recv(msg, zmq::recv_flags::dontwait)) break;
    if (frames.size() < 16) frames.push_back(std::move(msg));
    msg = zmq::message_t();
  } while (zap_.get(zmq::sockopt::rcvmore));
  auto text = [&](size_t i) { return i < frames.size() ? frames[i].to_string() : std::string(); };
  const std::string request_id = text(1);
  std::string status = "400", status_text = "refused", user_id;

  // RFC 27: version, request id, domain, address, identity, mechanism,
  // credentials (CURVE: the client's 32-byte public key).
  const std::string domain = text(2), address = text(3), mechanism = text(5);
  size_t which = kAuthDomains.size();
  for (size_t i = 0; i < kAuthDomains.size(); ++i) {
    if (domain == kAuthDomains[i]) which = i;
  }
  CurveKey key{};
  const bool well_formed = frames.size() == 7 && text(0) == "1.0" && mechanism == "CURVE" &&
                           frames[6].size() == key.size() && which < kAuthDomains.size();
  if (well_formed) {
    std::memcpy(key.data(), frames[6].data(), key.size());
    std::lock_guard lock(lists_mu_);
    const Allowlist& list = which == static_cast<size_t>(AuthSocket::kAdmin) ? admin_ : api_;
    if (auto it = list.find(key); it != list.end()) {
      status = "200";
      status_text = "OK";
      user_id = it->second;
    }
  }
  if (status == "200") {
    counters_[which].accepted.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("auth: {} client '{}' from {} accepted", domain, user_id, Printable(address));
  } else {
    if (which < kAuthDomains.size()) {
      counters_[which].refused_key.fetch_add(1, std::memory_order_relaxed);
    }
    LogRefusal(which, well_formed
                          ? "key " + Z85Of(key) + " is not in its allowlist"
                          : "mechanism '" + Printable(mechanism) + "' (" +
                                std::to_string(frames.size()) + " frames) is not a CURVE request");
    if (!well_formed && which >= kAuthDomains.size()) {
      spdlog::warn("auth: ZAP request for unknown domain '{}' refused", Printable(domain));
    }
  }
  const std::string reply[] = {"1.0", request_id, status, status_text, user_id, ""};
  for (size_t i = 0; i < std::size(reply); ++i) {
    zap_.send(zmq::buffer(reply[i]),
              i + 1 < std::size(reply) ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

void ZapHandler::OnMonitorEvent(size_t index) {
  auto& [which, socket] = monitors_[index];
  zmq::message_t head, endpoint;
  if (!socket.recv(head, zmq::recv_flags::dontwait)) return;
  if (head.more()) (void)socket.recv(endpoint, zmq::recv_flags::dontwait);
  // Event frame: uint16 event, uint32 value, in host order (libzmq v1 format).
  if (head.size() < 6) return;
  uint16_t event = 0;
  std::memcpy(&event, head.data(), sizeof(event));
  if (event & (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)) {
    counters_[which].refused_handshake.fetch_add(1, std::memory_order_relaxed);
    LogRefusal(which,
               "the CURVE handshake failed (a client without CURVE, or with another "
               "server key)");
  }
}

void ZapHandler::LogRefusal(size_t which, const std::string& what) {
  const int64_t now = NowNs();
  if (now - last_log_ns_ < 1'000'000'000) {
    ++unlogged_;
    return;
  }
  spdlog::warn("auth: refused a client on {}: {}{}",
               which < kAuthDomains.size() ? kAuthDomains[which] : "an unknown socket", what,
               unlogged_ ? " (" + std::to_string(unlogged_) + " more refusals not logged)" : "");
  last_log_ns_ = now;
  unlogged_ = 0;
}

void ZapHandler::DoReload() {
  auto api = LoadAllowlist(options_.api_keys_dir);
  auto admin = LoadAllowlist(options_.admin_keys_dir);
  reloads_.fetch_add(1, std::memory_order_relaxed);
  if (!api.ok() || !admin.ok()) {
    spdlog::error("auth: key reload failed, the previous allowlists stay in force: {}",
                  (!api.ok() ? api.status() : admin.status()).ToString());
    return;
  }
  std::lock_guard lock(lists_mu_);
  api_ = std::move(api).value();
  admin_ = std::move(admin).value();
  spdlog::info("auth: reloaded client keys: {} api, {} admin", api_.size(), admin_.size());
}

}  // namespace banditd::server
