// Persistence benchmark: the generated BenchDbServiceServer (HS256 JWT, RBAC,
// validation, metrics, request log, one transaction per call on a db::Pool)
// whose Create handler inserts an Item through the generated repository and
// an outbox row with cppsvc::events::AddToOutbox on ctx.tx() (what a generated
// Emit does), driven over gRPC on loopback with --inflight
// calls in flight; against a hand-written loop on raw libpq (BEGIN, the same
// two INSERTs as prepared statements, COMMIT) on --inflight connections with
// as many threads; and, when --pgbench is given, pgbench running the same two
// INSERTs (the server's commit-bound ceiling). All against the same database
// in one run, rounds interleaved with the order rotated, medians.
//
//   db_bench --url postgresql://... [--rounds N] [--seconds S] [--warmup S]
//            [--inflight N] [--channels N] [--workers N] [--pgbench CMD]
//            [--only ours|baseline] [--keep-stderr]
//
// The database must exist; db_bench applies the contract's migrations itself
// (cppsvc::db::ApplyMigrations with BenchDbServiceServer::Migrations()).
// --pgbench CMD is a pgbench command line without -T (db_bench appends
// `-T <seconds>`), e.g. `pgbench -n -c 8 -j 2 -f script.sql URL`.
//
// Request logs go to stderr, which is pointed at /dev/null once the server
// runs; progress goes to the original stderr. Results go to stdout as
// `key<TAB>value...` lines for bench/db_bench.sh. Exits non-zero when a check
// fails (including: fewer rows stored than calls acknowledged).
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <libpq-fe.h>
#include <openssl/rand.h>
#include <pqxx/pqxx>

#include "benchdb/v1/benchdb.cppsvc.repo.h"
#include "benchdb/v1/benchdb.cppsvc.server.h"
#include "benchdb/v1/benchdb.grpc.pb.h"
#include "cppsvc/auth/jwt.h"
#include "cppsvc/auth/rbac.h"
#include "cppsvc/db/db.h"
#include "cppsvc/events/events.h"
#include "cppsvc/impl/repository.h"
#include "cppsvc/impl/validate.h"
#include "cppsvc/observability/metrics.h"

namespace {

using benchdb::v1::BenchDbService;
using benchdb::v1::CreateRequest;
using benchdb::v1::CreateResponse;
using benchdb::v1::Item;
using SteadyClock = std::chrono::steady_clock;

FILE* progress = stderr;  // the original stderr, once fd 2 is /dev/null

template <typename... Args>
void Progress(const char* fmt, Args... args) {
  std::fprintf(progress, "db_bench: ");
  std::fprintf(progress, fmt, args...);
  std::fprintf(progress, "\n");
  std::fflush(progress);
}

[[noreturn]] void Fail(const std::string& what) {
  std::printf("error\t%s\n", what.c_str());
  std::fflush(stdout);
  Progress("FAILED: %s", what.c_str());
  std::exit(1);
}

// The outbox row both sides write (templates/storage/infrastructure.sql).
constexpr char kOutboxInsertSql[] =
    "INSERT INTO cppsvc_outbox (id, subject, event_type, payload) VALUES ($1::uuid, $2, $3, $4)";
constexpr char kSubject[] = "benchdb.item.created";
constexpr char kEventType[] = "benchdb.v1.Item";
// Rows of each side carry their own name, so the end can count them apart.
constexpr char kOursName[] = "bench-ours";
constexpr char kBaseName[] = "bench-base";
constexpr char kUowName[] = "bench-uow_";

// --- ours: the handler of the generated server --------------------------------

std::atomic<uint64_t> ours_handled{0};  // handler runs that reached the end

class Handlers final : public benchdb::v1::BenchDbServiceBase {
 public:
  cppsvc::Status Create(cppsvc::CallContext& ctx,
                        const CreateRequest& request,
                        CreateResponse& response) override {
    Item* item = response.mutable_item();
    item->set_name(request.name());
    item->set_qty(request.qty());
    benchdb::v1::ItemRepository(ctx.tx()).Insert(*item);
    // What a generated Emit does: cppsvc::events::AddToOutbox on ctx.tx().
    cppsvc::events::OutboxEvent event;
    event.subject = kSubject;
    event.event_type = kEventType;
    event.payload = item->SerializeAsString();
    cppsvc::events::AddToOutbox(ctx.tx(), event);
    ours_handled.fetch_add(1, std::memory_order_relaxed);
    return cppsvc::Status::Ok();
  }
};

std::unique_ptr<grpc::Server> Start(grpc::Service* service, int& port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) Fail("could not start a server on 127.0.0.1");
  return server;
}

