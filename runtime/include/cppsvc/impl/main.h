// For generated main()s only: runs one service process.
//
// Configuration comes only from the environment: the variables are the rows
// of cppsvc/config/service_variables.h (PREFIX_ = the service's short name in
// upper case, e.g. ORDERS_), and `<binary> --help` lists those a service
// reads, with their defaults.
// A missing or malformed variable stops the process at once with one message
// listing all of them (exit code 2).
#pragma once

#include <csignal>
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

// Blocks SIGTERM and SIGINT in the calling thread (and the threads it starts
// later), so that the main thread takes them with sigwait on the set it
// returns. Call before any other thread starts.
sigset_t BlockStopSignals();

// Runs the service named by argv[1] (or the only one) until SIGTERM/SIGINT:
// /readyz turns 503, in-flight calls drain within the drain timeout, exit 0.
int RunServices(int argc, char** argv, const std::vector<ServiceEntry>& services);

// The configuration step alone, for tests: returns the problems found.
std::vector<std::string> CheckServiceEnvironment(const ServiceEntry& entry);

}  // namespace cppsvc::impl
