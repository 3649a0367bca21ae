#include "cppsvc/sagas/inspect.h"

#include <pqxx/pqxx>

#include "cppsvc/db/transaction.h"

namespace cppsvc::sagas {
namespace {

constexpr auto kTimeout = std::chrono::seconds(30);

constexpr char kColumns[] =
    "saga, id, status, step, coalesce(error, ''), "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "coalesce(to_char(deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), ''), "
    "coalesce(payload->'history', '[]'::jsonb)::text ";

nlohmann::json Row(const pqxx::row& r, bool history) {
  nlohmann::json j = {{"saga", r[0].as<std::string>()},
                      {"id", r[1].as<std::string>()},
                      {"status", r[2].as<std::string>()},
                      {"state", r[3].as<std::string>()},
                      {"error", r[4].as<std::string>()},
                      {"created_at", r[5].as<std::string>()},
                      {"updated_at", r[6].as<std::string>()},
                      {"deadline", r[7].as<std::string>()}};
  if (history) j["history"] = nlohmann::json::parse(r[8].as<std::string>());
  return j;
}

void Check(const Status& s) {
  if (!s.ok()) throw std::runtime_error(s.message());
}

}  // namespace

nlohmann::json ListInstances(db::Pool& pool,
                             const std::string& status,
                             const std::string& saga,
                             size_t limit) {
  nlohmann::json out = nlohmann::json::array();
  Check(db::RunInTransaction(pool, Clock::now() + kTimeout, [&](db::Tx& tx) -> Status {
    out = nlohmann::json::array();
    const std::string sql =
        std::string("SELECT ") + kColumns +
        "FROM cppsvc_sagas WHERE ($1 = '' OR status = $1) AND ($2 = '' OR saga = $2) "
        "ORDER BY created_at DESC, id LIMIT $3";
    for (const auto& r : tx.exec_params(sql, status, saga, static_cast<long>(limit))) {
      out.push_back(Row(r, false));
    }
    return Status::Ok();
  }));
  return out;
}

std::optional<nlohmann::json> ShowInstance(db::Pool& pool,
                                           const std::string& id,
                                           const std::string& saga) {
  std::optional<nlohmann::json> out;
  Check(db::RunInTransaction(pool, Clock::now() + kTimeout, [&](db::Tx& tx) -> Status {
    const std::string sql =
        std::string("SELECT ") + kColumns +
        "FROM cppsvc_sagas WHERE id = $1 AND ($2 = '' OR saga = $2) ORDER BY saga LIMIT 1";
    const pqxx::result r = tx.exec_params(sql, id, saga);
    if (!r.empty()) out = Row(r[0], true);
    return Status::Ok();
  }));
  return out;
}

}  // namespace cppsvc::sagas
