#include "gateway_settings.h"

#include <algorithm>

#include "cppsvc/config/gateway_variables.h"
#include "service_settings.h"

namespace cppsvc::impl {
namespace {

namespace gw = config::gateway_vars;

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return std::toupper(c);
  });
  return out;
}

// A row of config/gateway_variables.h, read under prefix `p` (GATEWAY_).
struct Reader {
  const std::string& p;
  config::Env& env;

  std::string Name(const config::ServiceVariable& v) const {
    return v.prefixed ? p + std::string(v.name) : std::string(v.name);
  }
  std::string Text(const config::ServiceVariable& v) const {
    return env.Optional(Name(v), std::string(v.fallback));
  }
  int64_t Integer(const config::ServiceVariable& v) const {
    return env.Integer(Name(v), config::DefaultNumber(v), v.min, v.max);
  }
  std::chrono::milliseconds Millis(const config::ServiceVariable& v) const {
    return env.Millis(Name(v), std::chrono::milliseconds(config::DefaultNumber(v)));
  }
  uint16_t Port(const config::ServiceVariable& v, uint16_t fallback) const {
    return env.Port(Name(v), fallback);
  }
};

void ReadHttp(const GatewaySpec& spec, const Reader& r, GatewaySettings& s) {
  s.http.address = r.Text(gw::kListenAddress);
  s.http.port = r.Port(gw::kHttpPort, spec.http_port);
  s.http.threads = static_cast<size_t>(r.Integer(gw::kThreads));
  s.http.body_limit = static_cast<uint64_t>(r.Integer(gw::kBodyLimitBytes));
  s.http.header_limit = static_cast<uint32_t>(r.Integer(gw::kHeaderLimitBytes));
  s.http.read_timeout = r.Millis(gw::kReadTimeoutMs);
  s.admin_address = r.Text(config::vars::kAdminAddress);
  s.admin_port = r.Port(gw::kAdminPort, spec.admin_port);
}

void ReadPolicy(const Reader& r, GatewaySettings& s) {
  gateway::GatewayOptions& g = s.gateway;
  g.handler_timeout = r.Millis(gw::kHandlerTimeoutMs);
  g.ignore_unknown_fields = r.env.Flag(r.Name(gw::kIgnoreUnknownFields), false);
  g.cors_origins = r.env.List(r.Name(gw::kCorsOrigins), {});
  g.cors_headers = r.env.List(r.Name(gw::kCorsHeaders), g.cors_headers);
  g.client_rate_per_second = static_cast<double>(r.Integer(gw::kRateLimitRps));
  g.client_burst = static_cast<double>(r.Integer(gw::kRateLimitBurst));
  g.trusted_proxies = r.env.List(r.Name(config::vars::kTrustedProxies), {});
}

}  // namespace

GatewaySettings ReadGatewaySettings(const GatewaySpec& spec, config::Env& env) {
  GatewaySettings s;
  const std::string p = Upper(spec.name) + "_";
  const Reader r{p, env};
  ReadHttp(spec, r, s);
  ReadPolicy(r, s);
  s.jwt = ReadJwtConfig(env);
  ReadRevocation(env, s.revocation);
  for (const GatewayBackend& backend : spec.backends) {
    s.backend_addresses.push_back(
        env.List(BackendAddressesName(spec, backend), {std::string(backend.default_address)}));
  }
  return s;
}

std::string BackendAddressesName(const GatewaySpec& spec, const GatewayBackend& backend) {
  return Upper(spec.name) + "_" + std::string(backend.name) + "_" +
         std::string(config::gateway_vars::kBackendAddresses.name);
}

std::vector<std::string> GatewayVariables(const GatewaySpec& spec) {
  return VariablesReadBy([&spec](config::Env& env) { (void)ReadGatewaySettings(spec, env); });
}

}  // namespace cppsvc::impl
