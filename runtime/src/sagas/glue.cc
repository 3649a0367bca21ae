#include "cppsvc/impl/sagas.h"

#include <stdexcept>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

namespace cppsvc::impl {
namespace {

const google::protobuf::FieldDescriptor* KeyField(const google::protobuf::Message& event,
                                                  std::string_view field) {
  const auto* f = event.GetDescriptor()->FindFieldByName(std::string(field));
  if (f == nullptr || f->is_repeated() ||
      f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
    throw std::logic_error("saga event " + event.GetDescriptor()->full_name() +
                           " has no string field " + std::string(field));
  }
  return f;
}

}  // namespace

std::string SagaKey(const google::protobuf::Message& event, std::string_view field) {
  return event.GetReflection()->GetString(event, KeyField(event, field));
}

void SetSagaKey(google::protobuf::Message& event, std::string_view field, const std::string& id) {
  event.GetReflection()->SetString(&event, KeyField(event, field), id);
}

Status EmitSagaEvent(EventContext& ctx,
                     const SagaEvent& spec,
                     const std::string& id,
                     google::protobuf::Message& event) {
  SetSagaKey(event, spec.key_field, id);
  EmitEvent(ctx, {spec.type, spec.subject}, id, event);
  return Status::Ok();
}

EventContext SagaContextOf(const CallContext& ctx, std::string_view what) {
  EventContext e(std::string(what), "", 1, std::string(ctx.trace_id()));
  e.set_traceparent(std::string(ctx.traceparent()));
  e.set_tx(&ctx.tx());
  return e;
}

void StartSagaOnEmit(sagas::Owner& owner, const CallContext& ctx, const std::string& id) {
  EventContext e = SagaContextOf(ctx, "start");
  StartSagaOnEmit(owner, e, id);
}

void StartSagaOnEmit(sagas::Owner& owner, const EventContext& ctx, const std::string& id) {
  EventContext e = ctx;  // Start takes a mutable context; same transaction
  // Start answers OK (a second start is ignored) or throws a database error,
  // which rolls the emitting transaction back.
  if (Status started = owner.Start(e, id); !started.ok())
    throw std::runtime_error("saga start: " + started.ToString());
}

void AddSagaStep(sagas::SagaSpec& spec,
                 std::string_view name,
                 std::string_view participant,
                 std::string_view success_type,
                 std::string_view failure_type,
                 std::string_view done_type,
                 std::string_view undo_subject) {
  spec.steps.push_back({name, participant, success_type, failure_type, done_type, undo_subject});
}

SubscriptionRoute SagaRoute(std::string_view type,
                            std::string_view subject,
                            std::string_view stream,
                            std::string_view durable) {
  SubscriptionRoute route;
  route.event_type = type;
  route.subject = subject;
  route.stream = stream;
  route.durable = durable;
  return route;
}

Status Undecodable() {
  return Status(StatusCode::kInvalidArgument, "undecodable event payload");
}

}  // namespace cppsvc::impl
