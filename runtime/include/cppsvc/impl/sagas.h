// For generated code only: binds the sagas of the contract to the handlers.
// The owner's base class holds a sagas::Owner per saga with its hooks; the
// generated server routes the saga's events to it, and a participant's step
// and undo methods to sagas::RunStep / RunUndo.
#pragma once

#include <memory>
#include <mutex>  // std::once_flag, for the generated owners
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "cppsvc/impl/handler_base.h"
#include "cppsvc/impl/subscriptions.h"
#include "cppsvc/sagas/owner.h"
#include "cppsvc/sagas/participant.h"
#include "cppsvc/sagas/step_result.h"

namespace cppsvc::impl {

// An event of a saga: its type and subject, and the field holding the
// correlation id (the event's ordering key).
struct SagaEvent {
  std::string_view type;
  std::string_view subject;
  std::string_view key_field;
};

// The correlation id of `event`, and setting it on an event to emit.
std::string SagaKey(const google::protobuf::Message& event, std::string_view field);
void SetSagaKey(google::protobuf::Message& event, std::string_view field, const std::string& id);
// Sets the correlation id and writes the event to the outbox.
Status EmitSagaEvent(EventContext& ctx,
                     const SagaEvent& spec,
                     const std::string& id,
                     google::protobuf::Message& event);
// The context of a call, as the saga hooks see it (same transaction and trace).
EventContext SagaContextOf(const CallContext& ctx, std::string_view what);
// Starts instance `id` of the owner's saga in the transaction of `ctx`,
// where the owner emits the saga's trigger: the instance exists before any
// participant can hear the trigger and answer. This is the only start: the
// owner does not consume its own trigger (a delivery would add a
// transaction per instance and change nothing).
void StartSagaOnEmit(sagas::Owner& owner, const CallContext& ctx, const std::string& id);
void StartSagaOnEmit(sagas::Owner& owner, const EventContext& ctx, const std::string& id);
// "undecodable event payload" as a Status.
Status Undecodable();

using SagaHook = std::function<Status(EventContext&, const sagas::Instance&)>;

// A hook without an event: the changed hook, or an end hook of a saga
// whose contract declares no end event.
template <typename Handlers>
SagaHook Hook(Handlers* handlers,
              Status (Handlers::*hook)(EventContext&, const sagas::Instance&),
              SagaEvent) {
  return [handlers, hook](EventContext& ctx, const sagas::Instance& instance) {
    return (handlers->*hook)(ctx, instance);
  };
}

// An end hook: calls `hook` to fill the end event, then emits it.
template <typename Handlers, typename Event>
SagaHook Hook(Handlers* handlers,
              Status (Handlers::*hook)(EventContext&, const sagas::Instance&, Event&),
              SagaEvent spec) {
  return [handlers, hook, spec](EventContext& ctx, const sagas::Instance& instance) {
    Event event;
    if (Status s = (handlers->*hook)(ctx, instance, event); !s.ok()) return s;
    return EmitSagaEvent(ctx, spec, instance.id, event);
  };
}

// Makes `owner` the owner of `spec`, calling the handlers' hooks.
template <typename Handlers, typename Completed, typename Aborted>
void MakeOwner(std::unique_ptr<sagas::Owner>& owner,
               Handlers* handlers,
               const sagas::SagaSpec& spec,
               Status (Handlers::*changed)(EventContext&, const sagas::Instance&),
               Completed completed,
               SagaEvent completed_event,
               Aborted aborted,
               SagaEvent aborted_event) {
  sagas::OwnerHooks hooks;
  hooks.changed = Hook(handlers, changed, {});
  hooks.completed = Hook(handlers, completed, completed_event);
  hooks.aborted = Hook(handlers, aborted, aborted_event);
  owner = std::make_unique<sagas::Owner>(spec, std::move(hooks));
}

// Adds a step to a generated saga spec.
void AddSagaStep(sagas::SagaSpec& spec,
                 std::string_view name,
                 std::string_view participant,
                 std::string_view success_type,
                 std::string_view failure_type,
                 std::string_view done_type,
                 std::string_view undo_subject);

// A consumer of `subject` on `stream` shared by the service's replicas.
SubscriptionRoute SagaRoute(std::string_view type,
                            std::string_view subject,
                            std::string_view stream,
                            std::string_view durable);

// The owner's route of a step's success, failure or undo-done event:
// advances an instance. (An instance starts at the owner's Emit of the
// trigger: see StartSagaOnEmit.)
template <typename Event>
void AddOwnerRoute(std::vector<SubscriptionRoute>& routes,
                   std::string_view subject,
                   std::string_view stream,
                   std::string_view durable,
                   sagas::Owner& owner,
                   std::string_view key_field,
                   sagas::InputKind kind,
                   int step) {
  SubscriptionRoute route = SagaRoute(Event::descriptor()->full_name(), subject, stream, durable);
  route.handle = [&owner, key_field, kind, step](EventContext& ctx, const std::string& payload) {
    Event event;
    if (!event.ParseFromString(payload)) return Undecodable();
    return owner.Advance(ctx, SagaKey(event, key_field), {kind, step}, event);
  };
  routes.push_back(std::move(route));
}

// What a participant's step method returned, emitted.
template <typename Success, typename Failure>
sagas::StepOutcome EmitOutcome(EventContext& ctx,
                               sagas::StepResult<Success, Failure>& result,
                               const std::string& id,
                               const SagaEvent& success,
                               const SagaEvent& failure) {
  if (!result.error().ok()) return {result.error(), false};
  if (result.succeeded()) return {EmitSagaEvent(ctx, success, id, result.success()), true};
  if constexpr (!std::is_same_v<Failure, sagas::NoFailure>) {
    if (result.failed()) return {EmitSagaEvent(ctx, failure, id, result.failure()), false};
  }
  return {Status(StatusCode::kInternal, "the saga step returned neither success nor failure"),
          false};
}

// The failure event of a step undone before it ran (none for a step that
// cannot fail).
template <typename Failure>
Status EmitRefusal(EventContext& ctx, const SagaEvent& failure, const std::string& id) {
  if constexpr (std::is_same_v<Failure, sagas::NoFailure>) {
    return Status::Ok();
  } else {
    Failure event;
    return EmitSagaEvent(ctx, failure, id, event);
  }
}

// A participant's route of one step: runs the step method on its `on` event.
template <typename Handlers, typename In, typename Success, typename Failure>
void AddStepRoute(std::vector<SubscriptionRoute>& routes,
                  std::string_view stream,
                  std::string_view durable,
                  std::string_view saga,
                  std::string_view step,
                  Handlers& handlers,
                  sagas::StepResult<Success, Failure> (Handlers::*method)(EventContext&, const In&),
                  SagaEvent in,
                  SagaEvent success,
                  SagaEvent failure) {
  SubscriptionRoute route = SagaRoute(in.type, in.subject, stream, durable);
  route.handle = [=, &handlers](EventContext& ctx, const std::string& payload) {
    In event;
    if (!event.ParseFromString(payload)) return Undecodable();
    const sagas::StepKey key{saga, step, SagaKey(event, in.key_field)};
    auto run = [&] {
      auto result = (handlers.*method)(ctx, event);
      return EmitOutcome(ctx, result, key.id, success, failure);
    };
    return sagas::RunStep(ctx, key, run, [&] {
      return EmitRefusal<Failure>(ctx, failure, key.id);
    });
  };
  routes.push_back(std::move(route));
}

// A participant's route of one step's undo commands: runs the compensation.
template <typename Handlers, typename Done>
void AddUndoRoute(std::vector<SubscriptionRoute>& routes,
                  std::string_view subject,
                  std::string_view stream,
                  std::string_view durable,
                  std::string_view saga,
                  std::string_view step,
                  Handlers& handlers,
                  Status (Handlers::*undo)(EventContext&, const sagas::Undo&, Done&),
                  SagaEvent done) {
  SubscriptionRoute route = SagaRoute(sagas::kUndoEventType, subject, stream, durable);
  route.handle = [=, &handlers](EventContext& ctx, const std::string& payload) {
    sagas::Undo command;
    if (!sagas::DecodeUndo(payload, command)) return Undecodable();
    const sagas::StepKey key{saga, step, command.id};
    auto run_undo = [&]() -> Status {
      Done event;
      if (Status s = (handlers.*undo)(ctx, command, event); !s.ok()) return s;
      return EmitSagaEvent(ctx, done, key.id, event);
    };
    auto done_only = [&]() -> Status {
      Done event;
      return EmitSagaEvent(ctx, done, key.id, event);
    };
    return sagas::RunUndo(ctx, key, run_undo, done_only);
  };
  routes.push_back(std::move(route));
}

}  // namespace cppsvc::impl
