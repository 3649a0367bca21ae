// For generated gateway code only: routes made from a generated client's
// methods, and the gateway process's main().
//
// Configuration comes only from the environment (PREFIX = the gateway's
// name in upper case, e.g. GATEWAY):
// clang-format off
//   PREFIX_HTTP_PORT, PREFIX_ADMIN_PORT    defaults from the contract's generator (8080, 9000)
//   PREFIX_LISTEN_ADDRESS                  default 0.0.0.0
//   PREFIX_ADMIN_ADDRESS                   default 127.0.0.1
//   PREFIX_THREADS                         HTTP threads (calls to the backends do not
//                                          block them); default 0: one per core
//   PREFIX_BODY_LIMIT_BYTES                default 1048576 (413 above)
//   PREFIX_HEADER_LIMIT_BYTES              default 16384 (431 above)
//   PREFIX_READ_TIMEOUT_MS                 a request must arrive within it (408); also
//                                          the keep-alive idle timeout; default 10000
//   PREFIX_HANDLER_TIMEOUT_MS              caps every call's deadline (504); default 30000
//   PREFIX_IGNORE_UNKNOWN_FIELDS           accept unknown JSON fields and query
//                                          parameters; default false (400)
//   PREFIX_CORS_ORIGINS                    allowed origins, comma-separated, or *;
//                                          default none (no CORS headers)
//   PREFIX_CORS_HEADERS                    headers a preflight may ask for; default
//                                          authorization,content-type,x-request-id,traceparent
//   PREFIX_RATE_LIMIT_RPS, _BURST          token bucket per client (token subject,
//                                          else address); default 0 (none)
//   PREFIX_<SERVICE>_ADDRESSES             replicas of each backend, host:port,
//                                          comma-separated; default 127.0.0.1:<its grpc port>
//   CPPSVC_TRUSTED_PROXIES                 proxies whose X-Forwarded-For names the client
//   CPPSVC_JWT_*, CPPSVC_REVOCATION_*      as for the services (cppsvc/impl/main.h)
// clang-format on
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/auth/rbac.h"
#include "cppsvc/client.h"
#include "cppsvc/gateway/gateway.h"
#include "cppsvc/gateway/route.h"
#include "cppsvc/impl/client.h"
#include "cppsvc/impl/validate.h"

namespace cppsvc::impl {

// Makes `spec` the route of `rpc` at `verb` `path`, the rest of its fields
// unset (the generated code sets those the contract gives).
inline void SetRoute(gateway::RouteSpec& spec,
                     std::string_view service,
                     std::string_view rpc,
                     std::string_view verb,
                     std::string_view path) {
  spec = gateway::RouteSpec();
  spec.service = std::string(service);
  spec.rpc = std::string(rpc);
  spec.verb = std::string(verb);
  spec.path = std::string(path);
}

// A route calling `rpc` of `client` (its asynchronous form), with the
// request's validation rules when the contract has any (a CppsvcValidate
// overload for Request).
template <typename Client, typename Request, typename Response>
gateway::Route MakeRoute(
    gateway::RouteSpec spec,
    std::shared_ptr<Client> client,
    void (Client::*rpc)(const Request&, Response*, const CallOptions&, CallDone)) {
  gateway::Route route;
  route.spec = std::move(spec);
  route.request_prototype = &Request::default_instance();
  route.response_prototype = &Response::default_instance();
  if constexpr (requires(const Request& r, Violations& v) { CppsvcValidate(r, v, nullptr); }) {
    route.validate = [](const gateway::Message& m, Violations& v) {
      CppsvcValidate(static_cast<const Request&>(m), v, nullptr);
    };
  }
  route.invoke = [client = std::move(client), rpc](const gateway::Message& request,
                                                   gateway::Message* response,
                                                   const CallOptions& options,
                                                   CallDone done) {
    ((*client).*rpc)(static_cast<const Request&>(request),
                     static_cast<Response*>(response),
                     options,
                     std::move(done));
  };
  return route;
}

// Registers the client as a backend (for readiness).
template <typename Client>
void AddBackend(gateway::Gateway& gateway,
                std::string service,
                const std::shared_ptr<Client>& client) {
  gateway.AddBackend(std::move(service),
                     std::shared_ptr<ClientRuntime>(client, &client->runtime()));
}

struct GatewayBackend {
  std::string_view service;          // full name, e.g. commerce.products.v1.ProductsService
  std::string_view name;             // its short name, e.g. PRODUCTS
  std::string_view default_address;  // e.g. 127.0.0.1:3002
  void (*add_routes)(gateway::Gateway& gateway, ClientOptions options) = nullptr;
};

struct GatewaySpec {
  std::string_view name;  // e.g. gateway (variables GATEWAY_*)
  uint16_t http_port = 8080;
  uint16_t admin_port = 9000;
  std::vector<GatewayBackend> backends;
  std::vector<auth::RoleSpec> roles;
  std::string_view openapi;  // served at /openapi.json
};

inline void AddGatewayBackend(GatewaySpec& spec,
                              std::string_view service,
                              std::string_view name,
                              std::string_view default_address,
                              void (*add_routes)(gateway::Gateway&, ClientOptions)) {
  spec.backends.push_back({service, name, default_address, add_routes});
}

// Runs the gateway until SIGTERM or SIGINT. A missing or malformed variable
// stops it at once with one message listing all of them (exit code 2).
int RunGateway(int argc, char** argv, const GatewaySpec& spec);

}  // namespace cppsvc::impl
