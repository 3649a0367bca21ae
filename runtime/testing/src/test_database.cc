// TestDatabase: CREATE DATABASE on the configured server, migrations, DROP.

#include "cppsvc/testing/test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <pqxx/pqxx>

namespace cppsvc::testing {
namespace {

std::string ConfiguredServer() {
  if (const char* url = std::getenv("CPPSVC_TEST_DATABASE_URL"); url != nullptr && *url != '\0')
    return url;
  const char* file = std::getenv("CPPSVC_TEST_DATABASE_URL_FILE");
  if (file == nullptr || *file == '\0') return {};
  std::ifstream in(file);
  std::string url;
  if (!(in >> url)) {
    throw std::runtime_error(std::string("CPPSVC_TEST_DATABASE_URL_FILE: cannot read ") + file);
  }
  return url;
}

// The same server and user as `server`, database `name` (key=value form,
// which libpq accepts whatever form `server` had).
std::string ConninfoOf(const std::string& server, const std::string& name) {
  pqxx::connection c(server);
  std::ostringstream out;
  if (const char* host = c.hostname(); host != nullptr && *host != '\0')
    out << "host=" << host << ' ';
  if (const char* port = c.port(); port != nullptr && *port != '\0') out << "port=" << port << ' ';
  if (const char* user = c.username(); user != nullptr && *user != '\0')
    out << "user=" << user << ' ';
  out << "dbname=" << name;
  return out.str();
}

void Execute(const std::string& server, const std::string& sql) {
  pqxx::connection c(server);
  pqxx::nontransaction tx(c);
  tx.exec(sql);
}

}  // namespace

std::unique_ptr<TestDatabase> TestDatabase::Create(const std::vector<db::Migration>& migrations,
                                                   std::string* why) {
  const std::string server = ConfiguredServer();
  if (server.empty()) {
    *why = "needs PostgreSQL: set CPPSVC_TEST_DATABASE_URL (or CPPSVC_TEST_DATABASE_URL_FILE)";
    return nullptr;
  }
  static std::atomic<int> counter{0};
  const std::string name =
      "cppsvc_contract_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
  Execute(server, "CREATE DATABASE " + name);
  std::unique_ptr<TestDatabase> database(new TestDatabase(server, name));
  const std::string conninfo = ConninfoOf(server, name);
  db::ApplyMigrations(conninfo, migrations);
  db::PoolOptions options;
  options.conninfo = conninfo;
  options.size = 4;
  database->pool_ = std::make_shared<db::Pool>(options);
  return database;
}

TestDatabase::TestDatabase(std::string server, std::string name)
    : server_(std::move(server)), name_(std::move(name)) {}

TestDatabase::~TestDatabase() {
  pool_.reset();
  try {
    Execute(server_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The server went away first: nothing is left to drop.
  }
}

}  // namespace cppsvc::testing
