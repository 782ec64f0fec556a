// The request side of the /metrics HTTP/1.1 server: a parser for the request
// line and headers of one request at the front of a buffer. Requests carry
// no body (the server only answers GET and HEAD), so any body is refused.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace banditd::telemetry {

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string path;    // the target without its query string
  bool keep_alive = false;
  size_t consumed = 0;  // bytes of the buffer this request used
};

enum class ParseOutcome {
  kIncomplete,  // no end of headers yet (and under the size limit)
  kRequest,     // `request` is filled
  kError,       // `status` is the HTTP status to answer before closing
};

struct ParseResult {
  ParseOutcome outcome = ParseOutcome::kIncomplete;
  HttpRequest request;
  int status = 0;
};

// Parses the request at the front of `buffer`. The request line plus headers
// may be at most `max_header_bytes`: beyond that without an end of headers,
// 431. Malformed: 400; a body (Content-Length > 0 or Transfer-Encoding):
// 413; a version other than HTTP/1.0 and HTTP/1.1: 505. Lines may end in
// CRLF or LF. Keep-alive follows the version's default and the Connection
// header. Other headers (Range among them) are ignored.
ParseResult ParseHttpRequest(std::string_view buffer, size_t max_header_bytes);

}  // namespace banditd::telemetry
