// Process-level event tests: the producer and consumer services (the
// generated main()s with producer_service.cc and consumer_service.cc) run as
// real processes against a real PostgreSQL 15 (a fresh producer and consumer
// database per test on the server of the `postgres` CTest fixture) and a
// real nats-server with JetStream that each test starts itself on a fixed
// free port with a store of its own, so it can stop and start it again.
//
// The producer's Produce RPC emits Ticks {seq, key} into its outbox; the
// relay (in the producer process, or `producer_service relay` on its own)
// publishes them to the PRODUCER stream; two consumer replicas share the
// durable consumer and insert one `effects` row per application. `effects`
// has no unique constraint on the event: an event applied twice is two rows.
// After every scenario a checker reads both databases and the stream:
// every seq has exactly one effect, with the outbox row's event id, every
// outbox row is sent and the stream holds each event once.
//
// Every wait is bounded; every process, database and server a test makes is
// removed in TearDown, also when the test fails.
#include <arpa/inet.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cppsvc/auth/jwt.h"
#include "evtest/producer/v1/producer.grpc.pb.h"
#include "process_testing.h"

#ifndef PRODUCER_SERVICE_BINARY
#error "PRODUCER_SERVICE_BINARY must name the producer service executable"
#endif
#ifndef CONSUMER_SERVICE_BINARY
#error "CONSUMER_SERVICE_BINARY must name the consumer service executable"
#endif
#ifndef CPPSVC_PG_SCRIPT
#error "CPPSVC_PG_SCRIPT must name scripts/pg.sh"
#endif
#ifndef CPPSVC_TEST_PG_DIR
#error "CPPSVC_TEST_PG_DIR must name the directory of the postgres fixture's server"
#endif
#ifndef CPPSVC_TEST_NATS_ROOT
#error "CPPSVC_TEST_NATS_ROOT must name a directory for the tests' nats-servers"
#endif

namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
using evtest::producer::v1::ProduceRequest;
using evtest::producer::v1::ProduceResponse;
using evtest::producer::v1::ProducerService;
using namespace cppsvc::process_testing;

constexpr char kJwtKey[] = "integration-events-test-hs256-secret-of-enough-length";
constexpr char kIssuer[] = "cppsvc-integration-events";
constexpr char kAudience[] = "evtest";
constexpr char kStream[] = "PRODUCER";
constexpr char kDurable[] = "consumer-OnTick";
constexpr int kMaxDeliver = 3;  // consumer.proto

// A nats-server with JetStream in a directory of its own, on a port chosen
// once: Stop and Start act like an outage of one server (same port, store).
class NatsServer {
 public:
  explicit NatsServer(std::string dir) : dir_(std::move(dir)) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    std::filesystem::create_directories(dir_ + "/js");
    port_ = FreePort();
    url_ = "nats://127.0.0.1:" + std::to_string(port_);
  }
  ~NatsServer() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static std::string Binary() {
    if (const char* env = std::getenv("NATS_SERVER"); env != nullptr && *env != '\0') return env;
    for (const char* candidate :
         {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}) {
      if (access(candidate, X_OK) == 0) return candidate;
    }
    return "";
  }

  // "" or what went wrong.
  std::string Start() {
    if (port_ == 0) return "no free port";
    process_ = std::make_unique<Process>(std::vector<std::string>{Binary(),
                                                                  "-a",
                                                                  "127.0.0.1",
                                                                  "-p",
                                                                  std::to_string(port_),
                                                                  "-js",
                                                                  "-sd",
                                                                  dir_ + "/js"},
                                         std::vector<std::string>{},
                                         dir_ + "/nats.log",
                                         dir_ + "/nats.log");
    std::string error;
    if (!process_->Start(error)) return error;
    for (int i = 0; i < 300; ++i) {
      if (Greets()) return "";
      if (!process_->Running())
        return "nats-server exited: " + Tail(ReadFile(dir_ + "/nats.log"), 3000);
      std::this_thread::sleep_for(50ms);
    }
    return "nats-server did not accept connections within 15 s: " +
           Tail(ReadFile(dir_ + "/nats.log"), 3000);
  }

  // SIGTERM (a clean shutdown that syncs the store), SIGKILL after 10 s.
  void Stop() {
    if (!process_) return;
    process_->Signal(SIGTERM);
    if (!process_->Wait(10000ms)) process_->Kill();
    process_.reset();
  }

  const std::string& url() const { return url_; }

 private:
  bool Greets() const {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    bool ok = false;
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      timeval tv{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      char buf[4];
      ok = recv(fd, buf, sizeof(buf), MSG_WAITALL) == 4 && std::string(buf, 4) == "INFO";
    }
    close(fd);
    return ok;
  }

  std::string dir_;
  uint16_t port_ = 0;
  std::string url_;
  std::unique_ptr<Process> process_;
};

// How many times `needle` occurs in `text`.
size_t Occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Messages stored in a stream; -1 when it cannot be read.
long long StreamMessages(const std::string& url, const std::string& stream) {
  natsConnection* conn = nullptr;
  if (natsConnection_ConnectTo(&conn, url.c_str()) != NATS_OK) return -1;
  jsCtx* js = nullptr;
  long long out = -1;
  if (natsConnection_JetStream(&js, conn, nullptr) == NATS_OK) {
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    if (js_GetStreamInfo(&info, js, stream.c_str(), nullptr, &code) == NATS_OK) {
      out = static_cast<long long>(info->State.Msgs);
      jsStreamInfo_Destroy(info);
    }
    jsCtx_Destroy(js);
  }
  natsConnection_Destroy(conn);
  return out;
}

