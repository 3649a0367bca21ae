// For generated servers only: gRPC callback-API glue over ServiceRuntime.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/core_codegen_interface.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>

#include "cppsvc/impl/service_runtime.h"

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

// The request and response of one call, on the call's arena (as gRPC's own
// typed handlers keep theirs), with where the answer goes; destroyed when the
// call is answered. One pointer to it is all the answer callback captures,
// so that callback is never allocated.
template <typename Request, typename Response>
struct CallMessages {
  Request request;
  Response response;
  grpc::ServerUnaryReactor* reactor = nullptr;
  grpc::ByteBuffer* out = nullptr;

  void Answer(const Status& status) {
    grpc::Status answer = ToGrpcStatus(status);
    bool own_buffer = false;
    if (answer.ok())
      answer = grpc::SerializationTraits<Response>::Serialize(response, out, &own_buffer);
    grpc::ServerUnaryReactor* r = reactor;
    this->~CallMessages();
    r->Finish(answer);
  }
};

// One unary RPC registered raw (MarkMethodRawCallback): the runtime parses
// the request itself, so bytes that do not parse are answered
// INVALID_ARGUMENT, counted and logged like any call (gRPC's typed callback
// handlers answer them UNIMPLEMENTED with no message, before any of our
// code runs). Answered by `(handlers.*rpc)(ctx, request, response)`.
template <typename Handlers, typename Request, typename Response>
grpc::ServerUnaryReactor* ServeRawUnary(ServiceRuntime& runtime,
                                        grpc::CallbackServerContext* context,
                                        const MethodSpec& method,
                                        const grpc::ByteBuffer* in,
                                        grpc::ByteBuffer* out,
                                        Handlers& handlers,
                                        Status (Handlers::*rpc)(CallContext&,
                                                                const Request&,
                                                                Response&)) {
  using Messages = CallMessages<Request, Response>;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  GrpcCall call(context);
  auto* messages = new (
      grpc::g_core_codegen_interface->grpc_call_arena_alloc(context->c_call(), sizeof(Messages)))
      Messages();
  messages->reactor = reactor;
  messages->out = out;
  grpc::ByteBuffer request_bytes(*in);  // shares the slices; Deserialize consumes its copy
  if (!grpc::SerializationTraits<Request>::Deserialize(&request_bytes, &messages->request).ok()) {
    messages->~Messages();
    runtime.Refuse(call,
                   method,
                   InvalidRequest(Request::descriptor()->full_name()),
                   [reactor](const Status& status) { reactor->Finish(ToGrpcStatus(status)); });
    return reactor;
  }
  runtime.Dispatch(
      call,
      method,
      messages->request,
      messages->response,
      [&handlers, rpc, messages](CallContext& ctx) {
        return (handlers.*rpc)(ctx, messages->request, messages->response);
      },
      [messages](const Status& status) { messages->Answer(status); });
  return reactor;
}

// A raw handler for MarkMethodRawCallback, serving through ServeRawUnary.
template <typename Handlers, typename Request, typename Response>
grpc::internal::MethodHandler* RawUnaryHandler(ServiceRuntime& runtime,
                                               const MethodSpec& method,
                                               Handlers& handlers,
                                               Status (Handlers::*rpc)(CallContext&,
                                                                       const Request&,
                                                                       Response&)) {
  return new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
      [&runtime, &method, &handlers, rpc](grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* in,
                                          grpc::ByteBuffer* out) {
        return ServeRawUnary(runtime, context, method, in, out, handlers, rpc);
      });
}

}  // namespace cppsvc::impl
