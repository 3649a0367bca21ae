#include "service_settings.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <thread>

namespace cppsvc::impl {
namespace {

// ORDERS_ for "orders": the prefix of the service's own variables.
std::string Prefix(std::string_view name) {
  std::string out;
  for (char c : name)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out + "_";
}

// A token kept in a file usually ends with a newline, which is not part of it.
std::string ReadKeyOrFile(config::Env& env, const std::string& name) {
  std::string value = env.ValueOrFile(name);
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

ForeignResources ReadForeignResources(config::Env& env,
                                      const std::string& name,
                                      ForeignResources fallback) {
  const std::string value = env.Optional(name, "");
  if (value == "not_found") return ForeignResources::kNotFound;
  if (value == "permission_denied") return ForeignResources::kPermissionDenied;
  if (!value.empty()) {
    env.Problem(name + ": '" + value + "' is not one of not_found, permission_denied");
  }
  return fallback;
}

// Listening, the bulkhead and the answers of the pipeline.
void ReadServing(const ServiceSpec& spec, const std::string& p, config::Env& env, Settings& s) {
  s.address = env.Optional(p + "LISTEN_ADDRESS", "0.0.0.0");
  s.grpc_port = env.Port(p + "GRPC_PORT", spec.grpc_port);
  s.admin_port = env.Port(p + "ADMIN_PORT", spec.admin_port);
  size_t cores = std::max(1u, std::thread::hardware_concurrency());
  s.workers = static_cast<size_t>(
      env.Integer(p + "WORKERS", spec.workers ? spec.workers : cores * 2, 1, 4096));
  s.max_queue = static_cast<size_t>(
      env.Integer(p + "MAX_QUEUE", spec.max_queue ? spec.max_queue : s.workers * 8, 0, 1 << 20));
  s.worker_spin = std::chrono::microseconds(
      env.Integer(p + "WORKER_SPIN_MICROS", resilience::Bulkhead::kDefaultSpin.count(), 0, 10000));
  s.inline_handlers = env.Flag(p + "INLINE_HANDLERS", spec.inline_handlers);
  s.foreign_resources = ReadForeignResources(env, p + "FOREIGN_RESOURCES", spec.foreign_resources);
  s.drain = env.Millis(p + "DRAIN_TIMEOUT_MS", std::chrono::milliseconds(10000));
  s.shutdown_delay = env.Millis(p + "SHUTDOWN_DELAY_MS", std::chrono::milliseconds(0));
}

void ReadJwt(config::Env& env, Settings& s) {
  s.jwt = ReadJwtConfig(env);
}

// Proxies, the admin endpoint and request logs.
void ReadOperations(const std::string& p, config::Env& env, Settings& s) {
  s.trusted_proxies = env.List("CPPSVC_TRUSTED_PROXIES", {});
  // The admin port serves operators and probes, not the public.
  s.admin_address = env.Optional(p + "ADMIN_ADDRESS", "127.0.0.1");
  s.admin_role = env.Optional("CPPSVC_ADMIN_ROLE", "admin");
  s.log_requests = env.Flag("CPPSVC_LOG_REQUESTS", true);
  s.request_log_delay =
      std::chrono::milliseconds(env.Integer("CPPSVC_REQUEST_LOG_DELAY_MS",
                                            observability::kDefaultRequestLogDelay.count(),
                                            0,
                                            1000));
}

void ReadEvents(const ServiceSpec& spec, const std::string& p, config::Env& env, Settings& s) {
  s.events = HasEvents(spec);
  if (spec.serves_nats || s.events) s.nats_url = env.Required("NATS_URL");
  if (!s.events) return;
  s.relay = env.Flag(p + "RELAY", true);
  s.relay_poll = env.Millis(p + "RELAY_POLL_MS", std::chrono::milliseconds(1000));
  s.relay_batch = static_cast<size_t>(env.Integer(p + "RELAY_BATCH", 1024, 1, 100000));
  s.retention = std::chrono::hours(env.Integer(p + "OUTBOX_RETENTION_HOURS", 168, 1, 24 * 3650));
  s.saga_sweep = std::chrono::milliseconds(env.Integer(p + "SAGA_SWEEP_MS", 500, 10, 60000));
}

void ReadDatabase(const ServiceSpec& spec, const std::string& p, config::Env& env, Settings& s) {
  if (spec.database.empty()) return;
  s.database_url = env.Required(p + "DATABASE_URL");
  s.pool_size = static_cast<size_t>(
      env.Integer(p + "DB_POOL_SIZE", static_cast<int64_t>(s.workers), 1, 1024));
  s.migrate = env.Flag(p + "MIGRATE", true);
  s.db_startup = env.Millis(p + "DB_STARTUP_TIMEOUT_MS", std::chrono::milliseconds(30000));
}

}  // namespace

auth::JwtConfig ReadJwtConfig(config::Env& env) {
  auth::JwtConfig jwt;
  std::string alg = env.Required("CPPSVC_JWT_ALGORITHM");
  if (!alg.empty() && !auth::ParseAlgorithm(alg, jwt.algorithm)) {
    env.Problem("CPPSVC_JWT_ALGORITHM: '" + alg + "' is not one of HS256, RS256, ES256");
  }
  const std::string key = env.ValueOrFile("CPPSVC_JWT_KEY");
  if (key.empty() && env.Optional("CPPSVC_JWT_KEY_FILE", "").empty())
    env.Problem("CPPSVC_JWT_KEY or CPPSVC_JWT_KEY_FILE is required");
  // RFC 7518 3.2: an HMAC key at least as long as the hash.
  if (jwt.algorithm == auth::Algorithm::kHS256 && !key.empty() && key.size() < 32) {
    env.Problem("CPPSVC_JWT_KEY: an HS256 key must be at least 32 bytes, got " +
                std::to_string(key.size()));
  }
  jwt.key = key;
  jwt.issuer = env.Required("CPPSVC_JWT_ISSUER");
  jwt.audience = env.Required("CPPSVC_JWT_AUDIENCE");
  jwt.leeway = std::chrono::seconds(env.Integer("CPPSVC_JWT_LEEWAY_SECONDS", 30, 0, 60));
  jwt.require_jti =
      env.Flag("CPPSVC_JWT_REQUIRE_JTI", !env.Optional("CPPSVC_REVOCATION_TARGET", "").empty());
  return jwt;
}

void ReadRevocation(config::Env& env, auth::RevocationFeedOptions& r) {
  r.target = env.Optional("CPPSVC_REVOCATION_TARGET", "");
  if (r.target.empty()) return;
  r.method = env.Required("CPPSVC_REVOCATION_METHOD");
  if (!r.method.empty() && r.method.front() != '/') {
    env.Problem(
        "CPPSVC_REVOCATION_METHOD: expected a full gRPC path such as /pkg.Service/Method, got '" +
        r.method + "'");
  }
  r.bearer_token = ReadKeyOrFile(env, "CPPSVC_SERVICE_TOKEN");
  if (r.bearer_token.empty()) {
    env.Problem(
        "CPPSVC_SERVICE_TOKEN or CPPSVC_SERVICE_TOKEN_FILE is required with "
        "CPPSVC_REVOCATION_TARGET");
  }
  r.interval = env.Millis("CPPSVC_REVOCATION_INTERVAL_MS", std::chrono::milliseconds(5000));
  r.max_staleness =
      env.Millis("CPPSVC_REVOCATION_MAX_STALENESS_MS", std::chrono::milliseconds(30000));
  if (r.max_staleness < r.interval) {
    env.Problem("CPPSVC_REVOCATION_MAX_STALENESS_MS: must be at least the interval (" +
                std::to_string(r.interval.count()) + " ms)");
  }
  const std::string policy = env.Optional("CPPSVC_REVOCATION_STALE_POLICY", "refuse_older");
  if (policy != "refuse_older" && policy != "refuse_all") {
    env.Problem("CPPSVC_REVOCATION_STALE_POLICY: expected refuse_older or refuse_all, got '" +
                policy + "'");
  }
  r.refuse_all_when_stale = policy == "refuse_all";
}

bool HasEvents(const ServiceSpec& spec) {
  return !spec.database.empty() && (spec.publishes || spec.subscriptions > 0);
}

Settings ReadSettings(const ServiceSpec& spec, config::Env& env) {
  const std::string p = Prefix(spec.name);
  Settings s;
  ReadServing(spec, p, env, s);
  ReadJwt(env, s);
  ReadOperations(p, env, s);
  ReadEvents(spec, p, env, s);
  ReadDatabase(spec, p, env, s);
  ReadRevocation(env, s.revocation);
  return s;
}

}  // namespace cppsvc::impl
