#include "cppsvc/observability/trace.h"

#include <cstdint>
#include <random>

namespace cppsvc::observability {
namespace {

constexpr std::size_t kVersion00Length = 55;  // "00-" + 32 + "-" + 16 + "-" + 2

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int HexValue(char c) {
  return c <= '9' ? c - '0' : c - 'a' + 10;
}

bool AllLowerHex(std::string_view s) {
  for (char c : s) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

bool AllZero(std::string_view s) {
  return s.find_first_not_of('0') == std::string_view::npos;
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  return rng;
}

// Fills `out[0, digits)` with random lowercase hex digits, never all zero.
void FillRandomHex(char* out, std::size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto& rng = Rng();
  do {
    for (std::size_t i = 0; i < digits; i += 16) {
      uint64_t v = rng();
      for (std::size_t j = i; j < digits && j < i + 16; ++j) {
        out[j] = kHex[v & 0xF];
        v >>= 4;
      }
    }
  } while (AllZero(std::string_view(out, digits)));
}

std::string RandomHex(std::size_t digits) {
  std::string out(digits, '0');
  FillRandomHex(out.data(), digits);
  return out;
}

// The ids and the sampled flag of a valid traceparent, as views into it.
bool ParseIds(std::string_view header,
              std::string_view& trace_id,
              std::string_view& span_id,
              bool& sampled) {
  if (header.size() < kVersion00Length) return false;
  std::string_view version = header.substr(0, 2);
  if (!AllLowerHex(version) || version == "ff") return false;
  if (version == "00") {
    if (header.size() != kVersion00Length) return false;
  } else if (header.size() > kVersion00Length && header[kVersion00Length] != '-') {
    // A future version may append fields, each after a '-'.
    return false;
  }
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return false;
  std::string_view trace = header.substr(3, 32);
  std::string_view span = header.substr(36, 16);
  std::string_view flags = header.substr(53, 2);
  if (!AllLowerHex(trace) || !AllLowerHex(span) || !AllLowerHex(flags)) return false;
  if (AllZero(trace) || AllZero(span)) return false;
  trace_id = trace;
  span_id = span;
  sampled = (HexValue(flags[1]) & 0x1) != 0;
  return true;
}

}  // namespace

bool ParseTraceparent(std::string_view header, TraceContext& out) {
  std::string_view trace_id, span_id;
  bool sampled = true;
  if (!ParseIds(header, trace_id, span_id, sampled)) return false;
  out.trace_id = std::string(trace_id);
  out.span_id = std::string(span_id);
  out.sampled = sampled;
  return true;
}

void ContinueOrStart(std::optional<std::string_view> incoming,
                     std::array<char, kTraceparentLength>& traceparent) {
  static_assert(kTraceparentLength == kVersion00Length);
  std::string_view parent_trace, parent_span;
  bool sampled = true;
  const bool continued =
      incoming.has_value() && ParseIds(*incoming, parent_trace, parent_span, sampled);
  char* p = traceparent.data();
  p[0] = '0';
  p[1] = '0';
  p[2] = '-';
  if (continued) {
    parent_trace.copy(p + 3, 32);
  } else {
    FillRandomHex(p + 3, 32);
  }
  p[35] = '-';
  do {
    FillRandomHex(p + 36, 16);
  } while (continued && std::string_view(p + 36, 16) == parent_span);
  p[52] = '-';
  p[53] = '0';
  p[54] = sampled ? '1' : '0';
}

void ContinueOrStart(std::optional<std::string_view> incoming,
                     std::string& trace_id,
                     std::string& traceparent) {
  std::array<char, kTraceparentLength> buffer;
  ContinueOrStart(incoming, buffer);
  traceparent.assign(buffer.data(), buffer.size());
  trace_id.assign(TraceIdOf(traceparent));
}

std::string FormatTraceparent(const TraceContext& ctx) {
  std::string out;
  out.reserve(kVersion00Length);
  out += "00-";
  out += ctx.trace_id;
  out += '-';
  out += ctx.span_id;
  out += ctx.sampled ? "-01" : "-00";
  return out;
}

TraceContext NewTrace() {
  TraceContext ctx;
  ctx.trace_id = RandomHex(32);
  ctx.span_id = RandomHex(16);
  ctx.sampled = true;
  return ctx;
}

TraceContext ChildOf(const TraceContext& parent) {
  TraceContext ctx;
  ctx.trace_id = parent.trace_id;
  ctx.sampled = parent.sampled;
  do {
    ctx.span_id = RandomHex(16);
  } while (ctx.span_id == parent.span_id);
  return ctx;
}

}  // namespace cppsvc::observability
