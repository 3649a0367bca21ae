// HttpServer over real loopback sockets: keep-alive, the size limits, the
// read timeout and malformed requests.
#include "cppsvc/gateway/http_server.h"

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace cppsvc::gateway {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options) {
    options.address = "127.0.0.1";
    options.port = 0;
    if (options.threads == 0) options.threads = 2;
    server_ = std::make_unique<HttpServer>(options, [this](HttpRequest r, auto respond) {
      ++handled_;
      HttpResponse answer{200,
                          {{"x-echo", r.method + " " + r.target}},
                          "{\"peer\":\"" + r.peer + "\"}"};
      if (r.target != "/later") return respond(std::move(answer));
      // Answered from another thread, as the gateway's backend calls are;
      // a second answer is ignored.
      std::thread([respond, answer] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        respond(answer);
        respond(HttpResponse{500, {}, "{}"});
      }).detach();
    });
    server_->Start();
  }

  tcp::socket Connect() {
    tcp::socket socket(io_);
    socket.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    return socket;
  }

  // Sends `raw` and reads until the server closes or `until` appears.
  std::string Exchange(tcp::socket& socket, const std::string& raw, const std::string& until = "") {
    asio::write(socket, asio::buffer(raw));
    return ReadSome(socket, until);
  }

  static std::string ReadSome(tcp::socket& socket, const std::string& until) {
    std::string out;
    char buf[4096];
    boost::system::error_code ec;
    while (until.empty() || out.find(until) == std::string::npos) {
      const size_t n = socket.read_some(asio::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }

  asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> handled_{0};
};

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Start({});
  tcp::socket s = Connect();
  std::string a = Exchange(s, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n", "127.0.0.1\"}");
  std::string b = Exchange(s, "GET /two?q=1 HTTP/1.1\r\nHost: x\r\n\r\n", "127.0.0.1\"}");
  EXPECT_NE(a.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(a.find("x-echo: GET /one"), std::string::npos) << a;
  EXPECT_NE(b.find("x-echo: GET /two?q=1"), std::string::npos) << b;
  EXPECT_NE(b.find("Content-Type: application/json"), std::string::npos) << b;
  EXPECT_EQ(handled_, 2);
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  HttpServerOptions o;
  o.body_limit = 16;
  Start(o);
  tcp::socket s = Connect();
  const std::string r = Exchange(
      s,
      "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'a'));
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, OversizedHeadersAre431) {
  HttpServerOptions o;
  o.header_limit = 1024;
  Start(o);
  tcp::socket s = Connect();
  const std::string r =
      Exchange(s, "GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'b') + "\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 431"), std::string::npos) << r;
}

TEST_F(HttpServerTest, SlowClientGets408) {
  HttpServerOptions o;
  o.read_timeout = std::chrono::milliseconds(200);
  Start(o);
  tcp::socket s = Connect();
  const auto start = std::chrono::steady_clock::now();
  const std::string r = Exchange(s, "GET /x HTTP/1.1\r\nHost: x\r\n");  // never finished
  EXPECT_NE(r.find("HTTP/1.1 408"), std::string::npos) << r;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, IdleConnectionIsClosedSilently) {
  HttpServerOptions o;
  o.read_timeout = std::chrono::milliseconds(200);
  Start(o);
  tcp::socket s = Connect();
  EXPECT_EQ(ReadSome(s, ""), "");
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  Start({});
  tcp::socket s = Connect();
  const std::string r = Exchange(s, "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos) << r;
}

TEST_F(HttpServerTest, StopsWithOpenConnections) {
  Start({});
  tcp::socket s = Connect();
  Exchange(s, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n", "127.0.0.1\"}");
  server_->Stop();
  EXPECT_THROW(Connect(), boost::system::system_error);
}

TEST_F(HttpServerTest, AnAnswerPendingElsewhereHoldsUpNoOtherConnection) {
  HttpServerOptions o;
  o.threads = 1;
  Start(o);
  tcp::socket waiting = Connect();
  tcp::socket other = Connect();
  const auto start = std::chrono::steady_clock::now();
  asio::write(waiting, asio::buffer(std::string("GET /later HTTP/1.1\r\nHost: x\r\n\r\n")));
  const std::string quick = Exchange(other, "GET /now HTTP/1.1\r\nHost: x\r\n\r\n", "\"}");
  EXPECT_NE(quick.find("x-echo: GET /now"), std::string::npos) << quick;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  const std::string later = ReadSome(waiting, "\"}");
  EXPECT_NE(later.find("HTTP/1.1 200"), std::string::npos) << later;
  // The connection goes on after the late answer (and the ignored second).
  const std::string next = Exchange(waiting, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n", "\"}");
  EXPECT_NE(next.find("x-echo: GET /again"), std::string::npos) << next;
  EXPECT_EQ(next.find("500"), std::string::npos) << next;
}

TEST_F(HttpServerTest, StopWaitsForAnswersStillPending) {
  Start({});
  tcp::socket s = Connect();
  asio::write(s, asio::buffer(std::string("GET /later HTTP/1.1\r\nHost: x\r\n\r\n")));
  while (handled_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread stopper([this] { server_->Stop(); });
  const std::string answer = ReadSome(s, "\"}");
  stopper.join();
  EXPECT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
}

}  // namespace
}  // namespace cppsvc::gateway
