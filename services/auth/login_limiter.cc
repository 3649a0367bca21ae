#include "auth/login_limiter.h"

#include <algorithm>

#include <pqxx/pqxx>

#include "auth/sql_time.h"
#include "commerce/auth/v1/auth.cppsvc.repo.h"
#include "common/util.h"
#include "cppsvc/db/statements.h"

namespace auth {
namespace {

using commerce::auth::v1::LoginFailure;
using commerce::auth::v1::LoginFailureRepository;

const cppsvc::db::Statement kSweep("auth.LoginFailures.Sweep", R"sql(
DELETE FROM login_failures
WHERE attempted_at < $1::timestamptz
)sql");

// The n-th most recent attempt (OFFSET $4) in the window other than $3.
const cppsvc::db::Statement kNthByEmail("auth.LoginFailures.NthByEmail", R"sql(
SELECT (EXTRACT(EPOCH FROM attempted_at) * 1000000)::bigint
FROM login_failures
WHERE email = $1 AND attempted_at > $2::timestamptz
  AND id <> $3
ORDER BY attempted_at DESC
OFFSET $4 LIMIT 1
)sql");
const cppsvc::db::Statement kNthByAddress("auth.LoginFailures.NthByAddress", R"sql(
SELECT (EXTRACT(EPOCH FROM attempted_at) * 1000000)::bigint
FROM login_failures
WHERE address = $1 AND attempted_at > $2::timestamptz
  AND id <> $3
ORDER BY attempted_at DESC
OFFSET $4 LIMIT 1
)sql");

const cppsvc::db::Statement kForget("auth.LoginFailures.Forget", R"sql(
DELETE FROM login_failures
WHERE email = $1 AND attempted_at <= $2::timestamptz
)sql");

cppsvc::Status TooMany(std::chrono::seconds retry_after) {
  return {cppsvc::StatusCode::kResourceExhausted,
          "too many failed logins; retry in " + std::to_string(retry_after.count()) + " s"};
}

}  // namespace

LoginLimiter::LoginLimiter(std::shared_ptr<cppsvc::db::Pool> pool,
                           int max_failures,
                           std::chrono::seconds window)
    : pool_(std::move(pool)), max_failures_(max_failures), window_(window) {}

cppsvc::Status LoginLimiter::Admit(const std::string& email,
                                   const std::string& address,
                                   cppsvc::Clock::time_point deadline,
                                   Attempt& attempt) const {
  cppsvc::Status recorded = cppsvc::db::RunInTransaction(*pool_, deadline, [&](cppsvc::db::Tx& tx) {
    LoginFailure row;
    row.set_email(email);
    row.set_address(address);
    LoginFailureRepository(tx).Insert(row);
    attempt = {row.id(), email, services::FromTimestamp(row.attempted_at())};
    tx.exec_prepared(kSweep.name, SqlTime(attempt.at - window_));
    return cppsvc::Status::Ok();
  });
  if (!recorded.ok()) return recorded;
  std::optional<std::chrono::seconds> retry_after;
  cppsvc::Status decided = cppsvc::db::RunInTransaction(*pool_, deadline, [&](cppsvc::db::Tx& tx) {
    retry_after = RetryAfter(tx, false, email, attempt);
    if (!retry_after && !address.empty()) retry_after = RetryAfter(tx, true, address, attempt);
    if (retry_after) LoginFailureRepository(tx).Delete(attempt.id);  // refused: not an attempt
    return cppsvc::Status::Ok();
  });
  if (!decided.ok()) return decided;
  return retry_after ? TooMany(*retry_after) : cppsvc::Status::Ok();
}

std::optional<std::chrono::seconds> LoginLimiter::RetryAfter(cppsvc::db::Tx& tx,
                                                             bool by_address,
                                                             const std::string& value,
                                                             const Attempt& attempt) const {
  pqxx::result r = tx.exec_prepared((by_address ? kNthByAddress : kNthByEmail).name,
                                    value,
                                    SqlTime(attempt.at - window_),
                                    attempt.id,
                                    max_failures_ - 1);
  if (r.empty()) return std::nullopt;
  // Once the max_failures-th most recent has left the window, fewer remain.
  const auto leaves = FromMicros(r[0][0].as<int64_t>()) + window_;
  auto left = std::chrono::ceil<std::chrono::seconds>(leaves - attempt.at);
  return std::max(left, std::chrono::seconds(1));
}

void LoginLimiter::Succeeded(cppsvc::db::Tx& tx, const Attempt& attempt) {
  tx.exec_prepared(kForget.name, attempt.email, SqlTime(attempt.at));
}

}  // namespace auth
