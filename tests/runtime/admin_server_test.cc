#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "cppsvc/admin/admin_server.h"
#include "cppsvc/observability/metrics.h"

namespace cppsvc::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  std::string allow;
};

// A Beast HTTP/1.1 client connection to the admin server on localhost.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  Reply Send(http::verb method, const std::string& target, bool keep_alive = false) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(keep_alive);
    if (method == http::verb::post) req.body() = "{}";
    req.prepare_payload();
    http::write(socket_, req);
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res);
    Reply r;
    r.status = res.result_int();
    r.body = res.body();
    r.content_type = std::string(res[http::field::content_type]);
    r.allow = std::string(res[http::field::allow]);
    return r;
  }

  tcp::socket& Socket() { return socket_; }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

Reply Get(uint16_t port, const std::string& target) {
  return Client(port).Send(http::verb::get, target);
}

// Reads until the server closes the connection; returns what was read.
std::string ReadToEof(tcp::socket& socket) {
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    std::size_t n = socket.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

// Minimal Prometheus text-format parse: every non-comment line must be
// `name{labels} value`, every sample's family must have a TYPE.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

::testing::AssertionResult ParsePrometheusText(const std::string& text,
                                               std::map<std::string, std::string>& types,
                                               std::vector<Sample>& samples) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
          type != "untyped") {
        return ::testing::AssertionFailure() << "bad TYPE line: " << line;
      }
      types[name] = type;
      continue;
    }
    if (line[0] == '#') continue;
    Sample s;
    std::size_t i = line.find_first_of("{ ");
    if (i == std::string::npos || i == 0) return ::testing::AssertionFailure() << "bad: " << line;
    s.name = line.substr(0, i);
    if (line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find("=\"", i);
        if (eq == std::string::npos) return ::testing::AssertionFailure() << "bad label: " << line;
        std::string label = line.substr(i, eq - i);
        std::string value;
        i = eq + 2;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) ++i;
          value += line[i++];
        }
        if (i >= line.size()) return ::testing::AssertionFailure() << "unterminated: " << line;
        ++i;  // closing quote
        if (i < line.size() && line[i] == ',') ++i;
        s.labels[label] = value;
      }
      if (i >= line.size()) return ::testing::AssertionFailure() << "missing }: " << line;
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') return ::testing::AssertionFailure() << "bad: " << line;
    std::string value = line.substr(i + 1);
    if (value == "+Inf") {
      s.value = std::numeric_limits<double>::infinity();
    } else {
      char* end = nullptr;
      s.value = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0') return ::testing::AssertionFailure() << "value: " << line;
    }
    std::string family = s.name;
    for (const char* suffix : {"_bucket", "_count", "_sum"}) {
      std::string sfx(suffix);
      if (!types.count(family) && family.size() > sfx.size() &&
          family.compare(family.size() - sfx.size(), sfx.size(), sfx) == 0) {
        family.resize(family.size() - sfx.size());
      }
    }
    if (!types.count(family)) return ::testing::AssertionFailure() << "no TYPE: " << line;
    samples.push_back(std::move(s));
  }
  return ::testing::AssertionSuccess();
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_ = std::make_shared<observability::Metrics>("orders");
    server_ = std::make_unique<AdminServer>("127.0.0.1", 0, metrics_, [this](std::string& why) {
      std::lock_guard<std::mutex> lock(mu_);
      why = why_;
      return ready_;
    });
    server_->Start();
    ASSERT_NE(server_->port(), 0);
  }

  void SetReady(bool ready, std::string why = "") {
    std::lock_guard<std::mutex> lock(mu_);
    ready_ = ready;
    why_ = std::move(why);
  }

  std::shared_ptr<observability::Metrics> metrics_;
  std::unique_ptr<AdminServer> server_;
  std::mutex mu_;
  bool ready_ = true;
  std::string why_;
};

