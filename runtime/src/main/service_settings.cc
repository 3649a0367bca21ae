#include "service_settings.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>
#include <thread>

namespace cppsvc::impl {
namespace {

namespace vars = config::vars;

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

// The variable's full name: prefixed ones are the service's own.
std::string Name(const std::string& prefix, const config::ServiceVariable& v) {
  return v.prefixed ? prefix + std::string(v.name) : std::string(v.name);
}

// Integers and durations default to their table entry, checked here.
template <const config::ServiceVariable& V>
constexpr int64_t Default() {
  static_assert(config::DefaultNumber(V) >= 0, "the table's default is not a number");
  return config::DefaultNumber(V);
}

template <const config::ServiceVariable& V>
int64_t ReadInteger(config::Env& env, const std::string& prefix) {
  return env.Integer(Name(prefix, V), Default<V>(), V.min, V.max);
}

template <const config::ServiceVariable& V>
std::chrono::milliseconds ReadMillis(config::Env& env, const std::string& prefix) {
  return env.Millis(Name(prefix, V), std::chrono::milliseconds(Default<V>()));
}

bool ReadFlag(config::Env& env, const std::string& prefix, const config::ServiceVariable& v) {
  return env.Flag(Name(prefix, v), v.fallback == "true");
}

std::string ReadText(config::Env& env,
                     const std::string& prefix,
                     const config::ServiceVariable& v) {
  return v.required ? env.Required(Name(prefix, v))
                    : env.Optional(Name(prefix, v), std::string(v.fallback));
}

static_assert(Default<vars::kWorkerSpinMicros>() == resilience::Bulkhead::kDefaultSpin.count());
static_assert(Default<vars::kRequestLogDelayMs>() ==
              observability::kDefaultRequestLogDelay.count());

// Listening, the bulkhead and the answers of the pipeline.
void ReadServing(const ServiceSpec& spec, const std::string& p, config::Env& env, Settings& s) {
  s.address = ReadText(env, p, vars::kListenAddress);
  s.grpc_port = env.Port(Name(p, vars::kGrpcPort), spec.grpc_port);
  s.admin_port = env.Port(Name(p, vars::kAdminPort), spec.admin_port);
  size_t cores = std::max(1u, std::thread::hardware_concurrency());
  s.workers = static_cast<size_t>(env.Integer(Name(p, vars::kWorkers),
                                              spec.workers ? spec.workers : cores * 2,
                                              vars::kWorkers.min,
                                              vars::kWorkers.max));
  s.max_queue = static_cast<size_t>(env.Integer(Name(p, vars::kMaxQueue),
                                                spec.max_queue ? spec.max_queue : s.workers * 8,
                                                vars::kMaxQueue.min,
                                                vars::kMaxQueue.max));
  s.worker_spin = std::chrono::microseconds(ReadInteger<vars::kWorkerSpinMicros>(env, p));
  s.inline_handlers = env.Flag(Name(p, vars::kInlineHandlers), spec.inline_handlers);
  s.foreign_resources =
      ReadForeignResources(env, Name(p, vars::kForeignResources), spec.foreign_resources);
  s.drain = ReadMillis<vars::kDrainTimeoutMs>(env, p);
  s.shutdown_delay = ReadMillis<vars::kShutdownDelayMs>(env, p);
}

void ReadJwt(config::Env& env, Settings& s) {
  s.jwt = ReadJwtConfig(env);
}

// Proxies, the admin endpoint and request logs.
void ReadOperations(const std::string& p, config::Env& env, Settings& s) {
  s.trusted_proxies = env.List(std::string(vars::kTrustedProxies.name), {});
  // The admin port serves operators and probes, not the public.
  s.admin_address = ReadText(env, p, vars::kAdminAddress);
  s.admin_role = ReadText(env, p, vars::kAdminRole);
  s.log_requests = ReadFlag(env, p, vars::kLogRequests);
  s.request_log_delay = std::chrono::milliseconds(ReadInteger<vars::kRequestLogDelayMs>(env, p));
}

void ReadEvents(const config::ServiceShape& shape,
                const std::string& p,
                config::Env& env,
                Settings& s) {
  s.events = config::HasEvents(shape);
  if (config::Reads(vars::kNatsUrl, shape, false)) s.nats_url = ReadText(env, p, vars::kNatsUrl);
  if (!s.events) return;
  s.relay = ReadFlag(env, p, vars::kRelay);
  s.relay_poll = ReadMillis<vars::kRelayPollMs>(env, p);
  s.relay_batch = static_cast<size_t>(ReadInteger<vars::kRelayBatch>(env, p));
  s.retention = std::chrono::hours(ReadInteger<vars::kOutboxRetentionHours>(env, p));
  s.saga_sweep = std::chrono::milliseconds(ReadInteger<vars::kSagaSweepMs>(env, p));
}

void ReadDatabase(const std::string& p, config::Env& env, Settings& s) {
  s.database_url = ReadText(env, p, vars::kDatabaseUrl);
  s.pool_size = static_cast<size_t>(env.Integer(Name(p, vars::kDbPoolSize),
                                                static_cast<int64_t>(s.workers),
                                                vars::kDbPoolSize.min,
                                                vars::kDbPoolSize.max));
  s.migrate = ReadFlag(env, p, vars::kMigrate);
  s.db_startup = ReadMillis<vars::kDbStartupTimeoutMs>(env, p);
}

}  // namespace

auth::JwtConfig ReadJwtConfig(config::Env& env) {
  auth::JwtConfig jwt;
  const std::string alg = ReadText(env, "", vars::kJwtAlgorithm);
  if (!alg.empty() && !auth::ParseAlgorithm(alg, jwt.algorithm)) {
    env.Problem("CPPSVC_JWT_ALGORITHM: '" + alg + "' is not one of HS256, RS256, ES256");
  }
  static_assert(vars::kJwtKeyFile.name.substr(vars::kJwtKey.name.size()) == "_FILE");
  const std::string key = env.ValueOrFile(std::string(vars::kJwtKey.name));
  if (key.empty() && ReadText(env, "", vars::kJwtKeyFile).empty())
    env.Problem("CPPSVC_JWT_KEY or CPPSVC_JWT_KEY_FILE is required");
  // RFC 7518 3.2: an HMAC key at least as long as the hash.
  if (jwt.algorithm == auth::Algorithm::kHS256 && !key.empty() && key.size() < 32) {
    env.Problem("CPPSVC_JWT_KEY: an HS256 key must be at least 32 bytes, got " +
                std::to_string(key.size()));
  }
  jwt.key = key;
  jwt.issuer = ReadText(env, "", vars::kJwtIssuer);
  jwt.audience = ReadText(env, "", vars::kJwtAudience);
  jwt.leeway = std::chrono::seconds(ReadInteger<vars::kJwtLeewaySeconds>(env, ""));
  jwt.require_jti = env.Flag(std::string(vars::kJwtRequireJti.name),
                             !ReadText(env, "", vars::kRevocationTarget).empty());
  return jwt;
}

void ReadRevocation(config::Env& env, auth::RevocationFeedOptions& r) {
  r.target = ReadText(env, "", vars::kRevocationTarget);
  if (r.target.empty()) return;
  r.method = ReadText(env, "", vars::kRevocationMethod);
  if (!r.method.empty() && r.method.front() != '/') {
    env.Problem(
        "CPPSVC_REVOCATION_METHOD: expected a full gRPC path such as /pkg.Service/Method, got '" +
        r.method + "'");
  }
  static_assert(vars::kServiceTokenFile.name.substr(vars::kServiceToken.name.size()) == "_FILE");
  r.bearer_token = ReadKeyOrFile(env, std::string(vars::kServiceToken.name));
  if (r.bearer_token.empty()) {
    env.Problem(
        "CPPSVC_SERVICE_TOKEN or CPPSVC_SERVICE_TOKEN_FILE is required with "
        "CPPSVC_REVOCATION_TARGET");
  }
  r.interval = ReadMillis<vars::kRevocationIntervalMs>(env, "");
  r.max_staleness = ReadMillis<vars::kRevocationMaxStalenessMs>(env, "");
  if (r.max_staleness < r.interval) {
    env.Problem("CPPSVC_REVOCATION_MAX_STALENESS_MS: must be at least the interval (" +
                std::to_string(r.interval.count()) + " ms)");
  }
  const std::string policy = ReadText(env, "", vars::kRevocationStalePolicy);
  if (policy != "refuse_older" && policy != "refuse_all") {
    env.Problem("CPPSVC_REVOCATION_STALE_POLICY: expected refuse_older or refuse_all, got '" +
                policy + "'");
  }
  r.refuse_all_when_stale = policy == "refuse_all";
}

config::ServiceShape ShapeOf(const ServiceSpec& spec) {
  return {.database = !spec.database.empty(),
          .nats = spec.serves_nats,
          .publishes = spec.publishes,
          .consumes = spec.subscriptions > 0};
}

bool HasEvents(const ServiceSpec& spec) {
  return config::HasEvents(ShapeOf(spec));
}

std::vector<std::string> VariablesReadBy(const std::function<void(config::Env&)>& read) {
  std::vector<std::string> names;
  for (const char* value : {"", "1"}) {
    config::Env env([&names, value](const std::string& name) -> std::optional<std::string> {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
      if (*value == '\0') return std::nullopt;
      return std::string(value);
    });
    read(env);
  }
  return names;
}

std::vector<std::string> VariablesRead(const ServiceSpec& spec) {
  return VariablesReadBy([&spec](config::Env& env) { (void)ReadSettings(spec, env); });
}

const config::ServiceVariable* FindVariable(const ServiceSpec& spec, std::string_view name) {
  const std::string prefix = Prefix(spec.name);
  for (const config::ServiceVariable* v : config::kServiceVariables) {
    if (Name(prefix, *v) == name) return v;
  }
  return nullptr;
}

Settings ReadSettings(const ServiceSpec& spec, config::Env& env) {
  const std::string p = Prefix(spec.name);
  Settings s;
  ReadServing(spec, p, env, s);
  ReadJwt(env, s);
  ReadOperations(p, env, s);
  const config::ServiceShape shape = ShapeOf(spec);
  ReadEvents(shape, p, env, s);
  if (shape.database) ReadDatabase(p, env, s);
  ReadRevocation(env, s.revocation);
  return s;
}

}  // namespace cppsvc::impl
