#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cppsvc/observability/metrics.h"

namespace cppsvc::observability {
namespace {

// A small parser for the Prometheus text exposition format 0.0.4: "# HELP",
// "# TYPE" and samples `name{label="value",...} value [timestamp]`.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family -> counter|gauge|histogram|...
  std::map<std::string, std::string> help;
  std::vector<Sample> samples;

  // Samples named `name` whose labels include all of `labels`.
  std::vector<Sample> Find(const std::string& name,
                           const std::map<std::string, std::string>& labels = {}) const {
    std::vector<Sample> out;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool match = std::all_of(labels.begin(), labels.end(), [&](const auto& kv) {
        auto it = s.labels.find(kv.first);
        return it != s.labels.end() && it->second == kv.second;
      });
      if (match) out.push_back(s);
    }
    return out;
  }
};

bool IsNameStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsNameChar(char c) {
  return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c));
}

bool ParseValue(const std::string& text, double& out) {
  if (text == "+Inf" || text == "-Inf") {
    out = text[0] == '-' ? -std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// The family a sample belongs to: histograms expose _bucket, _sum and _count.
std::string FamilyOf(const std::string& sample, const std::map<std::string, std::string>& types) {
  if (types.count(sample)) return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s(suffix);
    if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0) {
      std::string base = sample.substr(0, sample.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return "";
}

::testing::AssertionResult ParsePrometheusText(const std::string& text, Exposition& out) {
  auto fail = [](int n, const std::string& line, const std::string& why) {
    return ::testing::AssertionFailure() << "line " << n << ": " << why << ": '" << line << "'";
  };
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line.substr(1));
      std::string keyword, name;
      words >> keyword >> name;
      if (keyword == "HELP") {
        if (name.empty()) return fail(n, line, "HELP without a name");
        std::string rest;
        std::getline(words, rest);
        out.help[name] = rest.empty() ? rest : rest.substr(1);
      } else if (keyword == "TYPE") {
        std::string type, extra;
        words >> type >> extra;
        static const std::set<std::string> kTypes = {"counter",
                                                     "gauge",
                                                     "histogram",
                                                     "summary",
                                                     "untyped"};
        if (name.empty() || !kTypes.count(type) || !extra.empty()) {
          return fail(n, line, "malformed TYPE");
        }
        if (out.types.count(name)) return fail(n, line, "second TYPE for a family");
        out.types[name] = type;
      }
      continue;  // other comments are allowed
    }
    Sample s;
    std::size_t i = 0;
    if (!IsNameStart(line[i])) return fail(n, line, "bad metric name");
    while (i < line.size() && IsNameChar(line[i])) ++i;
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        std::size_t start = i;
        if (i >= line.size() || !IsNameStart(line[i]) || line[i] == ':') {
          return fail(n, line, "bad label name");
        }
        while (i < line.size() && IsNameChar(line[i]) && line[i] != ':') ++i;
        std::string label = line.substr(start, i - start);
        if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          return fail(n, line, "expected =\" after label name");
        }
        i += 2;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          char c = line[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (i >= line.size()) return fail(n, line, "dangling escape");
            char e = line[i++];
            if (e == 'n')
              value += '\n';
            else if (e == '\\' || e == '"')
              value += e;
            else
              return fail(n, line, "bad escape");
          } else {
            value += c;
          }
        }
        if (!closed) return fail(n, line, "unterminated label value");
        if (!s.labels.emplace(label, value).second) return fail(n, line, "duplicate label");
        if (i < line.size() && line[i] == ',')
          ++i;
        else if (i >= line.size() || line[i] != '}')
          return fail(n, line, "expected , or }");
      }
    }
    if (i >= line.size() || line[i] != ' ')
      return fail(n, line, "expected a space before the value");
    std::istringstream rest(line.substr(i + 1));
    std::string value, timestamp, extra;
    rest >> value >> timestamp >> extra;
    if (!ParseValue(value, s.value)) return fail(n, line, "bad value");
    if (!extra.empty()) return fail(n, line, "trailing garbage");
    if (!timestamp.empty() && timestamp.find_first_not_of("-0123456789") != std::string::npos) {
      return fail(n, line, "bad timestamp");
    }
    if (FamilyOf(s.name, out.types).empty()) return fail(n, line, "sample without a TYPE");
    out.samples.push_back(std::move(s));
  }
  return ::testing::AssertionSuccess();
}

