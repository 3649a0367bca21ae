// AddToOutbox: events commit with the handler's writes.
#include <cctype>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "cppsvc/db/errors.h"
#include "cppsvc/db/statements.h"
#include "cppsvc/events/outbox.h"

namespace cppsvc::events {

namespace {

constexpr char kInsertName[] = "cppsvc_outbox_insert";
constexpr char kInsertSql[] =
    "INSERT INTO cppsvc_outbox (id, subject, event_type, ordering_key, payload, headers) "
    "VALUES (COALESCE(NULLIF($1, '')::uuid, gen_random_uuid()), $2, $3, $4, $5, $6::jsonb) "
    "RETURNING id::text";

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string AddToOutbox(db::Tx& tx, const OutboxEvent& event) {
  if (!event.id.empty() && !IsUuid(event.id)) {
    throw db::InvalidArgument("event id '" + event.id + "' is not a uuid");
  }
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [key, value] : event.headers) headers[key] = value;
  // Prepared on the transaction's connection: no parse and plan per event.
  // gen_random_uuid(): built into PostgreSQL 13+.
  const pqxx::result row =
      db::ExecPrepared(tx,
                       kInsertName,
                       kInsertSql,
                       event.id,
                       event.subject,
                       event.event_type,
                       event.ordering_key,
                       pqxx::binarystring(event.payload.data(), event.payload.size()),
                       headers.dump());
  return row[0][0].as<std::string>();
}

}  // namespace cppsvc::events
