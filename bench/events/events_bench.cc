// Events benchmark: the outbox relay (cppsvc::events::Relay) draining a
// backlog of outbox rows to JetStream, against a bare nats.c loop publishing
// the same messages with js_PublishMsgAsync and waiting with
// js_PublishAsyncComplete; and the latency from an outbox commit to the start
// of a durable consumer's handler (cppsvc::events::Consumer) at a fixed rate.
// One process, one PostgreSQL and one nats-server (both started by
// bench/events_bench.sh), rounds interleaved with the order rotated, medians.
//
//   events_bench --admin-url postgresql://.../postgres --nats-url nats://...
//                [--rows N] [--warmup-rows N] [--rounds N] [--rate N]
//                [--latency-seconds S] [--only drain|latency]
//
// Creates its own databases through --admin-url (CREATE DATABASE) and applies
// templates/storage/infrastructure.sql to each with cppsvc::db::ApplyMigrations.
// Results go to stdout as `key<TAB>value...` lines for bench/events_bench.sh,
// progress to stderr. Exits non-zero when a check fails (a row not sent, a
// stream missing messages, an event never handled).
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nats/nats.h>
#include <pqxx/pqxx>

#include "cppsvc/db/db.h"
#include "cppsvc/events/events.h"

#ifndef CPPSVC_INFRASTRUCTURE_SQL
#error "CPPSVC_INFRASTRUCTURE_SQL must name templates/storage/infrastructure.sql"
#endif

namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// --- what every event looks like -------------------------------------------------
// A typical small event: a ~100-byte protobuf payload, a full proto name as
// event type, an aggregate id (uuid) as ordering key, a W3C traceparent.
constexpr size_t kPayloadBytes = 100;
constexpr char kEventType[] = "bench.orders.v1.OrderPlaced";
constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr int kOrderingKeys = 1000;

FILE* progress = stderr;  // the original stderr, once fd 2 is the runtime's log

template <typename... Args>
void Progress(const char* fmt, Args... args) {
  std::fprintf(progress, "events_bench: ");
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

void Out(const std::string& key, const std::string& value) {
  std::printf("%s\t%s\n", key.c_str(), value.c_str());
  std::fflush(stdout);
}

std::string Num(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The servers' processes, whose CPU time each drain reads from /proc
// (0: unknown, not read).
pid_t nats_pid = 0;
pid_t postmaster_pid = 0;

// utime + stime (and with `children`, cutime + cstime: children that ended
// and were waited for) of a process from /proc/<pid>/stat, in seconds; its
// parent's pid into `ppid`. -1 when unreadable.
double ProcCpuSeconds(pid_t pid, bool children, pid_t* ppid = nullptr) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  const size_t close = line.rfind(')');  // the command may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream fields(line.substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string x; fields >> x;) f.push_back(x);
  if (f.size() < 15) return -1;
  if (ppid != nullptr) *ppid = static_cast<pid_t>(std::stol(f[1]));
  double ticks = std::stod(f[11]) + std::stod(f[12]);  // utime, stime
  if (children) ticks += std::stod(f[13]) + std::stod(f[14]);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A server's CPU seconds: the process and its threads, its children alive
// now, and those that ended. 0 when `root` is unknown.
double ServerCpuSeconds(pid_t root) {
  if (root <= 0) return 0;
  double total = std::max(0.0, ProcCpuSeconds(root, true));
  if (DIR* proc = opendir("/proc"); proc != nullptr) {
    while (const dirent* e = readdir(proc)) {
      if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
      pid_t ppid = 0;
      const double cpu = ProcCpuSeconds(static_cast<pid_t>(std::atol(e->d_name)), false, &ppid);
      if (cpu > 0 && ppid == root) total += cpu;
    }
    closedir(proc);
  }
  return total;
}

// CPU seconds of this process, nats-server and PostgreSQL, read together.
struct CpuSample {
  double self = 0, nats = 0, pg = 0;
  static CpuSample Now() {
    return {CpuSeconds(), ServerCpuSeconds(nats_pid), ServerCpuSeconds(postmaster_pid)};
  }
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) Fail("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// postgresql://user@host:port/<db>
std::string DatabaseUrl(const std::string& admin_url, const std::string& db) {
  const size_t slash = admin_url.rfind('/');
  if (slash == std::string::npos || slash < 12) Fail("unexpected --admin-url " + admin_url);
  return admin_url.substr(0, slash + 1) + db;
}

// A fresh database with the runtime's tables; returns its URL.
std::string FreshDatabase(const std::string& admin_url, const std::string& db) {
  {
    pqxx::connection c(admin_url);
    pqxx::nontransaction tx(c);
    tx.exec("DROP DATABASE IF EXISTS " + db);
    tx.exec("CREATE DATABASE " + db);
  }
  const std::string url = DatabaseUrl(admin_url, db);
  cppsvc::db::ApplyMigrations(url, {{"0001_infrastructure", ReadFile(CPPSVC_INFRASTRUCTURE_SQL)}});
  return url;
}

void DropDatabase(const std::string& admin_url, const std::string& db) {
  try {
    pqxx::connection c(admin_url);
    pqxx::nontransaction tx(c);
    tx.exec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  } catch (const std::exception& e) {
    Progress("could not drop database %s: %s", db.c_str(), e.what());
  }
}

// The uuid text the baseline's ids and ordering keys use (random, version 4).
class UuidGen {
 public:
  UuidGen() : rng_(std::random_device{}()) {}
  std::string Next() {
    const uint64_t a = rng_(), b = rng_();
    char buf[40];
    std::snprintf(buf,
                  sizeof(buf),
                  "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
                  a >> 32,
                  (a >> 16) & 0xffff,
                  a & 0xfff,
                  0x8000 | (b >> 48 & 0x3fff),
                  b & uint64_t{0xffffffffffff});
    return buf;
  }

 private:
  std::mt19937_64 rng_;
};

// A bare nats.c connection and JetStream context (the baseline's, and the
// bench's own for stream checks).
struct Js {
  natsConnection* conn = nullptr;
  jsCtx* js = nullptr;
  explicit Js(const std::string& url, jsOptions* options = nullptr) {
    natsStatus s = natsConnection_ConnectTo(&conn, url.c_str());
    if (s != NATS_OK) Fail(std::string("nats connect: ") + natsStatus_GetText(s));
    s = natsConnection_JetStream(&js, conn, options);
    if (s != NATS_OK) Fail(std::string("jetstream context: ") + natsStatus_GetText(s));
  }
  ~Js() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (conn != nullptr) natsConnection_Destroy(conn);
  }
  Js(const Js&) = delete;
  Js& operator=(const Js&) = delete;
};

uint64_t StreamMessages(const std::string& nats_url, const std::string& stream) {
  Js js(nats_url);
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, js.js, stream.c_str(), nullptr, nullptr) != NATS_OK) return 0;
  const uint64_t n = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  return n;
}

