#include "banditd/status.h"

namespace banditd {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kBadRequest:
      return "bad_request";
    case Code::kUnknownOp:
      return "unknown_op";
    case Code::kUnknownExperiment:
      return "unknown_experiment";
    case Code::kUnknownDecision:
      return "unknown_decision";
    case Code::kExpiredDecision:
      return "expired_decision";
    case Code::kDuplicateReward:
      return "duplicate_reward";
    case Code::kInvalidValue:
      return "invalid_value";
    case Code::kInvalidInput:
      return "invalid_input";
    case Code::kBadContext:
      return "bad_context";
    case Code::kModelError:
      return "model_error";
    case Code::kOverloaded:
      return "overloaded";
    case Code::kUnauthorized:
      return "unauthorized";
    case Code::kInternal:
      return "internal";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kNotFound:
      return "not_found";
    case Code::kIoError:
      return "io_error";
    case Code::kCorruption:
      return "corruption";
    case Code::kFailedPrecondition:
      return "failed_precondition";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s(CodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

}  // namespace banditd
