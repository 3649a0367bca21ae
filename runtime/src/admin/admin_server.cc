#include "cppsvc/admin/admin_server.h"

#include <atomic>
#include <chrono>
#include <exception>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "cppsvc/observability/log.h"

namespace cppsvc::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::chrono::seconds kIdleTimeout{30};
constexpr std::uint32_t kHeaderLimit = 8 * 1024;
constexpr std::uint64_t kBodyLimit = std::uint64_t{64} * 1024;

bool IsParseError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

}  // namespace

struct AdminServer::Impl {
  class Session;

  Impl(std::string address,
       uint16_t port,
       std::shared_ptr<observability::Metrics> metrics,
       ReadyCheck ready)
      : address(std::move(address)),
        requested_port(port),
        bound_port(port),
        metrics(std::move(metrics)),
        ready(std::move(ready)) {}

  void Start();
  void Stop();
  void DoAccept();
  using Response = http::response<http::string_body>;
  using Request = http::request<http::string_body>;
  Response Handle(const Request& req) const;
  // A route added with Route(), behind `authorize`.
  Response HandleRoute(const Handler& handler, const Request& req, Response res) const;
  // /healthz, /readyz, /metrics.
  Response HandleBuiltIn(std::string_view path, Response res) const;
  // Whether the readiness check passes; `why` says why not.
  bool Ready(std::string& why) const;

  std::vector<std::pair<std::string, Handler>> routes;
  Authorize authorize;  // of the routes; none: open
  const std::string address;
  const uint16_t requested_port;
  std::atomic<uint16_t> bound_port;
  const std::shared_ptr<observability::Metrics> metrics;
  const ReadyCheck ready;

  std::mutex mu;  // guards started/stopped and Start/Stop
  bool started = false;
  bool stopped = false;

  // Declared before the objects that use it, so destroyed after them; its
  // pending handlers own the sessions and release them when it goes.
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_retry{ioc};
  std::list<std::weak_ptr<Session>> sessions;  // server thread; Stop after the join
  std::thread thread;
};

class AdminServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Impl& server) : stream_(std::move(socket)), server_(server) {}

  void Run() { DoRead(); }

  void Close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_,
                     buffer_,
                     *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(error_code ec) {
    if (ec) {
      if (IsParseError(ec)) {
        // Malformed request: answer 400, then close.
        res_ = {};
        res_.version(11);
        res_.result(http::status::bad_request);
        res_.set(http::field::content_type, "text/plain");
        res_.body() = "bad request\n";
        res_.keep_alive(false);
        res_.prepare_payload();
        Write(true);
        return;
      }
      Close();  // end of stream, timeout, reset, shutdown
      return;
    }
    const auto& req = parser_->get();
    res_ = server_.Handle(req);
    Write(!res_.keep_alive());
  }

  void Write(bool close) {
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_,
                      res_,
                      [self = shared_from_this(), close](error_code ec, std::size_t) {
                        if (ec || close) {
                          self->Close();
                          return;
                        }
                        self->DoRead();
                      });
  }

  beast::tcp_stream stream_;
  const Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
};

