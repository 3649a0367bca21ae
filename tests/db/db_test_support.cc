#include "db_test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <pqxx/pqxx>

#include "process_testing.h"

#ifndef CPPSVC_TEST_PG_URL_FILE
#error "CPPSVC_TEST_PG_URL_FILE must name the fixture server's pg.url"
#endif
#ifndef CPPSVC_PG_SCRIPT
#error "CPPSVC_PG_SCRIPT must name scripts/pg.sh"
#endif
#ifndef CPPSVC_TEST_PRIVATE_PG_ROOT
#error "CPPSVC_TEST_PRIVATE_PG_ROOT must name a directory for private servers"
#endif
#ifndef CPPSVC_INFRASTRUCTURE_SQL
#error "CPPSVC_INFRASTRUCTURE_SQL must name templates/storage/infrastructure.sql"
#endif

namespace cppsvc::db::testing {

namespace {

using process_testing::ReadFile;
using process_testing::Trim;

// PostgreSQL identifiers: lowercase, at most 63 bytes.
std::string DatabaseName() {
  static std::atomic<int> counter{0};
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(test->test_suite_name()) + "_" + test->name();
  std::string clean;
  for (char c : name) {
    clean.push_back(std::isalnum(static_cast<unsigned char>(c))
                        ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                        : '_');
  }
  const std::string suffix = "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  return "t_" + clean.substr(0, 63 - 2 - suffix.size()) + suffix;
}

int RunScript(const std::string& args, const std::string& err_file) {
  const std::string command =
      "bash '" CPPSVC_PG_SCRIPT "' " + args + " > /dev/null 2> '" + err_file + "'";
  return std::system(command.c_str());
}

}  // namespace

std::string ServerUrl() {
  const char* env = std::getenv("CPPSVC_TEST_PG_URL_FILE");
  const std::string file = env != nullptr && *env != '\0' ? env : CPPSVC_TEST_PG_URL_FILE;
  return Trim(ReadFile(file));
}

std::string UrlOfDatabase(const std::string& url, const std::string& database) {
  return url.substr(0, url.rfind('/') + 1) + database;
}

std::string InfrastructureSql() {
  return ReadFile(CPPSVC_INFRASTRUCTURE_SQL);
}

void Exec(const std::string& url, const std::string& sql) {
  pqxx::connection connection(url);
  pqxx::nontransaction tx(connection);
  tx.exec(sql);
}

std::string Query(const std::string& url, const std::string& sql) {
  pqxx::connection connection(url);
  pqxx::nontransaction tx(connection);
  const pqxx::result result = tx.exec(sql);
  if (result.empty() || result[0][0].is_null()) return "";
  return result[0][0].as<std::string>();
}

long long QueryInt(const std::string& url, const std::string& sql) {
  return std::stoll(Query(url, sql));
}

void DatabaseTest::SetUp() {
  server_url_ = ServerUrl();
  ASSERT_EQ(server_url_.rfind("postgresql://postgres@127.0.0.1:", 0), 0u)
      << "no PostgreSQL server URL in the fixture's pg.url (" << CPPSVC_TEST_PG_URL_FILE
      << "); run the tests with ctest, which starts the server, or scripts/pg.sh start";
  name_ = DatabaseName();
  // template0: nobody connects to it, so parallel tests never find it busy.
  testing::Exec(server_url_, "CREATE DATABASE " + name_ + " TEMPLATE template0");
  url_ = UrlOfDatabase(server_url_, name_);
}

void DatabaseTest::TearDown() {
  if (url_.empty()) return;
  try {
    testing::Exec(server_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "cannot drop " << name_ << ": " << e.what();
  }
}

PrivateServer::PrivateServer(const std::string& name)
    : dir_(std::string(CPPSVC_TEST_PRIVATE_PG_ROOT) + "/" + name + "-" + std::to_string(getpid())) {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  std::filesystem::create_directories(dir_);
}

PrivateServer::~PrivateServer() {
  if (running_) RunScript("stop '" + dir_ + "'", "/dev/null");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void PrivateServer::Start() {
  const std::string err = dir_ + ".start.err";
  const int rc = RunScript("start '" + dir_ + "'", err);
  ASSERT_TRUE(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0)
      << "scripts/pg.sh start failed: " << ReadFile(err);
  std::filesystem::remove(err);
  running_ = true;
  url_ = Trim(ReadFile(dir_ + "/pg.url"));
  ASSERT_EQ(url_.rfind("postgresql://postgres@127.0.0.1:", 0), 0u) << url_;
}

void PrivateServer::Stop() {
  const std::string err = dir_ + ".stop.err";
  const int rc = RunScript("stop '" + dir_ + "'", err);
  ASSERT_TRUE(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0)
      << "scripts/pg.sh stop failed: " << ReadFile(err);
  std::filesystem::remove(err);
  running_ = false;
}

}  // namespace cppsvc::db::testing
