// The environment variables a service process reads, as one table: the
// runtime's configuration step (src/main/service_settings.cc) reads each by
// its entry here, `<binary> --help` lists them, and the generator writes its
// deployment files (Dockerfile, compose, Kubernetes) from the same rows, so
// a deployment cannot set a variable the service ignores or miss one it
// needs. The runtime's tests check that the configuration step reads
// exactly the rows that apply to a service.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cppsvc::config {

// When a service reads a variable.
enum class Needed {
  kAlways,
  kNats,        // the service serves NATS request-reply or has events
  kEvents,      // a database, and events to publish or consume (outbox relay, consumers)
  kDatabase,    // the service has a database
  kRevocation,  // CPPSVC_REVOCATION_TARGET is set
};

// What a deployment does with a variable.
enum class Deploy {
  kDefault,    // left to its default (documented, set by an operator if needed)
  kSetting,    // a plain setting the deployment gives (compose environment, ConfigMap)
  kSecret,     // a secret: given from a secret store, never in plain configuration
  kSecretFile  // the file a secret is mounted at (the _FILE form of a kSecret)
};

struct ServiceVariable {
  std::string_view name;  // after the service's prefix (ORDERS_ for "orders") when prefixed
  bool prefixed;
  Needed needed;
  Deploy deploy;
  bool required;
  // The default as one would write the value ("" when there is none, or when
  // it comes from the contract: see `doc`), and a range for integers.
  std::string_view fallback;
  int64_t min = 0;
  int64_t max = 0;
  std::string_view doc;
};