namespace {

http::response<http::string_body> Answer(http::response<http::string_body> res,
                                         http::status status,
                                         std::string body) {
  res.result(status);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace

AdminServer::Impl::Response AdminServer::Impl::Handle(const Request& req) const {
  Response res;
  res.version(req.version() == 10 ? 10 : 11);
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "cppsvc-admin");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  for (const auto& [prefix, handler] : routes) {
    if (path.rfind(prefix, 0) == 0) return HandleRoute(handler, req, std::move(res));
  }
  if (req.method() != http::verb::get) {
    res.set(http::field::allow, "GET");
    return Answer(std::move(res), http::status::method_not_allowed, "method not allowed\n");
  }
  return HandleBuiltIn(path, std::move(res));
}

AdminServer::Impl::Response AdminServer::Impl::HandleRoute(const Handler& handler,
                                                           const Request& req,
                                                           Response res) const {
  res.set(http::field::content_type, "application/json");
  if (authorize) {
    std::optional<std::string_view> header;
    if (auto it = req.find(http::field::authorization); it != req.end())
      header = std::string_view(it->value().data(), it->value().size());
    std::string why;
    if (const int status = authorize(header, why); status != 0) {
      if (status == 401) res.set(http::field::www_authenticate, "Bearer");
      return Answer(std::move(res),
                    static_cast<http::status>(status),
                    nlohmann::json({{"error", why}}).dump() + "\n");
    }
  }
  Reply r;
  try {
    r = handler(std::string_view(req.method_string().data(), req.method_string().size()),
                std::string_view(req.target().data(), req.target().size()),
                req.body());
  } catch (const std::exception& e) {
    r = {500, nlohmann::json({{"error", e.what()}}).dump()};
  }
  return Answer(std::move(res), static_cast<http::status>(r.status), r.body + "\n");
}

AdminServer::Impl::Response AdminServer::Impl::HandleBuiltIn(std::string_view path,
                                                             Response res) const {
  if (path == "/healthz") return Answer(std::move(res), http::status::ok, "ok\n");
  if (path == "/readyz") {
    std::string why;
    if (Ready(why)) return Answer(std::move(res), http::status::ok, "ready\n");
    return Answer(std::move(res), http::status::service_unavailable, why + "\n");
  }
  if (path == "/metrics") {
    std::string body;
    try {
      if (metrics) body = metrics->Serialize();
    } catch (const std::exception& e) {
      return Answer(std::move(res),
                    http::status::internal_server_error,
                    std::string(e.what()) + "\n");
    }
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    return Answer(std::move(res), http::status::ok, std::move(body));
  }
  return Answer(std::move(res), http::status::not_found, "not found\n");
}

bool AdminServer::Impl::Ready(std::string& why) const {
  if (!ready) return true;
  try {
    if (ready(why)) return true;
  } catch (const std::exception& e) {
    why = std::string("readiness check failed: ") + e.what();
  } catch (...) {
    why = "readiness check failed";
  }
  if (why.empty()) why = "not ready";
  return false;
}

void AdminServer::Route(std::string prefix, Handler handler) {
  impl_->routes.emplace_back(std::move(prefix), std::move(handler));
}

void AdminServer::RequireAuthorization(Authorize authorize) {
  impl_->authorize = std::move(authorize);
}

void AdminServer::Impl::DoAccept() {
  acceptor.async_accept([this](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // E.g. out of file descriptors: back off instead of spinning.
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](error_code wait_ec) {
        if (!wait_ec) DoAccept();
      });
      return;
    }
    sessions.remove_if([](const std::weak_ptr<Session>& s) { return s.expired(); });
    auto session = std::make_shared<Session>(std::move(socket), *this);
    sessions.push_back(session);
    session->Run();
    DoAccept();
  });
}

void AdminServer::Impl::Start() {
  std::lock_guard<std::mutex> lock(mu);
  if (stopped) throw std::runtime_error("admin server: Start after Stop");
  if (started) return;

  error_code ec;
  asio::ip::address ip = asio::ip::make_address(address, ec);
  if (ec) {
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(address, "", ec);
    if (ec || results.empty()) {
      throw std::runtime_error("admin server: cannot resolve address '" + address +
                               "': " + (ec ? ec.message() : "no results"));
    }
    ip = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(ip, requested_port);
  auto fail = [&](const char* what) {
    error_code ignored;
    acceptor.close(ignored);
    throw std::runtime_error("admin server: cannot " + std::string(what) + " " + address + ":" +
                             std::to_string(requested_port) + ": " + ec.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) fail("open");
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) fail("configure");
  acceptor.bind(endpoint, ec);
  if (ec) fail("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("listen");
  tcp::endpoint local = acceptor.local_endpoint(ec);
  if (ec) fail("query");
  bound_port = local.port();

  DoAccept();
  thread = std::thread([this] {
    for (;;) {
      try {
        ioc.run();
        return;  // stopped
      } catch (const std::exception& e) {
        observability::LogJson(
            {{"level", "error"}, {"msg", "admin server handler failed"}, {"error", e.what()}});
      } catch (...) {
        observability::LogJson({{"level", "error"}, {"msg", "admin server handler failed"}});
      }
    }
  });
  started = true;
}

void AdminServer::Impl::Stop() {
  std::lock_guard<std::mutex> lock(mu);
  if (stopped) return;
  stopped = true;
  if (!started) return;
  ioc.stop();
  if (thread.joinable()) thread.join();
  // The server thread is gone; close what it left open so clients see EOF now
  // rather than when the server object is destroyed.
  error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  for (auto& weak : sessions) {
    if (auto session = weak.lock()) session->Close();
  }
  sessions.clear();
}

AdminServer::AdminServer(std::string address,
                         uint16_t port,
                         std::shared_ptr<observability::Metrics> metrics,
                         ReadyCheck ready)
    : impl_(
          std::make_unique<Impl>(std::move(address), port, std::move(metrics), std::move(ready))) {}

AdminServer::~AdminServer() {
  try {
    Stop();
  } catch (...) {
    // Nothing sensible to do in a destructor; Stop only throws on system errors.
  }
}

void AdminServer::Start() {
  impl_->Start();
}

void AdminServer::Stop() {
  impl_->Stop();
}

uint16_t AdminServer::port() const {
  return impl_->bound_port.load();
}

}  // namespace cppsvc::admin
