#include "cppsvc/context.h"

#include <algorithm>

namespace cppsvc {

bool Caller::HasRole(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

const Caller& Caller::Anonymous() {
  static const Caller anonymous;
  return anonymous;
}

std::string_view CallContext::trace_id() const {
  if (!trace_id_.empty() || !traceparent_in_place_) return trace_id_;
  return observability::TraceIdOf(traceparent());
}

std::string_view CallContext::traceparent() const {
  if (traceparent_in_place_) return std::string_view(traceparent_.data(), traceparent_.size());
  return long_traceparent_;
}

void CallContext::set_traceparent(std::string_view value) {
  traceparent_in_place_ = value.size() == kTraceparentSize && value.substr(0, 3) == "00-";
  if (traceparent_in_place_) {
    value.copy(traceparent_.data(), kTraceparentSize);
    long_traceparent_.clear();
  } else {
    long_traceparent_.assign(value);
  }
}

void CallContext::set_bearer_token(std::string value) {
  credentials_ = std::make_shared<const Credentials>(Credentials{caller(), std::move(value)});
}

}  // namespace cppsvc