TEST_F(AdminServerTest, Healthz) {
  Reply r = Get(server_->port(), "/healthz");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "ok\n");
}

TEST_F(AdminServerTest, ReadyzFollowsTheCheck) {
  Reply r = Get(server_->port(), "/readyz");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "ready\n");

  SetReady(false, "database unreachable");
  r = Get(server_->port(), "/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_NE(r.body.find("database unreachable"), std::string::npos) << r.body;
  // Liveness does not depend on readiness.
  EXPECT_EQ(Get(server_->port(), "/healthz").status, 200u);

  SetReady(true);
  EXPECT_EQ(Get(server_->port(), "/readyz").status, 200u);
}

TEST_F(AdminServerTest, MetricsIsPrometheusText) {
  metrics_->RecordRequest("commerce.orders.v1.OrdersService/GetOrder", "OK", 0.003);
  metrics_->RecordRequest("commerce.orders.v1.OrdersService/GetOrder", "OK", 0.004);
  metrics_->BulkheadRejected();
  metrics_->SetCircuitState("payments", 1);

  Reply r = Get(server_->port(), "/metrics");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u) << r.content_type;

  std::map<std::string, std::string> types;
  std::vector<Sample> samples;
  ASSERT_TRUE(ParsePrometheusText(r.body, types, samples)) << r.body;
  EXPECT_EQ(types["cppsvc_requests_total"], "counter");
  EXPECT_EQ(types["cppsvc_request_duration_seconds"], "histogram");
  EXPECT_EQ(types["cppsvc_circuit_state"], "gauge");

  auto find = [&](const std::string& name, const std::map<std::string, std::string>& labels) {
    std::vector<double> values;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : labels) match = match && s.labels.count(k) && s.labels.at(k) == v;
      if (match) values.push_back(s.value);
    }
    return values;
  };
  const std::string get = "commerce.orders.v1.OrdersService/GetOrder";
  EXPECT_EQ(find("cppsvc_requests_total", {{"service", "orders"}, {"method", get}, {"code", "OK"}}),
            std::vector<double>{2});
  EXPECT_EQ(find("cppsvc_request_duration_seconds_count", {{"method", get}}),
            std::vector<double>{2});
  EXPECT_EQ(find("cppsvc_request_duration_seconds_bucket", {{"method", get}, {"le", "+Inf"}}),
            std::vector<double>{2});
  EXPECT_EQ(find("cppsvc_bulkhead_rejections_total", {{"service", "orders"}}),
            std::vector<double>{1});
  EXPECT_EQ(find("cppsvc_circuit_state", {{"target", "payments"}}), std::vector<double>{1});
}

TEST_F(AdminServerTest, UnknownPathIs404) {
  EXPECT_EQ(Get(server_->port(), "/nope").status, 404u);
  EXPECT_EQ(Get(server_->port(), "/").status, 404u);
  EXPECT_EQ(Get(server_->port(), "/healthz/extra").status, 404u);
  // A query string does not change the path.
  EXPECT_EQ(Get(server_->port(), "/healthz?verbose=1").status, 200u);
}

TEST_F(AdminServerTest, OtherMethodsAre405) {
  Client client(server_->port());
  Reply r = client.Send(http::verb::post, "/healthz");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.allow, "GET");
  EXPECT_EQ(Client(server_->port()).Send(http::verb::delete_, "/metrics").status, 405u);
  EXPECT_EQ(Client(server_->port()).Send(http::verb::put, "/readyz").status, 405u);
}

TEST_F(AdminServerTest, KeepAliveServesSeveralRequests) {
  Client client(server_->port());
  EXPECT_EQ(client.Send(http::verb::get, "/healthz", true).status, 200u);
  EXPECT_EQ(client.Send(http::verb::get, "/readyz", true).status, 200u);
  EXPECT_EQ(client.Send(http::verb::get, "/metrics", true).status, 200u);
  EXPECT_EQ(client.Send(http::verb::get, "/nope", false).status, 404u);
}

