#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cppsvc/observability/log.h"
#include "observability/log_sink.h"

namespace cppsvc::observability {
namespace {

// Captures log lines for the lifetime of the object.
class CaptureLog {
 public:
  CaptureLog() : previous_(internal::SetLogSink(&out_)) {}
  ~CaptureLog() { internal::SetLogSink(previous_); }

  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  std::string Text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::ostream* previous_;
};

void ExpectTimestamp(const nlohmann::json& line) {
  ASSERT_TRUE(line.contains("ts"));
  ASSERT_TRUE(line["ts"].is_string());
  // RFC 3339 UTC with milliseconds: digits where the pattern has 'd'.
  const std::string pattern = "dddd-dd-ddTdd:dd:dd.dddZ";
  std::string ts = line["ts"].get<std::string>();
  ASSERT_EQ(ts.size(), pattern.size()) << ts;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (pattern[i] == 'd') {
      EXPECT_TRUE(ts[i] >= '0' && ts[i] <= '9') << ts;
    } else {
      EXPECT_EQ(ts[i], pattern[i]) << ts;
    }
  }
}

TEST(LogRequest, OneJsonLineWithTheRequestFields) {
  CaptureLog capture;
  RequestLog r;
  r.service = "orders";
  r.method = "commerce.orders.v1.OrdersService/GetOrder";
  r.code = "NOT_FOUND";
  r.duration = std::chrono::microseconds(1500);
  r.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  r.caller = "user-42";
  LogRequest(r);

  std::string text = capture.Text();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  auto lines = capture.Lines();
  ASSERT_EQ(lines.size(), 1u);
  nlohmann::json line = nlohmann::json::parse(lines[0]);  // throws if not JSON
  ASSERT_TRUE(line.is_object());
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["msg"], "request");
  EXPECT_EQ(line["service"], "orders");
  EXPECT_EQ(line["method"], "commerce.orders.v1.OrdersService/GetOrder");
  EXPECT_EQ(line["code"], "NOT_FOUND");
  ASSERT_TRUE(line["duration_ms"].is_number_float());
  EXPECT_DOUBLE_EQ(line["duration_ms"].get<double>(), 1.5);
  EXPECT_EQ(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(line["caller"], "user-42");
  EXPECT_EQ(line["transport"], "grpc");
  ExpectTimestamp(line);
}

TEST(LogRequest, AnonymousCallerAndOtherTransport) {
  CaptureLog capture;
  RequestLog r;
  r.service = "orders";
  r.method = "OrderPlaced";
  r.code = "OK";
  r.transport = "nats";
  LogRequest(r);
  auto lines = capture.Lines();
  ASSERT_EQ(lines.size(), 1u);
  auto line = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(line["caller"], "");
  EXPECT_EQ(line["transport"], "nats");
  EXPECT_DOUBLE_EQ(line["duration_ms"].get<double>(), 0.0);
}

TEST(LogRequest, EscapesQuotesAndControlCharactersAndKeepsNonAscii) {
  CaptureLog capture;
  RequestLog r;
  r.service = "orders";
  r.method = "m";
  r.code = "OK";
  r.duration = std::chrono::microseconds(2000);
  r.caller = "a\"b\\c\nd\x01";
  r.trace_id = "caf\xc3\xa9";  // non-ASCII takes the general path
  LogRequest(r);
  r.trace_id = "t";
  LogRequest(r);
  auto lines = capture.Lines();
  ASSERT_EQ(lines.size(), 2u);
  for (const std::string& text : lines) {
    auto line = nlohmann::json::parse(text);
    EXPECT_EQ(line["caller"], "a\"b\\c\nd\x01");
    ASSERT_TRUE(line["duration_ms"].is_number_float()) << text;
    EXPECT_DOUBLE_EQ(line["duration_ms"].get<double>(), 2.0);
    ExpectTimestamp(line);
  }
  EXPECT_EQ(nlohmann::json::parse(lines[0])["trace_id"], "caf\xc3\xa9");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["trace_id"], "t");
}

