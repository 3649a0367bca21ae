#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include "cppsvc/admin/admin_server.h"
#include "cppsvc/auth/revocation_feed.h"
#include "cppsvc/config/env.h"
#include "cppsvc/db/migrations.h"
#include "cppsvc/db/pool.h"
#include "cppsvc/events/events.h"
#include "cppsvc/impl/main.h"
#include "cppsvc/limits.h"
#include "cppsvc/observability/log.h"

namespace cppsvc::impl {
namespace {

std::string Upper(std::string_view s) {
  std::string out;
  for (char c : s)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

struct Settings {
  std::string address;
  uint16_t grpc_port = 0;
  uint16_t admin_port = 0;
  size_t workers = 0;
  size_t max_queue = 0;
  std::chrono::microseconds worker_spin = resilience::Bulkhead::kDefaultSpin;
  bool inline_handlers = false;
  ForeignResources foreign_resources = defaults::kForeignResources;
  std::chrono::milliseconds drain{10000};
  std::chrono::milliseconds shutdown_delay{0};
  auth::JwtConfig jwt;
  bool log_requests = true;
  std::chrono::milliseconds request_log_delay = observability::kDefaultRequestLogDelay;
  std::vector<std::string> trusted_proxies;
  std::string admin_address;
  std::string admin_role;
  std::string nats_url;
  auth::RevocationFeedOptions revocation;  // target empty: no feed
  std::string database_url;
  size_t pool_size = 0;
  bool migrate = true;
  std::chrono::milliseconds db_startup{30000};
  bool events = false;  // a database and something to publish or consume
  bool relay = true;
  std::chrono::milliseconds relay_poll{1000};
  size_t relay_batch = 1024;
  std::chrono::hours retention{168};
};

std::string ReadKeyOrFile(config::Env& env, const std::string& name) {
  std::string value = env.Optional(name, "");
  std::string file = env.Optional(name + "_FILE", "");
  if (value.empty() && !file.empty()) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    value = text.str();
    if (!in) env.Problem(name + "_FILE: cannot read " + file);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  }
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

Settings Read(const ServiceEntry& entry, config::Env& env) {
  const std::string p = Upper(entry.name) + "_";
  Settings s;
  s.address = env.Optional(p + "LISTEN_ADDRESS", "0.0.0.0");
  s.grpc_port = env.Port(p + "GRPC_PORT", entry.default_grpc_port);
  s.admin_port = env.Port(p + "ADMIN_PORT", entry.default_admin_port);
  size_t cores = std::max(1u, std::thread::hardware_concurrency());
  s.workers = static_cast<size_t>(
      env.Integer(p + "WORKERS", entry.workers ? entry.workers : cores * 2, 1, 4096));
  s.max_queue = static_cast<size_t>(
      env.Integer(p + "MAX_QUEUE", entry.max_queue ? entry.max_queue : s.workers * 8, 0, 1 << 20));
  s.worker_spin = std::chrono::microseconds(
      env.Integer(p + "WORKER_SPIN_MICROS", resilience::Bulkhead::kDefaultSpin.count(), 0, 10000));
  s.inline_handlers = env.Flag(p + "INLINE_HANDLERS", entry.inline_handlers);
  s.foreign_resources = ReadForeignResources(env, p + "FOREIGN_RESOURCES", entry.foreign_resources);
  s.drain = env.Millis(p + "DRAIN_TIMEOUT_MS", std::chrono::milliseconds(10000));
  s.shutdown_delay = env.Millis(p + "SHUTDOWN_DELAY_MS", std::chrono::milliseconds(0));

  std::string alg = env.Required("CPPSVC_JWT_ALGORITHM");
  if (!alg.empty() && !auth::ParseAlgorithm(alg, s.jwt.algorithm)) {
    env.Problem("CPPSVC_JWT_ALGORITHM: '" + alg + "' is not one of HS256, RS256, ES256");
  }
  std::string key = env.Optional("CPPSVC_JWT_KEY", "");
  std::string key_file = env.Optional("CPPSVC_JWT_KEY_FILE", "");
  if (key.empty() && !key_file.empty()) {
    std::ifstream in(key_file);
    std::stringstream text;
    text << in.rdbuf();
    key = text.str();
    if (!in) env.Problem("CPPSVC_JWT_KEY_FILE: cannot read " + key_file);
  }
  if (key.empty() && key_file.empty())
    env.Problem("CPPSVC_JWT_KEY or CPPSVC_JWT_KEY_FILE is required");
  // RFC 7518 3.2: an HMAC key at least as long as the hash.
  if (s.jwt.algorithm == auth::Algorithm::kHS256 && !key.empty() && key.size() < 32) {
    env.Problem("CPPSVC_JWT_KEY: an HS256 key must be at least 32 bytes, got " +
                std::to_string(key.size()));
  }
  s.jwt.key = key;
  s.jwt.issuer = env.Required("CPPSVC_JWT_ISSUER");
  s.jwt.audience = env.Required("CPPSVC_JWT_AUDIENCE");
  s.jwt.leeway = std::chrono::seconds(env.Integer("CPPSVC_JWT_LEEWAY_SECONDS", 30, 0, 60));
  s.jwt.require_jti =
      env.Flag("CPPSVC_JWT_REQUIRE_JTI", !env.Optional("CPPSVC_REVOCATION_TARGET", "").empty());
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
  s.events = !entry.database.empty() && (entry.publishes || entry.subscriptions > 0);
  if (entry.serves_nats || s.events) s.nats_url = env.Required("NATS_URL");
  if (s.events) {
    s.relay = env.Flag(p + "RELAY", true);
    s.relay_poll = env.Millis(p + "RELAY_POLL_MS", std::chrono::milliseconds(1000));
    s.relay_batch = static_cast<size_t>(env.Integer(p + "RELAY_BATCH", 1024, 1, 100000));
    s.retention = std::chrono::hours(env.Integer(p + "OUTBOX_RETENTION_HOURS", 168, 1, 24 * 3650));
  }
  if (!entry.database.empty()) {
    s.database_url = env.Required(p + "DATABASE_URL");
    s.pool_size = static_cast<size_t>(
        env.Integer(p + "DB_POOL_SIZE", static_cast<int64_t>(s.workers), 1, 1024));
    s.migrate = env.Flag(p + "MIGRATE", true);
    s.db_startup = env.Millis(p + "DB_STARTUP_TIMEOUT_MS", std::chrono::milliseconds(30000));
  }
  s.revocation.target = env.Optional("CPPSVC_REVOCATION_TARGET", "");
  if (!s.revocation.target.empty()) {
    s.revocation.method = env.Required("CPPSVC_REVOCATION_METHOD");
    if (!s.revocation.method.empty() && s.revocation.method.front() != '/') {
      env.Problem(
          "CPPSVC_REVOCATION_METHOD: expected a full gRPC path such as /pkg.Service/Method, got '" +
          s.revocation.method + "'");
    }
    s.revocation.bearer_token = ReadKeyOrFile(env, "CPPSVC_SERVICE_TOKEN");
    if (s.revocation.bearer_token.empty()) {
      env.Problem(
          "CPPSVC_SERVICE_TOKEN or CPPSVC_SERVICE_TOKEN_FILE is required with "
          "CPPSVC_REVOCATION_TARGET");
    }
    s.revocation.interval =
        env.Millis("CPPSVC_REVOCATION_INTERVAL_MS", std::chrono::milliseconds(5000));
    s.revocation.max_staleness =
        env.Millis("CPPSVC_REVOCATION_MAX_STALENESS_MS", std::chrono::milliseconds(30000));
    if (s.revocation.max_staleness < s.revocation.interval) {
      env.Problem("CPPSVC_REVOCATION_MAX_STALENESS_MS: must be at least the interval (" +
                  std::to_string(s.revocation.interval.count()) + " ms)");
    }
    const std::string policy = env.Optional("CPPSVC_REVOCATION_STALE_POLICY", "refuse_older");
    if (policy != "refuse_older" && policy != "refuse_all") {
      env.Problem("CPPSVC_REVOCATION_STALE_POLICY: expected refuse_older or refuse_all, got '" +
                  policy + "'");
    }
    s.revocation.refuse_all_when_stale = policy == "refuse_all";
  }
  return s;
}

int Fail(const ServiceEntry& entry, const std::string& what, int code) {
  std::cerr << entry.name << ": " << what << std::endl;
  return code;
}

events::RelayOptions RelayOptionsOf(const ServiceEntry& entry,
                                    const Settings& settings,
                                    std::shared_ptr<observability::Metrics> metrics) {
  events::RelayOptions o;
  o.service = std::string(entry.name);
  o.database_url = settings.database_url;
  o.nats_url = settings.nats_url;
  o.poll = settings.relay_poll;
  o.batch = settings.relay_batch;
  o.retention = settings.retention;
  o.metrics = std::move(metrics);
  return o;
}

std::string DeadLetterJson(const events::DeadLetter& d) {
  return nlohmann::json({{"id", d.id},
                         {"consumer", d.consumer},
                         {"event_id", d.event_id},
                         {"subject", d.subject},
                         {"error", d.error},
                         {"attempts", d.attempts},
                         {"replayed", d.replayed}})
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Replays dead letter `id` through the handler of the consumer that parked it.
Status Replay(db::Pool& pool, const std::vector<SubscriptionRoute>& routes, int64_t id) {
  for (const events::DeadLetter& d : events::ListDeadLetters(pool, "", true, 1000000)) {
    if (d.id != id) continue;
    for (const SubscriptionRoute& r : routes) {
      if (r.durable == d.consumer) return events::ReplayDeadLetter(pool, id, r.handle);
    }
    return Status::FailedPrecondition("no consumer '" + d.consumer + "' in this service");
  }
  return Status::NotFound("no dead letter " + std::to_string(id));
}

// `dead-letters list [consumer]` and `dead-letters replay <id>`.
int DeadLetterCommand(const ServiceEntry& entry,
                      const std::vector<std::string>& args,
                      db::Pool& pool,
                      const std::vector<SubscriptionRoute>& routes) {
  if (args.size() >= 2 && args[1] == "list" && args.size() <= 3) {
    for (const events::DeadLetter& d :
         events::ListDeadLetters(pool, args.size() == 3 ? args[2] : "", true, 1000000)) {
      std::cout << DeadLetterJson(d) << "\n";
    }
    return 0;
  }
  if (args.size() == 3 && args[1] == "replay") {
    char* end = nullptr;
    const long long id = std::strtoll(args[2].c_str(), &end, 10);
    if (end == args[2].c_str() || *end != '\0')
      return Fail(entry, "dead-letters replay: not an id: " + args[2], 2);
    Status s = Replay(pool, routes, id);
    if (!s.ok()) return Fail(entry, "dead-letters replay " + args[2] + ": " + s.ToString(), 1);
    std::cout << "replayed " << id << "\n";
    return 0;
  }
  return Fail(entry, "usage: dead-letters list [consumer] | dead-letters replay <id>", 2);
}

// Who may use the admin routes beyond /healthz, /readyz and /metrics: a
// caller whose token (verified like any call's) holds `role`.
admin::AdminServer::Authorize AdminAuthorization(const ServiceOptions& options, std::string role) {
  return [verifier = options.verifier,
          roles = options.roles,
          role = std::move(role)](std::optional<std::string_view> header, std::string& why) {
    const std::string_view token = header ? BearerToken(*header) : std::string_view();
    if (token.empty()) {
      why = header ? "authorization is not a bearer token" : "missing bearer token";
      return 401;
    }
    auth::Authenticated verified = verifier->Authenticate(token, Clock::now());
    if (!verified.ok()) {
      why = std::move(verified.reason);
      return 401;
    }
    if (!roles->Allows(verified.credentials->caller, {role})) {
      why = "the caller's roles may not use the admin routes (needs '" + role + "')";
      return 403;
    }
    return 0;
  };
}

int Run(const ServiceEntry& entry, const sigset_t& signals, const std::vector<std::string>& args) {
  const std::string command = args.empty() ? "" : args[0];
  if (!command.empty() && command != "relay" && command != "dead-letters") {
    return Fail(entry, "unknown command '" + command + "' (commands: relay, dead-letters)", 2);
  }
  if (!command.empty() &&
      (entry.database.empty() || (!entry.publishes && entry.subscriptions == 0))) {
    return Fail(
        entry,
        "'" + command + "' needs a service with a database that publishes or consumes events",
        2);
  }
  config::Env env;
  Settings settings = Read(entry, env);
  try {
    env.Check();
  } catch (const std::exception& e) {
    return Fail(entry, e.what(), 2);
  }

  ServiceOptions options;
  options.service = std::string(entry.name);
  auto revoked = std::make_shared<auth::RevocationList>();
  try {
    options.verifier = std::make_shared<auth::JwtVerifier>(settings.jwt, revoked);
  } catch (const std::exception& e) {
    return Fail(entry, std::string("configuration: JWT: ") + e.what(), 2);
  }
  options.roles = std::make_shared<auth::RoleGraph>(entry.roles());
  options.metrics = std::make_shared<observability::Metrics>(std::string(entry.name));
  options.workers = settings.workers;
  options.max_queue = settings.max_queue;
  options.worker_spin = settings.worker_spin;
  options.inline_handlers = settings.inline_handlers;
  options.foreign_resources = settings.foreign_resources;
  options.trusted_proxies = settings.trusted_proxies;

  if (!entry.database.empty()) {
    db::PoolOptions pool;
    pool.conninfo = settings.database_url;
    pool.size = settings.pool_size;
    options.db = std::make_shared<db::Pool>(std::move(pool));
    // PostgreSQL may still be starting (containers start together): wait up
    // to the startup timeout for it to answer.
    const auto give_up = std::chrono::steady_clock::now() + settings.db_startup;
    for (auto wait = std::chrono::milliseconds(100); !options.db->Ready();
         wait = std::min(wait * 2, std::chrono::milliseconds(2000))) {
      if (std::chrono::steady_clock::now() + wait >= give_up) {
        return Fail(entry,
                    "database: PostgreSQL did not answer within " +
                        std::to_string(settings.db_startup.count()) + " ms (" +
                        std::string(entry.database) + ")",
                    1);
      }
      std::this_thread::sleep_for(wait);
    }
    // Under an advisory lock, so replicas starting together apply each
    // migration once; a changed migration stops the process.
    if (settings.migrate) {
      try {
        db::MigrationReport report = db::ApplyMigrations(settings.database_url, entry.migrations());
        observability::LogJson({{"level", "info"},
                                {"msg", "migrations"},
                                {"service", std::string(entry.name)},
                                {"database", std::string(entry.database)},
                                {"applied", report.applied},
                                {"already_applied", report.already_applied}});
      } catch (const std::exception& e) {
        return Fail(entry, std::string("migrations: ") + e.what(), 2);
      }
    }
  }
  options.log_requests = settings.log_requests;
  observability::SetRequestLogDelay(settings.request_log_delay);

  if (command == "relay") {
    // The relay alone, e.g. as its own deployment next to the service.
    events::Relay relay(RelayOptionsOf(entry, settings, options.metrics));
    relay.Start();
    int signal = 0;
    sigwait(&signals, &signal);
    relay.Stop();
    return 0;
  }

  std::unique_ptr<ServiceEntry::Instance> instance;
  try {
    instance = entry.create(options);
  } catch (const std::exception& e) {
    // Handlers read their own configuration in their constructors.
    return Fail(entry, std::string("handlers: ") + e.what(), 2);
  }
  if (!instance) {
    return Fail(entry,
                "no handlers registered: add CPPSVC_REGISTER_HANDLERS(" +
                    std::string(entry.base_class) +
                    ", YourClass); next to the class implementing it",
                2);
  }

  std::vector<SubscriptionRoute> routes = instance->subscriptions();
  if (command == "dead-letters") {
    try {
      return DeadLetterCommand(entry, args, *options.db, routes);
    } catch (const std::exception& e) {
      return Fail(entry, std::string("dead-letters: ") + e.what(), 1);
    }
  }

  // Events: the stream of what this service publishes, the relay of its
  // outbox, a consumer per subscription. A stream of another service may not
  // exist yet (its publisher starts later): such consumers keep retrying.
  std::unique_ptr<events::Relay> relay;
  std::vector<std::unique_ptr<events::Consumer>> consumers;
  std::atomic<bool> stopping_consumers{false};
  std::thread consumer_starter;
  if (settings.events) {
    StreamRoute stream = entry.stream();
    if (!stream.subjects.empty()) {
      const auto give_up = std::chrono::steady_clock::now() + settings.db_startup;
      for (auto wait = std::chrono::milliseconds(100);;
           wait = std::min(wait * 2, std::chrono::milliseconds(2000))) {
        try {
          events::EnsureStreams(settings.nats_url, {{std::string(stream.name), stream.subjects}});
          break;
        } catch (const std::exception& e) {
          if (std::chrono::steady_clock::now() + wait >= give_up) {
            return Fail(entry, std::string("JetStream: ") + e.what(), 1);
          }
          std::this_thread::sleep_for(wait);
        }
      }
      if (settings.relay) {
        relay = std::make_unique<events::Relay>(RelayOptionsOf(entry, settings, options.metrics));
        relay->Start();
      }
    }
    for (const SubscriptionRoute& r : routes) {
      events::ConsumerOptions co;
      co.service = std::string(entry.name);
      co.nats_url = settings.nats_url;
      co.pool = options.db;
      co.metrics = options.metrics;
      events::ConsumerSpec spec;
      spec.stream = std::string(r.stream);
      spec.durable = std::string(r.durable);
      spec.subject = std::string(r.subject);
      spec.max_deliver = r.max_deliver;
      spec.ack_wait = r.ack_wait;
      consumers.push_back(std::make_unique<events::Consumer>(co, spec, r.handle));
    }
    consumer_starter = std::thread([&consumers, &stopping_consumers, &entry] {
      std::vector<bool> started(consumers.size(), false);
      for (bool warned = false; !stopping_consumers;) {
        bool all = true;
        for (size_t i = 0; i < consumers.size(); ++i) {
          if (started[i]) continue;
          try {
            consumers[i]->Start();
            started[i] = true;
          } catch (const std::exception& e) {
            all = false;
            if (!warned) {
              observability::LogJson({{"level", "warn"},
                                      {"msg", "consumer not started yet, retrying"},
                                      {"service", std::string(entry.name)},
                                      {"error", e.what()}});
            }
          }
        }
        if (all) return;
        warned = true;
        for (int i = 0; i < 10 && !stopping_consumers; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  auto stop_events = [&] {
    stopping_consumers = true;
    if (consumer_starter.joinable()) consumer_starter.join();
    for (auto& c : consumers) c->Stop();
    if (relay) relay->Stop();
  };

  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(settings.address + ":" + std::to_string(settings.grpc_port),
                           grpc::InsecureServerCredentials(),
                           &bound);
  // Above gRPC's 8 KiB default, so an oversized token is refused by its call
  // alone instead of ending a shared connection (cppsvc/limits.h).
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, limits::kMaxMetadataBytes);
  builder.RegisterService(instance->service());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound == 0) {
    stop_events();
    return Fail(entry,
                "cannot listen on " + settings.address + ":" + std::to_string(settings.grpc_port),
                1);
  }

  std::unique_ptr<NatsServer> nats;
  if (entry.serves_nats) {
    try {
      nats = std::make_unique<NatsServer>(instance->runtime(),
                                          settings.nats_url,
                                          instance->nats_routes());
      nats->Start();
    } catch (const std::exception& e) {
      server->Shutdown();
      stop_events();
      return Fail(entry, std::string("NATS: ") + e.what(), 1);
    }
  }

  // Tokens revoked by the auth service are refused here too, within one
  // polling interval.
  std::unique_ptr<auth::RevocationFeed> revocation;
  if (!settings.revocation.target.empty()) {
    auth::RevocationFeedOptions feed = settings.revocation;
    feed.metrics = options.metrics;
    feed.service = std::string(entry.name);
    revocation = std::make_unique<auth::RevocationFeed>(std::move(feed), revoked);
    revocation->Start();
  }

  std::atomic<bool> stopping{false};
  admin::AdminServer admin(settings.admin_address,
                           settings.admin_port,
                           options.metrics,
                           [&](std::string& why) {
                             if (stopping) {
                               why = "shutting down";
                               return false;
                             }
                             // Not before the first revocation list: until
                             // then a revoked token would pass here.
                             if (revocation && revocation->successes() == 0) {
                               why = "revocation list not fetched yet";
                               return false;
                             }
                             if (nats && !nats->connected()) {
                               why = "NATS not connected";
                               return false;
                             }
                             if (options.db && !options.db->Ready()) {
                               why = "database not reachable";
                               return false;
                             }
                             return true;
                           });
  admin.RequireAuthorization(AdminAuthorization(options, settings.admin_role));
  if (options.db && settings.events) {
    admin.Route(
        "/dead-letters",
        [&](std::string_view method, std::string_view path, const std::string&) {
          if (method == "GET" && (path == "/dead-letters" || path == "/dead-letters/")) {
            nlohmann::json list = nlohmann::json::array();
            for (const events::DeadLetter& d :
                 events::ListDeadLetters(*options.db, "", false, 1000)) {
              list.push_back(nlohmann::json::parse(DeadLetterJson(d)));
            }
            return admin::AdminServer::Reply{200, list.dump()};
          }
          constexpr std::string_view kSuffix = "/replay";
          std::string_view rest =
              path.substr(std::string_view("/dead-letters/").size() <= path.size()
                              ? std::string_view("/dead-letters/").size()
                              : path.size());
          if (method == "POST" && rest.size() > kSuffix.size() &&
              rest.substr(rest.size() - kSuffix.size()) == kSuffix) {
            const std::string id(rest.substr(0, rest.size() - kSuffix.size()));
            char* end = nullptr;
            const long long n = std::strtoll(id.c_str(), &end, 10);
            if (end == id.c_str() || *end != '\0')
              return admin::AdminServer::Reply{400, R"({"error":"not an id"})"};
            Status s = Replay(*options.db, routes, n);
            const int http = s.ok()                                        ? 200
                             : s.code() == StatusCode::kNotFound           ? 404
                             : s.code() == StatusCode::kFailedPrecondition ? 409
                                                                           : 500;
            return admin::AdminServer::Reply{
                http,
                nlohmann::json({{"code", StatusCodeName(s.code())}, {"message", s.message()}})
                    .dump()};
          }
          return admin::AdminServer::Reply{404, R"({"error":"not found"})"};
        });
  }
  try {
    admin.Start();
  } catch (const std::exception& e) {
    server->Shutdown();
    stop_events();
    return Fail(entry, std::string("admin endpoint: ") + e.what(), 1);
  }

  observability::LogJson({{"level", "info"},
                          {"msg", "serving"},
                          {"service", std::string(entry.name)},
                          {"grpc_port", bound},
                          {"admin_port", admin.port()},
                          {"nats", entry.serves_nats}});

  int signal = 0;
  sigwait(&signals, &signal);
  stopping = true;
  observability::LogJson({{"level", "info"},
                          {"msg", "draining"},
                          {"service", std::string(entry.name)},
                          {"signal", signal}});
  if (settings.shutdown_delay.count() > 0) std::this_thread::sleep_for(settings.shutdown_delay);

  auto deadline = std::chrono::system_clock::now() + settings.drain;
  // Stops taking calls, waits for running ones until the deadline, then
  // cancels what is left.
  server->Shutdown(deadline);
  bool drained =
      instance->runtime().Drain(std::chrono::steady_clock::now() +
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    deadline - std::chrono::system_clock::now()));
  if (nats) nats->Stop();
  stop_events();
  revocation.reset();
  admin.Stop();
  observability::LogJson({{"level", "info"},
                          {"msg", "stopped"},
                          {"service", std::string(entry.name)},
                          {"drained", drained}});
  return 0;
}

}  // namespace

std::vector<std::string> CheckServiceEnvironment(const ServiceEntry& entry) {
  config::Env env;
  Read(entry, env);
  return env.problems();
}

void DisableMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

int RunServices(int argc, char** argv, const std::vector<ServiceEntry>& services) {
  DisableMutexDeadlockDetection();
  // Signals are taken synchronously by the main thread; block them before
  // any other thread starts so none of those receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string wanted = argc > 1 ? argv[1] : "";
  std::string names;
  for (const ServiceEntry& e : services) {
    names += (names.empty() ? "" : ", ") + std::string(e.name);
    if (e.name == wanted) return Run(e, signals, std::vector<std::string>(argv + 2, argv + argc));
    if (services.size() == 1 && (wanted.empty() || wanted == "relay" || wanted == "dead-letters")) {
      return Run(e, signals, std::vector<std::string>(argv + 1, argv + argc));
    }
  }
  std::cerr << (argc > 0 ? argv[0] : "service") << ": "
            << (wanted.empty() ? "name the service to run" : "unknown service '" + wanted + "'")
            << "; this binary serves: " << names << std::endl;
  return 2;
}

}  // namespace cppsvc::impl
