#include "cppsvc/db/idempotency.h"

#include <pqxx/pqxx>
#include <stdexcept>
#include <string>

#include "cppsvc/db/migrations.h"

namespace cppsvc::db {

Status ClaimIdempotencyKey(Tx& tx,
                           const IdempotencyScope& scope,
                           std::string_view request_bytes,
                           std::optional<StoredResponse>* replay) {
  replay->reset();
  const std::string method(scope.method);
  const std::string caller(scope.caller);
  const std::string key(scope.key);
  const std::string request_hash = Sha256Hex(request_bytes);
  // The row of a concurrent call that has not committed yet makes this
  // INSERT wait for that call's transaction: if it commits, the row is there
  // to replay; if it rolls back, the INSERT goes through.
  const pqxx::result inserted = tx.exec_params(
      "INSERT INTO cppsvc_idempotency_keys (method, caller, key, request_hash) "
      "VALUES ($1, $2, $3, $4) ON CONFLICT (method, caller, key) DO NOTHING",
      method,
      caller,
      key,
      request_hash);
  if (inserted.affected_rows() == 1) return Status::Ok();

  const pqxx::result stored = tx.exec_params(
      "SELECT request_hash, status_code, response FROM cppsvc_idempotency_keys "
      "WHERE method = $1 AND caller = $2 AND key = $3",
      method,
      caller,
      key);
  if (stored.empty()) {
    // Only if someone deleted the row in between; the caller's retry sorts it out.
    return Status::Aborted("idempotency key " + key + " changed concurrently; try again");
  }
  if (stored[0][0].as<std::string>() != request_hash) {
    return Status::FailedPrecondition("idempotency key " + key +
                                      " was already used with a different request");
  }
  StoredResponse response;
  response.code = static_cast<StatusCode>(stored[0][1].as<int>());
  response.response = pqxx::binarystring(stored[0][2]).str();
  *replay = std::move(response);
  return Status::Ok();
}

void StoreIdempotentResponse(Tx& tx,
                             const IdempotencyScope& scope,
                             StatusCode code,
                             std::string_view response_bytes) {
  const pqxx::result updated = tx.exec_params(
      "UPDATE cppsvc_idempotency_keys SET status_code = $4, response = $5 "
      "WHERE method = $1 AND caller = $2 AND key = $3",
      std::string(scope.method),
      std::string(scope.caller),
      std::string(scope.key),
      static_cast<int>(code),
      pqxx::binarystring(response_bytes.data(), response_bytes.size()));
  if (updated.affected_rows() != 1) {
    throw std::logic_error("idempotency key " + std::string(scope.key) + " of " +
                           std::string(scope.method) + " was not claimed in this transaction");
  }
}

}  // namespace cppsvc::db
