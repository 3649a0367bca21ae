// For generated main()s only: runs one service process.
//
// Configuration comes only from the environment (PREFIX = the service's
// short name in upper case, e.g. ORDERS):
// clang-format off
//   PREFIX_GRPC_PORT, PREFIX_ADMIN_PORT    defaults from the contract
//   PREFIX_LISTEN_ADDRESS                  default 0.0.0.0
//   PREFIX_WORKERS, PREFIX_MAX_QUEUE       bulkhead; defaults from the contract or
//                                          cores x 2 / workers x 8
//   PREFIX_WORKER_SPIN_MICROS              how long an idle worker stays awake for
//                                          the next call; 0..10000, default 50
//   PREFIX_INLINE_HANDLERS                 run gRPC handlers on gRPC's thread when a
//                                          bulkhead slot is free (only for handlers
//                                          that never block); default from the
//                                          contract (inline_handlers), else false
//   PREFIX_FOREIGN_RESOURCES               not_found or permission_denied: the answer
//                                          to a call on another user's resource;
//                                          default from the contract
//                                          (foreign_resources), else not_found
//   PREFIX_DRAIN_TIMEOUT_MS                default 10000
//   PREFIX_SHUTDOWN_DELAY_MS               /readyz is 503 this long before draining;
//                                          default 0
//   CPPSVC_JWT_ALGORITHM                   HS256, RS256 or ES256 (required)
//   CPPSVC_JWT_KEY or CPPSVC_JWT_KEY_FILE  HS256 secret, or PEM public key (one is
//                                          required)
//   CPPSVC_JWT_ISSUER, CPPSVC_JWT_AUDIENCE (required)
//   CPPSVC_JWT_LEEWAY_SECONDS              0..60, default 30
//   CPPSVC_LOG_REQUESTS                    default true
//   CPPSVC_REQUEST_LOG_DELAY_MS            how long a request line may wait to be
//                                          written with others; 0..1000, default 10
//                                          (0: each at once)
//   CPPSVC_REVOCATION_TARGET               host:port of the service listing revoked
//                                          tokens; unset = no polling
//   CPPSVC_REVOCATION_METHOD               its RPC, e.g.
//                                          /commerce.auth.v1.AuthService/ListRevokedTokens
//   CPPSVC_SERVICE_TOKEN[_FILE]            this service's bearer token for that RPC
//                                          (required with the target)
//   CPPSVC_REVOCATION_INTERVAL_MS          default 5000
//   NATS_URL                               required when the service serves NATS
//   PREFIX_DATABASE_URL                    PostgreSQL (libpq URL), required when the
//                                          service has a database
//   PREFIX_DB_POOL_SIZE                    default: the number of workers
//   PREFIX_MIGRATE                         apply pending migrations at start (advisory
//                                          lock); default true
//   PREFIX_DB_STARTUP_TIMEOUT_MS           how long to wait for PostgreSQL at start;
//                                          default 30000
// clang-format on
// A missing or malformed variable stops the process at once with one message
// listing all of them (exit code 2).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "cppsvc/db/migrations.h"
#include "cppsvc/impl/nats_server.h"
#include "cppsvc/impl/service_runtime.h"
#include "cppsvc/impl/specs.h"
#include "cppsvc/impl/subscriptions.h"
#include "cppsvc/register.h"
#include "cppsvc/sagas/owner.h"

namespace cppsvc::impl {

// What RunServices needs from a generated <Service>Server, type-erased.
struct ServiceEntry {
  ServiceSpec spec;  // the contract's settings (Server::kSpec)
  const std::vector<db::Migration>& (*migrations)() = nullptr;
  StreamRoute (*stream)() = nullptr;  // the events it publishes
  std::vector<auth::RoleSpec> (*roles)() = nullptr;
  // Builds the handlers (from the registry) and the server; null when no
  // handler class is registered.
  struct Instance {
    virtual ~Instance() = default;
    virtual grpc::Service* service() = 0;
    virtual ServiceRuntime& runtime() = 0;
    virtual std::vector<NatsRoute> nats_routes() = 0;
    virtual std::vector<SubscriptionRoute> subscriptions() = 0;
    // The sagas the service owns (their hooks are the handlers').
    virtual std::vector<sagas::Owner*> sagas() = 0;
  };
  std::unique_ptr<Instance> (*create)(ServiceOptions options) = nullptr;
};

template <typename Server>
ServiceEntry Entry() {
  struct Holder final : ServiceEntry::Instance {
    std::unique_ptr<typename Server::Handlers> handlers;
    std::unique_ptr<Server> server;
    grpc::Service* service() override { return server.get(); }
    ServiceRuntime& runtime() override { return server->runtime(); }
    std::vector<NatsRoute> nats_routes() override { return server->NatsRoutes(); }
    std::vector<SubscriptionRoute> subscriptions() override { return server->Subscriptions(); }
    std::vector<sagas::Owner*> sagas() override {
      if constexpr (requires { server->Sagas(); }) {
        return server->Sagas();
      } else {
        return {};
      }
    }
  };
  ServiceEntry e;
  e.spec = Server::kSpec;
  e.migrations = &Server::Migrations;
  e.stream = &Server::Stream;
  e.roles = &Server::Roles;
  e.create = [](ServiceOptions options) -> std::unique_ptr<ServiceEntry::Instance> {
    auto& factory = HandlerRegistry<typename Server::Handlers>::Factory();
    if (!factory) return nullptr;
    auto holder = std::make_unique<Holder>();
    holder->handlers = factory();
    holder->server = std::make_unique<Server>(*holder->handlers, std::move(options));
    return holder;
  };
  return e;
}

// Abseil's Mutex, under gRPC's own locks, keeps a graph of the order in
// which locks are taken and aborts the process on a cycle when Abseil is
// built without NDEBUG, as Debian's libabsl is. That is a debugging aid: it
// costs every lock taken while another is held, and every Mutex destroyed
// (about a tenth of a small RPC's CPU time in bench/server_bench.sh), and
// it may abort a service over an order that cannot deadlock. RunServices
// turns it off before any thread starts; other binaries built on the
// runtime (benchmarks, tools) may too.
void DisableMutexDeadlockDetection();

// Runs the service named by argv[1] (or the only one) until SIGTERM/SIGINT:
// /readyz turns 503, in-flight calls drain within the drain timeout, exit 0.
int RunServices(int argc, char** argv, const std::vector<ServiceEntry>& services);

// The configuration step alone, for tests: returns the problems found.
std::vector<std::string> CheckServiceEnvironment(const ServiceEntry& entry);

}  // namespace cppsvc::impl