// Messages in a stream, read over one connection kept open (fast polling).
class StreamWatcher {
 public:
  StreamWatcher(const std::string& url, std::string stream) : stream_(std::move(stream)) {
    if (natsConnection_ConnectTo(&conn_, url.c_str()) != NATS_OK) conn_ = nullptr;
    if (conn_ != nullptr && natsConnection_JetStream(&js_, conn_, nullptr) != NATS_OK)
      js_ = nullptr;
  }
  ~StreamWatcher() {
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (conn_ != nullptr) natsConnection_Destroy(conn_);
  }
  long long Messages() {
    if (js_ == nullptr) return -1;
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    if (js_GetStreamInfo(&info, js_, stream_.c_str(), nullptr, &code) != NATS_OK) return -1;
    const long long out = static_cast<long long>(info->State.Msgs);
    jsStreamInfo_Destroy(info);
    return out;
  }

 private:
  std::string stream_;
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
};

// Sum of the samples of a Prometheus counter in a /metrics text.
double MetricSum(const std::string& text, const std::string& name) {
  double sum = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
    sum += std::atof(line.substr(line.rfind(' ') + 1).c_str());
  }
  return sum;
}

// What the relay processes logged: the sums of the lines of their rounds
// that met duplicates (rows a killed relay had published).
struct RelayLog {
  long long rounds = 0;
  long long published = 0;
  long long duplicates = 0;
};

RelayLog ReadRelayLog(const std::string& text) {
  RelayLog out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("outbox relay round") == std::string::npos) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || j.value("msg", "") != "outbox relay round") continue;
    ++out.rounds;
    out.published += j.value("published", 0LL);
    out.duplicates += j.value("duplicates", 0LL);
  }
  return out;
}

// ---------------------------------------------------------------------------

struct Service {
  std::string id;
  std::string kind;  // "producer" or "consumer"
  std::vector<std::string> args;
  std::vector<std::string> extra_env;
  uint16_t grpc_port = 0;
  uint16_t admin_port = 0;
  int runs = 0;
  bool command = false;  // a command that ends by itself (dead-letters ...)
  std::unique_ptr<Process> process;
};

// Outcome of the checker.
struct Check {
  long long expected = 0;        // seqs 1..expected were produced
  long long outbox = 0;          // outbox rows
  long long outbox_unsent = 0;   // outbox rows not marked sent
  long long effects = 0;         // effect rows
  long long lost = 0;            // produced seqs without an effect
  long long duplicate_seqs = 0;  // seqs with more than one effect
  long long duplicate_ids = 0;   // event ids with more than one effect
  long long wrong_ids = 0;       // effects whose event id is not the outbox row of its seq
  long long stream = 0;          // messages in the stream
  std::map<std::string, long long> by_replica;

  std::string Describe() const {
    std::ostringstream s;
    s << "expected " << expected << ", outbox " << outbox << " (unsent " << outbox_unsent
      << "), effects " << effects << ", lost " << lost << ", duplicate seqs " << duplicate_seqs
      << ", duplicate event ids " << duplicate_ids << ", effects with a wrong event id "
      << wrong_ids << ", stream messages " << stream << ", by replica:";
    for (const auto& [replica, n] : by_replica) s << " " << replica << "=" << n;
    return s.str();
  }
};

class EventsProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (NatsServer::Binary().empty()) GTEST_SKIP() << "nats-server is not installed";
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "cppsvc-integration-events-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;

    cppsvc::auth::JwtConfig config;
    config.algorithm = cppsvc::auth::Algorithm::kHS256;
    config.key = kJwtKey;
    config.issuer = kIssuer;
    config.audience = kAudience;
    cppsvc::auth::TokenClaims claims;
    claims.subject = "integration-events-test";
    claims.roles = {"user"};
    claims.ttl = std::chrono::seconds(3600);
    token_ = cppsvc::auth::JwtSigner(config).Sign(claims);
    claims.subject = "operator";
    claims.roles = {"admin"};
    admin_token_ = cppsvc::auth::JwtSigner(config).Sign(claims);

    server_url_ = Trim(ReadFile(CPPSVC_TEST_PG_DIR "/pg.url"));
    ASSERT_EQ(server_url_.rfind("postgresql://postgres@127.0.0.1:", 0), 0u)
        << "no PostgreSQL server URL in " CPPSVC_TEST_PG_DIR
           "/pg.url; run the tests with ctest, which starts the `postgres` fixture";
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name;
    for (char c : std::string(test->test_suite_name()) + "_" + test->name()) {
      name.push_back(std::isalnum(static_cast<unsigned char>(c))
                         ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                         : '_');
    }
    name = name.substr(0, 40) + "_" + std::to_string(getpid());
    for (const char* role : {"p", "c"}) {
      const std::string db = "evt" + std::string(role) + "_" + name;
      ScriptResult r = PgScript({"createdb", CPPSVC_TEST_PG_DIR, db}, dir_ + "/createdb");
      ASSERT_TRUE(r.ok()) << "scripts/pg.sh createdb failed (" << DescribeWaitStatus(r.rc)
                          << "): " << r.err;
      databases_.push_back(db);
      (role[0] == 'p' ? producer_db_ : consumer_db_) = r.out;
    }

    nats_ = std::make_unique<NatsServer>(std::string(CPPSVC_TEST_NATS_ROOT) + "/" + test->name() +
                                         "-" + std::to_string(getpid()));
    const std::string error = nats_->Start();
    ASSERT_EQ(error, "");
  }

  void TearDown() override {
    for (auto& s : services_) {
      if (HasFailure() && s->process) {
        std::cerr << "--- stderr of " << s->id << " (pid " << s->process->pid() << ", "
                  << DescribeWaitStatus(s->process->Wait(0ms)) << ") ---\n"
                  << Tail(s->process->Stderr(), 3000) << "\n";
      }
      if (s->process) s->process->Kill();
    }
    services_.clear();
    nats_.reset();
    for (const std::string& db : databases_) {
      try {
        pqxx::connection connection(server_url_);
        pqxx::nontransaction tx(connection);
        tx.exec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cannot drop " << db << ": " << e.what();
      }
    }
    // CPPSVC_TEST_KEEP_LOGS=1 keeps the processes' logs of passing tests too.
    const char* keep = std::getenv("CPPSVC_TEST_KEEP_LOGS");
    if (!dir_.empty() && !HasFailure() && (keep == nullptr || std::string(keep) != "1")) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    } else if (!dir_.empty()) {
      std::cerr << "logs kept in " << dir_ << "\n";
    }
  }

  std::vector<std::string> Env(const Service& s) const {
    const std::string p = s.kind == "producer" ? "PRODUCER_" : "CONSUMER_";
    std::vector<std::string> env{
        "PATH=/usr/bin:/bin",
        p + "GRPC_PORT=" + std::to_string(s.grpc_port),
        p + "ADMIN_PORT=" + std::to_string(s.admin_port),
        p + "LISTEN_ADDRESS=127.0.0.1",
        p + "WORKERS=4",
        p + "DATABASE_URL=" + (s.kind == "producer" ? producer_db_ : consumer_db_),
        p + "RELAY_POLL_MS=200",
        p + "RELAY_BATCH=100",  // many rounds, batches in flight across the kills
        "NATS_URL=" + nats_->url(),
        "CPPSVC_JWT_ALGORITHM=HS256",
        std::string("CPPSVC_JWT_KEY=") + kJwtKey,
        std::string("CPPSVC_JWT_ISSUER=") + kIssuer,
        std::string("CPPSVC_JWT_AUDIENCE=") + kAudience,
        "CPPSVC_LOG_REQUESTS=false",
    };
    env.insert(env.end(), s.extra_env.begin(), s.extra_env.end());
    return env;
  }

  // (Re)starts the process of `s`, logs appended to <dir>/<id>.out/.err.
  bool Spawn(Service& s) {
    const std::string binary =
        s.kind == "producer" ? PRODUCER_SERVICE_BINARY : CONSUMER_SERVICE_BINARY;
    std::vector<std::string> argv{binary};
    argv.insert(argv.end(), s.args.begin(), s.args.end());
    s.process = std::make_unique<Process>(argv,
                                          Env(s),
                                          dir_ + "/" + s.id + ".out",
                                          dir_ + "/" + s.id + ".err");
    std::string error;
    if (!s.process->Start(error)) {
      ADD_FAILURE() << "cannot start " << s.id << ": " << error;
      return false;
    }
    ++s.runs;
    return true;
  }

  Service* Launch(const std::string& id,
                  const std::string& kind,
                  std::vector<std::string> extra_env = {},
                  std::vector<std::string> args = {}) {
    auto s = std::make_unique<Service>();
    s->id = id;
    s->kind = kind;
    s->args = std::move(args);
    s->extra_env = std::move(extra_env);
    s->command = !s->args.empty() && s->args[0] == "dead-letters";
    s->grpc_port = FreePort();
    s->admin_port = FreePort();
    if (s->grpc_port == 0 || s->admin_port == 0) {
      ADD_FAILURE() << "no free port";
      return nullptr;
    }
    if (!Spawn(*s)) return nullptr;
    services_.push_back(std::move(s));
    return services_.back().get();
  }

  bool WaitReady(Service& s, std::chrono::milliseconds timeout = 60s) {
    return cppsvc::process_testing::WaitReady(*s.process, s.admin_port, s.id, timeout);
  }

  Service* StartService(const std::string& id,
                        const std::string& kind,
                        std::vector<std::string> extra_env = {}) {
    Service* s = Launch(id, kind, std::move(extra_env));
    if (s == nullptr || !WaitReady(*s)) return nullptr;
    return s;
  }

  // Every process still running (none crashed on its own).
  ::testing::AssertionResult AllRunning() {
    for (auto& s : services_) {
      if (!s->command && s->process && !s->process->Running()) {
        return ::testing::AssertionFailure()
               << s->id << " ended (" << DescribeWaitStatus(s->process->Wait(0ms)) << "); stderr:\n"
               << Tail(s->process->Stderr(), 3000);
      }
    }
    return ::testing::AssertionSuccess();
  }

  // Produce(first_seq, count) on a raw stub, without client retries.
  grpc::Status Produce(const Service& producer,
                       int64_t first_seq,
                       int64_t count,
                       bool fail_after_emit = false,
                       ProduceResponse* response_out = nullptr) {
    ProducerService::Stub* stub = nullptr;
    {
      std::lock_guard lock(produce_mu_);
      if (!stub_ || stub_port_ != producer.grpc_port) {
        stub_ = ProducerService::NewStub(
            grpc::CreateChannel("127.0.0.1:" + std::to_string(producer.grpc_port),
                                grpc::InsecureChannelCredentials()));
        stub_port_ = producer.grpc_port;
      }
      stub = stub_.get();
    }
    ProduceRequest request;
    request.set_first_seq(first_seq);
    request.set_count(count);
    request.set_fail_after_emit(fail_after_emit);
    ProduceResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 30s);
    context.AddMetadata("authorization", "Bearer " + token_);
    grpc::Status status = stub->Produce(&context, request, &response);
    if (response_out != nullptr) *response_out = response;
    return status;
  }

  // Seqs [first, first + total) in calls of `batch`, `pause` between calls,
  // on a thread of its own; failures are collected in produce_errors_.
  std::thread ProduceInBackground(const Service& producer,
                                  int64_t first,
                                  int64_t total,
                                  int64_t batch,
                                  std::chrono::milliseconds pause,
                                  std::atomic<bool>* done) {
    return std::thread([this, &producer, first, total, batch, pause, done] {
      for (int64_t seq = first; seq < first + total; seq += batch) {
        const int64_t n = std::min(batch, first + total - seq);
        const grpc::Status status = Produce(producer, seq, n);
        if (!status.ok()) {
          std::lock_guard lock(produce_mu_);
          produce_errors_.push_back("Produce(" + std::to_string(seq) + ", " + std::to_string(n) +
                                    "): " + std::to_string(status.error_code()) + " " +
                                    status.error_message());
        }
        std::this_thread::sleep_for(pause);
      }
      *done = true;
    });
  }

  long long Producer(const std::string& sql) const { return TryQueryInt(producer_db_, sql); }
  long long Consumer(const std::string& sql) const { return TryQueryInt(consumer_db_, sql); }

  // Waits until every outbox row is sent and seqs 1..expected (but `skip`)
  // have an effect, checking that every process stays up.
  bool WaitDelivered(long long expected,
                     std::chrono::milliseconds timeout,
                     const std::set<long long>& skip = {}) {
    const std::string want = std::to_string(expected - static_cast<long long>(skip.size()));
    return WaitFor(
        [&] {
          if (!AllRunning()) return true;
          return Producer("SELECT count(*) FROM cppsvc_outbox") == 0 &&
                 Consumer("SELECT count(DISTINCT seq) FROM effects") == std::stoll(want);
        },
        timeout,
        250ms);
  }

  Check RunChecker(long long expected) const {
    Check c;
    c.expected = expected;
    c.outbox = Producer(
        "SELECT (SELECT count(*) FROM cppsvc_outbox) + (SELECT count(*) FROM cppsvc_outbox_sent)");
    c.outbox_unsent = Producer("SELECT count(*) FROM cppsvc_outbox");
    c.effects = Consumer("SELECT count(*) FROM effects");
    c.lost = Consumer("SELECT count(*) FROM generate_series(1, " + std::to_string(expected) +
                      ") s WHERE NOT EXISTS (SELECT 1 FROM effects e WHERE e.seq = s)");
    c.duplicate_seqs = Consumer(
        "SELECT count(*) FROM (SELECT seq FROM effects GROUP BY seq HAVING count(*) > 1) d");
    c.duplicate_ids = Consumer(
        "SELECT count(*) FROM (SELECT event_id FROM effects GROUP BY event_id "
        "HAVING count(*) > 1) d");
    for (const auto& row :
         QueryRows(consumer_db_, "SELECT replica, count(*) FROM effects GROUP BY replica")) {
      c.by_replica[row[0]] = std::stoll(row[1]);
    }
    // The event id of each seq in the outbox (payload decoded) against the
    // effects' event ids.
    std::map<long long, std::string> outbox_ids;
    {
      pqxx::connection connection(producer_db_);
      pqxx::nontransaction tx(connection);
      for (const pqxx::row& row : tx.exec("SELECT id::text, payload FROM cppsvc_outbox UNION ALL "
                                          "SELECT id::text, payload FROM cppsvc_outbox_sent")) {
        evtest::producer::v1::Tick tick;
        tick.ParseFromString(pqxx::binarystring(row[1]).str());
        outbox_ids[tick.seq()] = row[0].as<std::string>();
      }
    }
    for (const auto& row : QueryRows(consumer_db_, "SELECT seq, event_id FROM effects")) {
      auto it = outbox_ids.find(std::stoll(row[0]));
      if (it == outbox_ids.end() || it->second != row[1]) ++c.wrong_ids;
    }
    c.stream = StreamMessages(nats_->url(), kStream);
    return c;
  }

  // The exactly-once assertions every scenario ends with.
  void ExpectExactlyOnce(const Check& c, long long expected_effects) {
    EXPECT_EQ(c.outbox, c.expected) << c.Describe();
    EXPECT_EQ(c.outbox_unsent, 0) << c.Describe();
    EXPECT_EQ(c.lost, c.expected - expected_effects) << c.Describe();
    EXPECT_EQ(c.duplicate_seqs, 0) << c.Describe();
    EXPECT_EQ(c.duplicate_ids, 0) << c.Describe();
    EXPECT_EQ(c.wrong_ids, 0) << c.Describe();
    EXPECT_EQ(c.effects, expected_effects) << c.Describe();
    EXPECT_EQ(c.stream, c.expected) << "each event once in the stream; " << c.Describe();
  }

  double Redeliveries() {
    double sum = 0;
    for (auto& s : services_) {
      if (s->kind != "consumer" || !s->process || !s->process->Running()) continue;
      sum += MetricSum(Http("GET", s->admin_port, "/metrics").body,
                       "cppsvc_consumer_redeliveries_total");
    }
    return sum;
  }

  std::string Errors() {
    std::lock_guard lock(produce_mu_);
    std::string out;
    for (const std::string& e : produce_errors_) out += e + "\n";
    return out;
  }

  std::string dir_;
  std::string token_;
  std::string admin_token_;  // of the "admin" role, for the admin routes

  static HttpResponse Admin(const std::string& method,
                            uint16_t port,
                            const std::string& path,
                            const std::string& token) {
    HttpRequest request;
    request.method = method;
    request.port = port;
    request.path = path;
    request.headers = {"Authorization: Bearer " + token};
    return Send(request);
  }
  std::string server_url_;
  std::vector<std::string> databases_;
  std::string producer_db_;
  std::string consumer_db_;
  std::unique_ptr<NatsServer> nats_;
  std::vector<std::unique_ptr<Service>> services_;
  std::unique_ptr<ProducerService::Stub> stub_;
  uint16_t stub_port_ = 0;
  std::mutex produce_mu_;
  std::vector<std::string> produce_errors_;
};

