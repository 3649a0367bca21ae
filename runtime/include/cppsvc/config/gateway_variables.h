// The environment variables the HTTP/JSON gateway reads, as one table, like
// service_variables.h for services: the gateway's configuration step
// (src/main/gateway_settings.cc) reads each by its row, `<binary> --help`
// lists them, and the generator writes the gateway's deployment files from
// the same rows. The runtime's tests check that the configuration step reads
// exactly these rows.
#pragma once

#include "cppsvc/config/service_variables.h"

namespace cppsvc::config {

namespace gateway_vars {
// clang-format off
// name, prefixed, needed, deploy, required, fallback, min, max, doc
inline constexpr ServiceVariable kListenAddress{"LISTEN_ADDRESS", true, Needed::kAlways, Deploy::kDefault, false, "0.0.0.0", 0, 0,
    "address the HTTP server listens on"};
inline constexpr ServiceVariable kHttpPort{"HTTP_PORT", true, Needed::kAlways, Deploy::kDefault, false, "8080", 1, 65535,
    "HTTP port"};
inline constexpr ServiceVariable kThreads{"THREADS", true, Needed::kAlways, Deploy::kDefault, false, "0", 0, 1024,
    "threads serving HTTP (0: one per core)"};
inline constexpr ServiceVariable kBodyLimitBytes{"BODY_LIMIT_BYTES", true, Needed::kAlways, Deploy::kDefault, false, "1048576", 1, int64_t{1} << 30,
    "largest request body (a larger one: 413)"};
inline constexpr ServiceVariable kHeaderLimitBytes{"HEADER_LIMIT_BYTES", true, Needed::kAlways, Deploy::kDefault, false, "16384", 1024, 1 << 20,
    "largest request header (a larger one: 431)"};
inline constexpr ServiceVariable kReadTimeoutMs{"READ_TIMEOUT_MS", true, Needed::kAlways, Deploy::kDefault, false, "10000", 0, 0,
    "how long a request may take to arrive (then 408)"};
inline constexpr ServiceVariable kAdminPort{"ADMIN_PORT", true, Needed::kAlways, Deploy::kDefault, false, "9000", 1, 65535,
    "admin HTTP port (/healthz, /readyz, /metrics)"};
inline constexpr ServiceVariable kHandlerTimeoutMs{"HANDLER_TIMEOUT_MS", true, Needed::kAlways, Deploy::kDefault, false, "30000", 0, 0,
    "how long a backend may take to answer (then 504)"};
inline constexpr ServiceVariable kIgnoreUnknownFields{"IGNORE_UNKNOWN_FIELDS", true, Needed::kAlways, Deploy::kDefault, false, "false", 0, 0,
    "accept JSON fields the request message does not have (else 400)"};
inline constexpr ServiceVariable kCorsOrigins{"CORS_ORIGINS", true, Needed::kAlways, Deploy::kDefault, false, "", 0, 0,
    "comma-separated origins browsers may call from; unset: none"};
inline constexpr ServiceVariable kCorsHeaders{"CORS_HEADERS", true, Needed::kAlways, Deploy::kDefault, false, "", 0, 0,
    "comma-separated request headers browsers may send; default: authorization, content-type and the request id and trace headers"};
inline constexpr ServiceVariable kRateLimitRps{"RATE_LIMIT_RPS", true, Needed::kAlways, Deploy::kDefault, false, "0", 0, 1000000,
    "requests per second per client (token subject, else address); 0: only the contract's per-route limits"};
inline constexpr ServiceVariable kRateLimitBurst{"RATE_LIMIT_BURST", true, Needed::kAlways, Deploy::kDefault, false, "0", 0, 1000000,
    "requests a client may send at once above that rate"};
// One per backend service, named <prefix><BACKEND>_ADDRESSES (GATEWAY_ORDERS_ADDRESSES).
inline constexpr ServiceVariable kBackendAddresses{"ADDRESSES", true, Needed::kAlways, Deploy::kSetting, false, "", 0, 0,
    "comma-separated host:port of its replicas, or dns:///name:port for every address of a name; default 127.0.0.1 and its port from the contract"};
// clang-format on
}  // namespace gateway_vars

// Every variable of the gateway but the backends' addresses, in the order
// the configuration step reads them: its own (prefixed with its name:
// GATEWAY_), then the tokens' and the revocation feed's, shared with the
// services.
inline constexpr const ServiceVariable* kGatewayVariables[] = {
    &gateway_vars::kListenAddress,
    &gateway_vars::kHttpPort,
    &gateway_vars::kThreads,
    &gateway_vars::kBodyLimitBytes,
    &gateway_vars::kHeaderLimitBytes,
    &gateway_vars::kReadTimeoutMs,
    &vars::kAdminAddress,
    &gateway_vars::kAdminPort,
    &gateway_vars::kHandlerTimeoutMs,
    &gateway_vars::kIgnoreUnknownFields,
    &gateway_vars::kCorsOrigins,
    &gateway_vars::kCorsHeaders,
    &gateway_vars::kRateLimitRps,
    &gateway_vars::kRateLimitBurst,
    &vars::kTrustedProxies,
    &vars::kJwtAlgorithm,
    &vars::kJwtKey,
    &vars::kJwtKeyFile,
    &vars::kJwtIssuer,
    &vars::kJwtAudience,
    &vars::kJwtLeewaySeconds,
    &vars::kJwtRequireJti,
    &vars::kRevocationTarget,
    &vars::kRevocationMethod,
    &vars::kServiceToken,
    &vars::kServiceTokenFile,
    &vars::kRevocationIntervalMs,
    &vars::kRevocationMaxStalenessMs,
    &vars::kRevocationStalePolicy,
};

}  // namespace cppsvc::config