// --- the load client of ours ---------------------------------------------------

std::atomic<uint64_t> ours_ok_total{0};  // acknowledged calls, warm-up included
std::atomic<uint64_t> ours_failures[17];

struct Client {
  std::vector<std::unique_ptr<BenchDbService::Stub>> stubs;  // one per channel (connection)
  std::string bearer;
  CreateRequest request;
};

void Connect(Client& c, int port, int channels) {
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection per channel
    args.SetInt("cppsvc.bench.channel", i);
    auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                             grpc::InsecureChannelCredentials(),
                                             args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5)))
      Fail("could not connect to ours");
    c.stubs.push_back(BenchDbService::NewStub(channel));
  }
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Result {
  double tps = 0;
  double cpu_us = 0;  // this process's CPU time per committed transaction
  uint64_t errors = 0;
};

// `inflight` calls always outstanding; counts the calls answered OK during
// `seconds` after a short ramp.
Result OursLoop(Client& client, int inflight, double seconds) {
  struct Shared {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> ok{0}, errors{0};
    std::mutex mu;
    std::condition_variable cv;
    int outstanding = 0;
  } shared;
  struct Slot {
    std::unique_ptr<grpc::ClientContext> ctx;
    CreateResponse response;
    BenchDbService::Stub* stub = nullptr;
  };
  std::vector<Slot> slots(static_cast<size_t>(inflight));
  std::function<void(Slot&)> issue = [&](Slot& slot) {
    slot.ctx = std::make_unique<grpc::ClientContext>();
    slot.ctx->AddMetadata("authorization", client.bearer);
    slot.ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    slot.response.Clear();
    slot.stub->async()->Create(slot.ctx.get(),
                               &client.request,
                               &slot.response,
                               [&](grpc::Status status) {
                                 if (status.ok()) {
                                   shared.ok.fetch_add(1, std::memory_order_relaxed);
                                   ours_ok_total.fetch_add(1, std::memory_order_relaxed);
                                 } else {
                                   shared.errors.fetch_add(1, std::memory_order_relaxed);
                                   const int code = static_cast<int>(status.error_code());
                                   ours_failures[code >= 0 && code < 17 ? code : 2].fetch_add(1);
                                 }
                                 if (!shared.stop.load(std::memory_order_relaxed)) {
                                   issue(slot);
                                   return;
                                 }
                                 std::lock_guard<std::mutex> lock(shared.mu);
                                 if (--shared.outstanding == 0) shared.cv.notify_all();
                               });
  };
  shared.outstanding = inflight;
  for (size_t i = 0; i < slots.size(); ++i) {
    slots[i].stub = client.stubs[i % client.stubs.size()].get();
    issue(slots[i]);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // ramp
  const uint64_t ok0 = shared.ok.load(), err0 = shared.errors.load();
  const double cpu0 = CpuSeconds();
  const auto t0 = SteadyClock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t ok1 = shared.ok.load(), err1 = shared.errors.load();
  const double cpu1 = CpuSeconds();
  const auto t1 = SteadyClock::now();
  shared.stop = true;
  {
    std::unique_lock<std::mutex> lock(shared.mu);
    shared.cv.wait(lock, [&] { return shared.outstanding == 0; });
  }
  Result r;
  r.tps = static_cast<double>(ok1 - ok0) / std::chrono::duration<double>(t1 - t0).count();
  r.errors = err1 - err0;
  r.cpu_us = ok1 > ok0 ? (cpu1 - cpu0) * 1e6 / static_cast<double>(ok1 - ok0) : 0;
  return r;
}

grpc::Status CallOnce(Client& client,
                      const std::string& bearer,
                      const CreateRequest& request,
                      CreateResponse& response) {
  grpc::ClientContext ctx;
  if (!bearer.empty()) ctx.AddMetadata("authorization", bearer);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return client.stubs[0]->Create(&ctx, request, &response);
}

// --- the baseline: raw libpq ----------------------------------------------------

// A random (version 4) UUID, lowercase.
std::string RandomUuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) Fail("RAND_bytes failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}

PGconn* PqConnect(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    Fail("libpq: cannot connect: " + why);
  }
  return conn;
}

