#include "cppsvc/db/transaction.h"

#include <algorithm>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cppsvc/db/errors.h"
#include "cppsvc/observability/log.h"

namespace cppsvc::db {

namespace {

// How an exception bears on what RunInTransaction does next.
enum class Kind {
  kApplication,  // NotFound, VersionConflict, unique violation: the body's answer
  kConflict,     // serialization failure or deadlock: run again
  kConnection,   // the connection is gone or its state unknown: drop it
  kUnavailable,  // the database cannot be reached (no connection to drop)
  kTimeout,      // statement_timeout: the deadline passed
  kInternal,     // a bug or an unexpected database error
};

struct Mapped {
  Kind kind;
  Status status;
};

bool StartsWith(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

// "already exists: (email)=(a@example.com), unique constraint \"users_email_key\""
// from PostgreSQL's text: the caller's own values and the constraint's name,
// which names the table. Bare "already exists" when the text has neither.
std::string DescribeDuplicate(const std::string& text) {
  std::vector<std::string> parts;
  const size_t key = text.find("Key (");
  const size_t end = text.find(" already exists", key == std::string::npos ? 0 : key);
  if (key != std::string::npos && end != std::string::npos)
    parts.push_back(text.substr(key + 4, end - key - 4));
  const std::string marker = "unique constraint \"";
  const size_t name = text.find(marker);
  const size_t close = text.find('"', name == std::string::npos ? 0 : name + marker.size());
  if (name != std::string::npos && close != std::string::npos)
    parts.push_back(text.substr(name, close + 1 - name));
  std::string out = "already exists";
  for (size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? ": " : ", ") + parts[i];
  return out;
}

Mapped Classify(const std::exception& e) {
  if (auto* not_found = dynamic_cast<const NotFound*>(&e)) {
    return {Kind::kApplication, Status::NotFound(not_found->what())};
  }
  if (auto* invalid = dynamic_cast<const InvalidArgument*>(&e)) {
    return {Kind::kApplication, Status::InvalidArgument(invalid->what())};
  }
  if (auto* conflict = dynamic_cast<const VersionConflict*>(&e)) {
    return {Kind::kApplication, Status::Aborted(conflict->what())};
  }
  if (dynamic_cast<const Unavailable*>(&e) != nullptr) {
    // libpq's text names the server's address: it goes to the log only.
    return {Kind::kUnavailable, Status::Unavailable("the database is unavailable")};
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&e)) {
    return {Kind::kApplication, Status::AlreadyExists(DescribeDuplicate(e.what()))};
  }
  // libpqxx 6.4 throws these for SQLSTATE 40001 and 40P01; they are not
  // sql_errors there (no SQLSTATE to look at).
  if (dynamic_cast<const pqxx::serialization_failure*>(&e) ||
      dynamic_cast<const pqxx::deadlock_detected*>(&e)) {
    return {Kind::kConflict,
            Status::Aborted("the transaction conflicted with a concurrent one; try again")};
  }
  // Before broken_connection: the connection broke while committing.
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    return {Kind::kConnection,
            Status::Unavailable("the database connection was lost while committing; "
                                "the outcome is unknown")};
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    return {Kind::kConnection, Status::Unavailable("the database is unavailable")};
  }
  if (auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    if (state == "40001" || state == "40P01") {
      return {Kind::kConflict,
              Status::Aborted("the transaction conflicted with a concurrent one; try again")};
    }
    // query_canceled: statement_timeout (libpqxx 6.4 has no class for it).
    if (state == "57014") {
      return {Kind::kTimeout, Status(StatusCode::kDeadlineExceeded, "deadline exceeded")};
    }
    // Connection exceptions, and the server shutting down or starting up.
    if (StartsWith(state, "08") || state == "57P01" || state == "57P02" || state == "57P03") {
      return {Kind::kConnection, Status::Unavailable("the database is unavailable")};
    }
  }
  return {Kind::kInternal, Status::Internal("internal error")};
}

void LogDetail(const std::exception& e, const Mapped& mapped) {
  nlohmann::json fields = {{"level", mapped.kind == Kind::kInternal ? "error" : "warning"},
                           {"msg", "database error"},
                           {"code", std::string(StatusCodeName(mapped.status.code()))},
                           {"error", e.what()}};
  if (auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    fields["sqlstate"] = sql->sqlstate();
    fields["query"] = sql->query();
  }
  observability::LogJson(std::move(fields));
}

// The statement_timeout that ends every statement by the deadline; at least
// 1 ms, since 0 would mean none.
int64_t RemainingMillis(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max<int64_t>(left.count(), 1);
}

enum class Phase { kBegin, kBody, kCommit };

// A read-write transaction whose BEGIN carries the statement_timeout too:
// "BEGIN ...; SET LOCAL statement_timeout = N" goes as one simple query, one
// round trip where pqxx::transaction and a separate SET would take two.
// Commit, abort and error handling are pqxx's (basic_transaction).
class TimedTransaction final : public pqxx::internal::basic_transaction {
 public:
  TimedTransaction(pqxx::connection_base& connection,
                   TxOptions::Isolation isolation,
                   int64_t timeout_ms)
      : pqxx::internal::namedclass{"TimedTransaction"},
        pqxx::internal::basic_transaction(connection, IsolationName(isolation), pqxx::read_write),
        begin_(BeginCommand(isolation, timeout_ms)) {
    Begin();
  }
  TimedTransaction(const TimedTransaction&) = delete;
  TimedTransaction& operator=(const TimedTransaction&) = delete;
  ~TimedTransaction() noexcept override { End(); }