// duration_ms is written from whole microseconds, as LogJson (nlohmann)
// writes the same double: shortest digits, always a fraction.
TEST(LogRequest, DurationIsWrittenAsLogJsonWritesTheDouble) {
  const std::vector<std::pair<int64_t, std::string>> cases = {
      {0, "0.0"},
      {1, "0.001"},
      {10, "0.01"},
      {180, "0.18"},
      {999, "0.999"},
      {1000, "1.0"},
      {1500, "1.5"},
      {2000, "2.0"},
      {12345, "12.345"},
      {60000000, "60000.0"},
      {123456789012, "123456789.012"},
      {-1500, "-1.5"},
  };
  for (const auto& [us, text] : cases) {
    SCOPED_TRACE(text);
    CaptureLog capture;
    RequestLog r;
    r.service = "orders";
    r.method = "m";
    r.code = "OK";
    r.duration = std::chrono::microseconds(us);
    LogRequest(r);
    auto lines = capture.Lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("\"duration_ms\":" + text + ","), std::string::npos) << lines[0];
    EXPECT_EQ(nlohmann::json(static_cast<double>(us) / 1000.0).dump(), text);
    auto line = nlohmann::json::parse(lines[0]);
    ASSERT_TRUE(line["duration_ms"].is_number_float());
    EXPECT_EQ(line["duration_ms"].get<double>(), static_cast<double>(us) / 1000.0);
  }
}

// Plain bytes are skipped 8 at a time: a byte that needs escaping (or the
// general path) is found at every position of a word and across words.
TEST(LogRequest, FindsEveryByteThatNeedsCareWhereverItStands) {
  const std::vector<std::string> specials =
      {"\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xc3\xa9", " ", "~"};
  for (const std::string& special : specials) {
    for (size_t at = 0; at < 24; ++at) {
      SCOPED_TRACE(testing::Message()
                   << "byte " << static_cast<int>(static_cast<unsigned char>(special[0])) << " at "
                   << at);
      std::string caller(24, 'a');
      caller.replace(at, 1, special);
      CaptureLog capture;
      RequestLog r;
      r.service = "orders";
      r.method = "m";
      r.code = "OK";
      r.caller = caller;
      LogRequest(r);
      auto lines = capture.Lines();
      ASSERT_EQ(lines.size(), 1u);
      EXPECT_EQ(nlohmann::json::parse(lines[0])["caller"], caller) << lines[0];
    }
  }
}

TEST(LogJson, AddsTimestampAndKeepsFields) {
  CaptureLog capture;
  LogJson({{"level", "warn"}, {"msg", "line\nbreak \"quoted\""}, {"n", 3}});
  auto lines = capture.Lines();
  ASSERT_EQ(lines.size(), 1u);  // the newline in a value is escaped
  auto line = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(line["level"], "warn");
  EXPECT_EQ(line["msg"], "line\nbreak \"quoted\"");
  EXPECT_EQ(line["n"], 3);
  ExpectTimestamp(line);
}

TEST(LogJson, NonObjectsAndInvalidUtf8DoNotBreakTheLine) {
  CaptureLog capture;
  LogJson("just a message");
  EXPECT_NO_THROW(LogJson({{"msg", std::string("bad \xff utf8")}}));
  auto lines = capture.Lines();
  ASSERT_EQ(lines.size(), 2u);
  auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["msg"], "just a message");
  ExpectTimestamp(first);
  EXPECT_NO_THROW(nlohmann::json::parse(lines[1]));
}

TEST(LogJson, ConcurrentLinesDoNotInterleave) {
  CaptureLog capture;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kPerThread; ++i) {
        LogJson({{"msg", "concurrent"}, {"thread", t}, {"i", i}, {"pad", std::string(200, 'x')}});
      }
    });
  }
  for (auto& th : threads) th.join();
  auto lines = capture.Lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::vector<int> per_thread(kThreads, 0);
  for (const auto& text : lines) {
    auto line = nlohmann::json::parse(text);
    ++per_thread.at(line["thread"].get<int>());
  }
  for (int count : per_thread) EXPECT_EQ(count, kPerThread);
}

// Reads `fd` until end of file.
std::string ReadToEnd(int fd) {
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  return text;
}

