#include "owner_store.h"

#include <pqxx/pqxx>

#include "cppsvc/db/statements.h"

namespace cppsvc::sagas::internal {
namespace {

// The instance's machine state is kept in payload (step, stopped, cause)
// next to its history: [{at, event, to}, ...].
constexpr char kInsertSql[] = R"sql(
INSERT INTO cppsvc_sagas (saga, id, step, status, payload, deadline)
VALUES ($1, $2, $3, 'running',
        jsonb_build_object('step', 0, 'stopped', -1, 'cause', '', 'history',
          jsonb_build_array(jsonb_build_object('at', clock_timestamp(), 'event', $4::text,
                                               'to', $3::text))),
        CASE WHEN $5::bigint > 0 THEN now() + $5::bigint * interval '1 millisecond' END)
ON CONFLICT (saga, id) DO NOTHING)sql";

constexpr char kLoadSql[] = R"sql(
SELECT status, (payload->>'step')::int, (payload->>'stopped')::int, payload->>'cause',
       coalesce(error, '')
FROM cppsvc_sagas
WHERE saga = $1 AND id = $2
FOR UPDATE)sql";

constexpr char kUpdateSql[] = R"sql(
UPDATE cppsvc_sagas
SET status = $3, step = $4,
    payload = payload || jsonb_build_object('step', $5::int, 'stopped', $6::int, 'cause', $7::text,
      'history', coalesce(payload->'history', '[]'::jsonb)
        || jsonb_build_array(jsonb_build_object('at', clock_timestamp(), 'event', $8::text,
                                                'to', $4::text))),
    error = nullif($9, ''),
    version = version + 1,
    updated_at = now(),
    deadline = CASE WHEN $3 IN ('completed', 'aborted') THEN NULL ELSE deadline END
WHERE saga = $1 AND id = $2
RETURNING date_part('epoch', clock_timestamp() - created_at))sql";

constexpr char kClaimSql[] = R"sql(
SELECT id FROM cppsvc_sagas
WHERE saga = $1 AND status = 'running' AND deadline < now()
ORDER BY deadline
LIMIT $2
FOR UPDATE SKIP LOCKED)sql";

constexpr char kCountSql[] = R"sql(
SELECT step, count(*) FROM cppsvc_sagas
WHERE saga = $1 AND status IN ('running', 'compensating')
GROUP BY step)sql";

}  // namespace

bool Insert(db::Tx& tx, const SagaSpec& spec, const Instance& instance, std::string_view label) {
  const pqxx::result r = db::ExecPrepared(tx,
                                          "cppsvc_saga_insert",
                                          kInsertSql,
                                          std::string(spec.name),
                                          instance.id,
                                          instance.state_name,
                                          std::string(label),
                                          static_cast<long>(spec.timeout.count()));
  return r.affected_rows() == 1;
}

std::optional<Instance> Load(db::Tx& tx,
                             const SagaSpec& spec,
                             const std::string& id,
                             bool skip_locked) {
  const pqxx::result r =
      skip_locked ? db::ExecPrepared(tx,
                                     "cppsvc_saga_load_skip",
                                     std::string(kLoadSql) + " SKIP LOCKED",
                                     std::string(spec.name),
                                     id)
                  : db::ExecPrepared(tx, "cppsvc_saga_load", kLoadSql, std::string(spec.name), id);
  if (r.empty()) return std::nullopt;
  Instance i;
  i.saga = std::string(spec.name);
  i.id = id;
  ParseStatus(r[0][0].as<std::string>(), i.state.status);
  i.state.step = r[0][1].as<int>();
  i.state.stopped = r[0][2].as<int>();
  ParseCause(r[0][3].as<std::string>(), i.state.cause);
  i.error = r[0][4].as<std::string>();
  i.state_name = StateName(spec, i.state);
  return i;
}

double Update(db::Tx& tx, const SagaSpec& spec, const Instance& i, std::string_view label) {
  const pqxx::result r = db::ExecPrepared(tx,
                                          "cppsvc_saga_update",
                                          kUpdateSql,
                                          std::string(spec.name),
                                          i.id,
                                          std::string(StatusName(i.state.status)),
                                          i.state_name,
                                          i.state.step,
                                          i.state.stopped,
                                          std::string(CauseName(i.state.cause)),
                                          std::string(label),
                                          i.error);
  return r.empty() ? 0.0 : r[0][0].as<double>();
}

std::vector<std::string> ClaimExpired(db::Tx& tx, const SagaSpec& spec, int limit) {
  std::vector<std::string> ids;
  for (const auto& row : tx.exec_params(kClaimSql, std::string(spec.name), limit)) {
    ids.push_back(row[0].as<std::string>());
  }
  return ids;
}

std::map<std::string, double> CountInFlight(db::Tx& tx, const SagaSpec& spec) {
  std::map<std::string, double> counts;
  for (const auto& row : tx.exec_params(kCountSql, std::string(spec.name))) {
    counts[row[0].as<std::string>()] = row[1].as<double>();
  }
  return counts;
}

}  // namespace cppsvc::sagas::internal
