// For generated clients only: replica selection, circuit breakers, retries,
// deadlines and metadata, shared by both transports.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "cppsvc/client.h"
#include "cppsvc/defaults.h"
#include "cppsvc/impl/grpc_server.h"
#include "cppsvc/status.h"

namespace cppsvc::impl {

struct ClientMethodSpec {
  std::string_view name;          // "GetOrder"
  std::string_view full_name;     // "commerce.orders.v1.OrdersService/GetOrder"
  std::string_view nats_subject;  // "cppsvc.orders.GetOrder"
  std::chrono::milliseconds timeout = defaults::kRpcTimeout;
  bool idempotent = false;
  resilience::RetryConfig retry;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// One attempt against replica `target`, with these headers, until `deadline`.
using Attempt =
    std::function<Status(size_t target, const Headers& headers, Clock::time_point deadline)>;

// What an asynchronous call calls once, on any thread, when it ends.
using CallDone = std::function<void(Status)>;

// One attempt, asynchronous: calls `finished` once with its status.
using AsyncAttempt = std::function<
    void(size_t target, const Headers& headers, Clock::time_point deadline, CallDone finished)>;

class ClientRuntime {
 public:
  ClientRuntime(std::string service, ClientOptions options);
  ~ClientRuntime();

  const ClientOptions& options() const { return options_; }
  size_t replicas() const { return targets_.size(); }
  const std::shared_ptr<grpc::Channel>& channel(size_t target) const;
  resilience::CircuitState circuit_state(size_t target) const;

  // Runs attempts until one succeeds, a failure is final, retries or the
  // deadline run out, or every replica's circuit is open (UNAVAILABLE at once).
  Status Run(const ClientMethodSpec& method, const CallOptions& call, const Attempt& attempt);

  // Run's asynchronous form: no thread waits for an attempt or between
  // attempts (a gRPC alarm times the backoff). `done` runs once, on a gRPC
  // thread or, when the call ends before an attempt is sent, on this one.
  // `method` and `call` are read before RunAsync returns.
  void RunAsync(const ClientMethodSpec& method,
                const CallOptions& call,
                AsyncAttempt attempt,
                CallDone done);

  // A typed gRPC call through `stubs[target]->*rpc`.
  template <typename Stub, typename Request, typename Response>
  Status CallGrpc(const ClientMethodSpec& method,
                  const CallOptions& call,
                  const std::vector<std::unique_ptr<Stub>>& stubs,
                  grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                  const Request& request,
                  Response* response) {
    return Run(method,
               call,
               [&](size_t target, const Headers& headers, Clock::time_point deadline) {
                 if (Status connected = Connect(target, deadline); !connected.ok())
                   return connected;
                 grpc::ClientContext context;
                 context.set_deadline(deadline);
                 for (const auto& [key, value] : headers) context.AddMetadata(key, value);
                 return FromGrpcStatus((stubs[target].get()->*rpc)(&context, request, response));
               });
  }

  // A typed gRPC call through the callback stub, `stubs[target]->async()->*rpc`.
  // `request` and `response` must live until `done` runs.
  template <typename Stub, typename AsyncStub, typename Request, typename Response>
  void CallGrpcAsync(const ClientMethodSpec& method,
                     const CallOptions& call,
                     const std::vector<std::unique_ptr<Stub>>& stubs,
                     void (AsyncStub::*rpc)(grpc::ClientContext*,
                                            const Request*,
                                            Response*,
                                            std::function<void(grpc::Status)>),
                     const Request& request,
                     Response* response,
                     CallDone done) {
    RunAsync(
        method,
        call,
        [this, &stubs, rpc, &request, response](size_t target,
                                                const Headers& headers,
                                                Clock::time_point deadline,
                                                CallDone finished) {
          if (Status connected = Connectable(target); !connected.ok())
            return finished(std::move(connected));
          auto context = std::make_shared<grpc::ClientContext>();
          context->set_deadline(deadline);
          for (const auto& [key, value] : headers) context->AddMetadata(key, value);
          ((*stubs[target]->async()).*rpc)(
              context.get(),
              &request,
              response,
              [context, finished = std::move(finished)](grpc::Status status) {
                finished(FromGrpcStatus(status));
              });
        },
        std::move(done));
  }

  // A call over NATS request-reply (Transport::kNats).
  Status CallNats(const ClientMethodSpec& method,
                  const CallOptions& call,
                  const google::protobuf::Message& request,
                  google::protobuf::Message* response);

 private:
  struct Target;
  struct Plan;
  struct AsyncCall;
  size_t Pick(std::vector<bool>& tried);
  // Waits briefly for replica `target`'s channel to be ready.
  Status Connect(size_t target, Clock::time_point deadline);
  // Connect without waiting: UNAVAILABLE at once for a replica whose
  // channel failed; a connecting one takes the call and sends it when
  // connected (or fails it).
  Status Connectable(size_t target);
  // The steps of a call's attempts, shared by Run and RunAsync: Begin
  // (non-OK ends the call), Next (false: the call ends with plan.last),
  // After (the wait before the next attempt; none: the call ends with
  // plan.last).
  Status Begin(const ClientMethodSpec& method, const CallOptions& call, Plan& plan);
  bool Next(Plan& plan, size_t& target, Clock::time_point& attempt_deadline);
  std::optional<Clock::duration> After(Plan& plan, size_t target, Status status);
  static void Step(std::shared_ptr<AsyncCall> call);
  Headers MakeHeaders(const CallOptions& call) const;
  void Publish(size_t target) const;

  std::string service_;
  ClientOptions options_;
  std::vector<std::unique_ptr<Target>> targets_;
  std::atomic<size_t> next_{0};
  resilience::RetryBudget budget_;
  // The NATS connection (Transport::kNats), defined with the NATS transport.
  struct Nats;
  static std::shared_ptr<Nats> ConnectNats(const ClientOptions& options);
  std::shared_ptr<Nats> nats_;
};

// Free-function forms for generated code.
inline std::unique_ptr<ClientRuntime> NewClientRuntime(std::string service, ClientOptions options) {
  return std::make_unique<ClientRuntime>(std::move(service), std::move(options));
}

template <typename Stub, typename Request, typename Response>
Status CallGrpc(ClientRuntime& runtime,
                const ClientMethodSpec& method,
                const CallOptions& call,
                const std::vector<std::unique_ptr<Stub>>& stubs,
                grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                const Request& request,
                Response* response) {
  return runtime.CallGrpc(method, call, stubs, rpc, request, response);
}

inline Status CallNats(ClientRuntime& runtime,
                       const ClientMethodSpec& method,
                       const CallOptions& call,
                       const google::protobuf::Message& request,
                       google::protobuf::Message* response) {
  return runtime.CallNats(method, call, request, response);
}

// CallNats for an asynchronous form: `done` runs before it returns.
inline void CallNatsAsync(ClientRuntime& runtime,
                          const ClientMethodSpec& method,
                          const CallOptions& call,
                          const google::protobuf::Message& request,
                          google::protobuf::Message* response,
                          CallDone done) {
  done(runtime.CallNats(method, call, request, response));
}

// Whether a failed call counts against a replica's circuit: transport and
// server trouble does, answers about the request (NOT_FOUND, ...) do not.
bool CountsAsFailure(StatusCode code);

}  // namespace cppsvc::impl
