// The gateway's HTTP/1.1 server (Boost.Beast, asynchronous, keep-alive).
// Limits: a request whose headers exceed the header limit gets 431, a body
// above the body limit 413, a malformed request 400; a client that starts a
// request and does not finish it within the read timeout gets 408, and an
// idle keep-alive connection is closed after it. A handler answers through
// its responder, from any thread, once; the connection waits for that answer
// while the server's threads serve the others.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cppsvc/gateway/gateway.h"

namespace cppsvc::gateway {

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 0;   // 0: a free port (see HttpServer::port())
  size_t threads = 0;  // 0: one per core
  uint32_t header_limit = 16 * 1024;
  uint64_t body_limit = 1024 * 1024;
  std::chrono::milliseconds read_timeout{10000};
};

class HttpServer {
 public:
  // Sends the response; the first call counts, later ones are ignored.
  using Responder = std::function<void(HttpResponse)>;
  using Handler = std::function<void(HttpRequest, Responder)>;

  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the threads; throws std::runtime_error when it cannot bind.
  void Start();
  // Stops accepting, waits for the answers of the handlers still at work,
  // then closes the connections and joins the threads.
  void Stop();
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cppsvc::gateway
