#include "service_process.h"

#include <chrono>
#include <iostream>
#include <thread>

#include "cppsvc/config/env.h"
#include "cppsvc/db/migrations.h"
#include "cppsvc/db/pool.h"
#include "cppsvc/limits.h"
#include "cppsvc/observability/log.h"
#include "dead_letter_admin.h"

namespace cppsvc::impl {
namespace {

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

}  // namespace

int Fail(std::string_view service, const std::string& what, int code) {
  std::cerr << service << ": " << what << std::endl;
  return code;
}

ServiceProcess::ServiceProcess(const ServiceEntry& entry, const sigset_t& signals)
    : entry_(entry), spec_(entry.spec), signals_(signals) {}

ServiceProcess::~ServiceProcess() = default;

int ServiceProcess::Run(const std::vector<std::string>& args) {
  const std::string command = args.empty() ? "" : args[0];
  if (!command.empty() && command != "relay" && command != "dead-letters" && command != "sagas") {
    return Fail(spec_.name,
                "unknown command '" + command + "' (commands: relay, dead-letters, sagas)",
                2);
  }
  if (!command.empty() && !HasEvents(spec_)) {
    return Fail(
        spec_.name,
        "'" + command + "' needs a service with a database that publishes or consumes events",
        2);
  }
  if (Step failed = Configure()) return Fail(spec_.name, failed->what, failed->code);
  if (Step failed = OpenDatabase()) return Fail(spec_.name, failed->what, failed->code);
  options_.log_requests = settings_.log_requests;
  observability::SetRequestLogDelay(settings_.request_log_delay);
  if (command == "relay") return RunRelayAlone();

  if (Step failed = CreateHandlers()) return Fail(spec_.name, failed->what, failed->code);
  routes_ = instance_->subscriptions();
  sagas_ = instance_->sagas();
  if (command == "sagas") return RunSagaCommand(args);
  if (command == "dead-letters") {
    try {
      return DeadLetterCommand(spec_.name, args, *options_.db, routes_);
    } catch (const std::exception& e) {
      return Fail(spec_.name, std::string("dead-letters: ") + e.what(), 1);
    }
  }
  if (Step failed = StartEvents()) return Fail(spec_.name, failed->what, failed->code);
  if (Step failed = StartServers()) return Stop(*failed);
  ServeUntilSignal();
  return 0;
}

// Settings from the environment, then what every call needs: the token
// verifier, the roles, the metrics and the bulkhead.
ServiceProcess::Step ServiceProcess::Configure() {
  config::Env env;
  settings_ = ReadSettings(spec_, env);
  try {
    env.Check();
  } catch (const std::exception& e) {
    return Failure{e.what(), 2};
  }
  options_.service = std::string(spec_.name);
  revoked_ = std::make_shared<auth::RevocationList>();
  try {
    options_.verifier = std::make_shared<auth::JwtVerifier>(settings_.jwt, revoked_);
  } catch (const std::exception& e) {
    return Failure{std::string("configuration: JWT: ") + e.what(), 2};
  }
  options_.roles = std::make_shared<auth::RoleGraph>(entry_.roles());
  options_.metrics = std::make_shared<observability::Metrics>(std::string(spec_.name));
  options_.workers = settings_.workers;
  options_.max_queue = settings_.max_queue;
  options_.worker_spin = settings_.worker_spin;
  options_.inline_handlers = settings_.inline_handlers;
  options_.foreign_resources = settings_.foreign_resources;
  options_.trusted_proxies = settings_.trusted_proxies;
  return std::nullopt;
}

// The pool, once PostgreSQL answers: it may still be starting (containers
// start together), so it is given up to the startup timeout.
ServiceProcess::Step ServiceProcess::OpenDatabase() {
  if (spec_.database.empty()) return std::nullopt;
  db::PoolOptions pool;
  pool.conninfo = settings_.database_url;
  pool.size = settings_.pool_size;
  options_.db = std::make_shared<db::Pool>(std::move(pool));
  const auto give_up = std::chrono::steady_clock::now() + settings_.db_startup;
  for (auto wait = std::chrono::milliseconds(100); !options_.db->Ready();
       wait = std::min(wait * 2, std::chrono::milliseconds(2000))) {
    if (std::chrono::steady_clock::now() + wait >= give_up) {
      return Failure{"database: PostgreSQL did not answer within " +
                         std::to_string(settings_.db_startup.count()) + " ms (" +
                         std::string(spec_.database) + ")",
                     1};
    }
    std::this_thread::sleep_for(wait);
  }
  return settings_.migrate ? Migrate() : std::nullopt;
}

// Under an advisory lock, so replicas starting together apply each migration
// once; a changed migration stops the process.
ServiceProcess::Step ServiceProcess::Migrate() {
  try {
    db::MigrationReport report = db::ApplyMigrations(settings_.database_url, entry_.migrations());
    observability::LogJson({{"level", "info"},
                            {"msg", "migrations"},
                            {"service", std::string(spec_.name)},
                            {"database", std::string(spec_.database)},
                            {"applied", report.applied},
                            {"already_applied", report.already_applied}});
  } catch (const std::exception& e) {
    return Failure{std::string("migrations: ") + e.what(), 2};
  }
  return std::nullopt;
}

// The registered handler class and the generated server over it.
ServiceProcess::Step ServiceProcess::CreateHandlers() {
  try {
    instance_ = entry_.create(options_);
  } catch (const std::exception& e) {
    // Handlers read their own configuration in their constructors.
    return Failure{std::string("handlers: ") + e.what(), 2};
  }
  if (!instance_) {
    return Failure{"no handlers registered: add CPPSVC_REGISTER_HANDLERS(" +
                       std::string(spec_.base_class) +
                       ", YourClass); next to the class implementing it",
                   2};
  }
  return std::nullopt;
}

int ServiceProcess::RunSagaCommand(const std::vector<std::string>& args) {
  if (sagas_.empty()) return Fail(spec_.name, "'sagas': this service owns no saga", 2);
  try {
    return SagaCommand(spec_.name, args, *options_.db);
  } catch (const std::exception& e) {
    return Fail(spec_.name, std::string("sagas: ") + e.what(), 1);
  }
}

ServiceProcess::Step ServiceProcess::StartEvents() {
  if (!settings_.events) return std::nullopt;
  events_ = std::make_unique<ServiceEvents>(spec_, settings_, options_);
  std::string error = events_->Start(entry_.stream(), routes_);
  if (!error.empty()) return Failure{std::move(error), 1};
  if (!sagas_.empty() && options_.db) {
    auto metrics = std::make_shared<sagas::SagaMetrics>(options_.metrics);
    for (sagas::Owner* owner : sagas_) owner->set_metrics(metrics);
    sweeper_ = std::make_unique<SagaSweeper>(sagas_, *options_.db, settings_.saga_sweep);
  }
  return std::nullopt;
}

// gRPC, NATS request-reply, the revocation feed and the admin endpoint.
ServiceProcess::Step ServiceProcess::StartServers() {
  if (Step failed = StartGrpc()) return failed;
  if (Step failed = StartNats()) return failed;
  StartRevocationFeed();
  if (Step failed = StartAdmin()) return failed;
  observability::LogJson({{"level", "info"},
                          {"msg", "serving"},
                          {"service", std::string(spec_.name)},
                          {"grpc_port", grpc_port_},
                          {"admin_port", admin_->port()},
                          {"nats", spec_.serves_nats}});
  return std::nullopt;
}

ServiceProcess::Step ServiceProcess::StartGrpc() {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(settings_.address + ":" + std::to_string(settings_.grpc_port),
                           grpc::InsecureServerCredentials(),
                           &grpc_port_);
  // Above gRPC's 8 KiB default, so an oversized token is refused by its call
  // alone instead of ending a shared connection (cppsvc/limits.h).
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, limits::kMaxMetadataBytes);
  builder.RegisterService(instance_->service());
  grpc_ = builder.BuildAndStart();
  if (!grpc_ || grpc_port_ == 0) {
    grpc_.reset();
    return Failure{
        "cannot listen on " + settings_.address + ":" + std::to_string(settings_.grpc_port),
        1};
  }
  return std::nullopt;
}

