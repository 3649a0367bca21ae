#include <unistd.h>

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

// The default sink: stderr, here a pipe (as under a container runtime) read
// by another thread. Short lines from many threads and lines longer than
// PIPE_BUF (which a pipe may split) all arrive whole.
TEST(LogJson, ConcurrentLinesToAStderrPipeArriveWhole) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const int saved = dup(STDERR_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(dup2(fds[1], STDERR_FILENO), STDERR_FILENO);
  close(fds[1]);
  std::string received;
  std::thread reader([&] {
    char buf[65536];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
      received.append(buf, static_cast<size_t>(n));
  });

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
  ASSERT_EQ(dup2(saved, STDERR_FILENO), STDERR_FILENO);  // closes the pipe's last writer
  close(saved);
  reader.join();
  close(fds[0]);

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

}  // namespace
}  // namespace cppsvc::observability
