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

// Writes one line for the request. On stderr, request lines are written in
// batches (fewer write calls): a line waits at most the request log delay,
// or until the lines waiting fill PIPE_BUF bytes, and every other log line
// is written after the request lines logged before it. Lines written to a
// pipe arrive whole.
void LogRequest(const RequestLog& r);

// How long a request line may wait to be written; zero writes each one at
// once. Lines waiting are lost only if the process dies without running
// exit handlers (SIGKILL, a crash).
inline constexpr std::chrono::milliseconds kDefaultRequestLogDelay{10};
void SetRequestLogDelay(std::chrono::milliseconds max_delay);

// Writes the request lines waiting now. Also runs at exit.
void FlushLogs();

}  // namespace cppsvc::observability
