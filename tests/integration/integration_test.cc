// Process-level integration tests of a generated service and its generated
// client: replicas of echo_service (the generated main() with the handlers of
// echo_service.cc) run as real processes configured by their environment, on
// free loopback ports, and EchoServiceClient calls them over gRPC or over NATS
// request-reply (a real nats-server started by scripts/nats.sh).
//
// Every wait is bounded; every process and temporary directory a test makes
// is removed in TearDown, also when the test fails.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/client.h"
#include "echo/v1/echo.cppsvc.client.h"
#include "process_testing.h"

#ifndef ECHO_SERVICE_BINARY
#error "ECHO_SERVICE_BINARY must name the echo_service executable"
#endif
#ifndef NATS_SCRIPT
#error "NATS_SCRIPT must name scripts/nats.sh"
#endif

namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
using cppsvc::Status;
using cppsvc::StatusCode;
using echo::v1::EchoRequest;
using echo::v1::EchoResponse;
using echo::v1::EchoServiceClient;
using namespace cppsvc::process_testing;

constexpr char kJwtKey[] = "integration-test-hs256-secret-of-enough-length";
constexpr char kIssuer[] = "cppsvc-integration";
constexpr char kAudience[] = "echo";

// ---------------------------------------------------------------------------
// Prometheus text exposition format (version 0.0.4).

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family -> counter|gauge|...
  std::map<std::string, std::string> help;   // family -> text
  std::vector<Sample> samples;
  std::vector<std::string> errors;  // "line N: why"

  // Sum of the samples named `name` whose labels include `match`.
  double Sum(const std::string& name, const std::map<std::string, std::string>& match) const {
    double sum = 0;
    for (const Sample& s : samples) {
      if (s.name != name) continue;
      bool all = std::all_of(match.begin(), match.end(), [&](const auto& kv) {
        auto it = s.labels.find(kv.first);
        return it != s.labels.end() && it->second == kv.second;
      });
      if (all) sum += s.value;
    }
    return sum;
  }
};

bool ParseSampleValue(const std::string& text, double& value) {
  if (text == "+Inf" || text == "Inf") {
    value = HUGE_VAL;
    return true;
  }
  if (text == "-Inf") {
    value = -HUGE_VAL;
    return true;
  }
  if (text == "NaN") {
    value = std::nan("");
    return true;
  }
  static const std::regex number(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)");
  if (!std::regex_match(text, number)) return false;
  value = std::strtod(text.c_str(), nullptr);
  return true;
}

// The family a sample belongs to: histogram and summary samples carry a
// suffix on the family's name.
std::string FamilyOf(const std::string& sample, const std::map<std::string, std::string>& types) {
  if (types.count(sample)) return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0) {
      std::string family = sample.substr(0, sample.size() - s.size());
      if (types.count(family)) return family;
    }
  }
  return sample;
}