class Crash : public EventsProcessTest {};
class Broker : public EventsProcessTest {};
class Poison : public EventsProcessTest {};
class Atomicity : public EventsProcessTest {};

// The relay as a process of its own, killed with SIGKILL at random moments
// while 10,000 events are written; two consumer replicas throughout.
TEST_F(Crash, RelayKilledRepeatedlyLosesNothingAndDuplicatesNoEffect) {
  constexpr long long kEvents = 10000;
  constexpr int kMinKills = 20;
  Service* producer = StartService("producer", "producer", {"PRODUCER_RELAY=false"});
  ASSERT_NE(producer, nullptr);
  ASSERT_NE(StartService("consumer-1", "consumer", {"CONSUMER_REPLICA=c1"}), nullptr);
  ASSERT_NE(StartService("consumer-2", "consumer", {"CONSUMER_REPLICA=c2"}), nullptr);
  Service* relay = Launch("relay", "producer", {}, {"relay"});
  ASSERT_NE(relay, nullptr);

  const auto started = SteadyClock::now();
  std::atomic<bool> produced{false};
  // 200 calls of 50 with 60 ms between them: the writes last long enough
  // (about 15-30 s) for every kill to meet pending rows.
  std::thread writer = ProduceInBackground(*producer, 1, kEvents, 50, 60ms, &produced);

  // Random moments; half of them as soon as the stream grows while the
  // relay runs, i.e. once JetStream stored (and acked) the first event of a
  // round the relay has not marked sent yet: the crash window. A relay down
  // for 0-300 ms meets the rows written meanwhile when it comes back.
  StreamWatcher watcher(nats_->url(), kStream);
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> later_ms(150, 900), down_ms(0, 300);
  std::bernoulli_distribution targeted(0.5);
  int kills = 0, targeted_kills = 0;
  while (!produced || kills < kMinKills) {
    if (targeted(rng)) {
      const long long baseline = watcher.Messages();
      WaitFor([&] { return watcher.Messages() > baseline || !relay->process->Running(); },
              5000ms,
              1ms);
      ++targeted_kills;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(later_ms(rng)));
    }
    if (!relay->process->Running()) {
      ADD_FAILURE() << "the relay ended on its own ("
                    << DescribeWaitStatus(relay->process->Wait(0ms)) << "):\n"
                    << Tail(relay->process->Stderr(), 3000);
      break;
    }
    relay->process->Signal(SIGKILL);
    ASSERT_TRUE(relay->process->Wait(10s)) << "the relay did not die";
    ++kills;
    std::this_thread::sleep_for(std::chrono::milliseconds(down_ms(rng)));
    ASSERT_TRUE(Spawn(*relay));
    if (SteadyClock::now() - started > 240s) break;
  }
  writer.join();
  const double produce_seconds = Seconds(SteadyClock::now() - started);
  ASSERT_EQ(Errors(), "");
  ASSERT_GE(kills, kMinKills);

  const bool delivered = WaitDelivered(kEvents, 240s);
  const double total_seconds = Seconds(SteadyClock::now() - started);
  ASSERT_TRUE(AllRunning());
  EXPECT_TRUE(delivered) << "not everything delivered in time";
  // Late redeliveries (ack_wait 4 s) must find the inbox rows, not add effects.
  std::this_thread::sleep_for(5s);

  const Check c = RunChecker(kEvents);
  ExpectExactlyOnce(c, kEvents);
  const RelayLog log = ReadRelayLog(relay->process->Stderr());
  // Queue sharing: both replicas applied a real share.
  EXPECT_EQ(c.by_replica.size(), 2u) << c.Describe();
  for (const auto& [replica, n] : c.by_replica) EXPECT_GT(n, 0) << replica;
  // Rows published by a relay that died before marking them sent come back
  // as duplicate acks in the next relay's rounds: the crash window was hit.
  EXPECT_GT(log.duplicates, 0) << "no relay died between an ack and marking the rows sent";
  const double redeliveries = Redeliveries();

  std::cout << "[crash] events " << kEvents << ", relay kills " << kills << " (" << targeted_kills
            << " once the stream grew), relay runs " << relay->runs << ", rounds with duplicates "
            << log.rounds << ", published (logged) " << log.published << ", broker duplicates "
            << log.duplicates << ", consumer redeliveries " << redeliveries << ", writes "
            << produce_seconds << " s, delivered after " << total_seconds << " s; " << c.Describe()
            << std::endl;
  RecordProperty("relay_kills", kills);
  RecordProperty("broker_duplicates", static_cast<int>(log.duplicates));
}

