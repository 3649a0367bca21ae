// One service process, step by step: configuration, database, handlers,
// events, servers, then shutdown on SIGTERM or SIGINT. Each step that fails
// stops the process with a message naming what failed.
#pragma once

#include <atomic>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "cppsvc/admin/admin_server.h"
#include "cppsvc/auth/revocation_feed.h"
#include "cppsvc/impl/main.h"
#include "saga_admin.h"
#include "service_events.h"
#include "service_settings.h"

namespace cppsvc::impl {

// Prints "<service>: <what>" to stderr and returns `code`, the exit code.
int Fail(std::string_view service, const std::string& what, int code);

class ServiceProcess {
 public:
  // `signals`: blocked in every thread, taken here with sigwait.
  ServiceProcess(const ServiceEntry& entry, const sigset_t& signals);
  ~ServiceProcess();

  // Runs the service, or `args[0]` (relay, dead-letters) on its behalf;
  // returns the exit code.
  int Run(const std::vector<std::string>& args);

 private:
  // What stopped a step: the message and the exit code.
  struct Failure {
    std::string what;
    int code = 1;
  };
  using Step = std::optional<Failure>;

  Step Configure();
  Step OpenDatabase();
  Step Migrate();
  Step CreateHandlers();
  Step StartEvents();
  Step StartServers();
  Step StartGrpc();
  Step StartNats();
  void StartRevocationFeed();
  Step StartAdmin();
  bool Ready(std::string& why) const;
  void ServeUntilSignal();
  int RunRelayAlone();
  int RunSagaCommand(const std::vector<std::string>& args);
  int Stop(const Failure& failure);

  const ServiceEntry& entry_;
  const ServiceSpec& spec_;
  const sigset_t& signals_;
  // Destroyed in reverse: the servers first, the handlers and the pool last.
  Settings settings_;
  ServiceOptions options_;
  std::shared_ptr<auth::RevocationList> revoked_;
  std::unique_ptr<ServiceEntry::Instance> instance_;
  std::vector<SubscriptionRoute> routes_;
  std::unique_ptr<ServiceEvents> events_;
  std::vector<sagas::Owner*> sagas_;
  std::unique_ptr<SagaSweeper> sweeper_;
  std::unique_ptr<grpc::Server> grpc_;
  int grpc_port_ = 0;
  std::unique_ptr<NatsServer> nats_;
  std::unique_ptr<auth::RevocationFeed> revocation_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<admin::AdminServer> admin_;
};

}  // namespace cppsvc::impl