// Points stderr at a pipe read by another thread (as under a container
// runtime) until Finish(), which gives back all that was written.
class StderrReader {
 public:
  StderrReader() {
    EXPECT_EQ(pipe(fds_), 0);
    saved_ = dup(STDERR_FILENO);
    EXPECT_GE(saved_, 0);
    EXPECT_EQ(dup2(fds_[1], STDERR_FILENO), STDERR_FILENO);
    close(fds_[1]);
    reader_ = std::thread([this] { received_ = ReadToEnd(fds_[0]); });
  }
  ~StderrReader() { Finish(); }

  // Restores stderr, which closes the pipe's last writer, and waits for the
  // reader to reach the end.
  const std::string& Finish() {
    if (reader_.joinable()) {
      EXPECT_EQ(dup2(saved_, STDERR_FILENO), STDERR_FILENO);
      close(saved_);
      reader_.join();
      close(fds_[0]);
    }
    return received_;
  }

 private:
  int fds_[2] = {-1, -1};
  int saved_ = -1;
  std::thread reader_;
  std::string received_;
};

// The default sink: stderr, here a pipe (as under a container runtime) read
// by another thread. Short lines from many threads and lines longer than
// PIPE_BUF (which a pipe may split) all arrive whole.
TEST(LogJson, ConcurrentLinesToAStderrPipeArriveWhole) {
  StderrReader stderr_reader;

  constexpr int kThreads = 8;
  constexpr int kPerThread = 300;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every tenth line is longer than PIPE_BUF.
        const std::string pad(i % 10 == 0 ? 6000 : 100, static_cast<char>('a' + t));
        LogJson({{"msg", "concurrent"}, {"thread", t}, {"i", i}, {"pad", pad}});
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::string& received = stderr_reader.Finish();

  std::vector<int> per_thread(kThreads, 0);
  std::istringstream in(received);
  size_t count = 0;
  for (std::string text; std::getline(in, text); ++count) {
    const auto line = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(line.is_discarded()) << "not a whole line: " << text.substr(0, 200);
    const int t = line["thread"].get<int>();
    const std::string& pad = line["pad"].get_ref<const std::string&>();
    EXPECT_EQ(pad.find_first_not_of(static_cast<char>('a' + t)), std::string::npos);
    ++per_thread.at(t);
  }
  EXPECT_EQ(count, static_cast<size_t>(kThreads * kPerThread));
  for (int n : per_thread) EXPECT_EQ(n, kPerThread);
}

// Points stderr at a pipe for the lifetime of the object; the pipe's read
// end does not block.
class StderrPipe {
 public:
  StderrPipe() {
    EXPECT_EQ(pipe(fds_), 0);
    EXPECT_EQ(fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
    saved_ = dup(STDERR_FILENO);
    EXPECT_EQ(dup2(fds_[1], STDERR_FILENO), STDERR_FILENO);
    close(fds_[1]);
  }
  ~StderrPipe() {
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    close(fds_[0]);
  }
  // What the pipe holds now.
  std::string ReadNow() { return ReadToEnd(fds_[0]); }  // stops where a read would wait
  // Waits up to `limit` for a whole line.
  std::string ReadLine(std::chrono::milliseconds limit) {
    std::string text;
    const auto until = std::chrono::steady_clock::now() + limit;
    while (text.find('\n') == std::string::npos && std::chrono::steady_clock::now() < until) {
      pollfd p{fds_[0], POLLIN, 0};
      poll(&p, 1, 10);
      text += ReadNow();
    }
    return text;
  }

 private:
  int fds_[2] = {-1, -1};
  int saved_ = -1;
};

// Sets the request log delay, and the default back at the end.
class RequestLogDelay {
 public:
  explicit RequestLogDelay(std::chrono::milliseconds delay) { SetRequestLogDelay(delay); }
  ~RequestLogDelay() {
    FlushLogs();
    SetRequestLogDelay(kDefaultRequestLogDelay);
  }
};

constexpr std::chrono::milliseconds kHour = std::chrono::hours(1);

RequestLog Request(std::string_view caller) {
  RequestLog r;
  r.service = "orders";
  r.method = "commerce.orders.v1.OrdersService/GetOrder";
  r.code = "OK";
  r.caller = caller;
  return r;
}

std::vector<std::string> Callers(const std::string& text) {
  std::vector<std::string> callers;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    callers.push_back(json.is_discarded() ? "not JSON: " + line
                                          : json.value("caller", json.value("msg", std::string())));
  }
  return callers;
}

