// W3C Trace Context (`traceparent`): continued from incoming metadata or
// started, and propagated by clients.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
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

// A new span (of a call served, or of an outgoing call): the trace of
// `incoming` continued when it is a valid traceparent (its trace id and
// sampled flag, a new span id), else a new trace. Sets the trace id and the
// span's own traceparent; the same as ParseTraceparent, ChildOf or NewTrace
// and FormatTraceparent, without the intermediate strings.
void ContinueOrStart(std::optional<std::string_view> incoming,
                     std::string& trace_id,
                     std::string& traceparent);

// The length of a version 00 traceparent, the version every span started
// here has.
inline constexpr std::size_t kTraceparentLength = 55;
// As above, into a buffer (no allocation): the span's traceparent, whose
// trace id TraceIdOf gives.
void ContinueOrStart(std::optional<std::string_view> incoming,
                     std::array<char, kTraceparentLength>& traceparent);
// The trace id field of a version 00 traceparent.
inline std::string_view TraceIdOf(std::string_view traceparent) {
  return traceparent.substr(3, 32);
}

// A fresh trace with random ids.
TraceContext NewTrace();
// Same trace, new span id (the span of this process).
TraceContext ChildOf(const TraceContext& parent);

}  // namespace cppsvc::observability