// Consumer replicas killed with SIGKILL mid-stream: events they held (some
// committed and not acked) come back after ack_wait and hit the inbox.
TEST_F(Crash, ConsumerKilledBetweenCommitAndAckKeepsEffectsExactlyOnce) {
  constexpr long long kTrickle = 1000, kBurst = 500;
  constexpr long long kEvents = kTrickle + 4 * kBurst;
  Service* producer = StartService("producer", "producer");
  ASSERT_NE(producer, nullptr);
  // 2 ms per event: a burst takes each replica about half a second, so a
  // kill lands while the victim holds a fetched batch.
  Service* c1 = StartService("consumer-1",
                             "consumer",
                             {"CONSUMER_REPLICA=c1", "CONSUMER_HANDLER_DELAY_US=2000"});
  Service* c2 = StartService("consumer-2",
                             "consumer",
                             {"CONSUMER_REPLICA=c2", "CONSUMER_HANDLER_DELAY_US=2000"});
  ASSERT_NE(c1, nullptr);
  ASSERT_NE(c2, nullptr);

  const auto started = SteadyClock::now();
  std::atomic<bool> produced{false};
  // A trickle throughout (seqs 1..1000), and before each kill a burst of
  // 500 in one call, so the victim is in the middle of a fetched batch: it
  // holds events it has not acked, one of them perhaps committed.
  std::thread writer = ProduceInBackground(*producer, 1, kTrickle, 25, 50ms, &produced);
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> delay_ms(50, 300);
  int kills = 0;
  long long next = kTrickle + 1;
  for (Service* victim : {c1, c2, c1, c2}) {
    const grpc::Status burst = Produce(*producer, next, kBurst);
    ASSERT_TRUE(burst.ok()) << burst.error_message();
    next += kBurst;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ASSERT_TRUE(victim->process->Running()) << victim->id << " ended on its own";
    victim->process->Signal(SIGKILL);
    ASSERT_TRUE(victim->process->Wait(10s));
    ++kills;
    ASSERT_TRUE(Spawn(*victim));
    ASSERT_TRUE(WaitReady(*victim));
  }
  writer.join();
  ASSERT_EQ(Errors(), "");
  const bool delivered = WaitDelivered(kEvents, 180s);
  const double seconds = Seconds(SteadyClock::now() - started);
  ASSERT_TRUE(AllRunning());
  EXPECT_TRUE(delivered);
  std::this_thread::sleep_for(5s);  // late redeliveries
  const Check c = RunChecker(kEvents);
  ExpectExactlyOnce(c, kEvents);
  // Events a killed replica held without committing were applied on a later
  // delivery (after ack_wait); recorded durably in the effect rows.
  const long long applied_on_redelivery =
      Consumer("SELECT count(*) FROM effects WHERE delivery > 1");
  EXPECT_GT(applied_on_redelivery, 0) << "no event came back after a replica was killed";
  // Redeliveries seen by the processes alive now (the killed runs' counts
  // died with them), including inbox hits of events committed but not acked.
  const double redeliveries = Redeliveries();
  std::cout << "[consumer-crash] events " << kEvents << ", consumer kills " << kills
            << ", effects applied on a redelivery " << applied_on_redelivery
            << ", redeliveries (live processes) " << redeliveries << ", delivered after " << seconds
            << " s; " << c.Describe() << std::endl;
}