// Runs `sql` (no parameters); false (and the message in *error) on failure.
bool PqCommand(PGconn* conn, const char* sql, std::string* error) {
  PGresult* r = PQexec(conn, sql);
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok && error) *error = PQresultErrorMessage(r);
  PQclear(r);
  return ok;
}

// A single number from `sql`.
long long PqCount(PGconn* conn, const std::string& sql) {
  PGresult* r = PQexec(conn, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    std::string why = PQresultErrorMessage(r);
    PQclear(r);
    Fail("query failed: " + sql + ": " + why);
  }
  long long v = std::atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

// One connection of the baseline: both statements prepared once.
struct BaseConn {
  PGconn* conn = nullptr;
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> errors{0};
  std::string last_error;
};

void PqPrepare(PGconn* conn, const char* name, const char* sql) {
  PGresult* r = PQprepare(conn, name, sql, 0, nullptr);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    std::string why = PQresultErrorMessage(r);
    PQclear(r);
    Fail(std::string("libpq: prepare ") + name + ": " + why);
  }
  PQclear(r);
}

// "2024-05-01 12:34:56.123456+00": now, to the microsecond.
std::string NowText(google::protobuf::Timestamp* ts) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm t{};
  gmtime_r(&now.tv_sec, &t);
  char buf[96];
  const long micros = now.tv_nsec / 1000;
  std::snprintf(buf,
                sizeof buf,
                "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00",
                t.tm_year + 1900,
                t.tm_mon + 1,
                t.tm_mday,
                t.tm_hour,
                t.tm_min,
                t.tm_sec,
                micros);
  ts->set_seconds(now.tv_sec);
  ts->set_nanos(static_cast<int32_t>(micros * 1000));
  return buf;
}