void DeleteStream(const std::string& nats_url, const std::string& stream) {
  Js js(nats_url);
  js_DeleteStream(js.js, stream.c_str(), nullptr, nullptr);
}

std::string Payload() {
  std::string p(kPayloadBytes, '\0');
  std::mt19937 rng(42);
  for (char& c : p) c = static_cast<char>(rng() & 0xff);
  return p;
}

// --- relay drain: ours --------------------------------------------------------------

struct DrainResult {
  double seconds = 0;
  double rate = 0;         // messages/s
  double cpu_us = 0;       // this process's CPU per message
  double nats_cpu_us = 0;  // nats-server's
  double pg_cpu_us = 0;    // PostgreSQL's
  uint64_t relay_rounds = 0;
  uint64_t failed_publishes = 0;
  double backlog_count_ms = 0;  // the relay's per-round backlog count, timed alone
};

DrainResult DrainOurs(const std::string& admin_url,
                      const std::string& nats_url,
                      const std::string& tag,
                      size_t rows,
                      size_t batch = 0) {  // 0: RelayOptions' default
  const std::string db = "events_drain_" + tag;
  const std::string stream = "DRAIN_OURS_" + tag;
  const std::string subject = "drain.ours." + tag + ".order.placed";
  const std::string url = FreshDatabase(admin_url, db);
  cppsvc::events::EnsureStreams(nats_url, {{stream, {"drain.ours." + tag + ".>"}}});

  cppsvc::events::RelayOptions options;
  options.service = "bench";
  options.database_url = url;
  options.nats_url = nats_url;
  if (batch > 0) options.batch = batch;
  DrainResult result;
  {
    cppsvc::events::Relay relay(options);
    // Connected and leading before the clock starts (the empty outbox).
    relay.RunOnce();
    const auto ready_by = SteadyClock::now() + 10s;
    while (!(relay.healthy() && relay.leader())) {
      if (SteadyClock::now() > ready_by) Fail("relay not connected within 10 s");
      std::this_thread::sleep_for(5ms);
      relay.RunOnce();
    }

    // The backlog: one INSERT ... SELECT (one transaction, one NOTIFY), as
    // AddToOutbox writes them: same columns, the traceparent header.
    {
      pqxx::connection c(url);
      pqxx::work tx(c);
      const std::string payload = Payload();
      tx.exec_params(
          "INSERT INTO cppsvc_outbox (id, subject, event_type, ordering_key, payload, headers) "
          "SELECT gen_random_uuid(), $1, $2, md5((i % $5)::text)::uuid::text, $3, $4::jsonb "
          "FROM generate_series(1, $6) AS i",
          subject,
          kEventType,
          pqxx::binarystring(payload.data(), payload.size()),
          std::string("{\"traceparent\": \"") + kTraceparent + "\"}",
          kOrderingKeys,
          static_cast<long>(rows));
      tx.commit();
      // Statistics and hint bits as a backlog that autovacuum has seen.
      pqxx::nontransaction nt(c);
      nt.exec("VACUUM ANALYZE cppsvc_outbox");
    }

    const CpuSample cpu0 = CpuSample::Now();
    const auto t0 = SteadyClock::now();
    relay.Start();
    const auto give_up = t0 + 600s;
    while (relay.stats().published < rows) {
      if (SteadyClock::now() > give_up) Fail("relay did not drain within 600 s");
      std::this_thread::sleep_for(1ms);
    }
    const auto t1 = SteadyClock::now();
    const CpuSample cpu1 = CpuSample::Now();
    relay.Stop();
    const auto stats = relay.stats();
    result.seconds = std::chrono::duration<double>(t1 - t0).count();
    result.rate = static_cast<double>(rows) / result.seconds;
    result.cpu_us = (cpu1.self - cpu0.self) * 1e6 / static_cast<double>(rows);
    result.nats_cpu_us = (cpu1.nats - cpu0.nats) * 1e6 / static_cast<double>(rows);
    result.pg_cpu_us = (cpu1.pg - cpu0.pg) * 1e6 / static_cast<double>(rows);
    result.relay_rounds = stats.rounds;
    result.failed_publishes = stats.failed_publishes;
  }

  {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    const pqxx::row r = tx.exec1(
        "SELECT (SELECT count(*) FROM cppsvc_outbox_sent), "
        "(SELECT count(*) FROM cppsvc_outbox_sent) + (SELECT count(*) FROM cppsvc_outbox)");
    if (r[0].as<long>() != static_cast<long>(rows) || r[1].as<long>() != static_cast<long>(rows)) {
      Fail("drain " + tag + ": " + r[0].as<std::string>() + " of " + r[1].as<std::string>() +
           " rows sent, expected " + std::to_string(rows));
    }
    // The backlog gauge's query, which the relay runs at the end of every
    // round, on the same table: its cost is in every round of the drain.
    std::vector<double> ms;
    for (int i = 0; i < 5; ++i) {
      const auto c0 = SteadyClock::now();
      tx.exec("SELECT count(*) FROM cppsvc_outbox WHERE status = 'pending'");
      ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - c0).count());
    }
    result.backlog_count_ms = Median(ms);
  }
  const uint64_t in_stream = StreamMessages(nats_url, stream);
  if (in_stream != rows) {
    Fail("drain " + tag + ": stream " + stream + " holds " + std::to_string(in_stream) +
         " messages, expected " + std::to_string(rows));
  }
  DeleteStream(nats_url, stream);
  DropDatabase(admin_url, db);
  return result;
}

