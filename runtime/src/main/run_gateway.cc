#include <csignal>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cppsvc/admin/admin_server.h"
#include "cppsvc/auth/revocation_feed.h"
#include "cppsvc/impl/gateway.h"
#include "cppsvc/impl/main.h"
#include "cppsvc/observability/log.h"
#include "gateway_settings.h"

namespace cppsvc::impl {
namespace {

void PrintGatewayUsage(const std::string& binary, const GatewaySpec& spec) {
  std::cout << "usage: " << binary << "\n\n"
            << "Serves the HTTP/JSON routes of " << spec.backends.size()
            << " services until SIGTERM or SIGINT. It reads these\n"
            << "environment variables (a missing or malformed one stops it at start):\n";
  for (const std::string& name : GatewayVariables(spec)) std::cout << "  " << name << "\n";
}

// The process's parts, in the order they start (and stop in reverse).
struct GatewayProcess {
  GatewaySettings settings;
  std::shared_ptr<observability::Metrics> metrics;
  std::shared_ptr<auth::RevocationList> revoked = std::make_shared<auth::RevocationList>();
  std::unique_ptr<auth::RevocationFeed> feed;
  std::unique_ptr<gateway::Gateway> gateway;
  std::unique_ptr<gateway::HttpServer> http;
  std::unique_ptr<admin::AdminServer> admin;

  void Build(const GatewaySpec& spec) {
    metrics = std::make_shared<observability::Metrics>(std::string(spec.name));
    settings.gateway.openapi = std::string(spec.openapi);
    auto verifier = std::make_shared<const auth::JwtVerifier>(settings.jwt, revoked);
    gateway = std::make_unique<gateway::Gateway>(settings.gateway,
                                                 verifier,
                                                 auth::RoleGraph(spec.roles),
                                                 metrics);
    for (size_t i = 0; i < spec.backends.size(); ++i) {
      ClientOptions options;
      options.addresses = settings.backend_addresses[i];
      options.metrics = metrics;
      spec.backends[i].add_routes(*gateway, std::move(options));
    }
  }

  bool Ready(std::string& why) const {
    if (feed && feed->successes() == 0) {
      why = "revocation list not fetched yet";
      return false;
    }
    return gateway->BackendsReady(why);
  }

  void Start(const GatewaySpec& spec) {
    if (!settings.revocation.target.empty()) {
      auth::RevocationFeedOptions options = settings.revocation;
      options.metrics = metrics;
      options.service = std::string(spec.name);
      feed = std::make_unique<auth::RevocationFeed>(std::move(options), revoked);
      feed->Start();
    }
    http = std::make_unique<gateway::HttpServer>(
        settings.http,
        [this](gateway::HttpRequest r, gateway::HttpServer::Responder respond) {
          gateway->Handle(std::move(r), std::move(respond));
        });
    http->Start();
    admin = std::make_unique<admin::AdminServer>(settings.admin_address,
                                                 settings.admin_port,
                                                 metrics,
                                                 [this](std::string& why) { return Ready(why); });
    admin->Route("/routes", [this](std::string_view, std::string_view, const std::string&) {
      return admin::AdminServer::Reply{200, nlohmann::json(gateway->RouteNames()).dump()};
    });
    admin->Start();
  }
};

}  // namespace

int RunGateway(int argc, char** argv, const GatewaySpec& spec) {
  DisableMutexDeadlockDetection();
  sigset_t signals = BlockStopSignals();
  const std::string arg = argc > 1 ? argv[1] : "";
  if (arg == "--help" || arg == "-h") {
    PrintGatewayUsage(argc > 0 ? argv[0] : "gateway", spec);
    return 0;
  }
  GatewayProcess process;
  try {
    config::Env env;
    process.settings = ReadGatewaySettings(spec, env);
    env.Check();
    process.Build(spec);
  } catch (const std::exception& e) {
    std::cerr << spec.name << ": " << e.what() << "\n";
    return 2;
  }
  try {
    process.Start(spec);
  } catch (const std::exception& e) {
    std::cerr << spec.name << ": " << e.what() << "\n";
    return 1;
  }
  observability::LogJson({{"level", "info"},
                          {"msg", "gateway started"},
                          {"service", std::string(spec.name)},
                          {"http_port", process.http->port()},
                          {"admin_port", process.admin->port()},
                          {"routes", process.gateway->RouteNames().size()}});
  int signal = 0;
  sigwait(&signals, &signal);
  observability::LogJson({{"level", "info"}, {"msg", "gateway stopping"}, {"signal", signal}});
  process.admin->Stop();
  process.http->Stop();
  return 0;
}

}  // namespace cppsvc::impl
