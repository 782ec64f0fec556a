#include "tests/integration/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include <msgpack.hpp>

#include "src/protocol/encoder.h"

namespace banditd::itest {
namespace {

Status NoReply() { return Status(Code::kIoError, "no reply"); }

}  // namespace

std::string RouteFrame(const RouteArgs& a, std::string_view id) {
  wire::RouteRequest r;
  r.exp = a.exp;
  if (a.unit) r.unit = *a.unit;
  if (a.arm) r.arm = *a.arm;
  if (!a.input.empty()) {
    r.input.form = wire::InputView::Form::kNumbers;
    r.input.numbers = std::span<const float>(a.input);
  }
  if (!a.context.empty()) r.context = std::span<const double>(a.context);
  std::string out;
  protocol::EncodeRequest(wire::Request{wire::Op::kRoute, id, r}, &out);
  return out;
}

std::string RewardFrame(std::string_view decision, double value, std::string_view id) {
  std::string out;
  protocol::EncodeRequest(
      wire::Request{wire::Op::kReward, id, wire::RewardRequest{decision, value, std::nullopt}},
      &out);
  return out;
}

std::string RewardsFrame(const std::vector<std::pair<std::string, double>>& items,
                         std::string_view id) {
  std::vector<wire::RewardItem> v;
  for (const auto& [d, x] : items) v.push_back(wire::RewardItem{d, x, Code::kOk});
  std::string out;
  protocol::EncodeRequest(wire::Request{wire::Op::kRewards, id, wire::RewardsRequest{v}}, &out);
  return out;
}

std::string StatusFrame(std::optional<std::string_view> exp) {
  std::string out;
  protocol::EncodeRequest(wire::Request{wire::Op::kStatus, {}, wire::StatusRequest{exp}}, &out);
  return out;
}

std::string AdminFrame(wire::Op op, std::string_view exp, std::string_view arm) {
  std::string out;
  protocol::EncodeRequest(wire::Request{op, {}, wire::AdminRequest{exp, arm}}, &out);
  return out;
}

std::string IdOf(uint32_t n) {
  std::string id(5, '\0');
  id[0] = static_cast<char>(0xce);  // uint32
  for (int i = 0; i < 4; ++i) id[1 + i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
  return id;
}

Client::Client(zmq::context_t& ctx, const std::string& endpoint, zmq::socket_type type)
    : socket_(ctx, type) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::sndhwm, 0);
  socket_.set(zmq::sockopt::rcvhwm, 0);
  socket_.connect(endpoint);
}

Client::Client(zmq::context_t& ctx, const std::string& endpoint, zmq::socket_type type,
               const CurveClientKeys& curve)
    : socket_(ctx, type) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::sndhwm, 0);
  socket_.set(zmq::sockopt::rcvhwm, 0);
  socket_.set(zmq::sockopt::curve_serverkey, curve.server_public);
  socket_.set(zmq::sockopt::curve_publickey, curve.client_public);
  socket_.set(zmq::sockopt::curve_secretkey, curve.client_secret);
  socket_.connect(endpoint);
}

void Client::Send(std::string_view frame) {
  socket_.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::none);
}

void Client::SendParts(const std::vector<std::string>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    socket_.send(zmq::buffer(frames[i]),
                 i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

std::optional<std::vector<std::string>> Client::RecvParts(int timeout_ms) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0) return std::nullopt;
  std::vector<std::string> parts;
  zmq::message_t msg;
  do {
    if (!socket_.recv(msg, zmq::recv_flags::none)) return std::nullopt;
    parts.push_back(msg.to_string());
  } while (socket_.get(zmq::sockopt::rcvmore));
  return parts;
}

std::optional<std::string> Client::Recv(int timeout_ms) {
  auto parts = RecvParts(timeout_ms);
  if (!parts || parts->empty()) return std::nullopt;
  return parts->back();
}

std::optional<std::string> Client::Call(std::string_view frame, int timeout_ms) {
  Send(frame);
  return Recv(timeout_ms);
}

Result<protocol::RouteResult> Client::Route(const RouteArgs& a) {
  auto reply = Call(RouteFrame(a));
  if (!reply) return NoReply();
  return protocol::DecodeRouteReply(*reply);
}

Status Client::Reward(std::string_view decision, double value) {
  auto reply = Call(RewardFrame(decision, value));
  if (!reply) return NoReply();
  return protocol::DecodeOkReply(*reply);
}

Result<protocol::RewardsResult> Client::Rewards(
    const std::vector<std::pair<std::string, double>>& items) {
  auto reply = Call(RewardsFrame(items));
  if (!reply) return NoReply();
  return protocol::DecodeRewardsReply(*reply);
}

Result<protocol::StatusResult> Client::GetStatus(std::optional<std::string_view> exp) {
  auto reply = Call(StatusFrame(exp));
  if (!reply) return NoReply();
  return protocol::DecodeStatusReply(*reply);
}

Status Client::Admin(wire::Op op, std::string_view exp, std::string_view arm) {
  auto reply = Call(AdminFrame(op, exp, arm), 30000);
  if (!reply) return NoReply();
  return protocol::DecodeOkReply(*reply);
}

Code ReplyCode(const std::optional<std::string>& reply) {
  if (!reply) return Code::kIoError;
  return protocol::DecodeOkReply(*reply).code();
}

std::string ReplyId(std::string_view reply) {
  try {
    msgpack::object_handle h = msgpack::unpack(reply.data(), reply.size());
    const msgpack::object& root = h.get();
    if (root.type != msgpack::type::MAP) return {};
    for (uint32_t i = 0; i < root.via.map.size; ++i) {
      const auto& kv = root.via.map.ptr[i];
      if (kv.key.type == msgpack::type::STR && kv.key.as<std::string>() == "id") {
        msgpack::sbuffer buf;
        msgpack::pack(buf, kv.val);
        return std::string(buf.data(), buf.size());
      }
    }
  } catch (const std::exception&) {
  }
  return {};
}

int64_t IdNumber(std::string_view raw) {
  msgpack::object_handle h;
  try {
    h = msgpack::unpack(raw.data(), raw.size());
    if (h.get().type != msgpack::type::POSITIVE_INTEGER) return -1;
    return static_cast<int64_t>(h.get().as<uint64_t>());
  } catch (const std::exception&) {
    return -1;
  }
}

std::optional<std::string> HttpGet(const std::string& host_port, const std::string& path) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(host_port.c_str() + colon + 1)));
  if (inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    return std::nullopt;
  }
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + host_port + "\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[8192];
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  const auto body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || response.find(" 200 ") > 12 ||
      body == std::string::npos) {
    return std::nullopt;
  }
  return response.substr(body + 4);
}

double MetricValue(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return -1;
}

const wire::ExperimentReport* FindReport(const protocol::StatusResult& s, std::string_view name) {
  for (const auto& e : s.experiments) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace banditd::itest
