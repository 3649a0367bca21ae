// The HTTP/JSON gateway: turns an HTTP request into a call of the route's
// RPC through the generated client, and its result into an HTTP response.
// On the way: request ids, trace context, CORS, the JWT checked at the edge
// (with the services' own verifier), the route's roles pre-checked, rate
// limits per client and per route, the proto3 JSON mapping, the request's
// validation rules, and gRPC codes mapped to HTTP statuses with a JSON
// error body `{code, message, details, request_id}`.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/auth/rbac.h"
#include "cppsvc/gateway/route.h"
#include "cppsvc/gateway/router.h"
#include "cppsvc/impl/client.h"
#include "cppsvc/observability/metrics.h"
#include "cppsvc/resilience/rate_limiter.h"

namespace cppsvc::gateway {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", ...
  std::string target;  // path and query string
  Headers headers;     // names in lower case
  std::string body;
  std::string peer;  // the connection's remote address, without the port

  std::optional<std::string_view> Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;  // JSON unless a Content-Type header says otherwise
  // The gRPC code the status stands for (the backend's, or the gateway's own
  // refusal's), as the per-route metrics count it.
  StatusCode code = StatusCode::kOk;
};

struct GatewayOptions {
  // Unknown JSON fields and query parameters get 400 unless set.
  bool ignore_unknown_fields = false;
  // CORS: origins allowed ("*" for any; empty: no CORS headers at all),
  // and the request headers a preflight may ask for.
  std::vector<std::string> cors_origins;
  std::vector<std::string> cors_headers = {"authorization",
                                           "content-type",
                                           "x-request-id",
                                           "traceparent"};
  std::chrono::seconds cors_max_age{600};
  // Token bucket per client (the token's subject, else the address); 0: none.
  double client_rate_per_second = 0;
  double client_burst = 0;
  // Caps every call's deadline (the contract's timeouts apply below it).
  std::chrono::milliseconds handler_timeout{30000};
  // Proxies whose X-Forwarded-For names the client.
  std::vector<std::string> trusted_proxies;
  // Served at GET /openapi.json.
  std::string openapi;
};

class Gateway {
 public:
  // `verifier` null: every token is refused (only public routes answer).
  Gateway(GatewayOptions options,
          std::shared_ptr<const auth::JwtVerifier> verifier,
          auth::RoleGraph roles,
          std::shared_ptr<observability::Metrics> metrics);
  ~Gateway();

  // Add routes and backends before serving.
  void Add(Route route);
  void AddBackend(std::string service, std::shared_ptr<impl::ClientRuntime> client);

  // Answers `request` through `done`, once: at once for what the gateway
  // answers itself, else when the backend's call ends (on a gRPC thread).
  // The gateway must outlive the answer.
  void Handle(HttpRequest request, std::function<void(HttpResponse)> done) const;
  // Handle, waiting for the answer.
  HttpResponse Handle(const HttpRequest& request) const;

  // Every route as "VERB /path/template", in the order added.
  std::vector<std::string> RouteNames() const;
  // Ready when every backend has a replica whose channel is connected or
  // connecting normally; else `why` names one that is not.
  bool BackendsReady(std::string& why) const;

 private:
  struct Limiters;
  struct Backend {
    std::string service;
    std::shared_ptr<impl::ClientRuntime> client;
  };
  struct Flow;

  HttpResponse Preflight(const Flow& flow) const;
  void Serve(std::shared_ptr<Flow> flow) const;
  std::optional<HttpResponse> Refuse(Flow& flow) const;
  std::optional<HttpResponse> Admit(Flow& flow) const;
  std::optional<HttpResponse> Authenticate(Flow& flow, const Route& route) const;
  std::optional<HttpResponse> Bind(const Flow& flow, const Route& route, Message& request) const;
  void Call(std::shared_ptr<Flow> flow) const;
  HttpResponse Answer(const Flow& flow, const Status& status) const;
  void Finish(Flow& flow, HttpResponse response) const;
  void AddCors(const HttpRequest& request, HttpResponse& response) const;
  bool OriginAllowed(std::string_view origin) const;

  GatewayOptions options_;
  std::shared_ptr<const auth::JwtVerifier> verifier_;
  auth::RoleGraph roles_;
  std::shared_ptr<observability::Metrics> metrics_;
  std::vector<Route> routes_;
  std::vector<std::string> full_methods_;  // per route, for CallContext
  std::vector<std::string> names_;         // per route: "GET /v1/..."
  // Per route (sharded counters, no lock per request), then "unmatched".
  std::vector<std::unique_ptr<observability::MethodMetrics>> route_metrics_;
  std::unique_ptr<observability::MethodMetrics> unmatched_metrics_;
  std::unique_ptr<observability::MethodMetrics> openapi_metrics_;
  std::vector<std::unique_ptr<resilience::RateLimiter>> route_limiters_;  // per route; may be null
  std::unique_ptr<resilience::RateLimiter> client_limiter_;
  std::vector<Backend> backends_;
  Router router_;
};

// gRPC code -> HTTP status (NOT_FOUND 404, INVALID_ARGUMENT 400, ...).
int HttpStatusOf(StatusCode code);

// The JSON error body; `details` are (field, description) pairs.
std::string ErrorBody(StatusCode code,
                      std::string_view message,
                      const std::vector<std::pair<std::string, std::string>>& details,
                      std::string_view request_id);

}  // namespace cppsvc::gateway
