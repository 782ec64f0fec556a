// Status and Result<T>: how every fallible call on the request and control
// paths reports failure. Nothing on those paths throws across this API.
//
// A Status is either OK or carries a stable Code (the wire code of
// docs/protocol.md, or a local code for config/IO/state failures) and a message
// meant for a human. The OK status holds no string, so returning it never
// allocates.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace banditd {

enum class Code : unsigned char {
  kOk = 0,
  // Wire codes (docs/protocol.md). Their spellings never change.
  kBadRequest,
  kUnknownOp,
  kUnknownExperiment,
  kUnknownDecision,
  kExpiredDecision,
  kDuplicateReward,
  kInvalidValue,
  kInvalidInput,
  kBadContext,  // route: context missing, of the wrong length, or non-finite
  kModelError,
  kOverloaded,
  kUnauthorized,
  kInternal,
  // Local codes: configuration, files and state.
  kInvalidArgument,
  kNotFound,
  kIoError,
  kCorruption,
  kFailedPrecondition,
};

// The stable spelling of a code, e.g. "bad_request". Never changes once shipped.
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "code_name: message", or "ok".
  std::string ToString() const;

  // A copy with "context: " put before the message; an OK status stays OK.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string message) {
  return Status(Code::kInvalidArgument, std::move(message));
}

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // The error; an OK Status when the Result holds a value.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace banditd

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define BANDITD_RETURN_IF_ERROR(expr)        \
  do {                                       \
    ::banditd::Status _banditd_s = (expr);   \
    if (!_banditd_s.ok()) return _banditd_s; \
  } while (0)

// Declares or assigns `lhs` from the value of `expr` (a Result), or returns
// its Status from the enclosing function when it is not OK:
//   BANDITD_ASSIGN_OR_RETURN(double alpha, GetInRange(p, "alpha", 0.05, 0, 1));
#define BANDITD_ASSIGN_OR_RETURN(lhs, expr) \
  BANDITD_ASSIGN_OR_RETURN_IMPL_(BANDITD_CONCAT_(_banditd_r_, __LINE__), lhs, expr)
#define BANDITD_CONCAT_(a, b) BANDITD_CONCAT_IMPL_(a, b)
#define BANDITD_CONCAT_IMPL_(a, b) a##b
#define BANDITD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