// Request lines on stderr wait to be written together.
TEST(RequestLogBatches, RequestLinesWaitAndAreWrittenTogether) {
  StderrPipe pipe;
  RequestLogDelay delay(kHour);
  for (const char* caller : {"a", "b", "c"}) LogRequest(Request(caller));
  EXPECT_EQ(pipe.ReadNow(), "");
  FlushLogs();
  EXPECT_EQ(Callers(pipe.ReadNow()), (std::vector<std::string>{"a", "b", "c"}));
}

// Any other line is written at once, after the request lines before it.
TEST(RequestLogBatches, AnotherLineGoesAtOnceAfterTheRequestLinesBeforeIt) {
  StderrPipe pipe;
  RequestLogDelay delay(kHour);
  LogRequest(Request("a"));
  LogRequest(Request("b"));
  LogJson({{"level", "warn"}, {"msg", "warning"}});
  EXPECT_EQ(Callers(pipe.ReadNow()), (std::vector<std::string>{"a", "b", "warning"}));
}

// The flusher writes a waiting line once it has waited the delay, with no
// other call to the log.
TEST(RequestLogBatches, TheFlusherWritesAWaitingLineAfterTheDelay) {
  StderrPipe pipe;
  RequestLogDelay delay(std::chrono::milliseconds(50));
  const auto start = std::chrono::steady_clock::now();
  LogRequest(Request("a"));
  const std::string text = pipe.ReadLine(std::chrono::seconds(10));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(Callers(text), std::vector<std::string>{"a"});
  EXPECT_GE(waited, std::chrono::milliseconds(45));
}

