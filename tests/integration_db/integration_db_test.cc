// Process-level persistence tests of a generated service with a database:
// ledger_service (the generated main() with the handlers of
// ledger_service.cc) runs as real processes configured by their environment
// against a real PostgreSQL 15, and the tests call it over gRPC (the
// generated client, or raw stubs where every answer must be seen as the
// server gave it, without client retries), then read the database directly.
//
// Databases: a fresh one per test (`scripts/pg.sh createdb`) on the server of
// the `postgres` CTest fixture; the fault tests start a private server
// (`scripts/pg.sh start` in a directory of their own) so that stopping it
// leaves the shared one alone.
//
// Every wait is bounded; every process, database and private server a test
// makes is removed in TearDown, also when the test fails.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/client.h"
#include "cppsvc/db/migrations.h"
#include "ledger/v1/ledger.cppsvc.client.h"
#include "ledger/v1/ledger.cppsvc.migrations.h"
#include "ledger/v1/ledger.grpc.pb.h"
#include "process_testing.h"

#ifndef LEDGER_SERVICE_BINARY
#error "LEDGER_SERVICE_BINARY must name the ledger_service executable"
#endif
#ifndef CPPSVC_PG_SCRIPT
#error "CPPSVC_PG_SCRIPT must name scripts/pg.sh"
#endif
#ifndef CPPSVC_TEST_PG_DIR
#error "CPPSVC_TEST_PG_DIR must name the directory of the postgres fixture's server"
#endif
#ifndef CPPSVC_TEST_PRIVATE_PG_ROOT
#error "CPPSVC_TEST_PRIVATE_PG_ROOT must name a directory for private servers"
#endif

namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
using ledger::v1::Entry;
using ledger::v1::LedgerService;
using ledger::v1::PostRequest;
using ledger::v1::PostResponse;
using namespace cppsvc::process_testing;

constexpr char kJwtKey[] = "integration-db-test-hs256-secret-of-enough-length";
constexpr char kIssuer[] = "cppsvc-integration-db";
constexpr char kAudience[] = "ledger";

// Deterministic bytes of a message, to compare answers byte for byte.
std::string Bytes(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  return out;
}

bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// ---------------------------------------------------------------------------
// PostgreSQL through scripts/pg.sh, and direct reads of a database.

// A database name unique to this test and process (lowercase, <= 63 bytes).
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
  return "ledger_" + clean.substr(0, 63 - 7 - suffix.size()) + suffix;
}

std::string UrlOfDatabase(const std::string& url, const std::string& database) {
  return url.substr(0, url.rfind('/') + 1) + database;
}

// Every outbox row's payload, decoded (the handler stores the Entry).
struct OutboxRow {
  std::string id;
  std::string subject;
  std::string event_type;
  Entry entry;
  bool parsed = false;
};

std::vector<OutboxRow> OutboxRows(const std::string& url) {
  pqxx::connection connection(url);
  pqxx::nontransaction tx(connection);
  std::vector<OutboxRow> out;
  for (const pqxx::row& row :
       tx.exec("SELECT id::text, subject, event_type, payload FROM cppsvc_outbox ORDER BY seq")) {
    OutboxRow r;
    r.id = row[0].as<std::string>();
    r.subject = row[1].as<std::string>();
    r.event_type = row[2].as<std::string>();
    r.parsed = r.entry.ParseFromString(pqxx::binarystring(row[3]).str());
    out.push_back(std::move(r));
  }
  return out;
}

// A PostgreSQL server of one test (scripts/pg.sh in a directory of its
// own), for tests that stop it and start it again (same data, same port).
class PrivateServer {
 public:
  explicit PrivateServer(const std::string& name)
      : dir_(std::string(CPPSVC_TEST_PRIVATE_PG_ROOT) + "/" + name + "-" +
             std::to_string(getpid())) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::create_directories(dir_);
  }
  ~PrivateServer() {
    if (running_) PgScript({"stop", dir_}, dir_ + ".stop");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Each returns "" or what went wrong.
  std::string Start() {
    ScriptResult r = PgScript({"start", dir_}, dir_ + ".start");
    if (!r.ok()) return "scripts/pg.sh start failed (" + DescribeWaitStatus(r.rc) + "): " + r.err;
    running_ = true;
    url_ = r.out;
    if (url_.rfind("postgresql://postgres@127.0.0.1:", 0) != 0) return "unexpected URL " + url_;
    return "";
  }
  std::string Stop() {
    ScriptResult r = PgScript({"stop", dir_}, dir_ + ".stop");
    if (!r.ok()) return "scripts/pg.sh stop failed (" + DescribeWaitStatus(r.rc) + "): " + r.err;
    running_ = false;
    return "";
  }
  std::string CreateDatabase(const std::string& name, std::string& url) {
    ScriptResult r = PgScript({"createdb", dir_, name}, dir_ + ".createdb");
    if (!r.ok())
      return "scripts/pg.sh createdb failed (" + DescribeWaitStatus(r.rc) + "): " + r.err;
    url = r.out;
    return "";
  }
  const std::string& url() const { return url_; }

 private:
  std::string dir_;
  std::string url_;
  bool running_ = false;
};

// ---------------------------------------------------------------------------
// The fixture: ledger_service processes against one database.