// One transaction: BEGIN, the item, the outbox row, COMMIT.
bool BaseTransaction(BaseConn& c, const std::string& name, int64_t qty) {
  std::string error;
  if (!PqCommand(c.conn, "BEGIN", &error)) {
    c.last_error = error;
    return false;
  }
  Item item;
  item.set_id(RandomUuid());
  item.set_name(name);
  item.set_qty(qty);
  const std::string created_at = NowText(item.mutable_created_at());
  const std::string qty_text = std::to_string(qty);
  bool ok;
  {
    const char* values[4] = {item.id().c_str(), name.c_str(), qty_text.c_str(), created_at.c_str()};
    PGresult* r = PQexecPrepared(c.conn, "item_insert", 4, values, nullptr, nullptr, 0);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  if (ok) {
    const std::string payload = item.SerializeAsString();
    const std::string event_id = RandomUuid();
    const char* values[4] = {event_id.c_str(), kSubject, kEventType, payload.data()};
    const int lengths[4] = {0, 0, 0, static_cast<int>(payload.size())};
    const int formats[4] = {0, 0, 0, 1};  // the payload in binary
    PGresult* r = PQexecPrepared(c.conn, "outbox_insert", 4, values, lengths, formats, 0);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  if (!ok) {
    c.last_error = error;
    PqCommand(c.conn, "ROLLBACK", nullptr);
    return false;
  }
  if (!PqCommand(c.conn, "COMMIT", &error)) {
    c.last_error = error;
    return false;
  }
  return true;
}

std::atomic<uint64_t> base_commits_total{0};

// Every connection in a thread of its own, looping transactions.
Result BaseLoop(std::vector<std::unique_ptr<BaseConn>>& conns, double seconds) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (auto& c : conns) {
    threads.emplace_back([&stop, conn = c.get()] {
      int64_t qty = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (BaseTransaction(*conn, kBaseName, qty++ % 1000000)) {
          conn->commits.fetch_add(1, std::memory_order_relaxed);
          base_commits_total.fetch_add(1, std::memory_order_relaxed);
        } else {
          conn->errors.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  auto sum = [&](bool errors) {
    uint64_t n = 0;
    for (auto& c : conns) n += (errors ? c->errors : c->commits).load();
    return n;
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // ramp, as for ours
  const uint64_t ok0 = sum(false), err0 = sum(true);
  const double cpu0 = CpuSeconds();
  const auto t0 = SteadyClock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t ok1 = sum(false), err1 = sum(true);
  const double cpu1 = CpuSeconds();
  const auto t1 = SteadyClock::now();
  stop = true;
  for (auto& t : threads) t.join();
  Result r;
  r.tps = static_cast<double>(ok1 - ok0) / std::chrono::duration<double>(t1 - t0).count();
  r.errors = err1 - err0;
  r.cpu_us = ok1 > ok0 ? (cpu1 - cpu0) * 1e6 / static_cast<double>(ok1 - ok0) : 0;
  return r;
}

// --- diagnosis: ours' unit of work without the transport ---------------------------

std::atomic<uint64_t> uow_commits_total{0};

// `threads` threads each calling the handler in db::RunInTransaction on ours'
// pool, as ServiceRuntime does on a bulkhead worker, but with no gRPC, no
// pipeline and no thread hop: what the database layer alone costs.
Result UowLoop(cppsvc::db::Pool& pool, Handlers& handlers, int threads, double seconds) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ok{0}, errors{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&] {
      CreateRequest request;
      request.set_name(kUowName);
      request.set_qty(42);
      cppsvc::Caller caller{"bench-user", {"user"}, ""};
      while (!stop.load(std::memory_order_relaxed)) {
        cppsvc::CallContext ctx(caller,
                                cppsvc::Clock::now() + std::chrono::seconds(5),
                                "benchdb.v1.BenchDbService/Create",
                                "");
        CreateResponse response;
        cppsvc::Status status =
            cppsvc::db::RunInTransaction(pool, ctx.deadline(), [&](cppsvc::db::Tx& tx) {
              ctx.set_tx(&tx);
              response.Clear();
              cppsvc::Status s = handlers.Create(ctx, request, response);
              ctx.set_tx(nullptr);
              return s;
            });
        if (status.ok()) {
          ok.fetch_add(1, std::memory_order_relaxed);
          uow_commits_total.fetch_add(1, std::memory_order_relaxed);
        } else {
          errors.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // ramp, as for the others
  const uint64_t ok0 = ok.load(), err0 = errors.load();
  const double cpu0 = CpuSeconds();
  const auto t0 = SteadyClock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t ok1 = ok.load(), err1 = errors.load();
  const double cpu1 = CpuSeconds();
  const auto t1 = SteadyClock::now();
  stop = true;
  for (auto& t : workers) t.join();
  Result r;
  r.tps = static_cast<double>(ok1 - ok0) / std::chrono::duration<double>(t1 - t0).count();
  r.errors = err1 - err0;
  r.cpu_us = ok1 > ok0 ? (cpu1 - cpu0) * 1e6 / static_cast<double>(ok1 - ok0) : 0;
  return r;
}

// --- pgbench ---------------------------------------------------------------------

// Runs `command -T seconds`; its "tps = X (without initial connection time)",
// or -1 (and its output in *output) when it failed.
double RunPgbench(const std::string& command, int seconds, std::string* output) {
  const std::string cmd = command + " -T " + std::to_string(seconds) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = pclose(p);
  *output = out;
  if (status != 0) return -1;
  const size_t at = out.find("tps = ");
  if (at == std::string::npos) return -1;
  return std::strtod(out.c_str() + at + 6, nullptr);
}

// --- helpers -----------------------------------------------------------------------

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double ArgDouble(int& i, int argc, char** argv) {
  if (i + 1 >= argc) Fail(std::string(argv[i]) + " needs a value");
  char* end = nullptr;
  double v = std::strtod(argv[++i], &end);
  if (end == argv[i] || *end != '\0' || !(v > 0))
    Fail(std::string(argv[i - 1]) + ": not a positive number");
  return v;
}

std::string PgSetting(PGconn* conn, const char* name) {
  PGresult* r = PQexec(conn, (std::string("SHOW ") + name).c_str());
  std::string v =
      PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "?";
  PQclear(r);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, pgbench, only;
  int rounds = 5, inflight = 8, channels = 2;
  double seconds = 3, warmup = 1;
  size_t workers = 0;  // 0: --inflight
  bool keep_stderr = false, uow = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--url" && i + 1 < argc)
      url = argv[++i];
    else if (a == "--pgbench" && i + 1 < argc)
      pgbench = argv[++i];
    else if (a == "--rounds")
      rounds = static_cast<int>(ArgDouble(i, argc, argv));
    else if (a == "--seconds")
      seconds = ArgDouble(i, argc, argv);
    else if (a == "--warmup")
      warmup = ArgDouble(i, argc, argv);
    else if (a == "--inflight")
      inflight = static_cast<int>(ArgDouble(i, argc, argv));
    else if (a == "--channels")
      channels = static_cast<int>(ArgDouble(i, argc, argv));
    else if (a == "--workers")
      workers = static_cast<size_t>(ArgDouble(i, argc, argv));
    else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (a == "--keep-stderr")
      keep_stderr = true;
    else if (a == "--uow")
      uow = true;
    else if (a == "-h" || a == "--help") {
      std::printf(
          "usage: %s --url URL [--rounds N] [--seconds S] [--warmup S] [--inflight N]\n"
          "       [--channels N] [--workers N] [--pgbench 'pgbench ... URL' (without -T)]\n"
          "       [--only ours|baseline] [--keep-stderr]\n"
          "       [--uow]  (also time ours' handler in db::RunInTransaction on N threads,\n"
          "                 without gRPC or the pipeline: the database layer's share)\n",
          argv[0]);
      return 0;
    } else {
      Fail("unknown argument " + a);
    }
  }
  if (url.empty()) Fail("--url is required");
  if (rounds < 1 || inflight < 1 || channels < 1) Fail("counts must be at least 1");
  if (!only.empty() && only != "ours" && only != "baseline") Fail("--only takes ours or baseline");
  if (workers == 0) workers = static_cast<size_t>(inflight);
  const int pgbench_seconds = std::max(1, static_cast<int>(std::lround(seconds)));

  // --- the schema ----------------------------------------------------------------
  try {
    cppsvc::db::MigrationReport report =
        cppsvc::db::ApplyMigrations(url, benchdb::v1::BenchDbServiceServer::Migrations());
    Progress("migrations: %zu applied, %zu already there",
             report.applied.size(),
             report.already_applied);
  } catch (const std::exception& e) {
    Fail(std::string("migrations: ") + e.what());
  }

  if (!keep_stderr) {
    int saved = dup(2);
    int devnull = open("/dev/null", O_WRONLY);
    if (saved < 0 || devnull < 0 || dup2(devnull, 2) < 0)
      Fail("could not redirect stderr to /dev/null");
    close(devnull);
    progress = fdopen(saved, "w");
    if (progress == nullptr) Fail("fdopen");
  }

  // --- ours --------------------------------------------------------------------------
  cppsvc::auth::JwtConfig jwt;
  jwt.algorithm = cppsvc::auth::Algorithm::kHS256;
  jwt.key = "cppsvc-db-bench-secret-0123456789abcdef";
  jwt.issuer = "cppsvc-bench";
  jwt.audience = "benchdb";
  auto metrics = std::make_shared<cppsvc::observability::Metrics>("benchdb");
  cppsvc::db::PoolOptions pool;
  pool.conninfo = url;
  pool.size = static_cast<size_t>(inflight);
  cppsvc::impl::ServiceOptions options;
  options.service = "benchdb";
  options.verifier = std::make_shared<const cppsvc::auth::JwtVerifier>(jwt);
  options.roles =
      std::make_shared<const cppsvc::auth::RoleGraph>(benchdb::v1::BenchDbServiceServer::Roles());
  options.metrics = metrics;
  options.workers = workers;
  options.max_queue = workers * 8;
  options.db = std::make_shared<cppsvc::db::Pool>(pool);
  Handlers handlers;
  benchdb::v1::BenchDbServiceServer ours_service(handlers, options);
  int port = 0;
  std::unique_ptr<grpc::Server> server = Start(&ours_service, port);

  cppsvc::auth::JwtSigner signer(jwt);
  cppsvc::auth::TokenClaims claims;
  claims.subject = "bench-user";
  claims.roles = {"user"};
  claims.ttl = std::chrono::seconds(3600);
  Client client;
  client.bearer = "Bearer " + signer.Sign(claims);
  client.request.set_name(kOursName);
  client.request.set_qty(42);
  Connect(client, port, channels);

  // --- the baseline: its connections, statements prepared -----------------------------
  const cppsvc::db::Statement* item_insert = nullptr;
  for (const cppsvc::db::Statement* s : cppsvc::db::RegisteredStatements()) {
    if (std::strcmp(s->name, "benchdb.v1.Item.Insert") == 0) item_insert = s;
  }
  if (item_insert == nullptr) Fail("the generated repository registered no benchdb.v1.Item.Insert");
  std::vector<std::unique_ptr<BaseConn>> base;
  for (int i = 0; i < inflight; ++i) {
    auto c = std::make_unique<BaseConn>();
    c->conn = PqConnect(url);
    PqPrepare(c->conn, "item_insert", item_insert->sql);  // the repository's own statement
    PqPrepare(c->conn, "outbox_insert", kOutboxInsertSql);
    base.push_back(std::move(c));
  }
  PGconn* admin = PqConnect(url);
  auto count = [&](const std::string& where) {
    return PqCount(admin, "SELECT count(*) FROM items" + (where.empty() ? "" : " WHERE " + where));
  };
  auto outbox_count = [&] { return PqCount(admin, "SELECT count(*) FROM cppsvc_outbox"); };

  // --- checks: both store the same rows; ours enforces the contract ---------------------
  {
    const long long items0 = count(""), outbox0 = outbox_count();
    CreateResponse response;
    grpc::Status s = CallOnce(client, client.bearer, client.request, response);
    if (!s.ok()) Fail("ours: valid call failed: " + s.error_message());
    if (!cppsvc::impl::IsUuid(response.item().id()) || response.item().name() != kOursName ||
        response.item().qty() != 42 || response.item().created_at().seconds() == 0)
      Fail("ours: unexpected response " + response.ShortDebugString());
    if (count("id = '" + response.item().id() + "' AND name = '" + kOursName + "' AND qty = 42") !=
        1)
      Fail("ours: the item is not in the table");
    if (!BaseTransaction(*base[0], kBaseName, 42))
      Fail("baseline: transaction failed: " + base[0]->last_error);
    if (count("") != items0 + 2 || outbox_count() != outbox0 + 2)
      Fail("each side must store one item and one outbox row per call");
    auto expect = [&](const char* what,
                      const std::string& bearer,
                      const CreateRequest& request,
                      grpc::StatusCode want) {
      CreateResponse r;
      grpc::Status got = CallOnce(client, bearer, request, r);
      if (got.error_code() != want)
        Fail(std::string("ours: ") + what + ": expected status " + std::to_string(want) + ", got " +
             std::to_string(got.error_code()) + " (" + got.error_message() + ")");
    };
    expect("no token", "", client.request, grpc::StatusCode::UNAUTHENTICATED);
    expect("bad token", "Bearer x.y.z", client.request, grpc::StatusCode::UNAUTHENTICATED);
    cppsvc::auth::TokenClaims other = claims;
    other.roles = {"nobody"};
    expect("role not allowed",
           "Bearer " + signer.Sign(other),
           client.request,
           grpc::StatusCode::PERMISSION_DENIED);
    CreateRequest bad = client.request;
    bad.set_name("");
    expect("empty name", client.bearer, bad, grpc::StatusCode::INVALID_ARGUMENT);
    bad = client.request;
    bad.set_qty(-1);
    expect("qty below 0", client.bearer, bad, grpc::StatusCode::INVALID_ARGUMENT);
    if (count("") != items0 + 2 || outbox_count() != outbox0 + 2)
      Fail("ours stored rows for a refused call");
    // From here on, every acknowledged call must leave its row.
    ours_ok_total = static_cast<uint64_t>(count(std::string("name = '") + kOursName + "'"));
    base_commits_total = static_cast<uint64_t>(count(std::string("name = '") + kBaseName + "'"));
  }
  std::string pgbench_out;
  if (!pgbench.empty()) {
    // The script must work before it is timed.
    if (RunPgbench(pgbench, 1, &pgbench_out) < 0) {
      std::printf("pgbench_error\t%s\n", pgbench_out.substr(0, pgbench_out.find('\n')).c_str());
      Progress("pgbench failed: %s", pgbench_out.c_str());
      pgbench.clear();
    }
  }

  const unsigned cores = std::thread::hardware_concurrency();
  std::printf(
      "cores\t%u\nworkers\t%zu\npool\t%zu\nrounds\t%d\nseconds\t%g\ninflight\t%d\n"
      "channels\t%d\n",
      cores,
      workers,
      pool.size,
      rounds,
      seconds,
      inflight,
      channels);
  std::printf(
      "pg_settings\tfsync=%s, synchronous_commit=%s, full_page_writes=%s, "
      "wal_sync_method=%s, shared_buffers=%s, max_connections=%s\n",
      PgSetting(admin, "fsync").c_str(),
      PgSetting(admin, "synchronous_commit").c_str(),
      PgSetting(admin, "full_page_writes").c_str(),
      PgSetting(admin, "wal_sync_method").c_str(),
      PgSetting(admin, "shared_buffers").c_str(),
      PgSetting(admin, "max_connections").c_str());
  std::printf("server_version\t%s\n", PgSetting(admin, "server_version").c_str());
  std::fflush(stdout);

  // --- timing ----------------------------------------------------------------------------
  enum Side { kBase = 0, kOurs = 1, kPgbench = 2, kUow = 3 };
  const char* kNames[] = {"baseline", "ours", "pgbench", "uow"};
  std::vector<Side> order = {kBase, kOurs};
  if (only == "ours") order = {kOurs};
  if (only == "baseline") order = {kBase};
  if (!pgbench.empty() && only.empty()) order.push_back(kPgbench);
  if (uow) order.push_back(kUow);

  Progress("warm-up: %g s per side", warmup);
  for (Side s : order) {
    if (s == kOurs) OursLoop(client, inflight, warmup);
    if (s == kBase) BaseLoop(base, warmup);
    if (s == kUow) UowLoop(*options.db, handlers, inflight, warmup);
  }
  std::vector<double> tps[4], cpu[4];
  uint64_t errors[4] = {0, 0, 0, 0};
  for (int r = 0; r < rounds; ++r) {
    std::vector<Side> o = order;
    std::rotate(o.begin(), o.begin() + (r % static_cast<int>(o.size())), o.end());
    for (Side s : o) {
      Result res;
      if (s == kOurs) res = OursLoop(client, inflight, seconds);
      if (s == kBase) res = BaseLoop(base, seconds);
      if (s == kUow) res = UowLoop(*options.db, handlers, inflight, seconds);
      if (s == kPgbench) {
        res.tps = RunPgbench(pgbench, pgbench_seconds, &pgbench_out);
        if (res.tps < 0) {
          std::printf("pgbench_error\t%s\n", pgbench_out.substr(0, pgbench_out.find('\n')).c_str());
          Progress("pgbench failed: %s", pgbench_out.c_str());
          continue;
        }
      } else {
        errors[s] += res.errors;
        cpu[s].push_back(res.cpu_us);
      }
      tps[s].push_back(res.tps);
      std::printf("round\t%d\t%s\t%.1f\t%.1f\t%llu\n",
                  r + 1,
                  kNames[s],
                  res.tps,
                  res.cpu_us,
                  static_cast<unsigned long long>(res.errors));
      std::fflush(stdout);
      Progress("round %d/%d %-8s %8.0f tx/s  %6.1f us CPU/tx (this process)  %llu errors",
               r + 1,
               rounds,
               kNames[s],
               res.tps,
               res.cpu_us,
               static_cast<unsigned long long>(res.errors));
    }
  }
  for (Side s : {kBase, kOurs, kPgbench, kUow}) {
    if (tps[s].empty()) continue;
    std::printf("tps_%s\t%.1f\n", kNames[s], Median(tps[s]));
    if (s != kPgbench) {
      std::printf("cpu_us_%s\t%.2f\nerrors_%s\t%llu\n",
                  kNames[s],
                  Median(cpu[s]),
                  kNames[s],
                  static_cast<unsigned long long>(errors[s]));
    }
  }
  std::fflush(stdout);

  // --- every acknowledged call is stored -------------------------------------------------
  const long long ours_rows = count(std::string("name = '") + kOursName + "'");
  const long long base_rows = count(std::string("name = '") + kBaseName + "'");
  const long long uow_rows = count(std::string("name = '") + kUowName + "'");
  const long long all_items = count(""), all_outbox = outbox_count();
  if (uow) {
    std::printf("rows_uow\t%lld\t%llu\n",
                uow_rows,
                static_cast<unsigned long long>(uow_commits_total.load()));
  }
  std::printf("rows_ours\t%lld\t%llu\nrows_baseline\t%lld\t%llu\nrows_all\t%lld\t%lld\n",
              ours_rows,
              static_cast<unsigned long long>(ours_ok_total.load()),
              base_rows,
              static_cast<unsigned long long>(base_commits_total.load()),
              all_items,
              all_outbox);
  std::string codes;
  for (int c = 0; c < 17; ++c) {
    if (uint64_t n = ours_failures[c].load()) {
      codes += (codes.empty() ? "" : ", ") + std::to_string(n) + " x " +
               std::string(cppsvc::StatusCodeName(static_cast<cppsvc::StatusCode>(c)));
    }
  }
  if (!codes.empty()) std::printf("failures_ours\t%s\n", codes.c_str());
  for (auto& c : base) {
    if (c->errors.load() > 0) {
      std::string e = c->last_error.substr(0, c->last_error.find('\n'));
      std::printf("baseline_error\t%s\n", e.c_str());
      break;
    }
  }
  if (ours_rows < static_cast<long long>(ours_ok_total.load()))
    Fail("ours acknowledged more calls than it stored");
  if (base_rows != static_cast<long long>(base_commits_total.load()))
    Fail("the baseline's rows do not match its commits");
  if (uow_rows != static_cast<long long>(uow_commits_total.load()))
    Fail("the unit-of-work rows do not match its commits");
  if (all_items != all_outbox) Fail("items and outbox rows differ in number");
  if (only != "baseline" &&
      metrics->Serialize().find("cppsvc_requests_total{") == std::string::npos)
    Fail("ours recorded no cppsvc_requests_total");
  std::printf("done\t1\n");
  std::fflush(stdout);

  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  for (auto& c : base) PQfinish(c->conn);
  PQfinish(admin);
  return 0;
}
