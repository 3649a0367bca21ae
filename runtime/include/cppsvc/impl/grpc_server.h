// For generated servers only: gRPC callback-API glue over ServiceRuntime.
#pragma once

#include <grpcpp/grpcpp.h>

#include "cppsvc/impl/server.h"

namespace cppsvc::impl {

grpc::Status ToGrpcStatus(const Status& status);
Status FromGrpcStatus(const grpc::Status& status);

class GrpcCall final : public IncomingCall {
 public:
  explicit GrpcCall(grpc::CallbackServerContext* context) : context_(context) {}
  std::optional<std::string_view> Metadata(std::string_view key) const override;
  std::optional<Clock::time_point> Deadline() const override;
  std::string Peer() const override { return context_->peer(); }
  std::string_view Transport() const override { return "grpc"; }
  bool MayRunInline() const override { return true; }

 private:
  grpc::CallbackServerContext* context_;
};

// One unary RPC, answered by `(handlers.*rpc)(ctx, request, response)`.
template <typename Handlers, typename Request, typename Response>
grpc::ServerUnaryReactor* ServeUnary(ServiceRuntime& runtime,
                                     grpc::CallbackServerContext* context,
                                     const MethodSpec& method,
                                     const Request* request,
                                     Response* response,
                                     Handlers& handlers,
                                     Status (Handlers::*rpc)(CallContext&, const Request&, Response&)) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  GrpcCall call(context);
  runtime.Dispatch(
      call,
      method,
      *request,
      *response,
      [&handlers, rpc, request, response](CallContext& ctx) { return (handlers.*rpc)(ctx, *request, *response); },
      [reactor](const Status& status) { reactor->Finish(ToGrpcStatus(status)); });
  return reactor;
}

}  // namespace cppsvc::impl
