// Serves a generated <Service>Server on 127.0.0.1 (ephemeral port) inside
// the test process, with the TestTokens verifier and the system's roles.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "cppsvc/auth/rbac.h"
#include "cppsvc/impl/server.h"
#include "cppsvc/testing/tokens.h"

namespace cppsvc::testing {

// Starts `service` (not owned) on 127.0.0.1:0; stops on destruction.
class GrpcTestServer {
 public:
  explicit GrpcTestServer(grpc::Service& service);
  ~GrpcTestServer();
  int port() const { return port_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  int port_ = 0;
};

// ServiceOptions for a server under test: the tokens' verifier, these roles,
// small bulkhead, request logs off.
impl::ServiceOptions TestServiceOptions(const std::string& service,
                                        const TestTokens& tokens,
                                        const std::vector<auth::RoleSpec>& roles);

template <typename Server>
class InProcessServer {
 public:
  // `db`: calls run in a transaction on it, idempotency keys included;
  // without one, handlers run as in a service that has no database.
  InProcessServer(typename Server::Handlers& handlers,
                  const TestTokens& tokens,
                  std::shared_ptr<db::Pool> db = nullptr)
      : server_(handlers, Options(tokens, std::move(db))), grpc_(server_) {}

  std::shared_ptr<grpc::Channel> channel() const { return grpc_.channel(); }
  Server& server() { return server_; }

 private:
  static impl::ServiceOptions Options(const TestTokens& tokens, std::shared_ptr<db::Pool> db) {
    impl::ServiceOptions options =
        TestServiceOptions(std::string(Server::kSpec.name), tokens, Server::Roles());
    options.db = std::move(db);
    // As the contract says, so the tests expect what a deployment answers.
    options.foreign_resources =
        impl::ForeignResourcesOf<typename Server::Handlers>(Server::kSpec.foreign_resources);
    return options;
  }

  Server server_;
  GrpcTestServer grpc_;
};

// Calls with `token` as bearer token (none when empty) and a 10 s deadline.
void PrepareContext(grpc::ClientContext& context, const std::string& token);

}  // namespace cppsvc::testing