ServiceProcess::Step ServiceProcess::StartNats() {
  if (!spec_.serves_nats) return std::nullopt;
  try {
    nats_ = std::make_unique<NatsServer>(instance_->runtime(),
                                         settings_.nats_url,
                                         instance_->nats_routes());
    nats_->Start();
  } catch (const std::exception& e) {
    return Failure{std::string("NATS: ") + e.what(), 1};
  }
  return std::nullopt;
}

// Tokens revoked by the auth service are refused here too, within one
// polling interval.
void ServiceProcess::StartRevocationFeed() {
  if (settings_.revocation.target.empty()) return;
  auth::RevocationFeedOptions feed = settings_.revocation;
  feed.metrics = options_.metrics;
  feed.service = std::string(spec_.name);
  revocation_ = std::make_unique<auth::RevocationFeed>(std::move(feed), revoked_);
  revocation_->Start();
}

ServiceProcess::Step ServiceProcess::StartAdmin() {
  admin_ = std::make_unique<admin::AdminServer>(settings_.admin_address,
                                                settings_.admin_port,
                                                options_.metrics,
                                                [this](std::string& why) { return Ready(why); });
  admin_->RequireAuthorization(AdminAuthorization(options_, settings_.admin_role));
  if (options_.db && !sagas_.empty()) {
    admin_->Route("/sagas",
                  [this](std::string_view method, std::string_view path, const std::string&) {
                    return SagaRoute(*options_.db, method, path);
                  });
  }
  if (options_.db && settings_.events) {
    admin_->Route("/dead-letters",
                  [this](std::string_view method, std::string_view path, const std::string&) {
                    return DeadLetterRoute(*options_.db, routes_, method, path);
                  });
  }
  try {
    admin_->Start();
  } catch (const std::exception& e) {
    return Failure{std::string("admin endpoint: ") + e.what(), 1};
  }
  return std::nullopt;
}