// --- marking a batch sent: moving rows against updating them in place ---------------

// Milliseconds of the statement that marks a claimed batch sent, by the
// relay's move to cppsvc_outbox_sent against the UPDATE of version 1 of the
// runtime's tables (status and sent_at set in place, with version 1's
// partial index on sent_at), on two copies of the same backlog, batches
// taken turn about. PostgreSQL's time only: no NATS, no relay.
struct MarkResult {
  double move_ms = 0;
  double update_ms = 0;
};

MarkResult MarkSent(const std::string& admin_url, size_t batch, int batches) {
  const std::string db = "events_mark";
  const std::string url = FreshDatabase(admin_url, db);
  MarkResult result;
  {
    pqxx::connection c(url);
    {
      pqxx::work tx(c);
      tx.exec("CREATE TABLE v1_outbox (LIKE cppsvc_outbox INCLUDING ALL)");
      tx.exec("CREATE INDEX v1_outbox_sent_idx ON v1_outbox (sent_at) WHERE status = 'sent'");
      const std::string payload = Payload();
      for (const char* table : {"cppsvc_outbox", "v1_outbox"}) {
        tx.exec_params(std::string("INSERT INTO ") + table +
                           " (id, subject, event_type, ordering_key, payload, headers) "
                           "SELECT gen_random_uuid(), 'mark.order.placed', $1, "
                           "md5((i % $4)::text)::uuid::text, $2, $3::jsonb "
                           "FROM generate_series(1, $5) AS i",
                       kEventType,
                       pqxx::binarystring(payload.data(), payload.size()),
                       std::string("{\"traceparent\": \"") + kTraceparent + "\"}",
                       kOrderingKeys,
                       static_cast<long>(batch) * batches);
      }
      tx.commit();
      pqxx::nontransaction nt(c);
      nt.exec("VACUUM ANALYZE cppsvc_outbox");
      nt.exec("VACUUM ANALYZE v1_outbox");
    }
    std::vector<double> move, update;
    for (int b = 0; b < 2 * batches; ++b) {
      const bool moving = (b % 2 == 0) == (b / 2 % 2 == 0);  // turn about, order rotated
      const std::string table = moving ? "cppsvc_outbox" : "v1_outbox";
      pqxx::work tx(c);
      const pqxx::result claimed = tx.exec_params(
          "SELECT ctid::text FROM " + table +
              " WHERE status = 'pending' ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
          static_cast<long>(batch));
      std::string tids = "{";
      for (const auto& r : claimed) {
        if (tids.size() > 1) tids += ',';
        tids += '"' + r[0].as<std::string>() + '"';
      }
      tids += '}';
      const auto t0 = SteadyClock::now();
      if (moving) {
        tx.exec_params(
            "WITH moved AS (DELETE FROM cppsvc_outbox WHERE ctid = ANY($1::tid[]) RETURNING id, "
            "seq, subject, event_type, ordering_key, payload, headers, attempts, created_at) "
            "INSERT INTO cppsvc_outbox_sent (id, seq, subject, event_type, ordering_key, payload, "
            "headers, attempts, created_at, sent_at) SELECT id, seq, subject, event_type, "
            "ordering_key, payload, headers, attempts, created_at, now() FROM moved",
            tids);
      } else {
        tx.exec_params(
            "UPDATE v1_outbox SET status = 'sent', sent_at = now() WHERE ctid = ANY($1::tid[])",
            tids);
      }
      (moving ? move : update)
          .push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
      tx.commit();
    }
    result.move_ms = Median(move);
    result.update_ms = Median(update);
  }
  DropDatabase(admin_url, db);
  return result;
}

