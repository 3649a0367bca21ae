#include "cppsvc/gateway/http_server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "cppsvc/observability/log.h"

namespace cppsvc::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

std::string LowerName(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return std::tolower(c);
  });
  return out;
}

HttpResponse Refusal(int status, std::string_view code, std::string_view message) {
  HttpResponse r{status, {}, ""};
  r.body = "{\"code\":\"" + std::string(code) + "\",\"message\":\"" + std::string(message) +
           "\",\"details\":[],\"request_id\":\"\"}";
  return r;
}

// Handlers that have not answered yet; Stop waits for them, and no new
// one starts once it has begun.
class Pending {
 public:
  bool TryAdd() {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    ++count_;
    return true;
  }
  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--count_ == 0) cv_.notify_all();
  }
  void StopAndWait() {
    std::unique_lock<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.wait(lock, [this] { return count_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t count_ = 0;
  bool stopping_ = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket,
          const HttpServerOptions& options,
          const HttpServer::Handler& handler,
          Pending& pending)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        options_(options),
        handler_(handler),
        pending_(pending) {
    error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    if (!ec) peer_ = remote.address().to_string();
  }

  void Read() {
    parser_.emplace();
    parser_->header_limit(options_.header_limit);
    parser_->body_limit(options_.body_limit);
    timed_out_ = false;
    timer_.expires_after(options_.read_timeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec) return;  // cancelled: the request arrived
      self->timed_out_ = true;
      error_code ignored;
      self->socket_.cancel(ignored);
    });
    http::async_read(socket_,
                     buffer_,
                     *parser_,
                     [self = shared_from_this()](error_code ec, size_t) { self->OnRead(ec); });
  }

  void Close() {
    error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  void OnRead(error_code ec) {
    timer_.cancel();
    if (!ec) return Serve();
    if (timed_out_ && parser_->got_some())
      return Write(Refusal(408, "DEADLINE_EXCEEDED", "the request was not received in time"),
                   false);
    if (ec == http::error::body_limit)
      return Write(Refusal(413, "RESOURCE_EXHAUSTED", "the body is too large"), false);
    if (ec == http::error::header_limit)
      return Write(Refusal(431, "RESOURCE_EXHAUSTED", "the headers are too large"), false);
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return Write(Refusal(400, "INVALID_ARGUMENT", "malformed HTTP request"), false);
    Close();
  }

  void Serve() {
    http::request<http::string_body>& req = parser_->get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.body = std::move(req.body());
    request.peer = peer_;
    for (const auto& field : req) {
      const auto name = field.name_string();
      const auto value = field.value();
      request.headers.emplace_back(LowerName({name.data(), name.size()}),
                                   std::string(value.data(), value.size()));
    }
    if (!pending_.TryAdd())
      return Write(Refusal(503, "UNAVAILABLE", "the gateway is stopping"), false);
    answering_ = true;
    const HttpServer::Responder respond = MakeResponder(req.keep_alive());
    try {
      handler_(std::move(request), respond);
    } catch (const std::exception& e) {
      observability::LogJson(
          {{"level", "error"}, {"msg", "gateway handler failed"}, {"error", e.what()}});
      respond(Refusal(500, "INTERNAL", "internal error"));
    }
  }

  // Writes the first response it is given, on the connection's thread.
  HttpServer::Responder MakeResponder(bool keep_alive) {
    auto answered = std::make_shared<std::atomic<bool>>(false);
    return [self = shared_from_this(), answered, keep_alive](HttpResponse response) {
      if (answered->exchange(true)) return;
      asio::post(self->socket_.get_executor(),
                 [self, keep_alive, response = std::move(response)]() mutable {
                   self->Write(std::move(response), keep_alive);
                 });
    };
  }

  void Write(HttpResponse response, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(response.status));
    bool typed = false;
    for (auto& [name, value] : response.headers) {
      typed = typed || name == "content-type";
      res->set(name, value);
    }
    if (!typed && !response.body.empty()) res->set(http::field::content_type, "application/json");
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    http::async_write(socket_,
                      *res,
                      [self = shared_from_this(), res, keep_alive](error_code ec, size_t) {
                        // A handler's answer is out: Stop may go on.
                        if (std::exchange(self->answering_, false)) self->pending_.Done();
                        if (ec || !keep_alive) return self->Close();
                        self->Read();
                      });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool timed_out_ = false;
  bool answering_ = false;  // a handler's answer is awaited or being written
  std::string peer_;
  const HttpServerOptions& options_;
  const HttpServer::Handler& handler_;
  Pending& pending_;
};

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions o, Handler h)
      : options(std::move(o)),
        handler(std::move(h)),
        contexts(Contexts(options.threads)),
        acceptor(*contexts[0]) {}

  static std::vector<std::unique_ptr<asio::io_context>> Contexts(size_t n) {
    if (n == 0) n = std::thread::hardware_concurrency();
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (size_t i = 0; i < std::max<size_t>(n, 1); ++i)
      out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  // Each connection lives on one thread's io_context (round robin): its
  // reads and writes stay on that thread; the answer of a handler that
  // finished elsewhere is posted to it.
  void Accept() {
    asio::io_context& next = *contexts[next_context++ % contexts.size()];
    acceptor.async_accept(next, [this](error_code ec, tcp::socket socket) {
      if (!acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(socket), options, handler, pending)->Read();
      Accept();
    });
  }

  HttpServerOptions options;
  Handler handler;
  Pending pending;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  size_t next_context = 0;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::Start() {
  error_code ec;
  const auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) throw std::runtime_error("gateway: bad listen address " + impl_->options.address);
  const tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("gateway: cannot listen on " + impl_->options.address + ":" +
                             std::to_string(impl_->options.port) + ": " + ec.message());
  impl_->port = acceptor.local_endpoint().port();
  impl_->Accept();
  for (auto& context : impl_->contexts) {
    asio::io_context* ioc = context.get();
    impl_->threads.emplace_back([ioc] {
      auto work = asio::make_work_guard(*ioc);  // an idle context waits for connections
      ioc->run();
    });
  }
}

void HttpServer::Stop() {
  if (impl_->threads.empty()) return;
  impl_->pending.StopAndWait();
  for (auto& context : impl_->contexts) context->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  error_code ignored;
  impl_->acceptor.close(ignored);
}

uint16_t HttpServer::port() const {
  return impl_->port;
}

}  // namespace cppsvc::gateway