// nats-server stops mid-stream and comes back on the same port and store
// 2 s later: the relay and the consumers resume by themselves.
TEST_F(Broker, NatsServerRestartMidStreamLosesAndDuplicatesNothing) {
  constexpr long long kEvents = 3000;
  Service* producer = StartService("producer", "producer");
  ASSERT_NE(producer, nullptr);
  ASSERT_NE(StartService("consumer-1", "consumer", {"CONSUMER_REPLICA=c1"}), nullptr);
  ASSERT_NE(StartService("consumer-2", "consumer", {"CONSUMER_REPLICA=c2"}), nullptr);
  const pid_t pids[] = {services_[0]->process->pid(),
                        services_[1]->process->pid(),
                        services_[2]->process->pid()};

  const auto started = SteadyClock::now();
  std::atomic<bool> produced{false};
  std::thread writer = ProduceInBackground(*producer, 1, kEvents, 25, 50ms, &produced);
  // Mid-stream: some events through, more still to come.
  ASSERT_TRUE(WaitFor([&] { return Consumer("SELECT count(*) FROM effects") >= 300; }, 60s));
  const long long before = Consumer("SELECT count(*) FROM effects");
  nats_->Stop();
  std::this_thread::sleep_for(2s);
  const long long during = Consumer("SELECT count(*) FROM effects");
  const std::string error = nats_->Start();
  ASSERT_EQ(error, "");
  const auto restarted = SteadyClock::now();
  writer.join();
  ASSERT_EQ(Errors(), "") << "the outbox takes writes while NATS is down";
  const bool delivered = WaitDelivered(kEvents, 180s);
  const double resume_seconds = Seconds(SteadyClock::now() - restarted);
  ASSERT_TRUE(AllRunning());
  EXPECT_TRUE(delivered);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(services_[i]->process->pid(), pids[i]) << "no process was restarted";
    EXPECT_EQ(services_[i]->runs, 1);
  }
  std::this_thread::sleep_for(5s);
  const Check c = RunChecker(kEvents);
  ExpectExactlyOnce(c, kEvents);
  // The consumers waited out the outage: a warning each, not one per attempt.
  for (size_t i = 1; i < 3; ++i) {
    const std::string err = services_[i]->process->Stderr();
    const size_t warnings = Occurrences(err, "\"msg\":\"event fetch failed\"") +
                            Occurrences(err, "\"msg\":\"event fetch paused\"");
    EXPECT_GE(warnings, 1u) << services_[i]->id << ":\n" << Tail(err, 3000);
    EXPECT_LE(warnings, 3u) << services_[i]->id << ":\n" << Tail(err, 3000);
  }
  std::cout << "[nats-restart] events " << kEvents << ", effects when stopped " << before
            << ", after 2 s down " << during << ", all delivered " << resume_seconds
            << " s after the restart (" << Seconds(SteadyClock::now() - started)
            << " s in all), redeliveries " << Redeliveries() << "; " << c.Describe() << std::endl;
}

