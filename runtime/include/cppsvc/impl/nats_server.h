// For generated servers only: the second transport. Each RPC is served on
// the subject "cppsvc.<service>.<Method>" with the service's queue group
// (replicas share the load), through the same ServiceRuntime pipeline as
// gRPC. Payloads are the protobuf messages; metadata travels in headers:
//   request:  authorization, traceparent, cppsvc-timeout-ms
//   reply:    cppsvc-status (numeric code), cppsvc-message
// The server's connection uses SendAsap, so replies are flushed at once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/impl/service_runtime.h"

namespace cppsvc::impl {

std::string NatsSubject(std::string_view service, std::string_view method);

struct NatsRoute {
  const MethodSpec* method = nullptr;
  std::function<std::unique_ptr<Message>()> new_request;
  std::function<std::unique_ptr<Message>()> new_response;
  std::function<Status(CallContext&, const Message&, Message&)> invoke;
};

template <typename Handlers, typename Request, typename Response>
NatsRoute MakeNatsRoute(const MethodSpec& method,
                        Handlers& handlers,
                        Status (Handlers::*rpc)(CallContext&, const Request&, Response&)) {
  NatsRoute route;
  route.method = &method;
  route.new_request = [] { return std::make_unique<Request>(); };
  route.new_response = [] { return std::make_unique<Response>(); };
  route.invoke = [&handlers, rpc](CallContext& ctx, const Message& request, Message& response) {
    return (handlers.*
            rpc)(ctx, static_cast<const Request&>(request), static_cast<Response&>(response));
  };
  return route;
}

template <typename Handlers, typename Request, typename Response>
void AddNatsRoute(std::vector<NatsRoute>& routes,
                  const MethodSpec& method,
                  Handlers& handlers,
                  Status (Handlers::*rpc)(CallContext&, const Request&, Response&)) {
  routes.push_back(MakeNatsRoute(method, handlers, rpc));
}

class NatsServer {
 public:
  // Queue group: the runtime's service name.
  NatsServer(ServiceRuntime& runtime, std::string url, std::vector<NatsRoute> routes);
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // Connects and subscribes every route; throws std::runtime_error on failure.
  void Start();
  // Unsubscribes and closes after in-flight replies are sent.
  void Stop();
  bool connected() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cppsvc::impl