struct Service {
  std::string id;
  uint16_t grpc_port = 0;
  uint16_t admin_port = 0;
  std::unique_ptr<Process> process;

  std::string address() const { return "127.0.0.1:" + std::to_string(grpc_port); }
};

// One raw gRPC call's outcome.
struct Outcome {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string message;
  std::string response;  // deterministic bytes of the response
};

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("cppsvc-integration-db");
    ASSERT_FALSE(dir_.empty()) << "mkdtemp failed";
    token_ = TokenFor("integration-db-test");
  }

  // A token of the "user" role for `subject`.
  static std::string TokenFor(const std::string& subject) {
    cppsvc::auth::JwtConfig config;
    config.algorithm = cppsvc::auth::Algorithm::kHS256;
    config.key = kJwtKey;
    config.issuer = kIssuer;
    config.audience = kAudience;
    cppsvc::auth::TokenClaims claims;
    claims.subject = subject;
    claims.roles = {"user"};
    claims.ttl = std::chrono::seconds(3600);
    return cppsvc::auth::JwtSigner(config).Sign(claims);
  }

  void TearDown() override {
    for (auto& s : services_) {
      if (HasFailure() && s->process) {
        std::cerr << "--- stderr of " << s->id << " (pid " << s->process->pid() << ") ---\n"
                  << Tail(s->process->Stderr()) << "\n";
      }
      if (s->process) s->process->Kill();
    }
    services_.clear();
    if (!shared_db_.empty()) {
      try {
        pqxx::connection connection(shared_server_url_);
        pqxx::nontransaction tx(connection);
        tx.exec("DROP DATABASE IF EXISTS " + shared_db_ + " WITH (FORCE)");
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cannot drop " << shared_db_ << ": " << e.what();
      }
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // A fresh database on the `postgres` fixture's server, made with
  // scripts/pg.sh createdb; its URL in db_url_.
  void CreateSharedDatabase() {
    shared_server_url_ = Trim(ReadFile(CPPSVC_TEST_PG_DIR "/pg.url"));
    ASSERT_EQ(shared_server_url_.rfind("postgresql://postgres@127.0.0.1:", 0), 0u)
        << "no PostgreSQL server URL in " CPPSVC_TEST_PG_DIR
           "/pg.url; run the tests with ctest, which starts the `postgres` fixture";
    const std::string name = DatabaseName();
    ScriptResult r = PgScript({"createdb", CPPSVC_TEST_PG_DIR, name}, dir_ + "/createdb");
    ASSERT_TRUE(r.ok()) << "scripts/pg.sh createdb failed (" << DescribeWaitStatus(r.rc)
                        << "): " << r.err;
    shared_db_ = name;
    db_url_ = r.out;
    ASSERT_EQ(db_url_, UrlOfDatabase(shared_server_url_, name));
  }

  std::vector<std::string> ServiceEnv(const Service& s,
                                      const std::vector<std::string>& extra) const {
    std::vector<std::string> env{
        PathVariable(),
        "LEDGER_GRPC_PORT=" + std::to_string(s.grpc_port),
        "LEDGER_ADMIN_PORT=" + std::to_string(s.admin_port),
        "LEDGER_LISTEN_ADDRESS=127.0.0.1",
        "LEDGER_WORKERS=8",
        "LEDGER_MAX_QUEUE=256",
        "LEDGER_DATABASE_URL=" + db_url_,
        "CPPSVC_JWT_ALGORITHM=HS256",
        std::string("CPPSVC_JWT_KEY=") + kJwtKey,
        std::string("CPPSVC_JWT_ISSUER=") + kIssuer,
        std::string("CPPSVC_JWT_AUDIENCE=") + kAudience,
        "CPPSVC_LOG_REQUESTS=false",
    };
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
  }

  // Starts a process without waiting for it; null (and a failure) on error.
  Service* Launch(const std::string& id, const std::vector<std::string>& extra = {}) {
    auto s = std::make_unique<Service>();
    s->id = id;
    s->grpc_port = FreePort();
    s->admin_port = FreePort();
    if (s->grpc_port == 0 || s->admin_port == 0) {
      ADD_FAILURE() << "no free port";
      return nullptr;
    }
    const std::string base = dir_ + "/" + id;
    s->process = std::make_unique<Process>(LEDGER_SERVICE_BINARY,
                                           ServiceEnv(*s, extra),
                                           base + ".out",
                                           base + ".err");
    std::string error;
    if (!s->process->Start(error)) {
      ADD_FAILURE() << "cannot start " << id << ": " << error;
      return nullptr;
    }
    services_.push_back(std::move(s));
    return services_.back().get();
  }

  // A database service is ready once PostgreSQL answers and the migrations
  // are applied.
  bool WaitReady(Service& s, std::chrono::milliseconds timeout = 30s) {
    return cppsvc::process_testing::WaitReady(*s.process, s.admin_port, s.id, timeout);
  }

  Service* StartService(const std::string& id, const std::vector<std::string>& extra = {}) {
    Service* s = Launch(id, extra);
    if (s == nullptr || !WaitReady(*s)) return nullptr;
    return s;
  }

  cppsvc::ClientOptions ClientOptions(const Service& s) const {
    cppsvc::ClientOptions options;
    options.addresses = {s.address()};
    options.bearer_token = token_;
    return options;
  }

  std::unique_ptr<LedgerService::Stub> Stub(const Service& s) const {
    return LedgerService::NewStub(
        grpc::CreateChannel(s.address(), grpc::InsecureChannelCredentials()));
  }

  // One raw call: no client retries, the server's answer as given.
  template <typename Request, typename Response, typename Method>
  Outcome Call(Method method,
               const Request& request,
               Response* response,
               std::chrono::milliseconds deadline = 20s) const {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    context.AddMetadata("authorization", "Bearer " + token_);
    grpc::Status status = method(&context, request, response);
    Outcome out;
    out.code = status.error_code();
    out.message = status.error_message();
    if (status.ok()) out.response = Bytes(*response);
    return out;
  }

  Outcome Post(LedgerService::Stub& stub,
               const PostRequest& request,
               PostResponse* response) const {
    return Call(
        [&](grpc::ClientContext* c, const PostRequest& r, PostResponse* out) {
          return stub.Post(c, r, out);
        },
        request,
        response);
  }

  Outcome Update(LedgerService::Stub& stub,
                 const ledger::v1::UpdateRequest& request,
                 ledger::v1::UpdateResponse* response) const {
    return Call([&](grpc::ClientContext* c,
                    const ledger::v1::UpdateRequest& r,
                    ledger::v1::UpdateResponse* out) { return stub.Update(c, r, out); },
                request,
                response);
  }

  Outcome Get(LedgerService::Stub& stub,
              const std::string& id,
              ledger::v1::GetResponse* response) const {
    ledger::v1::GetRequest request;
    request.set_id(id);
    return Call(
        [&](grpc::ClientContext* c, const ledger::v1::GetRequest& r, ledger::v1::GetResponse* out) {
          return stub.Get(c, r, out);
        },
        request,
        response);
  }

  long long Count(const std::string& sql) const { return QueryInt(db_url_, sql); }

  std::string dir_;
  std::string token_;
  std::string shared_server_url_;
  std::string shared_db_;  // dropped in TearDown
  std::string db_url_;
  std::vector<std::unique_ptr<Service>> services_;
};

std::string Describe(const Outcome& o) {
  return std::to_string(static_cast<int>(o.code)) + " '" + o.message + "'";
}

PostRequest MakePost(const std::string& request_id,
                     const std::string& account,
                     int64_t amount,
                     bool fail_after_write = false) {
  PostRequest request;
  request.set_request_id(request_id);
  request.set_account(account);
  request.set_amount(amount);
  request.set_fail_after_write(fail_after_write);
  return request;
}

class Migrations : public LedgerTest {};
class Atomicity : public LedgerTest {};
class Idempotency : public LedgerTest {};
class OptimisticLocking : public LedgerTest {};
class Fault : public LedgerTest {};

// ---------------------------------------------------------------------------
// Migrations: replicas starting together against an empty database.

TEST_F(Migrations, TwoProcessesStartingTogetherApplyEachOnce) {
  CreateSharedDatabase();
  ASSERT_FALSE(HasFatalFailure());
  const std::vector<cppsvc::db::Migration>& migrations = ledger::v1::LedgerMigrations();
  ASSERT_FALSE(migrations.empty());
  ASSERT_EQ(migrations.front().name, "0001_init");

  // Both forked back to back, before either is waited for.
  Service* a = Launch("a");
  Service* b = Launch("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(WaitReady(*a));
  ASSERT_TRUE(WaitReady(*b));

  auto rows = QueryRows(db_url_,
                        "SELECT name, checksum, count(*) OVER (PARTITION BY name) "
                        "FROM cppsvc_schema_migrations ORDER BY name");
  ASSERT_EQ(rows.size(), migrations.size());
  for (size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(rows[i][0], migrations[i].name);
    EXPECT_EQ(rows[i][1], cppsvc::db::Sha256Hex(migrations[i].sql)) << migrations[i].name;
    EXPECT_EQ(rows[i][2], "1") << migrations[i].name;
  }

  // Each process logged what it applied: together, every migration once.
  std::map<std::string, int> applied;
  for (Service* s : {a, b}) {
    const std::string log = s->process->Stderr();
    const size_t line_start = log.find("\"msg\":\"migrations\"");
    ASSERT_NE(line_start, std::string::npos) << s->id << " logged no migrations line:\n" << log;
    const size_t begin =
        log.rfind('\n', line_start) == std::string::npos ? 0 : log.rfind('\n', line_start) + 1;
    const std::string line = log.substr(begin, log.find('\n', line_start) - begin);
    for (const cppsvc::db::Migration& m : migrations) {
      const size_t list = line.find("\"applied\":[");
      ASSERT_NE(list, std::string::npos) << line;
      const std::string names = line.substr(list, line.find(']', list) - list);
      if (names.find("\"" + m.name + "\"") != std::string::npos) ++applied[m.name];
    }
  }
  for (const cppsvc::db::Migration& m : migrations) {
    EXPECT_EQ(applied[m.name], 1) << m.name << " applied by " << applied[m.name] << " processes";
  }

  // The tables are there and both processes serve from them.
  EXPECT_EQ(Count("SELECT count(*) FROM entries"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM cppsvc_outbox"), 0);
  for (Service* s : {a, b}) {
    ledger::v1::LedgerServiceClient client(ClientOptions(*s));
    ledger::v1::StatsResponse stats;
    cppsvc::Status status = client.Stats(ledger::v1::StatsRequest(), &stats);
    ASSERT_TRUE(status.ok()) << s->id << ": " << status.ToString();
    EXPECT_EQ(stats.entries(), 0);
    EXPECT_EQ(stats.outbox(), 0);
  }
}

// ---------------------------------------------------------------------------
// Atomicity: the entry and its outbox row commit together or not at all.

TEST_F(Atomicity, FailedCallLeavesNothingAndOkCallLeavesOneOfEach) {
  CreateSharedDatabase();
  ASSERT_FALSE(HasFatalFailure());
  Service* s = StartService("ledger");
  ASSERT_TRUE(s);
  ledger::v1::LedgerServiceClient client(ClientOptions(*s));

  PostResponse failed;
  cppsvc::Status status = client.Post(MakePost("req-1", "alice", 125, true), &failed);
  EXPECT_EQ(status.code(), cppsvc::StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_NE(status.message().find("fail_after_write"), std::string::npos) << status.ToString();
  EXPECT_EQ(Count("SELECT count(*) FROM entries"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM cppsvc_outbox"), 0);
  // The idempotency key was released with the rest: the same request_id is free.
  EXPECT_EQ(Count("SELECT count(*) FROM cppsvc_idempotency_keys"), 0);
  ledger::v1::StatsResponse stats;
  ASSERT_TRUE(client.Stats(ledger::v1::StatsRequest(), &stats).ok());
  EXPECT_EQ(stats.entries(), 0);
  EXPECT_EQ(stats.outbox(), 0);

  PostResponse posted;
  status = client.Post(MakePost("req-1", "alice", 125), &posted);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_FALSE(posted.entry().id().empty());
  EXPECT_EQ(posted.entry().account(), "alice");
  EXPECT_EQ(posted.entry().amount(), 125);
  EXPECT_EQ(posted.entry().note(), "req-1");
  EXPECT_GT(posted.entry().created_at().seconds(), 0);
  EXPECT_EQ(posted.version(), 1);

  EXPECT_EQ(Count("SELECT count(*) FROM entries"), 1);
  auto rows = QueryRows(db_url_, "SELECT id, account, amount, note, version FROM entries");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{posted.entry().id(), "alice", "125", "req-1", "1"}));
  std::vector<OutboxRow> outbox = OutboxRows(db_url_);
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].id, posted.event_id());
  EXPECT_EQ(outbox[0].subject, "ledger.entries.posted");
  EXPECT_EQ(outbox[0].event_type, "ledger.v1.Entry");
  ASSERT_TRUE(outbox[0].parsed);
  EXPECT_TRUE(SameMessage(outbox[0].entry, posted.entry()))
      << outbox[0].entry.ShortDebugString() << " vs " << posted.entry().ShortDebugString();
  EXPECT_EQ(Count("SELECT count(*) FROM cppsvc_idempotency_keys WHERE key = 'req-1'"), 1);

  ASSERT_TRUE(client.Stats(ledger::v1::StatsRequest(), &stats).ok());
  EXPECT_EQ(stats.entries(), 1);
  EXPECT_EQ(stats.outbox(), 1);

  ledger::v1::GetRequest get;
  get.set_id(posted.entry().id());
  ledger::v1::GetResponse got;
  status = client.Get(get, &got);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(SameMessage(got.entry(), posted.entry()))
      << got.entry().ShortDebugString() << " vs " << posted.entry().ShortDebugString();
  EXPECT_EQ(got.version(), 1);

  // A failing call after a committed one leaves the committed rows alone.
  status = client.Post(MakePost("req-2", "bob", 7, true), &failed);
  EXPECT_EQ(status.code(), cppsvc::StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_EQ(Count("SELECT count(*) FROM entries"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM cppsvc_outbox"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM entries WHERE note = 'req-2'"), 0);
}

// ---------------------------------------------------------------------------
// Idempotency: one request_id, one write, whatever the concurrency.

TEST_F(Idempotency, ConcurrentIdenticalPostsWriteOnceAndAnswerAlike) {
  CreateSharedDatabase();
  ASSERT_FALSE(HasFatalFailure());
  Service* s = StartService("ledger");
  ASSERT_TRUE(s);

  constexpr int kCalls = 50;
  const PostRequest request = MakePost("same-request", "carol", 4200);
  std::vector<Outcome> outcomes(kCalls);
  std::vector<PostResponse> responses(kCalls);
  {
    // One channel per caller; all start together.
    std::vector<std::unique_ptr<LedgerService::Stub>> stubs;
    for (int i = 0; i < kCalls; ++i) stubs.push_back(Stub(*s));
    std::mutex mu;
    std::condition_variable go;
    bool started = false;
    std::vector<std::thread> callers;
    for (int i = 0; i < kCalls; ++i) {
      callers.emplace_back([&, i] {
        {
          std::unique_lock lock(mu);
          go.wait(lock, [&] { return started; });
        }
        outcomes[i] = Post(*stubs[i], request, &responses[i]);
      });
    }
    {
      std::lock_guard lock(mu);
      started = true;
    }
    go.notify_all();
    for (auto& c : callers) c.join();
  }

  for (int i = 0; i < kCalls; ++i) {
    ASSERT_EQ(outcomes[i].code, grpc::StatusCode::OK)
        << "call " << i << ": " << Describe(outcomes[i]);
  }
  for (int i = 1; i < kCalls; ++i) {
    EXPECT_EQ(outcomes[i].response, outcomes[0].response)
        << "call " << i << " answered " << responses[i].ShortDebugString() << ", call 0 "
        << responses[0].ShortDebugString();
  }
  EXPECT_FALSE(responses[0].entry().id().empty());
  EXPECT_EQ(responses[0].entry().note(), "same-request");
  EXPECT_EQ(Count("SELECT count(*) FROM entries"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM cppsvc_outbox"), 1);
  auto ids = QueryRows(db_url_, "SELECT id FROM entries");
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0][0], responses[0].entry().id());
  std::vector<OutboxRow> outbox = OutboxRows(db_url_);
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].id, responses[0].event_id());
  EXPECT_EQ(outbox[0].entry.id(), responses[0].entry().id());

  // Later, the same request replays the same answer; the same request_id
  // with another amount is refused, and nothing more is written.
  auto stub = Stub(*s);
  PostResponse again;
  Outcome replay = Post(*stub, request, &again);
  ASSERT_EQ(replay.code, grpc::StatusCode::OK) << Describe(replay);
  EXPECT_EQ(replay.response, outcomes[0].response);

  PostResponse other;
  PostRequest changed = request;
  changed.set_amount(4201);
  Outcome refused = Post(*stub, changed, &other);
  EXPECT_EQ(refused.code, grpc::StatusCode::FAILED_PRECONDITION) << Describe(refused);
  EXPECT_NE(refused.message.find("different request"), std::string::npos) << refused.message;
  EXPECT_EQ(Count("SELECT count(*) FROM entries"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM cppsvc_outbox"), 1);
  EXPECT_EQ(Count("SELECT amount FROM entries"), 4200);

  // The generated client (which retries Post, having an idempotency key)
  // gets the same answer too.
  ledger::v1::LedgerServiceClient client(ClientOptions(*s));
  PostResponse via_client;
  cppsvc::Status status = client.Post(request, &via_client);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Bytes(via_client), outcomes[0].response);
}

// Keys are scoped by caller: a second caller who sends the first's key (with
// the same body, or another) gets a call of its own, never the first's
// response, and no hint that the key is in use.
TEST_F(Idempotency, AnotherCallersKeyIsANewKey) {
  CreateSharedDatabase();
  ASSERT_FALSE(HasFatalFailure());
  Service* s = StartService("ledger");
  ASSERT_TRUE(s);
  ledger::v1::LedgerServiceClient alice(ClientOptions(*s));
  PostResponse first;
  cppsvc::Status status = alice.Post(MakePost("order-key-1", "alice", 100), &first);
  ASSERT_TRUE(status.ok()) << status.ToString();

  cppsvc::ClientOptions options = ClientOptions(*s);
  options.bearer_token = TokenFor("mallory");
  ledger::v1::LedgerServiceClient mallory(options);
  PostResponse different;
  status = mallory.Post(MakePost("order-key-1", "alice", 999), &different);
  ASSERT_TRUE(status.ok()) << "the answer tells another caller the key is in use: "
                           << status.ToString();
  options.bearer_token = TokenFor("bob");
  ledger::v1::LedgerServiceClient bob(options);
  PostResponse same;
  status = bob.Post(MakePost("order-key-1", "alice", 100), &same);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_NE(same.entry().id(), first.entry().id()) << "another caller's response was replayed";
  EXPECT_EQ(Count("SELECT count(*) FROM entries"), 3);

  // The first caller's key still replays its own response.
  PostResponse again;
  status = alice.Post(MakePost("order-key-1", "alice", 100), &again);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(again.entry().id(), first.entry().id());
  EXPECT_EQ(Count("SELECT count(*) FROM entries"), 3);
}

// ---------------------------------------------------------------------------
// Optimistic locking: of concurrent updates from one version, one wins.

// Runs call(i) for i in [0, n) on n threads released at the same moment.
void CallTogether(int n, const std::function<void(int)>& call) {
  std::mutex mu;
  std::condition_variable go;
  bool started = false;
  std::vector<std::thread> callers;
  for (int i = 0; i < n; ++i) {
    callers.emplace_back([&, i] {
      {
        std::unique_lock lock(mu);
        go.wait(lock, [&] { return started; });
      }
      call(i);
    });
  }
  {
    std::lock_guard lock(mu);
    started = true;
  }
  go.notify_all();
  for (auto& c : callers) c.join();
}

TEST_F(OptimisticLocking, ConcurrentUpdatesFromOneVersionOneWins) {
  CreateSharedDatabase();
  ASSERT_FALSE(HasFatalFailure());
  Service* s = StartService("ledger");
  ASSERT_TRUE(s);
  auto stub = Stub(*s);
  PostResponse posted;
  Outcome post = Post(*stub, MakePost("entry", "dave", 1), &posted);
  ASSERT_EQ(post.code, grpc::StatusCode::OK) << Describe(post);
  const std::string id = posted.entry().id();

  constexpr int kCallers = 16;
  for (int64_t round = 1; round <= 3; ++round) {
    std::vector<Outcome> outcomes(kCallers);
    std::vector<ledger::v1::UpdateResponse> responses(kCallers);
    std::vector<std::unique_ptr<LedgerService::Stub>> stubs;
    for (int i = 0; i < kCallers; ++i) stubs.push_back(Stub(*s));
    CallTogether(kCallers, [&](int i) {
      ledger::v1::UpdateRequest request;
      request.set_id(id);
      request.set_amount(round * 1000 + i);
      request.set_expected_version(round);  // the current version, for all
      outcomes[i] = Update(*stubs[i], request, &responses[i]);
    });

    int ok = 0, aborted = 0, winner = -1;
    for (int i = 0; i < kCallers; ++i) {
      if (outcomes[i].code == grpc::StatusCode::OK) {
        ++ok;
        winner = i;
      } else if (outcomes[i].code == grpc::StatusCode::ABORTED) {
        ++aborted;
      } else {
        ADD_FAILURE() << "round " << round << " call " << i << ": " << Describe(outcomes[i]);
      }
    }
    EXPECT_EQ(ok, 1) << "round " << round;
    EXPECT_EQ(aborted, kCallers - 1) << "round " << round;
    ASSERT_GE(winner, 0);
    EXPECT_EQ(responses[winner].version(), round + 1);
    EXPECT_EQ(responses[winner].entry().amount(), round * 1000 + winner);

    ledger::v1::GetResponse got;
    Outcome get = Get(*stub, id, &got);
    ASSERT_EQ(get.code, grpc::StatusCode::OK) << Describe(get);
    EXPECT_EQ(got.version(), round + 1);
    EXPECT_EQ(got.entry().amount(), round * 1000 + winner);
    EXPECT_EQ(got.entry().note(), "entry");  // untouched columns stay
    EXPECT_EQ(Count("SELECT version FROM entries"), round + 1);
  }

  // A stale version, and a row that is not there.
  ledger::v1::UpdateRequest stale;
  stale.set_id(id);
  stale.set_amount(5);
  stale.set_expected_version(1);
  ledger::v1::UpdateResponse response;
  Outcome outcome = Update(*stub, stale, &response);
  EXPECT_EQ(outcome.code, grpc::StatusCode::ABORTED) << Describe(outcome);
  stale.set_id("00000000-0000-4000-8000-000000000000");
  outcome = Update(*stub, stale, &response);
  EXPECT_EQ(outcome.code, grpc::StatusCode::NOT_FOUND) << Describe(outcome);
  EXPECT_EQ(Count("SELECT version FROM entries"), 4);
  EXPECT_EQ(Count("SELECT count(*) FROM entries"), 1);
}

// 20 calls read one row, change it and write it back at once. With
// version_conflict_retries each conflicting call runs again on the new
// version, so all succeed and no change is lost; without, the losers get
// ABORTED.
TEST_F(OptimisticLocking, VersionConflictRetriesLetConcurrentReadModifyWritesAllSucceed) {
  CreateSharedDatabase();
  ASSERT_FALSE(HasFatalFailure());
  Service* s = StartService("ledger");
  ASSERT_TRUE(s);
  auto stub = Stub(*s);
  PostResponse posted;
  Outcome post = Post(*stub, MakePost("hot", "erin", 0), &posted);
  ASSERT_EQ(post.code, grpc::StatusCode::OK) << Describe(post);
  const std::string id = posted.entry().id();

  constexpr int kCallers = 20;
  auto add_all = [&](bool retried) {
    std::vector<Outcome> outcomes(kCallers);
    std::vector<std::unique_ptr<LedgerService::Stub>> stubs;
    for (int i = 0; i < kCallers; ++i) stubs.push_back(Stub(*s));
    CallTogether(kCallers, [&](int i) {
      ledger::v1::AddRequest request;
      request.set_id(id);
      request.set_delta(1);
      request.set_pause_ms(20);
      ledger::v1::AddResponse response;
      outcomes[i] = Call(
          [&](grpc::ClientContext* c,
              const ledger::v1::AddRequest& r,
              ledger::v1::AddResponse* out) {
            return retried ? stubs[i]->Add(c, r, out) : stubs[i]->AddOnce(c, r, out);
          },
          request,
          &response);
    });
    std::map<grpc::StatusCode, int> codes;
    for (const Outcome& o : outcomes) ++codes[o.code];
    return codes;
  };

  std::map<grpc::StatusCode, int> retried = add_all(true);
  EXPECT_EQ(retried[grpc::StatusCode::OK], kCallers);
  ledger::v1::GetResponse got;
  ASSERT_EQ(Get(*stub, id, &got).code, grpc::StatusCode::OK);
  EXPECT_EQ(got.entry().amount(), kCallers);  // no increment lost
  EXPECT_EQ(got.version(), 1 + kCallers);

  std::map<grpc::StatusCode, int> once = add_all(false);
  EXPECT_GE(once[grpc::StatusCode::ABORTED], 1);
  EXPECT_EQ(once[grpc::StatusCode::OK] + once[grpc::StatusCode::ABORTED], kCallers);
  ASSERT_EQ(Get(*stub, id, &got).code, grpc::StatusCode::OK);
  EXPECT_EQ(got.entry().amount(), kCallers + once[grpc::StatusCode::OK]);
}

// ---------------------------------------------------------------------------
// Fault: PostgreSQL stops for ~2 s under a stream of calls and comes back.

struct PostRecord {
  std::string request_id;
  Outcome outcome;
  std::string entry_id;
  SteadyClock::time_point started, finished;
};

struct ReadySample {
  SteadyClock::time_point started, finished;
  int status = 0;
};

TEST_F(Fault, PostgresRestartUnderLoad) {
  PrivateServer pg("fault");
  std::string error = pg.Start();
  ASSERT_EQ(error, "");
  error = pg.CreateDatabase("ledger", db_url_);
  ASSERT_EQ(error, "");

  Service* s = StartService("ledger");
  ASSERT_TRUE(s);
  const pid_t pid = s->process->pid();

  // Callers: unique request_ids, each call on its own deadline; a short
  // pause between calls keeps the volume readable during the outage.
  constexpr int kThreads = 4;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<PostRecord> records;
  std::atomic<int> ok_calls{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < kThreads; ++t) {
    callers.emplace_back([&, t] {
      auto stub = Stub(*s);
      for (int i = 0; !stop.load(); ++i) {
        PostRecord r;
        r.request_id = "t" + std::to_string(t) + "-" + std::to_string(i);
        PostResponse response;
        r.started = SteadyClock::now();
        r.outcome = Post(*stub, MakePost(r.request_id, "acct-" + std::to_string(t), i), &response);
        r.finished = SteadyClock::now();
        r.entry_id = response.entry().id();
        if (r.outcome.code == grpc::StatusCode::OK) ++ok_calls;
        {
          std::lock_guard lock(mu);
          records.push_back(std::move(r));
        }
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  // /readyz, polled all along.
  std::vector<ReadySample> ready_samples;
  std::thread poller([&] {
    while (!stop.load()) {
      ReadySample sample;
      sample.started = SteadyClock::now();
      sample.status = HttpGet(s->admin_port, "/readyz", 3000ms).status;
      sample.finished = SteadyClock::now();
      {
        std::lock_guard lock(mu);
        ready_samples.push_back(sample);
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  auto stop_all = [&] {
    stop = true;
    for (auto& c : callers) c.join();
    poller.join();
  };

  const bool warmed_up = WaitFor([&] { return ok_calls.load() >= 40; }, 30s, 20ms);
  if (!warmed_up) {
    stop_all();
    FAIL() << "only " << ok_calls.load() << " OK calls within 30 s before the outage";
  }

  const auto stop_begin = SteadyClock::now();
  error = pg.Stop();
  const auto stop_done = SteadyClock::now();
  if (!error.empty()) {
    stop_all();
    FAIL() << error;
  }
  std::this_thread::sleep_for(2s);
  const auto start_begin = SteadyClock::now();
  error = pg.Start();
  const auto start_done = SteadyClock::now();
  if (!error.empty()) {
    stop_all();
    FAIL() << error;
  }

  // The same process serves OK again: 40 OK calls started after the restart.
  auto ok_after_restart = [&] {
    std::lock_guard lock(mu);
    return std::count_if(records.begin(), records.end(), [&](const PostRecord& r) {
      return r.started >= start_done && r.outcome.code == grpc::StatusCode::OK;
    });
  };
  const bool recovered = WaitFor([&] { return ok_after_restart() >= 40; }, 30s, 20ms);
  // /readyz is 200 again.
  const bool ready_again = WaitFor(
      [&] {
        std::lock_guard lock(mu);
        return !ready_samples.empty() && ready_samples.back().started > start_done &&
               ready_samples.back().status == 200;
      },
      15s,
      20ms);
  stop_all();
  ASSERT_TRUE(recovered) << "only " << ok_after_restart()
                         << " OK calls within 30 s of PostgreSQL's restart";
  EXPECT_TRUE(ready_again) << "/readyz not 200 within 15 s of PostgreSQL's restart";
  EXPECT_TRUE(s->process->Running())
      << "the service process ended: " << DescribeWaitStatus(s->process->Wait(0ms));
  EXPECT_EQ(s->process->pid(), pid);
  EXPECT_EQ(services_.size(), 1u) << "no other process was started";

  // Every call answered OK or UNAVAILABLE; the outage was hit.
  int ok = 0, unavailable = 0, in_doubt = 0;
  std::map<std::string, int> messages;
  SteadyClock::time_point first_ok_after;
  for (const PostRecord& r : records) {
    if (r.outcome.code == grpc::StatusCode::OK) {
      ++ok;
      if (r.started >= start_done &&
          (first_ok_after == SteadyClock::time_point{} || r.finished < first_ok_after)) {
        first_ok_after = r.finished;
      }
    } else if (r.outcome.code == grpc::StatusCode::UNAVAILABLE) {
      ++unavailable;
      ++messages[r.outcome.message];
      if (r.outcome.message.find("outcome is unknown") != std::string::npos) ++in_doubt;
    } else {
      ADD_FAILURE() << r.request_id
                    << " answered neither OK nor UNAVAILABLE: " << Describe(r.outcome);
    }
  }
  std::string summary;
  for (const auto& [message, count] : messages)
    summary += "\n  " + std::to_string(count) + " x " + message;
  std::cout << "calls: " << records.size() << ", OK " << ok << ", UNAVAILABLE " << unavailable
            << " (in doubt " << in_doubt << "); stop took " << Millis(stop_done - stop_begin)
            << " ms, outage " << Millis(start_done - stop_begin) << " ms, first OK "
            << Millis(first_ok_after - start_done) << " ms after the restart" << summary
            << std::endl;
  EXPECT_GT(unavailable, 0) << "no call saw the outage";
  EXPECT_GE(ok, 80);
  // Served OK within a few seconds of PostgreSQL answering again.
  ASSERT_NE(first_ok_after, SteadyClock::time_point{});
  EXPECT_LT(first_ok_after - start_done, 5s);

  // /readyz: 503 while PostgreSQL was down, 200 before and after.
  int not_ready_during = 0, ready_during = 0;
  for (const ReadySample& r : ready_samples) {
    if (r.started >= stop_done && r.finished <= start_begin) {
      if (r.status == 503) ++not_ready_during;
      if (r.status == 200) ++ready_during;
    }
  }
  EXPECT_GT(not_ready_during, 0) << "/readyz never answered 503 while PostgreSQL was stopped";
  // The readiness answer is cached for 500 ms: stale for about that long
  // (with a margin for a loaded machine), never for the whole outage.
  for (const ReadySample& r : ready_samples) {
    if (r.status == 200 && r.started >= stop_done + 1500ms && r.finished <= start_begin) {
      ADD_FAILURE() << "/readyz answered 200 " << Millis(r.started - stop_done)
                    << " ms into the outage";
    }
  }

  // The database: every entry has exactly one outbox row carrying it; every
  // OK call wrote exactly its entry; no UNAVAILABLE call left anything
  // (a commit whose connection broke is "in doubt": all or nothing).
  std::map<std::string, std::vector<std::string>> entries_by_note;  // note -> ids
  std::map<std::string, Entry> entry_by_id;
  for (const auto& row : QueryRows(db_url_, "SELECT id, account, amount, note FROM entries")) {
    entries_by_note[row[3]].push_back(row[0]);
    Entry e;
    e.set_id(row[0]);
    e.set_account(row[1]);
    e.set_amount(std::stoll(row[2]));
    e.set_note(row[3]);
    entry_by_id[row[0]] = e;
  }
  std::map<std::string, int> outbox_by_entry;
  for (const OutboxRow& o : OutboxRows(db_url_)) {
    ASSERT_TRUE(o.parsed) << "outbox row " << o.id << " holds no Entry";
    ++outbox_by_entry[o.entry.id()];
    auto it = entry_by_id.find(o.entry.id());
    if (it == entry_by_id.end()) {
      ADD_FAILURE() << "outbox row " << o.id << " without its entry " << o.entry.id();
      continue;
    }
    EXPECT_EQ(o.entry.note(), it->second.note());
    EXPECT_EQ(o.entry.amount(), it->second.amount());
  }
  for (const auto& [id, entry] : entry_by_id) {
    EXPECT_EQ(outbox_by_entry[id], 1) << "entry " << id << " (" << entry.note() << ") has "
                                      << outbox_by_entry[id] << " outbox rows";
  }
  std::map<std::string, int> keys;
  for (const auto& row : QueryRows(db_url_, "SELECT key FROM cppsvc_idempotency_keys"))
    ++keys[row[0]];

  std::set<std::string> called;
  int in_doubt_applied = 0;
  for (const PostRecord& r : records) {
    called.insert(r.request_id);
    const auto it = entries_by_note.find(r.request_id);
    const size_t written = it == entries_by_note.end() ? 0 : it->second.size();
    if (r.outcome.code == grpc::StatusCode::OK) {
      EXPECT_EQ(written, 1u) << "OK call " << r.request_id << " left " << written << " entries";
      if (written == 1) {
        EXPECT_EQ(it->second[0], r.entry_id) << r.request_id;
      }
      EXPECT_EQ(keys[r.request_id], 1) << r.request_id;
    } else if (r.outcome.code == grpc::StatusCode::UNAVAILABLE) {
      if (r.outcome.message.find("outcome is unknown") != std::string::npos) {
        EXPECT_LE(written, 1u) << r.request_id;
        EXPECT_EQ(keys[r.request_id], static_cast<int>(written)) << r.request_id;
        in_doubt_applied += static_cast<int>(written);
      } else {
        EXPECT_EQ(written, 0u) << "UNAVAILABLE call " << r.request_id << " ('" << r.outcome.message
                               << "') left an entry";
        EXPECT_EQ(keys[r.request_id], 0)
            << "UNAVAILABLE call " << r.request_id << " left its idempotency key";
      }
    }
  }
  for (const auto& [note, ids] : entries_by_note) {
    EXPECT_TRUE(called.count(note)) << "an entry no call asked for: " << note;
  }
  std::cout << "in-doubt calls that committed: " << in_doubt_applied << std::endl;
}

}  // namespace
