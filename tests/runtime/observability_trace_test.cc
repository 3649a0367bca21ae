#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cppsvc/observability/trace.h"

namespace cppsvc::observability {
namespace {

constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kSpanId[] = "00f067aa0ba902b7";

bool IsLowerHex(const std::string& s, std::size_t length) {
  if (s.size() != length) return false;
  bool nonzero = false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    nonzero = nonzero || c != '0';
  }
  return nonzero;
}

TEST(TraceParse, AcceptsTheSpecExample) {
  TraceContext ctx;
  ASSERT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ctx));
  EXPECT_EQ(ctx.trace_id, kTraceId);
  EXPECT_EQ(ctx.span_id, kSpanId);
  EXPECT_TRUE(ctx.sampled);
}

TEST(TraceParse, SampledFlagIsBitZero) {
  TraceContext ctx;
  ASSERT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", ctx));
  EXPECT_FALSE(ctx.sampled);
  ASSERT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03", ctx));
  EXPECT_TRUE(ctx.sampled);
  ASSERT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe", ctx));
  EXPECT_FALSE(ctx.sampled);
}

TEST(TraceParse, FutureVersionsParseTheKnownFields) {
  TraceContext ctx;
  EXPECT_TRUE(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ctx));
  EXPECT_EQ(ctx.trace_id, kTraceId);
  EXPECT_TRUE(
      ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future",
                       ctx));
  EXPECT_EQ(ctx.span_id, kSpanId);
  // Longer than version 00 allows, but not a '-' separated extension.
  EXPECT_FALSE(ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", ctx));
}

// Values that are not a valid traceparent, and why.
const char* const kInvalid[] = {
    "",
    "00",
    // version ff is forbidden; version must be lowercase hex
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    // all-zero ids
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    // uppercase hex
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
    // non-hex characters
    "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bx-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
    // wrong lengths
    "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b77-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
    "000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    // version 00 allows nothing after the flags
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    // wrong separators
    "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
    // surrounding whitespace is not part of the value
    " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
};

TEST(TraceParse, RejectsInvalidValues) {
  for (const char* value : kInvalid) {
    TraceContext ctx;
    ctx.trace_id = "untouched";
    EXPECT_FALSE(ParseTraceparent(value, ctx)) << "'" << value << "'";
    EXPECT_EQ(ctx.trace_id, "untouched") << "'" << value << "'";
  }
}

TEST(TraceFormat, RoundTrips) {
  TraceContext ctx{kTraceId, kSpanId, true};
  EXPECT_EQ(FormatTraceparent(ctx), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ctx.sampled = false;
  std::string header = FormatTraceparent(ctx);
  EXPECT_EQ(header, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  TraceContext parsed;
  ASSERT_TRUE(ParseTraceparent(header, parsed));
  EXPECT_EQ(parsed.trace_id, ctx.trace_id);
  EXPECT_EQ(parsed.span_id, ctx.span_id);
  EXPECT_FALSE(parsed.sampled);
}

TEST(TraceNew, IdsAreValidAndDistinct) {
  std::set<std::string> trace_ids;
  std::set<std::string> span_ids;
  for (int i = 0; i < 1000; ++i) {
    TraceContext ctx = NewTrace();
    EXPECT_TRUE(IsLowerHex(ctx.trace_id, 32)) << ctx.trace_id;
    EXPECT_TRUE(IsLowerHex(ctx.span_id, 16)) << ctx.span_id;
    EXPECT_TRUE(ctx.sampled);
    TraceContext parsed;
    EXPECT_TRUE(ParseTraceparent(FormatTraceparent(ctx), parsed));
    trace_ids.insert(ctx.trace_id);
    span_ids.insert(ctx.span_id);
  }
  EXPECT_EQ(trace_ids.size(), 1000u);
  EXPECT_EQ(span_ids.size(), 1000u);
}

TEST(TraceChild, KeepsTraceAndChangesSpan) {
  TraceContext parent{kTraceId, kSpanId, false};
  TraceContext child = ChildOf(parent);
  EXPECT_EQ(child.trace_id, parent.trace_id);
  EXPECT_NE(child.span_id, parent.span_id);
  EXPECT_TRUE(IsLowerHex(child.span_id, 16)) << child.span_id;
  EXPECT_EQ(child.sampled, parent.sampled);
  TraceContext grandchild = ChildOf(child);
  EXPECT_EQ(grandchild.trace_id, parent.trace_id);
  EXPECT_NE(grandchild.span_id, child.span_id);
}

TEST(TraceContinueOrStart, ContinuesAValidTraceparentInANewSpan) {
  const std::string ids = std::string(kTraceId) + "-" + kSpanId;
  for (const std::string& incoming :
       {"00-" + ids + "-01", "00-" + ids + "-00", "01-" + ids + "-03-future-fields"}) {
    SCOPED_TRACE(incoming);
    TraceContext parent;
    ASSERT_TRUE(ParseTraceparent(incoming, parent));
    std::set<std::string> spans;
    for (int i = 0; i < 50; ++i) {
      std::string trace_id = "stale", traceparent = "stale";
      ContinueOrStart(std::string_view(incoming), trace_id, traceparent);
      EXPECT_EQ(trace_id, kTraceId);
      TraceContext span;
      ASSERT_TRUE(ParseTraceparent(traceparent, span)) << traceparent;
      EXPECT_EQ(traceparent.substr(0, 3), "00-");
      EXPECT_EQ(span.trace_id, kTraceId);
      EXPECT_NE(span.span_id, kSpanId);
      EXPECT_TRUE(IsLowerHex(span.span_id, 16)) << span.span_id;
      EXPECT_EQ(span.sampled, parent.sampled);
      // The same text as the step-by-step functions give.
      EXPECT_EQ(traceparent, FormatTraceparent(span));
      spans.insert(span.span_id);
    }
    EXPECT_GE(spans.size(), 49u);  // 64 random bits per span id
  }
}

TEST(TraceContinueOrStart, StartsANewTraceWithoutAValidOne) {
  std::vector<std::optional<std::string_view>> incoming = {std::nullopt};
  for (const char* value : kInvalid) incoming.emplace_back(value);
  std::set<std::string> traces;
  for (const auto& value : incoming) {
    SCOPED_TRACE(value ? std::string(*value) : "(none)");
    std::string trace_id, traceparent;
    ContinueOrStart(value, trace_id, traceparent);
    EXPECT_TRUE(IsLowerHex(trace_id, 32)) << trace_id;
    TraceContext span;
    ASSERT_TRUE(ParseTraceparent(traceparent, span)) << traceparent;
    EXPECT_EQ(span.trace_id, trace_id);
    EXPECT_TRUE(span.sampled);
    EXPECT_EQ(traceparent, FormatTraceparent(span));
    traces.insert(trace_id);
  }
  EXPECT_EQ(traces.size(), incoming.size());
}

}  // namespace
}  // namespace cppsvc::observability