namespace vars {
// clang-format off
// name, prefixed, needed, deploy, required, fallback, min, max, doc
// Listening and the bulkhead.
inline constexpr ServiceVariable kListenAddress{"LISTEN_ADDRESS", true, Needed::kAlways, Deploy::kDefault, false, "0.0.0.0", 0, 0,
    "address the gRPC server listens on"};
inline constexpr ServiceVariable kGrpcPort{"GRPC_PORT", true, Needed::kAlways, Deploy::kDefault, false, "", 1, 65535,
    "gRPC port; default from the contract (grpc_port)"};
inline constexpr ServiceVariable kAdminPort{"ADMIN_PORT", true, Needed::kAlways, Deploy::kDefault, false, "", 1, 65535,
    "admin HTTP port (/healthz, /readyz, /metrics); default from the contract (admin_port)"};
inline constexpr ServiceVariable kWorkers{"WORKERS", true, Needed::kAlways, Deploy::kDefault, false, "", 1, 4096,
    "bulkhead workers; default from the contract (max_concurrency), else cores x 2"};
inline constexpr ServiceVariable kMaxQueue{"MAX_QUEUE", true, Needed::kAlways, Deploy::kDefault, false, "", 0, 1 << 20,
    "calls waiting for a worker; default from the contract (max_queue), else workers x 8"};
inline constexpr ServiceVariable kWorkerSpinMicros{"WORKER_SPIN_MICROS", true, Needed::kAlways, Deploy::kDefault, false, "50", 0, 10000,
    "how long an idle worker stays awake for the next call"};
inline constexpr ServiceVariable kInlineHandlers{"INLINE_HANDLERS", true, Needed::kAlways, Deploy::kDefault, false, "", 0, 0,
    "run handlers on gRPC's thread when a worker is free (handlers that never block); default from the contract (inline_handlers), else false"};
inline constexpr ServiceVariable kForeignResources{"FOREIGN_RESOURCES", true, Needed::kAlways, Deploy::kDefault, false, "", 0, 0,
    "not_found or permission_denied: the answer to a call on another user's resource; default from the contract (foreign_resources), else not_found"};
inline constexpr ServiceVariable kDrainTimeoutMs{"DRAIN_TIMEOUT_MS", true, Needed::kAlways, Deploy::kSetting, false, "10000", 0, 0,
    "on SIGTERM, how long calls in flight may take to finish"};
inline constexpr ServiceVariable kShutdownDelayMs{"SHUTDOWN_DELAY_MS", true, Needed::kAlways, Deploy::kSetting, false, "0", 0, 0,
    "on SIGTERM, how long /readyz answers 503 before draining starts"};

// Tokens.
inline constexpr ServiceVariable kJwtAlgorithm{"CPPSVC_JWT_ALGORITHM", false, Needed::kAlways, Deploy::kSetting, true, "", 0, 0,
    "HS256, RS256 or ES256"};
inline constexpr ServiceVariable kJwtKey{"CPPSVC_JWT_KEY", false, Needed::kAlways, Deploy::kSecret, false, "", 0, 0,
    "HS256 secret or PEM public key (this or CPPSVC_JWT_KEY_FILE is required)"};
inline constexpr ServiceVariable kJwtKeyFile{"CPPSVC_JWT_KEY_FILE", false, Needed::kAlways, Deploy::kSecretFile, false, "", 0, 0,
    "file holding CPPSVC_JWT_KEY"};
inline constexpr ServiceVariable kJwtIssuer{"CPPSVC_JWT_ISSUER", false, Needed::kAlways, Deploy::kSetting, true, "", 0, 0,
    "the tokens' iss"};
inline constexpr ServiceVariable kJwtAudience{"CPPSVC_JWT_AUDIENCE", false, Needed::kAlways, Deploy::kSetting, true, "", 0, 0,
    "the tokens' aud"};
inline constexpr ServiceVariable kJwtLeewaySeconds{"CPPSVC_JWT_LEEWAY_SECONDS", false, Needed::kAlways, Deploy::kDefault, false, "30", 0, 60,
    "clock skew allowed on exp and nbf"};
inline constexpr ServiceVariable kJwtRequireJti{"CPPSVC_JWT_REQUIRE_JTI", false, Needed::kAlways, Deploy::kDefault, false, "", 0, 0,
    "refuse tokens without jti; default true when CPPSVC_REVOCATION_TARGET is set"};

// Operations.
inline constexpr ServiceVariable kTrustedProxies{"CPPSVC_TRUSTED_PROXIES", false, Needed::kAlways, Deploy::kDefault, false, "", 0, 0,
    "comma-separated addresses whose X-Forwarded-For is believed (rate limits per peer)"};
inline constexpr ServiceVariable kAdminAddress{"ADMIN_ADDRESS", true, Needed::kAlways, Deploy::kSetting, false, "127.0.0.1", 0, 0,
    "address the admin HTTP server listens on (probes need it reachable)"};
inline constexpr ServiceVariable kAdminRole{"CPPSVC_ADMIN_ROLE", false, Needed::kAlways, Deploy::kDefault, false, "admin", 0, 0,
    "role a token needs for the admin endpoints beyond health and metrics"};
inline constexpr ServiceVariable kLogRequests{"CPPSVC_LOG_REQUESTS", false, Needed::kAlways, Deploy::kDefault, false, "true", 0, 0,
    "one JSON log line per call"};
inline constexpr ServiceVariable kRequestLogDelayMs{"CPPSVC_REQUEST_LOG_DELAY_MS", false, Needed::kAlways, Deploy::kDefault, false, "10", 0, 1000,
    "how long a request line may wait to be written with others (0: each at once)"};

// Events.
inline constexpr ServiceVariable kNatsUrl{"NATS_URL", false, Needed::kNats, Deploy::kSetting, true, "", 0, 0,
    "nats-server with JetStream, e.g. nats://nats:4222"};
inline constexpr ServiceVariable kRelay{"RELAY", true, Needed::kEvents, Deploy::kDefault, false, "true", 0, 0,
    "run the outbox relay in this process"};
inline constexpr ServiceVariable kRelayPollMs{"RELAY_POLL_MS", true, Needed::kEvents, Deploy::kDefault, false, "1000", 0, 0,
    "how often the relay looks for unsent events"};
inline constexpr ServiceVariable kRelayBatch{"RELAY_BATCH", true, Needed::kEvents, Deploy::kDefault, false, "1024", 1, 100000,
    "events the relay claims at once"};
inline constexpr ServiceVariable kOutboxRetentionHours{"OUTBOX_RETENTION_HOURS", true, Needed::kEvents, Deploy::kDefault, false, "168", 1, 24 * 3650,
    "how long sent events are kept for republishing"};
inline constexpr ServiceVariable kSagaSweepMs{"SAGA_SWEEP_MS", true, Needed::kEvents, Deploy::kDefault, false, "500", 10, 60000,
    "how often timed-out sagas are looked for"};

// Storage.
inline constexpr ServiceVariable kDatabaseUrl{"DATABASE_URL", true, Needed::kDatabase, Deploy::kSecret, true, "", 0, 0,
    "PostgreSQL, as a libpq URL"};
inline constexpr ServiceVariable kDbPoolSize{"DB_POOL_SIZE", true, Needed::kDatabase, Deploy::kDefault, false, "", 1, 1024,
    "database connections; default: the number of workers"};
inline constexpr ServiceVariable kMigrate{"MIGRATE", true, Needed::kDatabase, Deploy::kDefault, false, "true", 0, 0,
    "apply pending migrations at start (under an advisory lock)"};
inline constexpr ServiceVariable kDbStartupTimeoutMs{"DB_STARTUP_TIMEOUT_MS", true, Needed::kDatabase, Deploy::kDefault, false, "30000", 0, 0,
    "how long to wait for PostgreSQL at start"};

// The revocation feed.
inline constexpr ServiceVariable kRevocationTarget{"CPPSVC_REVOCATION_TARGET", false, Needed::kAlways, Deploy::kDefault, false, "", 0, 0,
    "host:port of the service listing revoked tokens; unset: no polling"};
inline constexpr ServiceVariable kRevocationMethod{"CPPSVC_REVOCATION_METHOD", false, Needed::kRevocation, Deploy::kDefault, true, "", 0, 0,
    "its RPC, as /package.Service/Method, when CPPSVC_REVOCATION_TARGET is set"};
inline constexpr ServiceVariable kServiceToken{"CPPSVC_SERVICE_TOKEN", false, Needed::kRevocation, Deploy::kSecret, false, "", 0, 0,
    "this service's bearer token for that RPC (this or CPPSVC_SERVICE_TOKEN_FILE)"};
inline constexpr ServiceVariable kServiceTokenFile{"CPPSVC_SERVICE_TOKEN_FILE", false, Needed::kRevocation, Deploy::kSecretFile, false, "", 0, 0,
    "file holding CPPSVC_SERVICE_TOKEN"};
inline constexpr ServiceVariable kRevocationIntervalMs{"CPPSVC_REVOCATION_INTERVAL_MS", false, Needed::kRevocation, Deploy::kDefault, false, "5000", 0, 0,
    "how often the feed is polled"};
inline constexpr ServiceVariable kRevocationMaxStalenessMs{"CPPSVC_REVOCATION_MAX_STALENESS_MS", false, Needed::kRevocation, Deploy::kDefault, false, "30000", 0, 0,
    "how old the last good poll may be before the stale policy applies"};
inline constexpr ServiceVariable kRevocationStalePolicy{"CPPSVC_REVOCATION_STALE_POLICY", false, Needed::kRevocation, Deploy::kDefault, false, "refuse_older", 0, 0,
    "refuse_older or refuse_all, when the feed is stale"};
// clang-format on

}  // namespace vars

