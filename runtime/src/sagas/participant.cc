#include "cppsvc/sagas/participant.h"

#include <optional>

#include <pqxx/pqxx>

#include "cppsvc/db/statements.h"
#include "cppsvc/observability/log.h"

namespace cppsvc::sagas {
namespace {

std::optional<std::string> LockState(pqxx::transaction_base& tx, const StepKey& key) {
  const pqxx::result r = db::ExecPrepared(
      tx,
      "cppsvc_saga_step_lock",
      "SELECT state FROM cppsvc_saga_steps WHERE saga = $1 AND step = $2 AND id = $3 FOR UPDATE",
      std::string(key.saga),
      std::string(key.step),
      key.id);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::string>();
}

// Claims a step's first run, recorded as succeeded (the usual outcome: one
// statement); false when the row exists, the step having run or been undone
// first. A concurrent first run of the same step waits here for the other
// transaction and, once that commits, finds its row.
bool Claim(pqxx::transaction_base& tx, const StepKey& key) {
  const pqxx::result r = db::ExecPrepared(
      tx,
      "cppsvc_saga_step_claim",
      "INSERT INTO cppsvc_saga_steps (saga, step, id, state) VALUES ($1, $2, $3, 'succeeded') "
      "ON CONFLICT DO NOTHING",
      std::string(key.saga),
      std::string(key.step),
      key.id);
  return r.affected_rows() == 1;
}

void Record(pqxx::transaction_base& tx, const StepKey& key, const char* state, bool exists) {
  const char* sql = exists ? "UPDATE cppsvc_saga_steps SET state = $4, updated_at = now() "
                             "WHERE saga = $1 AND step = $2 AND id = $3"
                           : "INSERT INTO cppsvc_saga_steps (saga, step, id, state) "
                             "VALUES ($1, $2, $3, $4)";
  tx.exec_params(sql, std::string(key.saga), std::string(key.step), key.id, std::string(state));
}

void Log(std::string_view msg, const StepKey& key, std::string_view state) {
  observability::LogJson({{"level", "info"},
                          {"msg", std::string(msg)},
                          {"saga", std::string(key.saga)},
                          {"step", std::string(key.step)},
                          {"id", key.id},
                          {"state", std::string(state)}});
}

}  // namespace

Status RunStep(EventContext& ctx,
               const StepKey& key,
               const std::function<StepOutcome()>& run,
               const std::function<Status()>& refuse) {
  if (!Claim(ctx.tx(), key)) {
    const std::optional<std::string> state = LockState(ctx.tx(), key);
    if (state == "undone") {
      Log("saga step undone before it ran: reporting failure", key, *state);
      return refuse();
    }
    Log("saga step ran before: acknowledged", key, state.value_or(""));
    return Status::Ok();
  }
  const StepOutcome outcome = run();
  // An error rolls the claim back with the rest of the transaction.
  if (!outcome.status.ok()) return outcome.status;
  if (!outcome.succeeded) Record(ctx.tx(), key, "failed", true);
  return Status::Ok();
}

Status RunUndo(EventContext& ctx,
               const StepKey& key,
               const std::function<Status()>& undo,
               const std::function<Status()>& done) {
  const std::optional<std::string> state = LockState(ctx.tx(), key);
  if (state == "undone") {
    Log("saga step undone before: acknowledged", key, *state);
    return Status::Ok();
  }
  Status s = state == "succeeded" ? undo() : done();
  if (!s.ok()) return s;
  if (!state) Log("saga step undone before it ran: marked", key, "");
  Record(ctx.tx(), key, "undone", state.has_value());
  return Status::Ok();
}

}  // namespace cppsvc::sagas