 private:
  static std::string IsolationName(TxOptions::Isolation isolation) {
    switch (isolation) {
      case TxOptions::Isolation::kRepeatableRead:
        return pqxx::isolation_traits<pqxx::repeatable_read>::name();
      case TxOptions::Isolation::kSerializable:
        return pqxx::isolation_traits<pqxx::serializable>::name();
      case TxOptions::Isolation::kReadCommitted:
        break;
    }
    return pqxx::isolation_traits<pqxx::read_committed>::name();
  }

  static std::string BeginCommand(TxOptions::Isolation isolation, int64_t timeout_ms) {
    std::string command = "BEGIN";
    if (isolation != TxOptions::Isolation::kReadCommitted) {
      command += " ISOLATION LEVEL " + IsolationName(isolation);
    }
    return command + "; SET LOCAL statement_timeout = " + std::to_string(timeout_ms);
  }

  // No reconnect-and-retry here: a broken connection is RunInTransaction's
  // to replace.
  void do_begin() override { direct_exec(begin_.c_str()); }

  std::string begin_;
};

Status RunOnce(pqxx::connection_base& connection,
               Clock::time_point deadline,
               const std::function<Status(Tx&)>& body,
               TxOptions::Isolation isolation,
               Phase& phase) {
  phase = Phase::kBegin;
  TimedTransaction tx(connection, isolation, RemainingMillis(deadline));
  phase = Phase::kBody;
  Status status = body(tx);
  // Otherwise the transaction's destructor rolls it back.
  if (!status.ok()) return status;
  if (Clock::now() >= deadline) return {StatusCode::kDeadlineExceeded, "deadline exceeded"};
  phase = Phase::kCommit;
  tx.commit();
  return status;
}

// Full jitter over a doubling cap, so transactions that collided do not
// collide again in lockstep.
std::chrono::milliseconds ConflictBackoff(int retry) {
  thread_local std::mt19937 rng{std::random_device{}()};
  const int cap = std::min(5 << std::min(retry, 4), 80);
  return std::chrono::milliseconds(std::uniform_int_distribution<int>(0, cap)(rng));
}

// The runs a unit of work has left: serialization failures and deadlocks
// always get some, version conflicts only when the caller asks.
class Retries {
 public:
  bool Allow(const std::exception& e, Kind kind, const TxOptions& options) {
    if (kind == Kind::kConflict) return conflicts_++ < options.max_serialization_retries;
    if (dynamic_cast<const VersionConflict*>(&e) != nullptr)
      return version_conflicts_++ < options.max_version_conflict_retries;
    return false;
  }
  int total() const { return conflicts_ + version_conflicts_; }

 private:
  int conflicts_ = 0;
  int version_conflicts_ = 0;
};

}  // namespace

Status MapException(const std::exception& e) {
  Mapped mapped = Classify(e);
  if (mapped.kind == Kind::kInternal || mapped.kind == Kind::kConnection ||
      mapped.kind == Kind::kUnavailable) {
    LogDetail(e, mapped);
  }
  return std::move(mapped.status);
}

Status RunInTransaction(Pool& pool,
                        Clock::time_point deadline,
                        const std::function<Status(Tx&)>& body,
                        const TxOptions& options) {
  Retries retries;
  size_t replaced_connections = 0;
  while (true) {
    if (Clock::now() >= deadline) return {StatusCode::kDeadlineExceeded, "deadline exceeded"};
    std::optional<Pool::Lease> lease;
    try {
      lease.emplace(pool.Acquire(deadline));
    } catch (const std::exception& e) {
      return MapException(e);
    }
    Phase phase = Phase::kBegin;
    try {
      return RunOnce(lease->connection(), deadline, body, options.isolation, phase);
    } catch (const std::exception& e) {
      Mapped mapped = Classify(e);
      if (mapped.kind == Kind::kConnection) {
        lease->MarkBroken();
        // An idle connection that died with a restarted server: nothing ran
        // yet, so another connection may take over.
        if (phase == Phase::kBegin && replaced_connections++ < pool.size()) continue;
      }
      if (!retries.Allow(e, mapped.kind, options)) return MapException(e);
      lease.reset();
      const auto pause = ConflictBackoff(retries.total());
      if (Clock::now() + pause >= deadline) {
        return {StatusCode::kDeadlineExceeded, "deadline exceeded"};
      }
      std::this_thread::sleep_for(pause);
    } catch (...) {
      observability::LogJson(
          {{"level", "error"}, {"msg", "transaction body threw a non-standard exception"}});
      return Status::Internal("internal error");
    }
  }
}

}  // namespace cppsvc::db
