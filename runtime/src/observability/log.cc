#include "cppsvc/observability/log.h"

#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>

#include "log_sink.h"

namespace cppsvc::observability {
namespace {

std::mutex& SinkMutex() {
  static std::mutex mu;
  return mu;
}

std::ostream*& Sink() {
  static std::ostream* sink = nullptr;  // nullptr: std::cerr
  return sink;
}

// RFC 3339, UTC, millisecond precision: 2024-05-01T12:34:56.789Z.
std::string Timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  if (ms < 0) ms += 1000;
  std::time_t secs = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

}  // namespace

namespace internal {

std::ostream* SetLogSink(std::ostream* out) {
  std::lock_guard<std::mutex> lock(SinkMutex());
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
  std::lock_guard<std::mutex> lock(SinkMutex());
  std::ostream& out = Sink() != nullptr ? *Sink() : std::cerr;
  out.write(line.data(), static_cast<std::streamsize>(line.size()));
  out.flush();
}

void LogRequest(const RequestLog& r) {
  LogJson({
      {"level", "info"},
      {"msg", "request"},
      {"service", r.service},
      {"method", r.method},
      {"code", r.code},
      {"duration_ms", static_cast<double>(r.duration.count()) / 1000.0},
      {"trace_id", r.trace_id},
      {"caller", r.caller},
      {"transport", r.transport},
  });
}

}  // namespace cppsvc::observability