// /readyz.
bool ServiceProcess::Ready(std::string& why) const {
  if (stopping_) {
    why = "shutting down";
    return false;
  }
  // Not before the first revocation list: until then a revoked token would
  // pass here.
  if (revocation_ && revocation_->successes() == 0) {
    why = "revocation list not fetched yet";
    return false;
  }
  if (nats_ && !nats_->connected()) {
    why = "NATS not connected";
    return false;
  }
  if (options_.db && !options_.db->Ready()) {
    why = "database not reachable";
    return false;
  }
  return true;
}

// Until SIGTERM or SIGINT; then /readyz turns 503 (for the shutdown delay,
// so load balancers stop sending), calls drain until the drain timeout, and
// everything stops in reverse order.
void ServiceProcess::ServeUntilSignal() {
  int signal = 0;
  sigwait(&signals_, &signal);
  stopping_ = true;
  observability::LogJson({{"level", "info"},
                          {"msg", "draining"},
                          {"service", std::string(spec_.name)},
                          {"signal", signal}});
  if (settings_.shutdown_delay.count() > 0) std::this_thread::sleep_for(settings_.shutdown_delay);

  auto deadline = std::chrono::system_clock::now() + settings_.drain;
  // Stops taking calls, waits for running ones until the deadline, then
  // cancels what is left.
  grpc_->Shutdown(deadline);
  bool drained =
      instance_->runtime().Drain(std::chrono::steady_clock::now() +
                                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     deadline - std::chrono::system_clock::now()));
  if (nats_) nats_->Stop();
  if (sweeper_) sweeper_->Stop();
  if (events_) events_->Stop();
  revocation_.reset();
  admin_->Stop();
  observability::LogJson({{"level", "info"},
                          {"msg", "stopped"},
                          {"service", std::string(spec_.name)},
                          {"drained", drained}});
}

// The relay alone, e.g. as its own deployment next to the service.
int ServiceProcess::RunRelayAlone() {
  events::Relay relay(RelayOptionsOf(spec_, settings_, options_.metrics));
  relay.Start();
  int signal = 0;
  sigwait(&signals_, &signal);
  relay.Stop();
  return 0;
}

// A server step failed: what started stops before the process exits.
int ServiceProcess::Stop(const Failure& failure) {
  if (grpc_) grpc_->Shutdown();
  if (sweeper_) sweeper_->Stop();
  if (events_) events_->Stop();
  return Fail(spec_.name, failure.what, failure.code);
}

}  // namespace cppsvc::impl
