// Databases for the database runtime's tests: every test gets a database of
// its own on the PostgreSQL server of the `postgres` CTest fixture, so tests
// run in parallel; fault tests start a private server with scripts/pg.sh.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "cppsvc/context.h"
#include "cppsvc/db/db.h"

namespace cppsvc::db::testing {

using namespace std::chrono_literals;

// The fixture server's URL (postgresql://postgres@127.0.0.1:PORT/postgres),
// read from $CPPSVC_TEST_PG_URL_FILE or the build's pg/pg.url.
std::string ServerUrl();

// `url` with its database replaced by `database`.
std::string UrlOfDatabase(const std::string& url, const std::string& database);

// templates/storage/infrastructure.sql.
std::string InfrastructureSql();

inline Clock::time_point In(std::chrono::milliseconds d) {
  return Clock::now() + d;
}

// Runs `sql` on its own connection to `url`, outside a transaction.
void Exec(const std::string& url, const std::string& sql);
// The first column of the first row of `sql`, as text ("" for NULL).
std::string Query(const std::string& url, const std::string& sql);
long long QueryInt(const std::string& url, const std::string& sql);

// A fresh, empty database named after the running test; dropped at the end.
class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& url() const { return url_; }
  void Exec(const std::string& sql) const { testing::Exec(url_, sql); }
  long long QueryInt(const std::string& sql) const { return testing::QueryInt(url_, sql); }
  std::string Query(const std::string& sql) const { return testing::Query(url_, sql); }

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
};

// A PostgreSQL server of one test (scripts/pg.sh in a directory of its own),
// for tests that stop and restart it.
class PrivateServer {
 public:
  explicit PrivateServer(const std::string& name);
  ~PrivateServer();

  // Both fail the test on error; Start reuses the data and port of the
  // previous start.
  void Start();
  void Stop();
  const std::string& url() const { return url_; }

 private:
  std::string dir_;
  std::string url_;
  bool running_ = false;
};

}  // namespace cppsvc::db::testing
