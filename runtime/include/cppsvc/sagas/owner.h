// The owner's side of a saga: instances in cppsvc_sagas, moved by the
// participants' events inside each event's inbox transaction, compensated
// step by step with undo commands through the outbox, and swept for
// timeouts by every replica (FOR UPDATE SKIP LOCKED). Generated code binds
// one Owner per saga to the handlers' hooks.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/context.h"
#include "cppsvc/db/pool.h"
#include "cppsvc/sagas/machine.h"
#include "cppsvc/sagas/metrics.h"
#include "cppsvc/status.h"

namespace google::protobuf {
class Message;
}

namespace cppsvc::sagas {

// An instance as the owner's hooks and operators see it.
struct Instance {
  std::string saga;
  std::string id;  // the correlation id
  State state;
  std::string state_name;  // StateName(spec, state)
  std::string error;       // why it stopped going forward, if it did
  // The participant's event that made this change (null on a timeout or an
  // abort), e.g. the failure event with its reason.
  const google::protobuf::Message* event = nullptr;
};

// The owner's business hooks, called in the event's transaction when an
// instance enters an end state: each fills its end event (if the contract
// declares one) and emits it.
struct OwnerHooks {
  std::function<Status(EventContext&, const Instance&)> changed;  // any other change
  std::function<Status(EventContext&, const Instance&)> completed;
  std::function<Status(EventContext&, const Instance&)> aborted;
};

// The undo command an owner sends to a step's participant (JSON payload of
// the outbox row, event type kUndoEventType).
inline constexpr char kUndoEventType[] = "cppsvc.saga.Undo";
struct Undo {
  std::string saga;
  std::string step;
  std::string id;
  std::string cause;  // CauseName of the instance
};
std::string EncodeUndo(const Undo& undo);
bool DecodeUndo(const std::string& payload, Undo& undo);

class Owner {
 public:
  Owner(const SagaSpec& spec, OwnerHooks hooks);

  const SagaSpec& spec() const { return spec_; }
  void set_metrics(std::shared_ptr<SagaMetrics> metrics) { metrics_ = std::move(metrics); }

  // Starts an instance, where the owner emits the trigger (StartSagaOnEmit);
  // a second start of the same id changes nothing.
  Status Start(EventContext& ctx, const std::string& id);
  // Applies a participant's event. An event the machine ignores, or one for
  // an unknown instance, is acknowledged (OK), counted and logged.
  Status Advance(EventContext& ctx,
                 const std::string& id,
                 const Input& input,
                 const google::protobuf::Message& event);
  // Stops a running instance and compensates it; FAILED_PRECONDITION when it
  // is not running, NOT_FOUND when there is none.
  Status Abort(EventContext& ctx, const std::string& id, const std::string& reason);
  // Compensates up to `limit` running instances whose deadline passed, in
  // one transaction; returns how many it took.
  int SweepOnce(db::Pool& pool, int limit);

 private:
  Status Apply(EventContext& ctx, Instance& instance, const Input& input, std::string_view label);
  Status Enter(EventContext& ctx, const Instance& instance, const Decision& d);

  const SagaSpec& spec_;
  OwnerHooks hooks_;
  std::shared_ptr<SagaMetrics> metrics_;
};

}  // namespace cppsvc::sagas
