// Structured logs: one JSON object per line on stderr.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cppsvc::observability {

// Writes `fields` plus "ts" (RFC 3339 UTC, milliseconds) as one line,
// atomically with respect to other log calls.
void LogJson(nlohmann::json fields);

// Views: the strings must outlive the LogRequest call.
struct RequestLog {
  std::string_view service;
  std::string_view method;
  std::string_view code;  // "OK", "NOT_FOUND", ...
  std::chrono::microseconds duration{0};
  std::string_view trace_id;
  std::string_view caller;  // subject, or "" for anonymous
  std::string_view transport = "grpc";
};
void LogRequest(const RequestLog& r);

}  // namespace cppsvc::observability