double Value(const Exposition& e,
             const std::string& name,
             const std::map<std::string, std::string>& labels) {
  auto found = e.Find(name, labels);
  EXPECT_EQ(found.size(), 1u) << name;
  return found.empty() ? std::numeric_limits<double>::quiet_NaN() : found[0].value;
}

// Buckets cumulative and ending in +Inf == _count, for one histogram series.
void ExpectConsistentHistogram(const Exposition& e,
                               const std::string& name,
                               const std::map<std::string, std::string>& labels,
                               double expected_count,
                               double expected_sum) {
  auto buckets = e.Find(name + "_bucket", labels);
  ASSERT_GE(buckets.size(), 2u);
  std::vector<std::pair<double, double>> by_le;
  for (const auto& b : buckets) {
    ASSERT_TRUE(b.labels.count("le"));
    double le = 0;
    ASSERT_TRUE(ParseValue(b.labels.at("le"), le)) << b.labels.at("le");
    by_le.emplace_back(le, b.value);
  }
  std::sort(by_le.begin(), by_le.end());
  EXPECT_TRUE(std::isinf(by_le.back().first));
  for (std::size_t i = 1; i < by_le.size(); ++i) {
    EXPECT_LT(by_le[i - 1].first, by_le[i].first);
    EXPECT_LE(by_le[i - 1].second, by_le[i].second) << "not cumulative at le=" << by_le[i].first;
  }
  EXPECT_DOUBLE_EQ(by_le.back().second, expected_count);
  EXPECT_DOUBLE_EQ(Value(e, name + "_count", labels), expected_count);
  EXPECT_NEAR(Value(e, name + "_sum", labels), expected_sum, 1e-9);
}

TEST(MetricsText, ParserRejectsGarbage) {
  Exposition e;
  EXPECT_FALSE(ParsePrometheusText("# TYPE x counter\nx{a=\"1\" 3\n", e));
  Exposition e2;
  EXPECT_FALSE(ParsePrometheusText("y 1\n", e2));  // no TYPE
  Exposition e3;
  EXPECT_TRUE(ParsePrometheusText("# HELP x help\n# TYPE x gauge\nx{a=\"q\\\"\\n\"} -1.5e3\n", e3));
  ASSERT_EQ(e3.samples.size(), 1u);
  EXPECT_EQ(e3.samples[0].labels.at("a"), "q\"\n");
  EXPECT_DOUBLE_EQ(e3.samples[0].value, -1500);
}

TEST(Metrics, FreshRegistryExposesZeroGauges) {
  Metrics metrics("orders");
  Exposition e;
  ASSERT_TRUE(ParsePrometheusText(metrics.Serialize(), e));
  // Series without per-call labels read 0 from the start; families whose
  // series need labels appear with their first sample.
  EXPECT_EQ(e.types["cppsvc_requests_in_flight"], "gauge");
  EXPECT_EQ(e.types["cppsvc_bulkhead_rejections_total"], "counter");
  EXPECT_EQ(Value(e, "cppsvc_requests_in_flight", {{"service", "orders"}}), 0);
  EXPECT_EQ(Value(e, "cppsvc_bulkhead_rejections_total", {{"service", "orders"}}), 0);
  EXPECT_TRUE(e.Find("cppsvc_requests_total").empty());
}

