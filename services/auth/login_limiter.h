// The limit on failed logins: after `max_failures` failed attempts for an
// account (or for a client address, when the call tells it) within the
// window, further attempts are refused until the oldest of them leaves it.
//
// Every attempt is written to login_failures before its password is checked
// and deleted once it was right, so concurrent attempts count one another
// and a process that dies mid-attempt leaves a failure behind. Those writes
// commit on a connection of their own: a refused or failed login returns an
// error, which rolls back the call's transaction.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "cppsvc/context.h"
#include "cppsvc/db/pool.h"
#include "cppsvc/db/transaction.h"
#include "cppsvc/status.h"

namespace auth {

class LoginLimiter {
 public:
  LoginLimiter(std::shared_ptr<cppsvc::db::Pool> pool,
               int max_failures,
               std::chrono::seconds window);

  struct Attempt {
    std::string id;  // its row in login_failures
    std::string email;
    cppsvc::Clock::time_point at;
  };

  // Records an attempt for `email` (lower-cased) from `address` ("" when
  // unknown) and decides on it: OK with `attempt` filled, RESOURCE_EXHAUSTED
  // naming the seconds until a retry can succeed, or the database's error.
  cppsvc::Status Admit(const std::string& email,
                       const std::string& address,
                       cppsvc::Clock::time_point deadline,
                       Attempt& attempt) const;

  // In the call's transaction: the attempt was right, so it and the
  // account's earlier failures are forgotten.
  static void Succeeded(cppsvc::db::Tx& tx, const Attempt& attempt);

 private:
  // When the attempts other than `attempt` for `column` = `value` within the
  // window reach the limit: the time until enough of them have left it.
  std::optional<std::chrono::seconds> RetryAfter(cppsvc::db::Tx& tx,
                                                 bool by_address,
                                                 const std::string& value,
                                                 const Attempt& attempt) const;

  std::shared_ptr<cppsvc::db::Pool> pool_;
  int max_failures_;
  std::chrono::seconds window_;
};

}  // namespace auth
