// W3C Trace Context (`traceparent`): continued from incoming metadata or
// started, and propagated by clients.
#pragma once

#include <string>
#include <string_view>

namespace cppsvc::observability {

struct TraceContext {
  std::string trace_id;  // 32 lowercase hex digits, not all zero
  std::string span_id;   // 16 lowercase hex digits, not all zero
  bool sampled = true;
};

// Parses "00-<trace_id>-<span_id>-<flags>". False for any malformed value,
// an unknown version "ff", or all-zero ids (which the spec declares invalid).
bool ParseTraceparent(std::string_view header, TraceContext& out);
std::string FormatTraceparent(const TraceContext& ctx);

// A fresh trace with random ids.
TraceContext NewTrace();
// Same trace, new span id (the span of this process).
TraceContext ChildOf(const TraceContext& parent);

}  // namespace cppsvc::observability
