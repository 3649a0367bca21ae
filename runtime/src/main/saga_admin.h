// The sagas a service owns, for operators: the `sagas` command of a
// generated main(), the /sagas routes of its admin endpoint, and the
// timeout sweeper every replica runs.
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cppsvc/admin/admin_server.h"
#include "cppsvc/db/pool.h"
#include "cppsvc/sagas/owner.h"

namespace cppsvc::impl {

// `sagas list [--status S] [--saga NAME]` (one JSON line per instance) and
// `sagas show <id> [--saga NAME]` (the instance with its history); args[0] is
// "sagas". Returns the exit code.
int SagaCommand(std::string_view service, const std::vector<std::string>& args, db::Pool& pool);

// GET /sagas[?status=S&saga=NAME] and GET /sagas/<id>.
admin::AdminServer::Reply SagaRoute(db::Pool& pool, std::string_view method, std::string_view path);

// Compensates timed-out instances of `owners` every `interval`, until Stop.
class SagaSweeper {
 public:
  SagaSweeper(std::vector<sagas::Owner*> owners,
              db::Pool& pool,
              std::chrono::milliseconds interval);
  ~SagaSweeper();  // Stop()
  void Stop();

 private:
  void Loop();

  std::vector<sagas::Owner*> owners_;
  db::Pool& pool_;
  std::chrono::milliseconds interval_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace cppsvc::impl
