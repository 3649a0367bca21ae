#include "cppsvc/sagas/owner.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "cppsvc/db/transaction.h"
#include "cppsvc/events/outbox.h"
#include "cppsvc/observability/log.h"
#include "owner_store.h"

namespace cppsvc::sagas {
namespace {

void Log(std::string_view level, std::string_view msg, const Instance& i, std::string_view why) {
  observability::LogJson({{"level", std::string(level)},
                          {"msg", std::string(msg)},
                          {"saga", i.saga},
                          {"id", i.id},
                          {"state", i.state_name},
                          {"reason", std::string(why)}});
}

}  // namespace

std::string EncodeUndo(const Undo& undo) {
  return nlohmann::json{{"saga", undo.saga},
                        {"step", undo.step},
                        {"id", undo.id},
                        {"cause", undo.cause}}
      .dump();
}

bool DecodeUndo(const std::string& payload, Undo& undo) {
  const nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  for (const char* key : {"saga", "step", "id", "cause"}) {
    if (!j.contains(key) || !j[key].is_string()) return false;
  }
  undo = {j["saga"], j["step"], j["id"], j["cause"]};
  return true;
}

Owner::Owner(const SagaSpec& spec, OwnerHooks hooks) : spec_(spec), hooks_(std::move(hooks)) {}

Status Owner::Start(EventContext& ctx, const std::string& id) {
  State first;
  Instance instance{std::string(spec_.name), id, first, StateName(spec_, first), ""};
  // Started already: the trigger of this id was emitted before.
  if (!internal::Insert(ctx.tx(), spec_, instance, ShortName(spec_.trigger_type))) {
    return Status::Ok();
  }
  if (metrics_) metrics_->Started(spec_.name);
  return Status::Ok();
}

Status Owner::Advance(EventContext& ctx,
                      const std::string& id,
                      const Input& input,
                      const google::protobuf::Message& event) {
  const std::string label = event.GetDescriptor()->name();
  std::optional<Instance> instance = internal::Load(ctx.tx(), spec_, id, /*skip_locked=*/false);
  if (!instance) {
    Instance unknown{std::string(spec_.name), id, {}, "unknown", ""};
    Log("warn", "event for an unknown saga instance, acknowledged", unknown, label);
    if (metrics_) metrics_->Ignored(spec_.name, "unknown instance");
    return Status::Ok();
  }
  instance->event = &event;
  return Apply(ctx, *instance, input, label);
}

Status Owner::Abort(EventContext& ctx, const std::string& id, const std::string& reason) {
  std::optional<Instance> instance = internal::Load(ctx.tx(), spec_, id, /*skip_locked=*/false);
  if (!instance)
    return Status(StatusCode::kNotFound, "no " + std::string(spec_.name) + " saga " + id);
  if (instance->state.status != SagaStatus::kRunning) {
    return Status(StatusCode::kFailedPrecondition,
                  "saga " + std::string(spec_.name) + " " + id + " is " + instance->state_name);
  }
  instance->error = reason;
  return Apply(ctx, *instance, {InputKind::kAborted}, "abort");
}

Status Owner::Apply(EventContext& ctx,
                    Instance& instance,
                    const Input& input,
                    std::string_view label) {
  const Decision d = sagas::Apply(spec_, instance.state, input);
  if (!d.changed) {
    if (metrics_) metrics_->Ignored(spec_.name, d.ignored);
    Log("info", "saga event acknowledged without a change", instance, d.ignored);
    return Status::Ok();
  }
  if (input.kind == InputKind::kFailed) instance.error = std::string(label) + " (step failed)";
  if (input.kind == InputKind::kTimedOut) instance.error = "timed out";
  instance.state = d.next;
  instance.state_name = StateName(spec_, d.next);
  const double seconds = internal::Update(ctx.tx(), spec_, instance, label);
  if (metrics_ && input.kind == InputKind::kTimedOut) metrics_->TimedOut(spec_.name);
  if (metrics_ && d.completed) metrics_->Completed(spec_.name, seconds);
  if (metrics_ && d.aborted) metrics_->Compensated(spec_.name, seconds);
  return Enter(ctx, instance, d);
}

Status Owner::Enter(EventContext& ctx, const Instance& instance, const Decision& d) {
  if (d.compensate >= 0) {
    events::OutboxEvent e;
    e.subject = std::string(spec_.steps[static_cast<size_t>(d.compensate)].undo_subject);
    e.event_type = kUndoEventType;
    e.ordering_key = instance.id;
    e.payload = EncodeUndo({instance.saga,
                            std::string(spec_.steps[d.compensate].name),
                            instance.id,
                            std::string(CauseName(instance.state.cause))});
    if (!ctx.traceparent().empty()) e.headers["traceparent"] = ctx.traceparent();
    events::AddToOutbox(ctx.tx(), e);
  }
  if (d.completed && hooks_.completed) return hooks_.completed(ctx, instance);
  if (d.aborted && hooks_.aborted) return hooks_.aborted(ctx, instance);
  if (!d.completed && !d.aborted && hooks_.changed) return hooks_.changed(ctx, instance);
  return Status::Ok();
}

int Owner::SweepOnce(db::Pool& pool, int limit) {
  int taken = 0;
  std::map<std::string, double> in_flight;
  const Status status = db::RunInTransaction(
      pool,
      Clock::now() + std::chrono::seconds(30),
      [&](db::Tx& tx) -> Status {
        taken = 0;
        for (const std::string& id : internal::ClaimExpired(tx, spec_, limit)) {
          std::optional<Instance> instance = internal::Load(tx, spec_, id, /*skip_locked=*/true);
          if (!instance) continue;
          EventContext ctx("", "", 1, "");
          ctx.set_tx(&tx);
          if (Status s = Apply(ctx, *instance, {InputKind::kTimedOut}, "timeout"); !s.ok())
            return s;
          ++taken;
        }
        in_flight = internal::CountInFlight(tx, spec_);
        return Status::Ok();
      });
  if (!status.ok()) {
    observability::LogJson({{"level", "warn"},
                            {"msg", "saga timeout sweep failed"},
                            {"saga", std::string(spec_.name)},
                            {"error", status.message()}});
    return 0;
  }
  if (metrics_) metrics_->SetInFlight(spec_.name, in_flight);
  return taken;
}

}  // namespace cppsvc::sagas
