// GrpcTestServer, TestServiceOptions and PrepareContext for contract tests.

#include "cppsvc/testing/in_process_server.h"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "cppsvc/observability/metrics.h"

namespace cppsvc::testing {

GrpcTestServer::GrpcTestServer(grpc::Service& service) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(&service);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ <= 0) {
    server_.reset();
    throw std::runtime_error("cppsvc testing: could not start a gRPC server on 127.0.0.1");
  }
  channel_ =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
}

GrpcTestServer::~GrpcTestServer() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

impl::ServiceOptions TestServiceOptions(const std::string& service,
                                        const TestTokens& tokens,
                                        const std::vector<auth::RoleSpec>& roles) {
  impl::ServiceOptions options;
  options.service = service;
  options.verifier = tokens.verifier();
  options.roles = std::make_shared<auth::RoleGraph>(roles);
  options.metrics = std::make_shared<observability::Metrics>(service);
  options.workers = 4;
  options.max_queue = 64;
  options.log_requests = false;
  options.enforce_rate_limits = false;
  return options;
}

void PrepareContext(grpc::ClientContext& context, const std::string& token) {
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

}  // namespace cppsvc::testing
