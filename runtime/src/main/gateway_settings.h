// The configuration step of the gateway process: everything it reads from
// the environment (see cppsvc/impl/gateway.h for the variables).
#pragma once

#include <string>
#include <vector>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/auth/revocation_feed.h"
#include "cppsvc/client.h"
#include "cppsvc/config/env.h"
#include "cppsvc/gateway/gateway.h"
#include "cppsvc/gateway/http_server.h"
#include "cppsvc/impl/gateway.h"

namespace cppsvc::impl {

struct GatewaySettings {
  gateway::HttpServerOptions http;
  gateway::GatewayOptions gateway;
  std::string admin_address;
  uint16_t admin_port = 0;
  auth::JwtConfig jwt;
  auth::RevocationFeedOptions revocation;
  std::vector<std::vector<std::string>> backend_addresses;  // per spec.backends
};

// Problems are noted in `env` (env.Check() reports them).
GatewaySettings ReadGatewaySettings(const GatewaySpec& spec, config::Env& env);

// GATEWAY_ORDERS_ADDRESSES: the variable naming `backend`'s replicas.
std::string BackendAddressesName(const GatewaySpec& spec, const GatewayBackend& backend);

// Every variable ReadGatewaySettings reads (for --help).
std::vector<std::string> GatewayVariables(const GatewaySpec& spec);

}  // namespace cppsvc::impl