// Every variable, in the order the configuration step reads them.
inline constexpr const ServiceVariable* kServiceVariables[] = {
    &vars::kListenAddress,
    &vars::kGrpcPort,
    &vars::kAdminPort,
    &vars::kWorkers,
    &vars::kMaxQueue,
    &vars::kWorkerSpinMicros,
    &vars::kInlineHandlers,
    &vars::kForeignResources,
    &vars::kDrainTimeoutMs,
    &vars::kShutdownDelayMs,
    &vars::kJwtAlgorithm,
    &vars::kJwtKey,
    &vars::kJwtKeyFile,
    &vars::kJwtIssuer,
    &vars::kJwtAudience,
    &vars::kJwtLeewaySeconds,
    &vars::kJwtRequireJti,
    &vars::kTrustedProxies,
    &vars::kAdminAddress,
    &vars::kAdminRole,
    &vars::kLogRequests,
    &vars::kRequestLogDelayMs,
    &vars::kNatsUrl,
    &vars::kRelay,
    &vars::kRelayPollMs,
    &vars::kRelayBatch,
    &vars::kOutboxRetentionHours,
    &vars::kSagaSweepMs,
    &vars::kDatabaseUrl,
    &vars::kDbPoolSize,
    &vars::kMigrate,
    &vars::kDbStartupTimeoutMs,
    &vars::kRevocationTarget,
    &vars::kRevocationMethod,
    &vars::kServiceToken,
    &vars::kServiceTokenFile,
    &vars::kRevocationIntervalMs,
    &vars::kRevocationMaxStalenessMs,
    &vars::kRevocationStalePolicy,
};

// What decides which variables a service reads.
struct ServiceShape {
  bool database = false;
  bool nats = false;       // serves NATS request-reply
  bool publishes = false;  // publishes any event
  bool consumes = false;   // consumes any event (subscriptions, saga steps)
};

// A database and something to publish or consume: then the service runs an
// outbox relay and consumers.
constexpr bool HasEvents(const ServiceShape& s) {
  return s.database && (s.publishes || s.consumes);
}

// Whether a service of shape `s` reads `v` (revocation: when the feed is on).
constexpr bool Reads(const ServiceVariable& v, const ServiceShape& s, bool revocation) {
  switch (v.needed) {
    case Needed::kAlways:
      return true;
    case Needed::kNats:
      return s.nats || HasEvents(s);
    case Needed::kEvents:
      return HasEvents(s);
    case Needed::kDatabase:
      return s.database;
    case Needed::kRevocation:
      return revocation;
  }
  return false;
}

// The default of an integer or duration variable, as a number; -1 when its
// `fallback` is not all digits (the reader checks its uses at compile time).
constexpr int64_t DefaultNumber(const ServiceVariable& v) {
  if (v.fallback.empty()) return -1;
  int64_t n = 0;
  for (char c : v.fallback) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace cppsvc::config