Exposition ParsePrometheusText(const std::string& text) {
  static const std::regex metric_name("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex label_name("[a-zA-Z_][a-zA-Z0-9_]*");
  static const std::set<std::string> kinds{"counter", "gauge", "histogram", "summary", "untyped"};
  Exposition out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  auto error = [&](const std::string& why) {
    out.errors.push_back("line " + std::to_string(number) + ": " + why + ": '" + line + "'");
  };
  if (!text.empty() && text.back() != '\n') {
    out.errors.push_back("the exposition does not end with a line feed");
  }
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line.substr(1));
      std::string keyword, name;
      words >> keyword >> name;
      if (keyword != "HELP" && keyword != "TYPE") continue;  // a plain comment
      if (!std::regex_match(name, metric_name)) {
        error("bad metric name in # " + keyword);
        continue;
      }
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (keyword == "TYPE") {
        if (!kinds.count(rest)) error("unknown metric type '" + rest + "'");
        if (out.types.count(name)) error("second # TYPE for " + name);
        for (const Sample& s : out.samples) {
          if (FamilyOf(s.name, {{name, rest}}) == name) error("# TYPE after samples of " + name);
        }
        out.types[name] = rest;
      } else {
        out.help[name] = rest;
      }
      continue;
    }

    // name[{label="value",...}] value [timestamp]
    Sample sample;
    size_t pos = 0;
    while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') ++pos;
    sample.name = line.substr(0, pos);
    if (!std::regex_match(sample.name, metric_name)) {
      error("bad metric name");
      continue;
    }
    bool ok = true;
    if (pos < line.size() && line[pos] == '{') {
      ++pos;
      while (ok && pos < line.size() && line[pos] != '}') {
        size_t eq = line.find('=', pos);
        if (eq == std::string::npos) {
          ok = false;
          break;
        }
        std::string label = line.substr(pos, eq - pos);
        if (!std::regex_match(label, label_name) || eq + 1 >= line.size() || line[eq + 1] != '"') {
          ok = false;
          break;
        }
        std::string value;
        size_t i = eq + 2;
        bool closed = false;
        for (; i < line.size(); ++i) {
          char c = line[i];
          if (c == '\\') {
            if (i + 1 >= line.size()) break;
            char e = line[++i];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              break;  // no other escapes exist
            }
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value += c;
          }
        }
        if (!closed || sample.labels.count(label)) {
          ok = false;
          break;
        }
        sample.labels[label] = value;
        pos = i + 1;
        if (pos < line.size() && line[pos] == ',') ++pos;
      }
      if (!ok || pos >= line.size() || line[pos] != '}') {
        error("malformed label set");
        continue;
      }
      ++pos;
    }
    if (pos >= line.size() || line[pos] != ' ') {
      error("no value");
      continue;
    }
    std::istringstream rest(line.substr(pos + 1));
    std::string value_text, timestamp, extra;
    rest >> value_text >> timestamp >> extra;
    if (!ParseSampleValue(value_text, sample.value)) {
      error("bad value '" + value_text + "'");
      continue;
    }
    if (!timestamp.empty() && !std::regex_match(timestamp, std::regex("-?\\d+"))) {
      error("bad timestamp");
      continue;
    }
    if (!extra.empty()) {
      error("trailing text");
      continue;
    }
    std::string family = FamilyOf(sample.name, out.types);
    if (!out.types.count(family))
      error("sample of " + sample.name + " without a # TYPE line before it");
    out.samples.push_back(std::move(sample));
  }
  return out;
}

// ---------------------------------------------------------------------------
// The fixture: replicas of echo_service, and the nats-server they all need
// (the echo service serves NATS, so NATS_URL is required configuration).

struct Replica {
  std::string id;
  uint16_t grpc_port = 0;
  uint16_t admin_port = 0;
  std::unique_ptr<Process> process;

  std::string address() const { return "127.0.0.1:" + std::to_string(grpc_port); }
};

// One call's outcome in the concurrent failover runs.
struct CallRecord {
  Status status;
  std::string replica;
  bool started_after_kill = false;
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("cppsvc-integration");
    ASSERT_FALSE(dir_.empty()) << "mkdtemp failed";
    StartNats();
    if (IsSkipped() || HasFatalFailure()) return;