// --- relay drain: the bare nats.c baseline ---------------------------------------------

std::atomic<uint64_t> baseline_errors{0};

void OnBaselineError(jsCtx*, jsPubAckErr*, void*) {
  baseline_errors.fetch_add(1, std::memory_order_relaxed);
}

DrainResult DrainBaseline(const std::string& nats_url, const std::string& tag, size_t rows) {
  const std::string stream = "DRAIN_BASE_" + tag;
  const std::string subject = "drain.base." + tag + ".order.placed";
  cppsvc::events::EnsureStreams(nats_url, {{stream, {"drain.base." + tag + ".>"}}});

  // The same message as the relay's: payload, traceparent, event type,
  // ordering key, Nats-Msg-Id (a fresh uuid per message).
  const std::string payload = Payload();
  UuidGen uuids;
  std::vector<std::string> keys;
  for (int i = 0; i < kOrderingKeys; ++i) keys.push_back(uuids.Next());

  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.ErrHandler = &OnBaselineError;
  Js js(nats_url, &options);
  baseline_errors = 0;

  DrainResult result;
  const CpuSample cpu0 = CpuSample::Now();
  const auto t0 = SteadyClock::now();
  for (size_t i = 0; i < rows; ++i) {
    const std::string id = uuids.Next();
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg,
                                  subject.c_str(),
                                  nullptr,
                                  payload.data(),
                                  static_cast<int>(payload.size()));
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, "traceparent", kTraceparent);
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, cppsvc::events::kEventTypeHeader, kEventType);
    if (s == NATS_OK) {
      s = natsMsgHeader_Set(msg,
                            cppsvc::events::kOrderingKeyHeader,
                            keys[i % kOrderingKeys].c_str());
    }
    if (s != NATS_OK) Fail(std::string("baseline message: ") + natsStatus_GetText(s));
    jsPubOptions pub;
    jsPubOptions_Init(&pub);
    pub.MsgId = id.c_str();
    s = js_PublishMsgAsync(js.js, &msg, &pub);
    natsMsg_Destroy(msg);  // null once the library took it
    if (s != NATS_OK) Fail(std::string("baseline publish: ") + natsStatus_GetText(s));
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = 60000;
  const natsStatus s = js_PublishAsyncComplete(js.js, &wait);
  const auto t1 = SteadyClock::now();
  const CpuSample cpu1 = CpuSample::Now();
  if (s != NATS_OK) Fail(std::string("baseline publish complete: ") + natsStatus_GetText(s));
  if (baseline_errors > 0)
    Fail("baseline: " + std::to_string(baseline_errors) + " publishes failed");
  result.seconds = std::chrono::duration<double>(t1 - t0).count();
  result.rate = static_cast<double>(rows) / result.seconds;
  result.cpu_us = (cpu1.self - cpu0.self) * 1e6 / static_cast<double>(rows);
  result.nats_cpu_us = (cpu1.nats - cpu0.nats) * 1e6 / static_cast<double>(rows);
  result.pg_cpu_us = (cpu1.pg - cpu0.pg) * 1e6 / static_cast<double>(rows);

  const uint64_t in_stream = StreamMessages(nats_url, stream);
  if (in_stream != rows) {
    Fail("baseline " + tag + ": stream " + stream + " holds " + std::to_string(in_stream) +
         " messages, expected " + std::to_string(rows));
  }
  DeleteStream(nats_url, stream);
  return result;
}