// A handler that fails for one seq: max_deliver attempts, a dead letter,
// the rest keeps flowing; replayed once after the fix, refused the second time.
TEST_F(Poison, DeadLetterAfterMaxDeliverThenReplayedExactlyOnce) {
  constexpr long long kFirst = 100, kSecond = 100, kPoison = 50;
  const std::string fail = "CONSUMER_FAIL_SEQ=" + std::to_string(kPoison);
  Service* producer = StartService("producer", "producer");
  ASSERT_NE(producer, nullptr);
  Service* c1 = StartService("consumer-1", "consumer", {"CONSUMER_REPLICA=c1", fail});
  ASSERT_NE(c1, nullptr);
  ASSERT_NE(StartService("consumer-2", "consumer", {"CONSUMER_REPLICA=c2", fail}), nullptr);

  ASSERT_TRUE(Produce(*producer, 1, kFirst).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        return Consumer("SELECT count(*) FROM cppsvc_dead_letters") == 1 &&
               Consumer("SELECT count(DISTINCT seq) FROM effects") == kFirst - 1;
      },
      90s,
      200ms))
      << "dead letters " << Consumer("SELECT count(*) FROM cppsvc_dead_letters") << ", effects "
      << Consumer("SELECT count(*) FROM effects");
  // Later events keep flowing past the parked one.
  ASSERT_TRUE(Produce(*producer, kFirst + 1, kSecond).ok());
  ASSERT_TRUE(WaitDelivered(kFirst + kSecond, 90s, {kPoison}));
  // Longer than ack_wait: no further attempt comes.
  std::this_thread::sleep_for(6s);
  EXPECT_EQ(Consumer("SELECT count(*) FROM attempts WHERE seq = " + std::to_string(kPoison)),
            kMaxDeliver);
  EXPECT_EQ(Consumer("SELECT count(DISTINCT delivery) FROM attempts"), kMaxDeliver);
  EXPECT_EQ(Consumer("SELECT max(delivery) FROM attempts"), kMaxDeliver);
  EXPECT_EQ(Consumer("SELECT count(*) FROM effects WHERE seq = " + std::to_string(kPoison)), 0);

  // `consumer_service dead-letters list`
  Service* list = Launch("list", "consumer", {}, {"dead-letters", "list"});
  ASSERT_NE(list, nullptr);
  ASSERT_TRUE(list->process->Wait(60s));
  ASSERT_EQ(DescribeWaitStatus(list->process->Wait(0ms)), "exit code 0") << list->process->Stderr();
  std::vector<nlohmann::json> listed;
  {
    std::istringstream lines(list->process->Stdout());
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) listed.push_back(nlohmann::json::parse(line));
    }
  }
  ASSERT_EQ(listed.size(), 1u) << list->process->Stdout();
  const long long id = listed[0].at("id").get<long long>();
  EXPECT_EQ(listed[0].at("consumer"), kDurable);
  EXPECT_EQ(listed[0].at("attempts"), kMaxDeliver);
  EXPECT_EQ(listed[0].at("replayed"), false);
  EXPECT_NE(listed[0].at("error").get<std::string>().find("poison"), std::string::npos);
  // GET /dead-letters of a running replica: only with a token of the
  // admin role, since it shows event payloads.
  const HttpResponse anonymous = Http("GET", c1->admin_port, "/dead-letters");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body << anonymous.error;
  EXPECT_NE(anonymous.headers.find("WWW-Authenticate: Bearer"), std::string::npos)
      << anonymous.headers;
  EXPECT_EQ(anonymous.body.find(kDurable), std::string::npos) << anonymous.body;
  const HttpResponse user = Admin("GET", c1->admin_port, "/dead-letters", token_);
  EXPECT_EQ(user.status, 403) << user.body << user.error;
  const HttpResponse get = Admin("GET", c1->admin_port, "/dead-letters", admin_token_);
  ASSERT_EQ(get.status, 200) << get.body << get.error;
  const nlohmann::json open = nlohmann::json::parse(get.body);
  ASSERT_EQ(open.size(), 1u) << get.body;
  EXPECT_EQ(open[0].at("id"), id);

  // Fixed (no CONSUMER_FAIL_SEQ): `consumer_service dead-letters replay <id>`.
  Service* replay =
      Launch("replay-1", "consumer", {}, {"dead-letters", "replay", std::to_string(id)});
  ASSERT_NE(replay, nullptr);
  ASSERT_TRUE(replay->process->Wait(60s));
  EXPECT_EQ(DescribeWaitStatus(replay->process->Wait(0ms)), "exit code 0")
      << replay->process->Stderr();
  EXPECT_EQ(Trim(replay->process->Stdout()), "replayed " + std::to_string(id));
  EXPECT_EQ(Consumer("SELECT count(*) FROM effects WHERE seq = " + std::to_string(kPoison)), 1);

  // A second replay is refused, by command and by the admin endpoint.
  Service* again =
      Launch("replay-2", "consumer", {}, {"dead-letters", "replay", std::to_string(id)});
  ASSERT_NE(again, nullptr);
  ASSERT_TRUE(again->process->Wait(60s));
  EXPECT_EQ(DescribeWaitStatus(again->process->Wait(0ms)), "exit code 1");
  EXPECT_NE(again->process->Stderr().find("replayed already"), std::string::npos)
      << again->process->Stderr();
  const std::string replay_path = "/dead-letters/" + std::to_string(id) + "/replay";
  EXPECT_EQ(Http("POST", c1->admin_port, replay_path).status, 401);
  const HttpResponse post = Admin("POST", c1->admin_port, replay_path, admin_token_);
  EXPECT_EQ(post.status, 409) << post.body << post.error;
  EXPECT_EQ(Trim(Admin("GET", c1->admin_port, "/dead-letters", admin_token_).body), "[]");

  ASSERT_TRUE(AllRunning());
  const Check c = RunChecker(kFirst + kSecond);
  ExpectExactlyOnce(c, kFirst + kSecond);
  EXPECT_EQ(Consumer("SELECT count(*) FROM attempts"), kMaxDeliver) << "the replay did not fail";
  std::cout << "[poison] attempts " << Consumer("SELECT count(*) FROM attempts") << ", dead letter "
            << id << " replayed once; " << c.Describe() << std::endl;
}

