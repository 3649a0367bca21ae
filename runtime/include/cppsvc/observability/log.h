// Structured logs: one JSON object per line on stderr.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace cppsvc::observability {

// Writes `fields` plus "ts" (RFC 3339 UTC, milliseconds) as one line,
// atomically with respect to other log calls.
void LogJson(nlohmann::json fields);

struct RequestLog {
  std::string service;
  std::string method;
  std::string code;  // "OK", "NOT_FOUND", ...
  std::chrono::microseconds duration{0};
  std::string trace_id;
  std::string caller;  // subject, or "" for anonymous
  std::string transport = "grpc";
};
void LogRequest(const RequestLog& r);

}  // namespace cppsvc::observability
