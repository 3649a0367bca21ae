// Dead letters: listed for inspection and replayed through a handler once.
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "cppsvc/db/transaction.h"
#include "cppsvc/events/dead_letters.h"
#include "cppsvc/observability/trace.h"

namespace cppsvc::events {

namespace {

constexpr auto kTimeout = std::chrono::seconds(30);

std::map<std::string, std::string> ParseHeaders(const std::string& text) {
  std::map<std::string, std::string> headers;
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return headers;
  for (const auto& [key, value] : json.items()) {
    headers[key] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return headers;
}

}  // namespace

std::vector<DeadLetter> ListDeadLetters(db::Pool& pool,
                                        const std::string& consumer,
                                        bool include_replayed,
                                        size_t limit) {
  std::vector<DeadLetter> out;
  const Status status =
      db::RunInTransaction(pool, Clock::now() + kTimeout, [&](db::Tx& tx) -> Status {
        out.clear();
        const pqxx::result rows = tx.exec_params(
            "SELECT id, consumer, event_id, subject, error, attempts, payload, headers::text, "
            "(EXTRACT(EPOCH FROM created_at) * 1000000)::bigint, replayed_at IS NOT NULL "
            "FROM cppsvc_dead_letters "
            "WHERE ($1 = '' OR consumer = $1) AND ($2 OR replayed_at IS NULL) "
            "ORDER BY id LIMIT $3",
            consumer,
            include_replayed,
            static_cast<long>(limit));
        for (const auto& row : rows) {
          DeadLetter d;
          d.id = row[0].as<int64_t>();
          d.consumer = row[1].as<std::string>();
          d.event_id = row[2].as<std::string>();
          d.subject = row[3].as<std::string>();
          d.error = row[4].as<std::string>();
          d.attempts = row[5].as<int>();
          d.payload = pqxx::binarystring(row[6]).str();
          d.headers = ParseHeaders(row[7].as<std::string>());
          d.created_at = Clock::time_point(std::chrono::microseconds(row[8].as<int64_t>()));
          d.replayed = row[9].as<bool>();
          out.push_back(std::move(d));
        }
        return Status::Ok();
      });
  if (!status.ok()) throw std::runtime_error("listing dead letters failed: " + status.ToString());
  return out;
}

Status ReplayDeadLetter(db::Pool& pool, int64_t id, const EventHandler& handler) {
  return db::RunInTransaction(pool, Clock::now() + kTimeout, [&](db::Tx& tx) -> Status {
    const pqxx::result rows = tx.exec_params(
        "SELECT consumer, event_id, subject, payload, headers::text, attempts, "
        "replayed_at IS NOT NULL FROM cppsvc_dead_letters WHERE id = $1 FOR UPDATE",
        id);
    if (rows.empty())
      return Status::NotFound("dead letter " + std::to_string(id) + " does not exist");
    const auto row = rows[0];
    if (row[6].as<bool>()) {
      return Status::FailedPrecondition("dead letter " + std::to_string(id) +
                                        " was replayed already");
    }
    const std::string consumer = row[0].as<std::string>();
    const std::string event_id = row[1].as<std::string>();
    const std::string subject = row[2].as<std::string>();
    const pqxx::result inserted = tx.exec_params(
        "INSERT INTO cppsvc_inbox (consumer, event_id, subject) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        consumer,
        event_id,
        subject);
    if (inserted.affected_rows() == 0) {
      return Status::FailedPrecondition("consumer '" + consumer + "' applied event " + event_id +
                                        " already");
    }
    const std::map<std::string, std::string> headers = ParseHeaders(row[4].as<std::string>());
    observability::TraceContext trace;
    if (auto it = headers.find("traceparent");
        it != headers.end() && observability::ParseTraceparent(it->second, trace)) {
      trace = observability::ChildOf(trace);
    } else {
      trace = observability::NewTrace();
    }
    EventContext ctx(event_id, subject, row[5].as<int>() + 1, trace.trace_id);
    ctx.set_traceparent(observability::FormatTraceparent(trace));
    ctx.set_tx(&tx);
    Status status = handler(ctx, pqxx::binarystring(row[3]).str());
    ctx.set_tx(nullptr);
    if (!status.ok()) return status;
    tx.exec_params("UPDATE cppsvc_dead_letters SET replayed_at = now() WHERE id = $1", id);
    return Status::Ok();
  });
}

}  // namespace cppsvc::events