TEST(Metrics, SerializedTextParsesAndCountsRequests) {
  Metrics metrics("orders");
  const std::string get = "commerce.orders.v1.OrdersService/GetOrder";
  const std::string place = "commerce.orders.v1.OrdersService/PlaceOrder";
  metrics.RecordRequest(get, "OK", 0.002);
  metrics.RecordRequest(get, "OK", 0.004);
  metrics.RecordRequest(get, "NOT_FOUND", 0.3);
  metrics.RecordRequest(place, "OK", 20.0);  // beyond the largest bucket
  metrics.RecordRequest("OrderPlaced", "OK", 0.01, "nats");
  metrics.InFlight(+1);
  metrics.InFlight(+1);
  metrics.InFlight(+1);
  metrics.InFlight(-1);
  metrics.BulkheadRejected();
  metrics.BulkheadRejected();
  metrics.BulkheadRejected();
  metrics.RateLimited(get);
  metrics.SetCircuitState("payments", 1);
  metrics.SetCircuitState("inventory", 2);
  metrics.SetCircuitState("inventory", 0);

  std::string text = metrics.Serialize();
  Exposition e;
  ASSERT_TRUE(ParsePrometheusText(text, e)) << text;
  EXPECT_FALSE(e.help["cppsvc_requests_total"].empty());
  EXPECT_EQ(e.types["cppsvc_requests_total"], "counter");
  EXPECT_EQ(e.types["cppsvc_request_duration_seconds"], "histogram");
  EXPECT_EQ(e.types["cppsvc_requests_in_flight"], "gauge");
  EXPECT_EQ(e.types["cppsvc_bulkhead_rejections_total"], "counter");
  EXPECT_EQ(e.types["cppsvc_rate_limited_total"], "counter");
  EXPECT_EQ(e.types["cppsvc_circuit_state"], "gauge");

  EXPECT_EQ(Value(e,
                  "cppsvc_requests_total",
                  {{"service", "orders"}, {"method", get}, {"code", "OK"}, {"transport", "grpc"}}),
            2);
  EXPECT_EQ(Value(e, "cppsvc_requests_total", {{"method", get}, {"code", "NOT_FOUND"}}), 1);
  EXPECT_EQ(Value(e, "cppsvc_requests_total", {{"method", place}, {"code", "OK"}}), 1);
  EXPECT_EQ(Value(e, "cppsvc_requests_total", {{"method", "OrderPlaced"}, {"transport", "nats"}}),
            1);
  EXPECT_EQ(e.Find("cppsvc_requests_total").size(), 4u);

  ExpectConsistentHistogram(e,
                            "cppsvc_request_duration_seconds",
                            {{"service", "orders"}, {"method", get}},
                            3,
                            0.306);
  ExpectConsistentHistogram(e, "cppsvc_request_duration_seconds", {{"method", place}}, 1, 20.0);
  // 20 s only lands in +Inf; 2 ms and 4 ms are below 5 ms, 0.3 s is not.
  auto le = [&](const std::string& method, const std::string& bound) {
    return Value(e, "cppsvc_request_duration_seconds_bucket", {{"method", method}, {"le", bound}});
  };
  EXPECT_EQ(le(place, "10"), 0);
  EXPECT_EQ(le(place, "+Inf"), 1);
  EXPECT_EQ(le(get, "0.005"), 2);
  EXPECT_EQ(le(get, "0.25"), 2);
  EXPECT_EQ(le(get, "0.5"), 3);
  EXPECT_EQ(le(get, "0.0005"), 0);

  EXPECT_EQ(Value(e, "cppsvc_requests_in_flight", {{"service", "orders"}}), 2);
  EXPECT_EQ(Value(e, "cppsvc_bulkhead_rejections_total", {{"service", "orders"}}), 3);
  EXPECT_EQ(Value(e, "cppsvc_rate_limited_total", {{"service", "orders"}, {"method", get}}), 1);
  EXPECT_EQ(Value(e, "cppsvc_circuit_state", {{"target", "payments"}}), 1);
  EXPECT_EQ(Value(e, "cppsvc_circuit_state", {{"target", "inventory"}}), 0);
}

TEST(Metrics, LabelValuesAreEscaped) {
  Metrics metrics("svc \"quoted\"");
  metrics.RecordRequest("a\\b\nc", "OK", 0.001);
  Exposition e;
  std::string text = metrics.Serialize();
  ASSERT_TRUE(ParsePrometheusText(text, e)) << text;
  EXPECT_EQ(
      Value(e, "cppsvc_requests_total", {{"service", "svc \"quoted\""}, {"method", "a\\b\nc"}}),
      1);
}

TEST(Metrics, ConcurrentRecordingIsCounted) {
  Metrics metrics("orders");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1000;
  constexpr double kPerMethod = kThreads / 2.0 * kPerThread;  // two methods
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kPerThread; ++i) {
        metrics.InFlight(+1);
        metrics.RecordRequest("M" + std::to_string(t % 2), "OK", 0.001);
        metrics.InFlight(-1);
      }
    });
  }
  // Scrape while recording.
  for (int i = 0; i < 20; ++i) {
    Exposition e;
    EXPECT_TRUE(ParsePrometheusText(metrics.Serialize(), e));  // no ASSERT: threads run
  }
  for (auto& th : threads) th.join();
  Exposition e;
  ASSERT_TRUE(ParsePrometheusText(metrics.Serialize(), e));
  EXPECT_EQ(Value(e, "cppsvc_requests_total", {{"method", "M0"}}), kPerMethod);
  EXPECT_EQ(Value(e, "cppsvc_requests_total", {{"method", "M1"}}), kPerMethod);
  EXPECT_EQ(Value(e, "cppsvc_requests_in_flight", {}), 0);
  ExpectConsistentHistogram(e,
                            "cppsvc_request_duration_seconds",
                            {{"method", "M0"}},
                            kPerMethod,
                            kPerMethod * 0.001);
}