    cppsvc::auth::JwtConfig config;
    config.algorithm = cppsvc::auth::Algorithm::kHS256;
    config.key = kJwtKey;
    config.issuer = kIssuer;
    config.audience = kAudience;
    cppsvc::auth::TokenClaims claims;
    claims.subject = "integration-test";
    claims.roles = {"user"};
    claims.ttl = std::chrono::seconds(3600);
    token_ = cppsvc::auth::JwtSigner(config).Sign(claims);
  }

  void TearDown() override {
    for (auto& r : replicas_) {
      if (HasFailure() && r->process) {
        std::cerr << "--- stderr of replica " << r->id << " (pid " << r->process->pid() << ") ---\n"
                  << Tail(r->process->Stderr()) << "\n";
      }
      if (r->process) r->process->Kill();
    }
    replicas_.clear();
    if (nats_started_) {
      std::string command = "bash '" NATS_SCRIPT "' stop '" + dir_ + "/nats' > /dev/null 2>&1";
      EXPECT_EQ(std::system(command.c_str()), 0) << "scripts/nats.sh stop failed";
      nats_started_ = false;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // A throwaway nats-server; skips the test when nats-server is not installed.
  void StartNats() {
    const std::string nats_dir = dir_ + "/nats";
    std::filesystem::create_directories(nats_dir);
    std::string command = "bash '" NATS_SCRIPT "' start '" + nats_dir + "' > /dev/null 2> '" +
                          nats_dir + "/start.err'";
    int rc = std::system(command.c_str());
    if (rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 3) {
      GTEST_SKIP() << "nats-server is not installed (scripts/nats.sh exited 3)";
    }
    nats_started_ = true;
    ASSERT_TRUE(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0)
        << "scripts/nats.sh start failed (" << DescribeWaitStatus(rc)
        << "): " << ReadFile(nats_dir + "/start.err");
    std::ifstream in(nats_dir + "/nats.url");
    std::getline(in, nats_url_);
    ASSERT_FALSE(nats_url_.empty()) << "scripts/nats.sh wrote no URL";
    ASSERT_EQ(nats_url_.rfind("nats://127.0.0.1:", 0), 0u) << nats_url_;
  }

  // The environment of a replica: every required variable, loopback only.
  std::vector<std::string> ReplicaEnv(const Replica& r,
                                      const std::vector<std::string>& extra) const {
    std::vector<std::string> env{
        PathVariable(),
        "ECHO_REPLICA_ID=" + r.id,
        "ECHO_GRPC_PORT=" + std::to_string(r.grpc_port),
        "ECHO_ADMIN_PORT=" + std::to_string(r.admin_port),
        "ECHO_LISTEN_ADDRESS=127.0.0.1",
        "ECHO_WORKERS=8",
        "CPPSVC_JWT_ALGORITHM=HS256",
        std::string("CPPSVC_JWT_KEY=") + kJwtKey,
        std::string("CPPSVC_JWT_ISSUER=") + kIssuer,
        std::string("CPPSVC_JWT_AUDIENCE=") + kAudience,
        "CPPSVC_LOG_REQUESTS=false",
        "NATS_URL=" + nats_url_,
    };
    // A variable in `extra` replaces the one above.
    for (const std::string& e : extra) {
      const std::string name = e.substr(0, e.find('=') + 1);
      std::erase_if(env, [&](const std::string& v) { return v.rfind(name, 0) == 0; });
    }
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
  }

  // Starts a replica and waits (at most 10 s) until its /readyz answers 200.
  // grpc_port 0: a free one. Fails the test (and returns null) otherwise.
  Replica* StartReplica(const std::string& id,
                        uint16_t grpc_port = 0,
                        const std::vector<std::string>& extra = {}) {
    auto r = std::make_unique<Replica>();
    r->id = id;
    r->grpc_port = grpc_port != 0 ? grpc_port : FreePort();
    r->admin_port = FreePort();
    if (r->grpc_port == 0 || r->admin_port == 0) {
      ADD_FAILURE() << "no free port";
      return nullptr;
    }
    const std::string base = dir_ + "/" + id + "-" + std::to_string(++starts_);
    r->process = std::make_unique<Process>(ECHO_SERVICE_BINARY,
                                           ReplicaEnv(*r, extra),
                                           base + ".out",
                                           base + ".err");
    std::string error;
    if (!r->process->Start(error)) {
      ADD_FAILURE() << "cannot start replica " << id << ": " << error;
      return nullptr;
    }
    Replica* raw = r.get();
    replicas_.push_back(std::move(r));
    if (!WaitReady(*raw, 10s)) return nullptr;
    return raw;
  }

  bool WaitReady(Replica& r, std::chrono::milliseconds timeout) {
    HttpResponse last;
    bool ready = WaitFor(
        [&] {
          if (!r.process->Running()) return true;
          last = HttpGet(r.admin_port, "/readyz", 500ms);
          return last.status == 200;
        },
        timeout,
        20ms);
    if (!r.process->Running()) {
      ADD_FAILURE() << "replica " << r.id << " exited before it was ready ("
                    << DescribeWaitStatus(r.process->Wait(0ms)) << "); stderr:\n"
                    << Tail(r.process->Stderr());
      return false;
    }
    if (!ready) {
      ADD_FAILURE() << "replica " << r.id << " not ready within " << timeout.count()
                    << " ms (last /readyz: " << last.status << " " << last.body << last.error
                    << "); stderr:\n"
                    << Tail(r.process->Stderr());
      return false;
    }
    return true;
  }

  cppsvc::ClientOptions GrpcOptions(const std::vector<Replica*>& targets) const {
    cppsvc::ClientOptions options;
    for (const Replica* r : targets) options.addresses.push_back(r->address());
    options.bearer_token = token_;
    return options;
  }

  cppsvc::ClientOptions NatsOptions() const {
    cppsvc::ClientOptions options;
    options.transport = cppsvc::Transport::kNats;
    options.nats_url = nats_url_;
    options.bearer_token = token_;
    return options;
  }

  static Status Echo(EchoServiceClient& client,
                     const std::string& message,
                     EchoResponse* response,
                     uint32_t delay_ms = 0) {
    EchoRequest request;
    request.set_message(message);
    request.set_delay_ms(delay_ms);
    return client.Echo(request, response);
  }

  // `threads` callers share `client` for `total` Echo calls (each `delay_ms`
  // long on the server, so calls are in flight on a replica when it dies);
  // after `kill_after` calls have completed, `victim` is SIGKILLed. Bounded
  // by `budget`.
  std::vector<CallRecord> RunWithKill(EchoServiceClient& client,
                                      Replica& victim,
                                      int total,
                                      int kill_after,
                                      int threads,
                                      uint32_t delay_ms,
                                      std::chrono::seconds budget) {
    std::mutex mu;
    std::vector<CallRecord> records;
    std::atomic<int> issued{0};
    std::atomic<int> completed{0};
    std::atomic<bool> killed{false};
    const auto deadline = SteadyClock::now() + budget;
    std::vector<std::thread> callers;
    for (int t = 0; t < threads; ++t) {
      callers.emplace_back([&, t] {
        while (issued.fetch_add(1) < total && SteadyClock::now() < deadline) {
          CallRecord record;
          record.started_after_kill = killed.load();
          EchoResponse response;
          record.status =
              Echo(client, "call from thread " + std::to_string(t), &response, delay_ms);
          record.replica = response.replica();
          ++completed;
          std::lock_guard<std::mutex> lock(mu);
          records.push_back(std::move(record));
        }
      });
    }
    bool reached = WaitFor([&] { return completed.load() >= kill_after; }, 20s, 1ms);
    EXPECT_TRUE(reached) << "only " << completed.load() << " calls completed before the kill";
    victim.process->Signal(SIGKILL);
    EXPECT_TRUE(victim.process->Wait(5s).has_value());
    killed = true;
    for (auto& c : callers) c.join();
    return records;
  }

  static void ExpectNoFailures(const std::vector<CallRecord>& records) {
    int failed = 0;
    std::map<std::string, int> reasons;
    for (const CallRecord& r : records) {
      if (!r.status.ok()) {
        ++failed;
        ++reasons[r.status.ToString()];
      }
    }
    std::string summary;
    for (const auto& [reason, count] : reasons)
      summary += "\n  " + std::to_string(count) + " x " + reason;
    EXPECT_EQ(failed, 0) << "failed idempotent calls:" << summary;
  }

  std::string dir_;
  std::string nats_url_;
  bool nats_started_ = false;
  std::string token_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  int starts_ = 0;
};

class Grpc : public ServiceTest {};
class Nats : public ServiceTest {};
class Admin : public ServiceTest {};
class Shutdown : public ServiceTest {};

// ---------------------------------------------------------------------------
// gRPC.

TEST_F(Grpc, SpreadsAcrossReplicas) {
  Replica* a = StartReplica("a");
  Replica* b = StartReplica("b");
  ASSERT_TRUE(a && b);
  EchoServiceClient client(GrpcOptions({a, b}));

  std::map<std::string, int> answered;
  for (int i = 0; i < 100; ++i) {
    EchoResponse response;
    Status status = Echo(client, "hello " + std::to_string(i), &response);
    ASSERT_TRUE(status.ok()) << "call " << i << ": " << status.ToString();
    EXPECT_EQ(response.message(), "hello " + std::to_string(i));
    ++answered[response.replica()];
  }
  EXPECT_EQ(answered.size(), 2u);
  EXPECT_GE(answered["a"], 20);
  EXPECT_GE(answered["b"], 20);
  EXPECT_EQ(answered["a"] + answered["b"], 100);
}

// The handler's deadline is the caller's, capped by the contract's timeout
// (Slow: 10 s), and the contract's timeout when the caller sets none longer.
TEST_F(Grpc, HandlersSeeTheCallersDeadline) {
  Replica* a = StartReplica("a");
  ASSERT_TRUE(a);
  EchoServiceClient client(GrpcOptions({a}));
  auto left_ms = [&](std::optional<std::chrono::milliseconds> timeout) -> int64_t {
    echo::v1::SlowRequest request;
    echo::v1::SlowResponse response;
    cppsvc::CallOptions call;
    call.timeout = timeout;
    Status status = client.Slow(request, &response, call);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return response.deadline_left_ms();
  };
  const int64_t two_seconds = left_ms(2000ms);
  EXPECT_LE(two_seconds, 2000);
  EXPECT_GT(two_seconds, 1000);
  const int64_t capped = left_ms(60000ms);
  EXPECT_LE(capped, 10000);
  EXPECT_GT(capped, 9000);
  const int64_t contract = left_ms(std::nullopt);
  EXPECT_LE(contract, 10000);
  EXPECT_GT(contract, 9000);
}

TEST_F(Grpc, FailoverWithoutFailedIdempotentCalls) {
  Replica* a = StartReplica("a");
  Replica* b = StartReplica("b");
  ASSERT_TRUE(a && b);
  EchoServiceClient client(GrpcOptions({a, b}));

  // 4 callers, 5 ms per call: calls are in flight on b when it is killed.
  std::vector<CallRecord> records = RunWithKill(client, *b, 300, 100, 4, 5, 30s);
  EXPECT_EQ(records.size(), 300u);
  ExpectNoFailures(records);

  int b_before = 0, a_after = 0, b_after = 0;
  for (const CallRecord& r : records) {
    if (!r.status.ok()) continue;
    if (!r.started_after_kill && r.replica == "b") ++b_before;
    if (r.started_after_kill && r.replica == "a") ++a_after;
    if (r.started_after_kill && r.replica == "b") ++b_after;
  }
  EXPECT_GT(b_before, 0) << "b never answered before it was killed";
  EXPECT_GT(a_after, 0) << "the survivor answered nothing after the kill";
  EXPECT_EQ(b_after, 0) << "calls started after the kill were answered by the dead replica";
}

TEST_F(Grpc, NonIdempotentCallsAreNotRetried) {
  Replica* a = StartReplica("a");
  Replica* b = StartReplica("b");
  ASSERT_TRUE(a && b);
  EchoServiceClient client(GrpcOptions({a, b}));
  for (int i = 0; i < 4; ++i) {
    echo::v1::WriteRequest request;
    request.set_key("k" + std::to_string(i));
    echo::v1::WriteResponse response;
    Status status = client.Write(request, &response);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  b->process->Kill();

  // Consecutive Writes alternate between the replicas: the ones sent to the
  // dead replica fail (never retried elsewhere); the others reach a.
  int write_failures = 0;
  for (int i = 0; i < 6; ++i) {
    echo::v1::WriteRequest request;
    request.set_key("after-" + std::to_string(i));
    echo::v1::WriteResponse response;
    Status status = client.Write(request, &response);
    if (!status.ok()) {
      ++write_failures;
      EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
    } else {
      EXPECT_EQ(response.replica(), "a");
    }
  }
  EXPECT_EQ(write_failures, 3)
      << "Writes to the dead replica must fail, not be retried on the survivor";

  // Idempotent calls are retried on the survivor: none fails.
  for (int i = 0; i < 6; ++i) {
    EchoResponse echo;
    Status status = Echo(client, "x", &echo);
    EXPECT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(echo.replica(), "a");
  }
}

TEST_F(Grpc, CircuitOpensAndRecovers) {
  Replica* a = StartReplica("a");
  ASSERT_TRUE(a);
  const uint16_t port = a->grpc_port;
  cppsvc::ClientOptions options = GrpcOptions({a});
  options.circuit_breaker.window = 4;
  options.circuit_breaker.min_calls = 2;
  options.circuit_breaker.failure_rate_threshold = 0.5;
  options.circuit_breaker.open_duration = 300ms;
  options.circuit_breaker.half_open_calls = 1;
  EchoServiceClient client(options);

  for (int i = 0; i < 3; ++i) {
    EchoResponse response;
    Status status = Echo(client, "warm-up", &response);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  EXPECT_EQ(client.runtime().circuit_state(0), cppsvc::resilience::CircuitState::kClosed);

  a->process->Kill();

  // A few failures open the circuit.
  Status last;
  bool opened = WaitFor(
      [&] {
        EchoResponse response;
        last = Echo(client, "to a dead replica", &response);
        EXPECT_FALSE(last.ok()) << "a call to the killed replica succeeded";
        return last.message().find("circuit open") != std::string::npos;
      },
      3s,
      1ms);
  ASSERT_TRUE(opened) << "the circuit did not open; last call: " << last.ToString();

  // While open, calls fail fast without touching the network.
  for (int i = 0; i < 5; ++i) {
    EchoResponse response;
    const auto start = SteadyClock::now();
    Status status = Echo(client, "fail fast", &response);
    const auto took = SteadyClock::now() - start;
    EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
    EXPECT_NE(status.message().find("circuit open"), std::string::npos) << status.ToString();
    EXPECT_LT(took, 50ms) << "a call with an open circuit took " << Millis(took) << " ms";
  }
  EXPECT_EQ(client.runtime().circuit_state(0), cppsvc::resilience::CircuitState::kOpen);

  // The replica comes back on the same port: the channel reconnects, a
  // half-open probe succeeds and the circuit closes.
  Replica* back = StartReplica("a-restarted", port);
  ASSERT_TRUE(back);
  EchoResponse response;
  Status status;
  bool recovered = WaitFor(
      [&] {
        status = Echo(client, "back again", &response);
        return status.ok();
      },
      3s,
      20ms);
  ASSERT_TRUE(recovered) << "no successful call within 3 s of the restart; last: "
                         << status.ToString() << "; gRPC channel state "
                         << static_cast<int>(client.runtime().channel(0)->GetState(false));
  EXPECT_EQ(response.replica(), "a-restarted");
  EXPECT_EQ(client.runtime().circuit_state(0), cppsvc::resilience::CircuitState::kClosed);
  for (int i = 0; i < 10; ++i) {
    status = Echo(client, "steady", &response);
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
}

// ---------------------------------------------------------------------------
// NATS request-reply: the replicas share the service's queue group.

TEST_F(Nats, SpreadsAndFailsOver) {
  Replica* a = StartReplica("a");
  Replica* b = StartReplica("b");
  ASSERT_TRUE(a && b);
  EchoServiceClient client(NatsOptions());

  std::map<std::string, int> answered;
  for (int i = 0; i < 100; ++i) {
    EchoResponse response;
    Status status = Echo(client, "over nats " + std::to_string(i), &response);
    ASSERT_TRUE(status.ok()) << "call " << i << ": " << status.ToString();
    EXPECT_EQ(response.message(), "over nats " + std::to_string(i));
    ++answered[response.replica()];
  }
  EXPECT_GE(answered["a"], 20);
  EXPECT_GE(answered["b"], 20);

  // SIGKILL loses the requests b had taken: no reply and no no-responders
  // ever come for them, so only a retry (after an attempt times out) saves
  // those calls. 8 callers and 20 ms per call: b has requests in flight
  // when it dies.
  std::vector<CallRecord> records = RunWithKill(client, *b, 300, 100, 8, 20, 60s);
  EXPECT_EQ(records.size(), 300u);
  ExpectNoFailures(records);
  int a_after = 0, b_after = 0;
  for (const CallRecord& r : records) {
    if (r.status.ok() && r.started_after_kill) ++(r.replica == "a" ? a_after : b_after);
  }
  EXPECT_GT(a_after, 0) << "the survivor answered nothing after the kill";
  EXPECT_EQ(b_after, 0);
}

// ---------------------------------------------------------------------------
// Admin endpoint.

TEST_F(Admin, MetricsAreValidPrometheusText) {
  Replica* a = StartReplica("a");
  Replica* b = StartReplica("b");
  ASSERT_TRUE(a && b);
  EchoServiceClient client(GrpcOptions({a, b}));
  int to_a = 0;
  for (int i = 0; i < 41; ++i) {
    EchoResponse response;
    Status status = Echo(client, "count me", &response);
    ASSERT_TRUE(status.ok()) << status.ToString();
    if (response.replica() == "a") ++to_a;
  }
  ASSERT_GT(to_a, 0);

  HttpResponse health = HttpGet(a->admin_port, "/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
  EXPECT_EQ(health.body, "ok\n");
  HttpResponse ready = HttpGet(a->admin_port, "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body << ready.error;
  EXPECT_EQ(HttpGet(a->admin_port, "/no-such-page").status, 404);

  // The count is taken once the call is answered; allow it a moment.
  HttpResponse metrics;
  Exposition parsed;
  std::map<std::string, std::string> echo_ok{{"service", "echo"},
                                             {"method", "Echo"},
                                             {"code", "OK"}};
  WaitFor(
      [&] {
        metrics = HttpGet(a->admin_port, "/metrics");
        parsed = ParsePrometheusText(metrics.body);
        return parsed.Sum("cppsvc_requests_total", echo_ok) >= to_a;
      },
      2s,
      20ms);
  ASSERT_EQ(metrics.status, 200) << metrics.error;
  for (const std::string& e : parsed.errors) ADD_FAILURE() << "invalid Prometheus text: " << e;
  EXPECT_FALSE(parsed.samples.empty());

  EXPECT_EQ(parsed.types["cppsvc_requests_total"], "counter");
  EXPECT_EQ(parsed.types["cppsvc_request_duration_seconds"], "histogram");
  EXPECT_EQ(parsed.types["cppsvc_requests_in_flight"], "gauge");
  EXPECT_FALSE(parsed.help["cppsvc_requests_total"].empty());

  EXPECT_EQ(parsed.Sum("cppsvc_requests_total", echo_ok), to_a) << metrics.body;
  EXPECT_EQ(parsed.Sum("cppsvc_requests_total",
                       {{"method", "Echo"}, {"code", "OK"}, {"transport", "grpc"}}),
            to_a)
      << metrics.body;
  EXPECT_EQ(parsed.Sum("cppsvc_requests_total", {{"method", "Write"}}), 0);
  EXPECT_EQ(parsed.Sum("cppsvc_request_duration_seconds_count", {{"method", "Echo"}}), to_a)
      << metrics.body;
  EXPECT_EQ(
      parsed.Sum("cppsvc_request_duration_seconds_bucket", {{"method", "Echo"}, {"le", "+Inf"}}),
      to_a);
  EXPECT_EQ(parsed.Sum("cppsvc_requests_in_flight", {}), 0);

  // b counted the rest.
  HttpResponse b_metrics = HttpGet(b->admin_port, "/metrics");
  Exposition b_parsed = ParsePrometheusText(b_metrics.body);
  EXPECT_TRUE(b_parsed.errors.empty());
  EXPECT_EQ(b_parsed.Sum("cppsvc_requests_total", echo_ok), 41 - to_a);
}

// ---------------------------------------------------------------------------
// SIGTERM: not ready, drain in-flight calls, exit 0.

TEST_F(Shutdown, SigtermDrainsInFlightCalls) {
  // Request lines may wait a second to be written: the drained call's line
  // must still be in the log when the process has exited.
  Replica* a = StartReplica("a",
                            0,
                            {"ECHO_DRAIN_TIMEOUT_MS=5000",
                             "ECHO_SHUTDOWN_DELAY_MS=300",
                             "CPPSVC_LOG_REQUESTS=true",
                             "CPPSVC_REQUEST_LOG_DELAY_MS=1000"});
  ASSERT_TRUE(a);
  EchoServiceClient client(GrpcOptions({a}));

  Status slow_status(StatusCode::kUnknown, "not finished");
  echo::v1::SlowResponse slow_response;
  std::atomic<bool> slow_done{false};
  SteadyClock::time_point slow_finished;
  std::thread caller([&] {
    echo::v1::SlowRequest request;
    request.set_sleep_ms(1500);
    slow_status = client.Slow(request, &slow_response);
    slow_finished = SteadyClock::now();
    slow_done = true;
  });

  std::this_thread::sleep_for(200ms);
  const auto sigterm_at = SteadyClock::now();
  a->process->Signal(SIGTERM);

  // While draining: alive, not ready.
  int not_ready = 0, ready_after_term = 0;
  WaitFor(
      [&] {
        if (!a->process->Running() || slow_done) return true;
        HttpResponse r = HttpGet(a->admin_port, "/readyz", 500ms);
        if (r.status == 503) ++not_ready;
        if (r.status == 200 && SteadyClock::now() - sigterm_at > 50ms) ++ready_after_term;
        return false;
      },
      8s,
      25ms);
  EXPECT_GT(not_ready, 0) << "/readyz never answered 503 while draining";
  EXPECT_EQ(ready_after_term, 0) << "/readyz answered 200 after SIGTERM";

  std::optional<int> exit = a->process->Wait(8s);
  caller.join();

  EXPECT_TRUE(slow_status.ok()) << "the in-flight call was not drained: " << slow_status.ToString();
  EXPECT_EQ(slow_response.replica(), "a");
  EXPECT_GE(slow_response.slept_ms(), 1500u);
  ASSERT_TRUE(exit.has_value()) << "the process did not exit within 8 s of SIGTERM";
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << DescribeWaitStatus(exit);
  // Within the drain deadline (delay + drain timeout), and not before the
  // call it was draining had its answer.
  ASSERT_TRUE(a->process->exited_at().has_value());
  EXPECT_LT(*a->process->exited_at() - sigterm_at, 300ms + 5000ms);
  EXPECT_GE(*a->process->exited_at(), slow_finished - 50ms);
  const std::string log = a->process->Stderr();
  EXPECT_NE(log.find("\"draining\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"drained\":true"), std::string::npos) << log;
  const size_t slow_line = log.find("\"method\":\"echo.v1.EchoService/Slow\"");
  EXPECT_NE(slow_line, std::string::npos) << "the drained call's request line was lost:\n" << log;
  EXPECT_LT(slow_line, log.find("\"stopped\"")) << log;
}

// ---------------------------------------------------------------------------
// Configuration.

TEST(Config, FailsFastListingEveryProblem) {
  const std::string dir = MakeTempDir("cppsvc-integration");
  ASSERT_FALSE(dir.empty());
  {
    Process process(ECHO_SERVICE_BINARY, {PathVariable()}, dir + "/out", dir + "/err");
    std::string error;
    ASSERT_TRUE(process.Start(error)) << error;
    std::optional<int> status = process.Wait(10s);
    ASSERT_TRUE(status.has_value())
        << "echo_service with an empty environment did not exit within 10 s";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << DescribeWaitStatus(status);
    const std::string err = process.Stderr();
    for (const char* variable : {"CPPSVC_JWT_ALGORITHM",
                                 "CPPSVC_JWT_ISSUER",
                                 "CPPSVC_JWT_AUDIENCE",
                                 "NATS_URL",
                                 "CPPSVC_JWT_KEY"}) {
      EXPECT_NE(err.find(variable), std::string::npos) << variable << " missing from:\n" << err;
    }
    // One message: the service's name once, at the start, then the list.
    EXPECT_EQ(err.rfind("echo: ", 0), 0u) << err;
    EXPECT_EQ(err.find("echo: ", 1), std::string::npos) << "more than one message:\n" << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "not a single line:\n" << err;
  }
  {
    // Malformed and out-of-range values are listed with the missing ones.
    Process process(ECHO_SERVICE_BINARY,
                    {PathVariable(),
                     "ECHO_WORKERS=many",
                     "ECHO_WORKER_SPIN_MICROS=20000",
                     "CPPSVC_REQUEST_LOG_DELAY_MS=5000"},
                    dir + "/out2",
                    dir + "/err2");
    std::string error;
    ASSERT_TRUE(process.Start(error)) << error;
    std::optional<int> status = process.Wait(10s);
    ASSERT_TRUE(status.has_value()) << "echo_service with bad values did not exit within 10 s";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << DescribeWaitStatus(status);
    const std::string err = process.Stderr();
    for (const char* variable : {"ECHO_WORKERS",
                                 "ECHO_WORKER_SPIN_MICROS",
                                 "CPPSVC_REQUEST_LOG_DELAY_MS",
                                 "CPPSVC_JWT_ALGORITHM"}) {
      EXPECT_NE(err.find(variable), std::string::npos) << variable << " missing from:\n" << err;
    }
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "not a single line:\n" << err;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
