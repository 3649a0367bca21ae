#include "cppsvc/observability/log.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <ostream>
#include <shared_mutex>
#include <string_view>

#include "log_sink.h"

namespace cppsvc::observability {
namespace {

// Shared: a line of at most PIPE_BUF bytes going to stderr, written with one
// write(2), which a pipe or file takes whole. Exclusive: changing the sink,
// writing to an ostream sink, and longer lines (which a pipe may split).
std::shared_mutex& SinkMutex() {
  static std::shared_mutex mu;
  return mu;
}

std::ostream*& Sink() {
  static std::ostream* sink = nullptr;  // nullptr: stderr
  return sink;
}

void WriteStderr(const std::string& line) {
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report it
    data += n;
    left -= static_cast<size_t>(n);
  }
}

// RFC 3339, UTC, millisecond precision: 2024-05-01T12:34:56.789Z. The
// calendar part is formatted once per second per thread.
struct TimestampText {
  char text[48];
  size_t size = 0;
  std::string_view view() const { return {text, size}; }
};

TimestampText FormatTimestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  if (ms < 0) ms += 1000;
  std::time_t secs = system_clock::to_time_t(now);
  thread_local std::time_t cached_secs = -1;
  thread_local char cached[32];
  thread_local std::size_t cached_len = 0;
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    cached_len = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_secs = secs;
  }
  TimestampText out;
  std::memcpy(out.text, cached, cached_len);
  char* p = out.text + cached_len;
  *p++ = '.';
  *p++ = static_cast<char>('0' + ms / 100);
  *p++ = static_cast<char>('0' + ms / 10 % 10);
  *p++ = static_cast<char>('0' + ms % 10);
  *p++ = 'Z';
  out.size = static_cast<size_t>(p - out.text);
  return out;
}

std::string Timestamp() {
  return std::string(FormatTimestamp().view());
}

void Write(const std::string& line) {
  // The common case (a request line to stderr) takes no exclusive lock:
  // request threads do not queue behind each other's write(2).
  if (line.size() <= PIPE_BUF) {
    std::shared_lock lock(SinkMutex());
    if (Sink() == nullptr) {
      WriteStderr(line);
      return;
    }
  }
  std::unique_lock lock(SinkMutex());
  if (Sink() == nullptr) {
    WriteStderr(line);
    return;
  }
  Sink()->write(line.data(), static_cast<std::streamsize>(line.size()));
  Sink()->flush();
}

// Appends `value` as a JSON string; false (nothing sensible appended) when it
// is not plain enough for the fast path (non-ASCII bytes go the slow way,
// through nlohmann/json, which replaces invalid UTF-8).
bool AppendString(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) return false;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", u);
      out += esc;
    } else {
      out += c;
    }
  }
  out += '"';
  return true;
}

}  // namespace

namespace internal {

std::ostream* SetLogSink(std::ostream* out) {
  std::unique_lock lock(SinkMutex());
  std::ostream* previous = Sink();
  Sink() = out;
  return previous;
}

}  // namespace internal

void LogJson(nlohmann::json fields) {
  if (!fields.is_object()) {
    nlohmann::json wrapped = nlohmann::json::object();
    wrapped["msg"] = std::move(fields);
    fields = std::move(wrapped);
  }
  fields["ts"] = Timestamp();
  // Invalid UTF-8 in a field must not make logging throw.
  std::string line = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  Write(line);
}

void LogRequest(const RequestLog& r) {
  // One line per request is on every call's path: formatted directly, with
  // the same keys in the same (sorted) order as LogJson would write them.
  std::string line;
  line.reserve(256);
  char duration[32];
  auto [end, ec] = std::to_chars(duration,
                                 duration + sizeof duration,
                                 static_cast<double>(r.duration.count()) / 1000.0);
  bool plain = ec == std::errc();
  // Always a JSON float, as LogJson writes doubles: 2 ms is "2.0".
  if (plain &&
      std::string_view(duration, end - duration).find_first_of(".e") == std::string_view::npos &&
      end + 2 <= duration + sizeof duration) {
    *end++ = '.';
    *end++ = '0';
  }
  line += "{\"caller\":";
  plain = plain && AppendString(line, r.caller);
  line += ",\"code\":";
  plain = plain && AppendString(line, r.code);
  line += ",\"duration_ms\":";
  line.append(duration, plain ? end : duration);
  line += ",\"level\":\"info\",\"method\":";
  plain = plain && AppendString(line, r.method);
  line += ",\"msg\":\"request\",\"service\":";
  plain = plain && AppendString(line, r.service);
  line += ",\"trace_id\":";
  plain = plain && AppendString(line, r.trace_id);
  line += ",\"transport\":";
  plain = plain && AppendString(line, r.transport);
  line += ",\"ts\":";
  plain = plain && AppendString(line, FormatTimestamp().view());
  line += "}\n";
  if (plain) {
    Write(line);
    return;
  }
  LogJson({
      {"level", "info"},
      {"msg", "request"},
      {"service", std::string(r.service)},
      {"method", std::string(r.method)},
      {"code", std::string(r.code)},
      {"duration_ms", static_cast<double>(r.duration.count()) / 1000.0},
      {"trace_id", std::string(r.trace_id)},
      {"caller", std::string(r.caller)},
      {"transport", std::string(r.transport)},
  });
}

}  // namespace cppsvc::observability
