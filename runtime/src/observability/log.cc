#include "cppsvc/observability/log.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <new>
#include <ostream>
#include <string_view>
#include <system_error>
#include <thread>

#include "log_sink.h"
#include "thread_shard.h"

namespace cppsvc::observability {
namespace {

// Two ways to write a line:
//  - shared: a line of at most PIPE_BUF bytes to stderr, in one write(2) of
//    at most PIPE_BUF bytes, which a pipe or file takes whole. Request
//    threads write this way side by side.
//  - exclusive, under SinkMutex: changing the sink, writing to an ostream
//    sink, and lines longer than PIPE_BUF (which a pipe may split).
// A shared writer marks itself in its thread's slot and then checks the
// `exclusive` flag; an exclusive writer raises the flag and then waits for
// every slot to empty. Each side writes before it reads (sequentially
// consistent), so at least one of them sees the other.
//
// Request lines on the shared way are batched (see SetRequestLogDelay):
// they gather in one buffer of at most PIPE_BUF bytes, written when the
// next line would not fit, or by the flusher thread once the oldest line
// has waited the delay, or by FlushLogs (also at exit). Every other line
// is written at once, after the lines waiting before it, so the order of
// lines is the order of the calls. The buffer's mutex also keeps the
// flusher from writing while an exclusive writer writes.
std::mutex& SinkMutex() {
  static std::mutex mu;
  return mu;
}

std::ostream*& Sink() {
  static std::ostream* sink = nullptr;  // nullptr: stderr; under SinkMutex
  return sink;
}

struct alignas(64) WriterSlot {
  std::atomic<int> writing{0};
};
WriterSlot g_writer_slots[internal::kThreadShards];
// Raised while an exclusive writer writes, and while a sink is set.
std::atomic<bool> g_exclusive{false};

// Under SinkMutex: raises the flag and waits for the shared writers.
void EnterExclusive() {
  g_exclusive.store(true);
  for (WriterSlot& slot : g_writer_slots) {
    while (slot.writing.load() != 0) std::this_thread::yield();
  }
}

void ExitExclusive() {
  g_exclusive.store(Sink() != nullptr);
}

void WriteStderr(std::string_view text) {
  const char* data = text.data();
  size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report it
    data += n;
    left -= static_cast<size_t>(n);
  }
}

std::atomic<int64_t> g_delay_micros{
    std::chrono::duration_cast<std::chrono::microseconds>(kDefaultRequestLogDelay).count()};

// The request lines waiting to be written. Never destroyed: the flusher
// thread and the exit handler may use it while statics are torn down.
struct Batch {
  std::mutex mu;
  // Wakes the flusher: a first line while it is idle, a new delay.
  std::condition_variable wake;
  // Whole lines, at most PIPE_BUF bytes, and when the first of them came.
  std::string lines;
  std::chrono::steady_clock::time_point oldest;
  bool flusher_started = false;
  bool flusher_idle = false;  // waiting for a line, with no time set
};

Batch& TheBatch() {
  static Batch* batch = [] {
    auto* b = new Batch;
    b->lines.reserve(PIPE_BUF);
    return b;
  }();
  return *batch;
}

// Under Batch::mu.
void WriteWaiting(Batch& b) {
  if (b.lines.empty()) return;
  WriteStderr(b.lines);
  b.lines.clear();
}

// A child process starts with no waiting lines (the parent writes them)
// and no flusher thread; the mutex is held across fork() so that the
// child's copy is not left locked by a thread the child does not have.
void LockBeforeFork() {
  TheBatch().mu.lock();
}
void UnlockInParent() {
  TheBatch().mu.unlock();
}
void ResetInChild() {
  Batch& b = TheBatch();
  b.lines.clear();
  b.flusher_started = false;
  b.flusher_idle = false;
  // The parent's flusher may count as a waiter in the copy: start afresh.
  new (&b.wake) std::condition_variable;
  b.mu.unlock();
}

// Writes the lines waiting once the oldest has waited the delay. It sleeps
// until then; with no line waiting, until the next first line wakes it. A
// batch written in between (full, or flushed) just moves the time on.
void RunFlusher(Batch* b) {
  std::unique_lock lock(b->mu);
  for (;;) {
    if (b->lines.empty()) {
      b->flusher_idle = true;
      b->wake.wait(lock);
      b->flusher_idle = false;
      continue;
    }
    const auto due = b->oldest + std::chrono::microseconds(g_delay_micros.load());
    if (std::chrono::steady_clock::now() >= due) {
      WriteWaiting(*b);
    } else {
      b->wake.wait_until(lock, due);
    }
  }
}

// Under Batch::mu. False when no thread could be started (the caller then
// writes the line at once).
bool StartFlusher(Batch& b) {
  static std::once_flag registered;
  std::call_once(registered, [] {
    std::atexit(FlushLogs);
    pthread_atfork(LockBeforeFork, UnlockInParent, ResetInChild);
  });
  try {
    std::thread(RunFlusher, &b).detach();
  } catch (const std::system_error&) {
    return false;
  }
  b.flusher_started = true;
  return true;
}

// On the shared way: `line` (at most PIPE_BUF bytes) after the waiting
// lines, or into the batch when it is a request line and batching is on.
void WriteShared(const std::string& line, bool batch) {
  Batch& b = TheBatch();
  std::unique_lock lock(b.mu);
  if (!batch || g_delay_micros.load(std::memory_order_relaxed) <= 0) {
    if (b.lines.empty() || b.lines.size() + line.size() > PIPE_BUF) {
      WriteWaiting(b);
      WriteStderr(line);
    } else {
      b.lines += line;  // one write for both
      WriteWaiting(b);
    }
    return;
  }
  if (b.lines.size() + line.size() > PIPE_BUF) WriteWaiting(b);
  if (b.lines.empty()) b.oldest = std::chrono::steady_clock::now();
  b.lines += line;
  if (!b.flusher_started && !StartFlusher(b)) {
    WriteWaiting(b);
    return;
  }
  const bool wake = b.flusher_idle;
  b.flusher_idle = false;  // one wake is enough
  lock.unlock();
  if (wake) b.wake.notify_one();
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

// `batch`: a request line, which may wait in the batch.
void Write(const std::string& line, bool batch = false) {
  if (line.size() <= PIPE_BUF) {
    WriterSlot& slot = g_writer_slots[internal::ThreadShard()];
    slot.writing.fetch_add(1);
    if (!g_exclusive.load()) {
      WriteShared(line, batch);
      slot.writing.fetch_sub(1, std::memory_order_release);
      return;
    }
    slot.writing.fetch_sub(1, std::memory_order_release);
  }
  std::lock_guard lock(SinkMutex());
  EnterExclusive();
  {
    Batch& b = TheBatch();
    std::lock_guard batch_lock(b.mu);
    WriteWaiting(b);
    if (Sink() == nullptr) {
      WriteStderr(line);
    } else {
      Sink()->write(line.data(), static_cast<std::streamsize>(line.size()));
      Sink()->flush();
    }
  }
  ExitExclusive();
}

// Whether any of the 8 bytes in `w` needs a look of its own: a control
// character (< 0x20), '"', '\\' or a non-ASCII byte (>= 0x80). Each test is
// exact for "any byte" (bit tricks for bytes below n, and for zero bytes
// after an XOR with the byte sought).
bool AnyByteNeedsCare(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  const uint64_t quote = has_zero(w ^ (kOnes * '"'));
  const uint64_t backslash = has_zero(w ^ (kOnes * '\\'));
  return ((w & kHigh) | below_space | quote | backslash) != 0;
}

// Appends `value` as a JSON string; false (nothing sensible appended) when it
// is not plain enough for the fast path (non-ASCII bytes go the slow way,
// through nlohmann/json, which replaces invalid UTF-8). Runs of plain bytes
// are appended at once; they are found 8 bytes at a time.
bool AppendString(std::string& out, std::string_view value) {
  out += '"';
  size_t plain = 0;  // start of the run of bytes that need no escape
  size_t i = 0;
  while (i < value.size()) {
    if (i + 8 <= value.size()) {
      uint64_t w;
      std::memcpy(&w, value.data() + i, sizeof w);
      if (!AnyByteNeedsCare(w)) {
        i += 8;
        continue;
      }
    }
    const auto u = static_cast<unsigned char>(value[i]);
    if (u >= 0x80) return false;
    if (u >= 0x20 && u != '"' && u != '\\') {
      ++i;
      continue;
    }
    out.append(value.data() + plain, i - plain);
    plain = i + 1;
    if (u < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", u);
      out += esc;
    } else {
      out += '\\';
      out += value[i];
    }
    ++i;
  }
  out.append(value.data() + plain, value.size() - plain);
  out += '"';
  return true;
}

// A duration in whole microseconds as milliseconds, the way LogJson writes
// a double: shortest digits, always with a fraction ("2.0", "0.18").
void AppendMilliseconds(std::string& out, int64_t us) {
  auto magnitude = static_cast<uint64_t>(us);
  if (us < 0) {
    out += '-';
    magnitude = 0 - magnitude;  // unsigned: the most negative value too
  }
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, magnitude / 1000);
  out.append(digits, end);
  const auto frac = static_cast<unsigned>(magnitude % 1000);
  const char f[3] = {static_cast<char>('0' + frac / 100),
                     static_cast<char>('0' + frac / 10 % 10),
                     static_cast<char>('0' + frac % 10)};
  size_t n = 3;
  while (n > 1 && f[n - 1] == '0') --n;
  out += '.';
  out.append(f, n);
}

}  // namespace