TEST_F(AdminServerTest, MalformedRequestsDoNotCrashTheServer) {
  const std::vector<std::string> malformed = {
      "this is not http\r\n\r\n",
      "GET /healthz HTTP/9.9\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nContent-Length: banana\r\n\r\n",
      std::string("\x00\x01\x02\xff\r\n\r\n", 8),
  };
  for (const std::string& garbage : malformed) {
    Client client(server_->port());
    asio::write(client.Socket(), asio::buffer(garbage));
    std::string reply = ReadToEof(client.Socket());
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  }
  {
    // Headers beyond the limit: a 400, or a connection reset while writing.
    Client client(server_->port());
    boost::system::error_code ec;
    asio::write(client.Socket(), asio::buffer(std::string(20000, 'A') + "\r\n\r\n"), ec);
    std::string reply = ReadToEof(client.Socket());
    if (!reply.empty()) {
      EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
    }
  }
  // A client that connects and disconnects without sending anything.
  { Client client(server_->port()); }
  EXPECT_EQ(Get(server_->port(), "/healthz").status, 200u);
}

TEST_F(AdminServerTest, ConcurrentClients) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (Get(server_->port(), i % 2 ? "/metrics" : "/healthz").status == 200u) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 160);
}

TEST_F(AdminServerTest, StopIsPromptWithIdleConnections) {
  // An idle keep-alive connection and one that never sent a request.
  Client idle(server_->port());
  EXPECT_EQ(idle.Send(http::verb::get, "/healthz", true).status, 200u);
  Client silent(server_->port());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));

  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(1));
  server_->Stop();  // idempotent

  // Both connections see the server go away, and nothing listens any more.
  EXPECT_EQ(ReadToEof(idle.Socket()), "");
  EXPECT_EQ(ReadToEof(silent.Socket()), "");
  asio::io_context ioc;
  tcp::socket probe(ioc);
  boost::system::error_code ec;
  probe.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()), ec);
  EXPECT_TRUE(ec) << "still accepting after Stop";
}

TEST(AdminServer, ReadyCheckThatThrowsIs503) {
  AdminServer server("127.0.0.1", 0, nullptr, [](std::string&) -> bool {
    throw std::runtime_error("boom");
  });
  server.Start();
  Reply r = Get(server.port(), "/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_NE(r.body.find("boom"), std::string::npos);
  // Without metrics, /metrics is an empty exposition.
  r = Get(server.port(), "/metrics");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "");
}

TEST(AdminServer, NotReadyWithoutReasonStillSaysSo) {
  AdminServer server("127.0.0.1", 0, nullptr, [](std::string&) { return false; });
  server.Start();
  Reply r = Get(server.port(), "/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_FALSE(r.body.empty());
}

TEST(AdminServer, BindFailureThrows) {
  AdminServer first("127.0.0.1", 0, nullptr, nullptr);
  first.Start();
  AdminServer second("127.0.0.1", first.port(), nullptr, nullptr);
  EXPECT_THROW(second.Start(), std::runtime_error);
  AdminServer bad("not a valid address!", 0, nullptr, nullptr);
  EXPECT_THROW(bad.Start(), std::runtime_error);
  // The first one is unaffected.
  EXPECT_EQ(Get(first.port(), "/healthz").status, 200u);
}

TEST(AdminServer, DestructorStopsAndStopWithoutStartIsFine) {
  uint16_t port = 0;
  {
    AdminServer server("127.0.0.1", 0, nullptr, nullptr);
    server.Start();
    port = server.port();
    EXPECT_EQ(Get(port, "/healthz").status, 200u);
  }
  asio::io_context ioc;
  tcp::socket probe(ioc);
  boost::system::error_code ec;
  probe.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_TRUE(ec);

  AdminServer never_started("127.0.0.1", 0, nullptr, nullptr);
  never_started.Stop();
}

}  // namespace
}  // namespace cppsvc::admin