// A Produce call that fails after its Emits leaves no outbox row; a
// successful one leaves exactly its rows, which are delivered.
TEST_F(Atomicity, FailedProduceLeavesNoOutboxRow) {
  Service* producer = StartService("producer", "producer");
  ASSERT_NE(producer, nullptr);
  ASSERT_NE(StartService("consumer-1", "consumer", {"CONSUMER_REPLICA=c1"}), nullptr);

  const grpc::Status failed = Produce(*producer, 1, 5, /*fail_after_emit=*/true);
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << failed.error_message();
  EXPECT_EQ(Producer("SELECT (SELECT count(*) FROM cppsvc_outbox) + "
                     "(SELECT count(*) FROM cppsvc_outbox_sent)"),
            0);

  ProduceResponse response;
  const grpc::Status ok = Produce(*producer, 6, 5, false, &response);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  ASSERT_EQ(response.event_ids_size(), 5);
  std::set<std::string> returned(response.event_ids().begin(), response.event_ids().end());
  std::set<std::string> stored;
  // Pending or already published by the relay.
  for (const auto& row : QueryRows(producer_db_,
                                   "SELECT id::text FROM cppsvc_outbox UNION ALL "
                                   "SELECT id::text FROM cppsvc_outbox_sent")) {
    stored.insert(row[0]);
  }
  EXPECT_EQ(stored, returned);
  ASSERT_TRUE(WaitFor([&] { return Consumer("SELECT count(*) FROM effects") == 5; }, 60s));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(Consumer("SELECT count(*) FROM effects WHERE seq BETWEEN 6 AND 10"), 5);
  EXPECT_EQ(Consumer("SELECT count(*) FROM effects"), 5);
  EXPECT_EQ(StreamMessages(nats_->url(), kStream), 5);
}

}  // namespace