// The per-call path: shards per thread, added up by each scrape. Scrapes
// taken while threads record pass on only what is new, so the last one
// holds every call exactly once, in the right buckets, and the series of a
// MethodMetrics that is gone keep its calls.
TEST(Metrics, MethodMetricsFromManyThreadsAddUpAtEachScrape) {
  Metrics metrics("orders");
  constexpr int kThreads = 6;
  constexpr int kPerThread = 3000;
  auto method = std::make_unique<MethodMetrics>(metrics, "GetOrder");
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, &method, t] {
      for (int i = 0; i < kPerThread; ++i) {
        metrics.InFlight(+1);
        if (i % 3 == 2) {
          method->Record(5, "NOT_FOUND", "nats", 0.3);  // (0.25, 0.5]
        } else {
          method->Record(0, "OK", "grpc", 0.0005);  // exactly on the first bound: le="0.0005"
        }
        if (t % 2 == 0) metrics.InFlight(-1);
      }
    });
  }
  double last_ok = 0;
  for (int i = 0; i < 30; ++i) {
    Exposition e;
    EXPECT_TRUE(ParsePrometheusText(metrics.Serialize(), e));  // no ASSERT: threads run
    auto ok = e.Find("cppsvc_requests_total", {{"method", "GetOrder"}, {"code", "OK"}});
    if (!ok.empty()) {
      EXPECT_GE(ok[0].value, last_ok) << "a counter went down";
      last_ok = ok[0].value;
    }
  }
  for (auto& th : threads) th.join();
  // Half the threads leave their calls in flight, each from its own shard.
  metrics.InFlight(-1);

  Exposition e;
  ASSERT_TRUE(ParsePrometheusText(metrics.Serialize(), e));
  constexpr double kCalls = kThreads * kPerThread;
  EXPECT_EQ(Value(e,
                  "cppsvc_requests_total",
                  {{"method", "GetOrder"}, {"code", "OK"}, {"transport", "grpc"}}),
            kCalls * 2 / 3);
  EXPECT_EQ(Value(e,
                  "cppsvc_requests_total",
                  {{"method", "GetOrder"}, {"code", "NOT_FOUND"}, {"transport", "nats"}}),
            kCalls / 3);
  EXPECT_EQ(e.Find("cppsvc_requests_total").size(), 2u);
  EXPECT_EQ(Value(e, "cppsvc_requests_in_flight", {}), kThreads / 2 * kPerThread - 1);
  ExpectConsistentHistogram(e,
                            "cppsvc_request_duration_seconds",
                            {{"method", "GetOrder"}},
                            kCalls,
                            kCalls * 2 / 3 * 0.0005 + kCalls / 3 * 0.3);
  auto le = [&](const std::string& bound) {
    return Value(e,
                 "cppsvc_request_duration_seconds_bucket",
                 {{"method", "GetOrder"}, {"le", bound}});
  };
  EXPECT_EQ(le("0.0005"), kCalls * 2 / 3);
  EXPECT_EQ(le("0.25"), kCalls * 2 / 3);
  EXPECT_EQ(le("0.5"), kCalls);

  // Calls recorded after the last scrape are not lost with the object.
  method->Record(13, "INTERNAL", "grpc", 0.002);
  method.reset();
  Exposition after;
  ASSERT_TRUE(ParsePrometheusText(metrics.Serialize(), after));
  EXPECT_EQ(Value(after, "cppsvc_requests_total", {{"method", "GetOrder"}, {"code", "INTERNAL"}}),
            1);
  EXPECT_EQ(Value(after, "cppsvc_request_duration_seconds_count", {{"method", "GetOrder"}}),
            kCalls + 1);
}

}  // namespace
}  // namespace cppsvc::observability
