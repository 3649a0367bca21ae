#include "gateway_settings.h"

#include <algorithm>

#include "service_settings.h"

namespace cppsvc::impl {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return std::toupper(c);
  });
  return out;
}

void ReadHttp(const GatewaySpec& spec, const std::string& p, config::Env& env, GatewaySettings& s) {
  s.http.address = env.Optional(p + "LISTEN_ADDRESS", "0.0.0.0");
  s.http.port = env.Port(p + "HTTP_PORT", spec.http_port);
  // 0: one per core.
  s.http.threads = static_cast<size_t>(env.Integer(p + "THREADS", 0, 0, 1024));
  s.http.body_limit =
      static_cast<uint64_t>(env.Integer(p + "BODY_LIMIT_BYTES", 1024 * 1024, 1, int64_t{1} << 30));
  s.http.header_limit =
      static_cast<uint32_t>(env.Integer(p + "HEADER_LIMIT_BYTES", 16 * 1024, 1024, 1 << 20));
  s.http.read_timeout = env.Millis(p + "READ_TIMEOUT_MS", std::chrono::milliseconds(10000));
  s.admin_address = env.Optional(p + "ADMIN_ADDRESS", "127.0.0.1");
  s.admin_port = env.Port(p + "ADMIN_PORT", spec.admin_port);
}

void ReadPolicy(const std::string& p, config::Env& env, GatewaySettings& s) {
  gateway::GatewayOptions& g = s.gateway;
  g.handler_timeout = env.Millis(p + "HANDLER_TIMEOUT_MS", std::chrono::milliseconds(30000));
  g.ignore_unknown_fields = env.Flag(p + "IGNORE_UNKNOWN_FIELDS", false);
  g.cors_origins = env.List(p + "CORS_ORIGINS", {});
  g.cors_headers = env.List(p + "CORS_HEADERS", g.cors_headers);
  g.client_rate_per_second = static_cast<double>(env.Integer(p + "RATE_LIMIT_RPS", 0, 0, 1000000));
  g.client_burst = static_cast<double>(env.Integer(p + "RATE_LIMIT_BURST", 0, 0, 1000000));
  g.trusted_proxies = env.List("CPPSVC_TRUSTED_PROXIES", {});
}

}  // namespace

GatewaySettings ReadGatewaySettings(const GatewaySpec& spec, config::Env& env) {
  GatewaySettings s;
  const std::string p = Upper(spec.name) + "_";
  ReadHttp(spec, p, env, s);
  ReadPolicy(p, env, s);
  s.jwt = ReadJwtConfig(env);
  ReadRevocation(env, s.revocation);
  for (const GatewayBackend& backend : spec.backends) {
    s.backend_addresses.push_back(env.List(p + std::string(backend.name) + "_ADDRESSES",
                                           {std::string(backend.default_address)}));
  }
  return s;
}

std::vector<std::string> GatewayVariables(const GatewaySpec& spec) {
  return VariablesReadBy([&spec](config::Env& env) { (void)ReadGatewaySettings(spec, env); });
}

}  // namespace cppsvc::impl
