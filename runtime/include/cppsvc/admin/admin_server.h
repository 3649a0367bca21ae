// The admin HTTP endpoint of every service (Boost.Beast, its own thread):
//   GET /healthz  200 while the process runs
//   GET /readyz   200 when the readiness check passes, else 503 with the reason
//   GET /metrics  Prometheus text format
// plus the routes added with Route() (e.g. the dead letters of consumers),
// which show event payloads and change state: with RequireAuthorization()
// they answer only callers it allows (401 with WWW-Authenticate, or 403).
// Anything else: 404; methods other than GET: 405. The admin port is for
// operators and the cluster, not for the public: services bind it to
// loopback unless configured otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "cppsvc/observability/metrics.h"

namespace cppsvc::admin {

class AdminServer {
 public:
  // Returns true when ready; otherwise sets `why`.
  using ReadyCheck = std::function<bool(std::string& why)>;

  // Port 0 picks a free port (see port()). Binds to `address`.
  AdminServer(std::string address,
              uint16_t port,
              std::shared_ptr<observability::Metrics> metrics,
              ReadyCheck ready);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // An extra route for paths starting with `prefix`; the handler gets the
  // method ("GET", "POST", ...), the path (with its query string, if any)
  // and the body, and returns the
  // status code and a body (sent as JSON). Add routes before Start().
  struct Reply {
    int status = 200;
    std::string body;
  };
  using Handler =
      std::function<Reply(std::string_view method, std::string_view path, const std::string& body)>;
  void Route(std::string prefix, Handler handler);

  // Decides who may use the routes added with Route(), from the request's
  // Authorization header: returns 0 to allow, else 401 or 403 with `why`.
  using Authorize =
      std::function<int(std::optional<std::string_view> authorization, std::string& why)>;
  void RequireAuthorization(Authorize authorize);

  // Binds and starts serving; throws std::runtime_error when it cannot bind.
  void Start();
  void Stop();
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cppsvc::admin