// --- commit-to-handler latency -------------------------------------------------------------

struct LatencyResult {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  double after_commit_p50_ms = 0, after_commit_p99_ms = 0;
  double commit_p50_ms = 0, commit_p99_ms = 0;  // stamp -> COMMIT returned
  double achieved_rate = 0;
  size_t measured = 0, produced = 0, missing = 0, failed_commits = 0;
  uint64_t relay_rounds = 0, duplicates = 0, redeliveries = 0;
};

// Payload: event number and the stamp (steady clock ns), then filler.
std::string LatencyPayload(uint64_t seq, int64_t stamp) {
  std::string p(kPayloadBytes, 'x');
  std::memcpy(p.data(), &seq, sizeof(seq));
  std::memcpy(p.data() + sizeof(seq), &stamp, sizeof(stamp));
  return p;
}

LatencyResult Latency(const std::string& admin_url,
                      const std::string& nats_url,
                      double rate,
                      double seconds,
                      double warmup_seconds) {
  const std::string db = "events_latency";
  const std::string url = FreshDatabase(admin_url, db);
  const std::string stream = "LATENCY";
  cppsvc::events::EnsureStreams(nats_url, {{stream, {"latency.>"}}});

  const size_t warm = static_cast<size_t>(rate * warmup_seconds);
  const size_t total = warm + static_cast<size_t>(rate * seconds);
  std::vector<std::atomic<int64_t>> arrived(total);
  std::vector<int64_t> stamped(total, 0), committed(total, 0);
  for (auto& a : arrived) a.store(0);
  std::atomic<size_t> arrivals{0};

  cppsvc::db::PoolOptions consumer_pool;
  consumer_pool.conninfo = url;
  consumer_pool.size = 2;
  cppsvc::events::ConsumerOptions copts;
  copts.service = "bench";
  copts.nats_url = nats_url;
  copts.pool = std::make_shared<cppsvc::db::Pool>(consumer_pool);
  cppsvc::events::ConsumerSpec spec;
  spec.stream = stream;
  spec.durable = "bench-latency";
  spec.subject = "latency.>";
  cppsvc::events::Consumer consumer(
      copts,
      spec,
      [&](cppsvc::EventContext&, const std::string& payload) -> cppsvc::Status {
        const int64_t now = NowNanos();
        uint64_t seq = 0;
        if (payload.size() >= sizeof(seq)) std::memcpy(&seq, payload.data(), sizeof(seq));
        if (seq < total) {
          int64_t expected = 0;
          if (arrived[seq].compare_exchange_strong(expected, now)) arrivals.fetch_add(1);
        }
        return cppsvc::Status::Ok();
      });

  cppsvc::events::RelayOptions ropts;
  ropts.service = "bench";
  ropts.database_url = url;
  ropts.nats_url = nats_url;
  cppsvc::events::Relay relay(ropts);
  relay.Start();
  consumer.Start();
  const auto ready_by = SteadyClock::now() + 10s;
  while (!(relay.healthy() && relay.leader())) {
    if (SteadyClock::now() > ready_by) Fail("latency: relay not ready within 10 s");
    std::this_thread::sleep_for(5ms);
  }
  const uint64_t rounds_before = relay.stats().rounds;

  // Producers: event i is due at t0 + i / rate; a few threads so that one
  // slow commit does not hold back the next events.
  cppsvc::db::PoolOptions producer_pool_options;
  producer_pool_options.conninfo = url;
  producer_pool_options.size = 4;
  cppsvc::db::Pool producer_pool(producer_pool_options);
  std::atomic<size_t> next{0};
  std::atomic<size_t> failed{0};
  const auto t0 = SteadyClock::now() + 100ms;
  const auto period = std::chrono::duration<double>(1.0 / rate);
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&] {
      UuidGen uuids;
      while (true) {
        const size_t i = next.fetch_add(1);
        if (i >= total) return;
        std::this_thread::sleep_until(t0 + std::chrono::duration_cast<SteadyClock::duration>(
                                               period * static_cast<double>(i)));
        const cppsvc::Status st =
            cppsvc::db::RunInTransaction(producer_pool,
                                         cppsvc::Clock::now() + 5s,
                                         [&](cppsvc::db::Tx& tx) {
                                           cppsvc::events::OutboxEvent e;
                                           e.subject = "latency.order.placed";
                                           e.event_type = kEventType;
                                           e.ordering_key = uuids.Next();
                                           e.headers["traceparent"] = kTraceparent;
                                           // The last thing before COMMIT: the commit time.
                                           const int64_t stamp = NowNanos();
                                           e.payload = LatencyPayload(i, stamp);
                                           cppsvc::events::AddToOutbox(tx, e);
                                           stamped[i] = stamp;
                                           return cppsvc::Status::Ok();
                                         });
        if (st.ok()) {
          committed[i] = NowNanos();
        } else {
          stamped[i] = 0;
          failed.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  const double produce_seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();

  const size_t expected = total - failed.load();
  const auto wait_until = SteadyClock::now() + 30s;
  while (arrivals.load() < expected && SteadyClock::now() < wait_until) {
    std::this_thread::sleep_for(10ms);
  }
  consumer.Stop();
  relay.Stop();

  LatencyResult r;
  std::vector<double> latencies, after_commit, commit;
  for (size_t i = warm; i < total; ++i) {
    if (stamped[i] == 0) continue;
    const int64_t a = arrived[i].load();
    if (a == 0) {
      ++r.missing;
      continue;
    }
    latencies.push_back(static_cast<double>(a - stamped[i]) / 1e6);
    after_commit.push_back(static_cast<double>(a - committed[i]) / 1e6);
    commit.push_back(static_cast<double>(committed[i] - stamped[i]) / 1e6);
  }
  std::sort(latencies.begin(), latencies.end());
  std::sort(after_commit.begin(), after_commit.end());
  std::sort(commit.begin(), commit.end());
  r.p50_ms = Percentile(latencies, 50);
  r.p99_ms = Percentile(latencies, 99);
  r.max_ms = latencies.empty() ? 0 : latencies.back();
  r.after_commit_p50_ms = Percentile(after_commit, 50);
  r.after_commit_p99_ms = Percentile(after_commit, 99);
  r.commit_p50_ms = Percentile(commit, 50);
  r.commit_p99_ms = Percentile(commit, 99);
  r.measured = latencies.size();
  r.produced = expected;
  r.failed_commits = failed.load();
  r.achieved_rate = static_cast<double>(total) / produce_seconds;
  r.relay_rounds = relay.stats().rounds - rounds_before;
  const auto cstats = consumer.stats();
  r.duplicates = cstats.duplicates;
  r.redeliveries = cstats.redeliveries;
  DeleteStream(nats_url, stream);
  DropDatabase(admin_url, db);
  return r;
}

std::string ServerSettings(const std::string& admin_url, std::string& version) {
  pqxx::connection c(admin_url);
  pqxx::nontransaction tx(c);
  version = tx.exec1("SHOW server_version")[0].as<std::string>();
  std::string out;
  for (const char* name : {"fsync", "synchronous_commit", "full_page_writes", "shared_buffers"}) {
    if (!out.empty()) out += ", ";
    out += std::string(name) + "=" + tx.exec1(std::string("SHOW ") + name)[0].as<std::string>();
  }
  return out;
}

void Usage() {
  std::fprintf(stderr,
               "usage: events_bench --admin-url URL --nats-url URL [--rows N] [--warmup-rows N]\n"
               "                    [--rounds N] [--rate N] [--latency-seconds S]\n"
               "                    [--only drain|latency] [--runtime-log FILE]\n"
               "                    [--diag-batch N] [--nats-pid PID]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string admin_url, nats_url, only, runtime_log = "/dev/null";
  size_t rows = 100000, warmup_rows = 10000;
  int rounds = 3;
  size_t diag_batch = 0;
  double rate = 1000, latency_seconds = 10, latency_warmup = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--admin-url") {
      admin_url = value();
    } else if (a == "--nats-url") {
      nats_url = value();
    } else if (a == "--rows") {
      rows = std::stoul(value());
    } else if (a == "--warmup-rows") {
      warmup_rows = std::stoul(value());
    } else if (a == "--rounds") {
      rounds = std::stoi(value());
    } else if (a == "--rate") {
      rate = std::stod(value());
    } else if (a == "--latency-seconds") {
      latency_seconds = std::stod(value());
    } else if (a == "--diag-batch") {
      diag_batch = std::stoul(value());
    } else if (a == "--runtime-log") {
      runtime_log = value();
    } else if (a == "--nats-pid") {
      nats_pid = static_cast<pid_t>(std::stol(value()));
    } else if (a == "--only") {
      only = value();
    } else {
      Usage();
    }
  }
  if (admin_url.empty() || nats_url.empty() || rows == 0 || rounds < 1 || rate <= 0 ||
      latency_seconds <= 0 || (!only.empty() && only != "drain" && only != "latency")) {
    Usage();
  }

  // The runtime logs JSON lines (one per relay round, warnings) to stderr:
  // their cost is paid, they go to --runtime-log; progress keeps the terminal.
  const int saved = dup(2);
  if (saved >= 0) {
    if (FILE* f = fdopen(saved, "w"); f != nullptr) progress = f;
  }
  const int log_fd = open(runtime_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (log_fd < 0) Fail("cannot open " + runtime_log);
  dup2(log_fd, 2);
  close(log_fd);

  try {
    std::string version;
    Out("pg_settings", ServerSettings(admin_url, version));
    {
      // The server is on this machine: its backend's parent is the postmaster.
      pqxx::connection c(admin_url);
      pqxx::nontransaction tx(c);
      const auto backend = static_cast<pid_t>(tx.exec1("SELECT pg_backend_pid()")[0].as<long>());
      pid_t parent = 0;
      if (ProcCpuSeconds(backend, false, &parent) >= 0) postmaster_pid = parent;
    }
    Out("server_version", version);
    Out("natsc_version", nats_GetVersion());
    Out("cores", std::to_string(std::thread::hardware_concurrency()));
    Out("relay_batch", std::to_string(cppsvc::events::RelayOptions{}.batch));
    Out("rows", std::to_string(rows));
    Out("payload_bytes", std::to_string(kPayloadBytes));

    if (only.empty() || only == "drain") {
      if (warmup_rows > 0) {
        Progress("drain warm-up: %zu rows each side (untimed)", warmup_rows);
        DrainOurs(admin_url, nats_url, "w", warmup_rows);
        DrainBaseline(nats_url, "w", warmup_rows);
      }
      std::vector<double> ours, base, ours_cpu, base_cpu, diag, count_ms;
      std::vector<double> ours_nats, base_nats, ours_pg, base_pg;
      uint64_t relay_rounds = 0, failed = 0, diag_rounds = 0;
      for (int r = 1; r <= rounds; ++r) {
        const std::string tag = std::to_string(r);
        for (int k = 0; k < 2; ++k) {
          const bool ours_now = (k == 0) == (r % 2 == 1);  // rotate the order
          if (ours_now) {
            const DrainResult d = DrainOurs(admin_url, nats_url, tag, rows);
            Progress("round %d ours: %zu rows in %.2f s, %.0f msgs/s, %" PRIu64 " relay rounds",
                     r,
                     rows,
                     d.seconds,
                     d.rate,
                     d.relay_rounds);
            Out("round", tag + "\tours\t" + Num(d.rate, 0) + "\t" + Num(d.seconds, 3));
            ours.push_back(d.rate);
            ours_cpu.push_back(d.cpu_us);
            ours_nats.push_back(d.nats_cpu_us);
            ours_pg.push_back(d.pg_cpu_us);
            count_ms.push_back(d.backlog_count_ms);
            relay_rounds = d.relay_rounds;
            failed += d.failed_publishes;
          } else {
            const DrainResult d = DrainBaseline(nats_url, tag, rows);
            Progress("round %d baseline: %zu msgs in %.2f s, %.0f msgs/s",
                     r,
                     rows,
                     d.seconds,
                     d.rate);
            Out("round", tag + "\tbaseline\t" + Num(d.rate, 0) + "\t" + Num(d.seconds, 3));
            base.push_back(d.rate);
            base_cpu.push_back(d.cpu_us);
            base_nats.push_back(d.nats_cpu_us);
            base_pg.push_back(d.pg_cpu_us);
          }
        }
        if (diag_batch > 0) {  // diagnosis: the same drain with a larger batch
          const DrainResult d = DrainOurs(admin_url, nats_url, tag + "b", rows, diag_batch);
          Progress("round %d ours, batch %zu: %zu rows in %.2f s, %.0f msgs/s, %" PRIu64
                   " relay rounds",
                   r,
                   diag_batch,
                   rows,
                   d.seconds,
                   d.rate,
                   d.relay_rounds);
          Out("round",
              tag + "\tours_batch_" + std::to_string(diag_batch) + "\t" + Num(d.rate, 0) + "\t" +
                  Num(d.seconds, 3));
          diag.push_back(d.rate);
          diag_rounds = d.relay_rounds;
          failed += d.failed_publishes;
        }
      }
      Out("rate_ours", Num(Median(ours), 0));
      Out("rate_baseline", Num(Median(base), 0));
      Out("cpu_us_ours", Num(Median(ours_cpu), 2));
      Out("cpu_us_baseline", Num(Median(base_cpu), 2));
      if (nats_pid > 0) {
        Out("nats_cpu_us_ours", Num(Median(ours_nats), 2));
        Out("nats_cpu_us_baseline", Num(Median(base_nats), 2));
      }
      if (postmaster_pid > 0) {
        Out("pg_cpu_us_ours", Num(Median(ours_pg), 2));
        Out("pg_cpu_us_baseline", Num(Median(base_pg), 2));
      }
      Out("relay_rounds", std::to_string(relay_rounds));
      Out("ms_per_relay_round",
          Num(static_cast<double>(rows) / Median(ours) * 1e3 / static_cast<double>(relay_rounds),
              1));
      Out("backlog_count_ms", Num(Median(count_ms), 1));
      if (diag_batch > 0) {
        Out("diag_batch", std::to_string(diag_batch));
        Out("rate_diag", Num(Median(diag), 0));
        Out("diag_relay_rounds", std::to_string(diag_rounds));
      }
      Out("relay_failed_publishes", std::to_string(failed));
      Out("drain_done", "1");

      const size_t mark_batch = cppsvc::events::RelayOptions{}.batch;
      const MarkResult m = MarkSent(admin_url, mark_batch, 20);
      Progress("mark sent, %zu rows: move %.2f ms, update in place %.2f ms",
               mark_batch,
               m.move_ms,
               m.update_ms);
      Out("mark_move_ms", Num(m.move_ms, 2));
      Out("mark_update_ms", Num(m.update_ms, 2));
    }

    if (only == "drain") Out("latency_skipped", "1");
    if (only.empty() || only == "latency") {
      Progress("latency: %.0f events/s for %.0f s (+%.0f s warm-up)",
               rate,
               latency_seconds,
               latency_warmup);
      const LatencyResult l = Latency(admin_url, nats_url, rate, latency_seconds, latency_warmup);
      Progress("latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms over %zu events",
               l.p50_ms,
               l.p99_ms,
               l.max_ms,
               l.measured);
      Out("lat_p50_ms", Num(l.p50_ms, 2));
      Out("lat_p99_ms", Num(l.p99_ms, 2));
      Out("lat_max_ms", Num(l.max_ms, 2));
      Out("lat_after_commit_p50_ms", Num(l.after_commit_p50_ms, 2));
      Out("lat_after_commit_p99_ms", Num(l.after_commit_p99_ms, 2));
      Out("lat_commit_p50_ms", Num(l.commit_p50_ms, 2));
      Out("lat_commit_p99_ms", Num(l.commit_p99_ms, 2));
      Out("lat_measured", std::to_string(l.measured));
      Out("lat_missing", std::to_string(l.missing));
      Out("lat_failed_commits", std::to_string(l.failed_commits));
      Out("lat_rate", Num(l.achieved_rate, 0));
      Out("lat_relay_rounds", std::to_string(l.relay_rounds));
      Out("lat_duplicates", std::to_string(l.duplicates));
      Out("lat_redeliveries", std::to_string(l.redeliveries));
      Out("lat_seconds", Num(latency_seconds, 0));
      Out("lat_target_rate", Num(rate, 0));
      Out("latency_done", "1");
      if (l.missing > 0) Fail(std::to_string(l.missing) + " events never reached the handler");
    }
  } catch (const std::exception& e) {
    Fail(e.what());
  }
  Out("done", "1");
  return 0;
}