namespace internal {

std::ostream* SetLogSink(std::ostream* out) {
  std::lock_guard lock(SinkMutex());
  EnterExclusive();
  {
    // The lines waiting were logged before the change: they go to stderr.
    Batch& b = TheBatch();
    std::lock_guard batch_lock(b.mu);
    WriteWaiting(b);
  }
  std::ostream* previous = Sink();
  Sink() = out;
  ExitExclusive();
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

void SetRequestLogDelay(std::chrono::milliseconds max_delay) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(max_delay).count();
  Batch& b = TheBatch();
  {
    // Under the mutex: a flusher about to sleep until the old time either
    // reads the new delay or is asleep when woken.
    std::lock_guard lock(b.mu);
    g_delay_micros.store(micros > 0 ? micros : 0);
    if (micros <= 0) WriteWaiting(b);
  }
  b.wake.notify_all();  // the flusher sets its time anew
}

void FlushLogs() {
  Batch& b = TheBatch();
  std::lock_guard lock(b.mu);
  WriteWaiting(b);
}

void LogRequest(const RequestLog& r) {
  // One line per request is on every call's path: formatted directly, with
  // the same keys in the same (sorted) order as LogJson would write them.
  // The line is built in this thread's buffer, which keeps its capacity
  // from call to call: no allocation per request.
  thread_local std::string line;
  line.clear();
  line.reserve(256);
  bool plain = true;
  line += "{\"caller\":";
  plain = plain && AppendString(line, r.caller);
  line += ",\"code\":";
  plain = plain && AppendString(line, r.code);
  line += ",\"duration_ms\":";
  AppendMilliseconds(line, r.duration.count());
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
    Write(line, /*batch=*/true);
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