// A new delay applies to the lines already waiting: a flusher asleep until
// the old time wakes to the new one.
TEST(RequestLogBatches, ANewDelayAppliesToTheLinesWaiting) {
  StderrPipe pipe;
  RequestLogDelay delay(kHour);
  LogRequest(Request("a"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the flusher sleeps
  EXPECT_EQ(pipe.ReadNow(), "");
  SetRequestLogDelay(std::chrono::milliseconds(30));
  EXPECT_EQ(Callers(pipe.ReadLine(std::chrono::seconds(10))), std::vector<std::string>{"a"});
}

// A batch is at most PIPE_BUF bytes of whole lines: when the next line would
// not fit, the batch is written without waiting.
TEST(RequestLogBatches, AFullBatchIsWrittenAtOnceInWholeLines) {
  StderrPipe pipe;
  RequestLogDelay delay(kHour);
  const std::string caller(200, 'x');
  size_t logged = 0;
  std::string written;
  while (written.empty() && logged < 100) {
    LogRequest(Request(caller));
    ++logged;
    written = pipe.ReadNow();
  }
  ASSERT_FALSE(written.empty());
  EXPECT_LE(written.size(), static_cast<size_t>(PIPE_BUF));
  EXPECT_GT(written.size() + 400, static_cast<size_t>(PIPE_BUF));  // it was full
  EXPECT_EQ(written.back(), '\n');
  const auto first = Callers(written);
  EXPECT_EQ(first.size(), logged - 1);  // the last line starts the next batch
  for (const auto& c : first) EXPECT_EQ(c, caller);
  FlushLogs();
  EXPECT_EQ(Callers(pipe.ReadNow()), std::vector<std::string>{caller});
}

TEST(RequestLogBatches, ZeroDelayWritesEachLineAtOnce) {
  StderrPipe pipe;
  RequestLogDelay delay(std::chrono::milliseconds(0));
  LogRequest(Request("a"));
  EXPECT_EQ(Callers(pipe.ReadNow()), std::vector<std::string>{"a"});
  LogRequest(Request("b"));
  EXPECT_EQ(Callers(pipe.ReadNow()), std::vector<std::string>{"b"});
}

// Lines waiting when a sink is set were logged before it: they go to
// stderr, and the sink gets only the lines after.
TEST(RequestLogBatches, SettingASinkWritesTheWaitingLinesToStderrFirst) {
  StderrPipe pipe;
  RequestLogDelay delay(kHour);
  LogRequest(Request("before"));
  {
    CaptureLog capture;
    EXPECT_EQ(Callers(pipe.ReadNow()), std::vector<std::string>{"before"});
    LogRequest(Request("after"));
    EXPECT_EQ(Callers(capture.Text()), std::vector<std::string>{"after"});
  }
  EXPECT_EQ(pipe.ReadNow(), "");
}

// A forked child starts with no waiting lines: the parent's are written
// once, by the parent.
TEST(RequestLogBatches, AForkedChildWritesOnlyItsOwnLines) {
  StderrPipe pipe;
  RequestLogDelay delay(kHour);
  LogRequest(Request("parent"));
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    LogRequest(Request("child"));
    FlushLogs();
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(Callers(pipe.ReadNow()), std::vector<std::string>{"child"});
  FlushLogs();
  EXPECT_EQ(Callers(pipe.ReadNow()), std::vector<std::string>{"parent"});
}

// The child of the test below is this program, started with
// CPPSVC_LOG_TEST_CHILD set: before any test, it logs a request line that
// may wait an hour, and ends normally.
const bool kRunAsLogChild = [] {
  if (std::getenv("CPPSVC_LOG_TEST_CHILD") == nullptr) return false;
  SetRequestLogDelay(kHour);
  LogRequest(Request("at exit"));
  std::exit(0);
}();

// A process that ends normally writes the lines still waiting.
TEST(RequestLogBatches, ExitWritesTheWaitingLines) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  char arg0[] = "observability_log_child";
  char* argv[] = {arg0, nullptr};
  char env0[] = "CPPSVC_LOG_TEST_CHILD=1";
  char* envp[] = {env0, nullptr};
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    dup2(fds[1], STDERR_FILENO);
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execve("/proc/self/exe", argv, envp);
    _exit(127);
  }
  close(fds[1]);
  const std::string text = ReadToEnd(fds[0]);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0) << text;
  EXPECT_FALSE(kRunAsLogChild);
  EXPECT_EQ(Callers(text), std::vector<std::string>{"at exit"});
}

// Request lines and other lines (some longer than PIPE_BUF) from many
// threads, with a short delay: every line arrives whole and once, and each
// thread's lines in the order it logged them.
TEST(RequestLogBatches, ConcurrentLinesArriveWholeOnceAndInEachThreadsOrder) {
  StderrReader stderr_reader;
  {
    RequestLogDelay delay(std::chrono::milliseconds(1));
    constexpr int kThreads = 6;
    constexpr int kPerThread = 500;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([t] {
        for (int i = 0; i < kPerThread; ++i) {
          if (i % 50 == 7) {
            LogJson({{"msg", "other"},
                     {"caller", std::to_string(t) + ":" + std::to_string(i)},
                     {"pad", std::string(i % 100 == 7 ? 6000 : 50, 'p')}});
          } else {
            const std::string caller = std::to_string(t) + ":" + std::to_string(i);
            LogRequest(Request(caller));
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    FlushLogs();
    const std::string& received = stderr_reader.Finish();

    std::vector<int> next(kThreads, 0);
    size_t count = 0;
    for (const std::string& caller : Callers(received)) {
      ++count;
      const size_t colon = caller.find(':');
      ASSERT_NE(colon, std::string::npos) << caller.substr(0, 200);
      const int t = std::stoi(caller.substr(0, colon));
      const int i = std::stoi(caller.substr(colon + 1));
      ASSERT_EQ(i, next.at(t)) << "thread " << t;
      ++next.at(t);
    }
    EXPECT_EQ(count, static_cast<size_t>(kThreads * kPerThread));
  }
}

}  // namespace
}  // namespace cppsvc::observability
