#include "src/telemetry/http_request.h"

#include <algorithm>
#include <cctype>

namespace banditd::telemetry {
namespace {

// The offset just past the blank line that ends the headers, or npos.
size_t HeaderEnd(std::string_view b) {
  for (size_t nl = b.find('\n'); nl != std::string_view::npos; nl = b.find('\n', nl + 1)) {
    if (nl + 1 < b.size() && b[nl + 1] == '\n') return nl + 2;
    if (nl + 2 < b.size() && b[nl + 1] == '\r' && b[nl + 2] == '\n') return nl + 3;
  }
  return std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

ParseResult Error(int status) {
  ParseResult r;
  r.outcome = ParseOutcome::kError;
  r.status = status;
  return r;
}

// "METHOD SP target SP HTTP/1.x": fills method, path and the version's
// default keep-alive; 0 or the error status.
int ParseRequestLine(std::string_view line, HttpRequest* req) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1) return 400;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  for (char c : method) {
    if (!std::isupper(static_cast<unsigned char>(c))) return 400;
  }
  if (target.front() != '/' || target.find(' ') != std::string_view::npos) return 400;
  if (version.rfind("HTTP/", 0) != 0) return 400;
  if (version == "HTTP/1.1") {
    req->keep_alive = true;
  } else if (version == "HTTP/1.0") {
    req->keep_alive = false;
  } else {
    return 505;
  }
  req->method = std::string(method);
  req->path = std::string(target.substr(0, target.find('?')));
  return 0;
}

// One "Name: value" line; 0 or the error status.
int ParseHeader(std::string_view line, HttpRequest* req) {
  const size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return 400;
  const std::string name = Lower(line.substr(0, colon));
  if (name.find_first_of(" \t") != std::string::npos) return 400;
  const std::string value = Lower(Trim(line.substr(colon + 1)));
  if (name == "connection") {
    if (value.find("close") != std::string::npos) req->keep_alive = false;
    if (value.find("keep-alive") != std::string::npos) req->keep_alive = true;
  } else if (name == "content-length") {
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos) return 400;
    if (value.find_first_not_of('0') != std::string::npos) return 413;
  } else if (name == "transfer-encoding") {
    return 413;
  }
  return 0;
}

}  // namespace

ParseResult ParseHttpRequest(std::string_view buffer, size_t max_header_bytes) {
  const size_t end = HeaderEnd(buffer.substr(0, std::min(buffer.size(), max_header_bytes)));
  if (end == std::string_view::npos) {
    return buffer.size() >= max_header_bytes ? Error(431) : ParseResult{};
  }
  ParseResult r;
  std::string_view head = buffer.substr(0, end);
  bool first = true;
  while (!head.empty()) {
    const size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the blank line that ends the headers
    const int status = first ? ParseRequestLine(line, &r.request) : ParseHeader(line, &r.request);
    if (status != 0) return Error(status);
    first = false;
  }
  if (first) return Error(400);  // no request line
  r.outcome = ParseOutcome::kRequest;
  r.request.consumed = end;
  return r;
}

}  // namespace banditd::telemetry
