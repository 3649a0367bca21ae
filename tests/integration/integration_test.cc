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
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/client.h"
#include "echo/v1/echo.cppsvc.client.h"
#include "process_testing.h"

#include "echo_fixture.h"
#include "prometheus_text.h"

#ifndef ECHO_SERVICE_BINARY
#error "ECHO_SERVICE_BINARY must name the echo_service executable"
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
using namespace cppsvc::integration;

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

// One address naming both replicas (as dns:///name does with a record per
// replica) spreads the calls over them: round robin within the channel.
TEST_F(Grpc, OneAddressNamingSeveralReplicasSpreadsAcrossThem) {
  Replica* a = StartReplica("a");
  Replica* b = StartReplica("b");
  ASSERT_TRUE(a && b);
  cppsvc::ClientOptions options = GrpcOptions({a});
  options.addresses = {"ipv4:" + a->address() + "," + b->address()};
  EchoServiceClient client(options);
  std::map<std::string, int> answered;
  for (int i = 0; i < 100; ++i) {
    EchoResponse response;
    Status status = Echo(client, "hello", &response);
    ASSERT_TRUE(status.ok()) << "call " << i << ": " << status.ToString();
    ++answered[response.replica()];
  }
  EXPECT_GE(answered["a"], 20);
  EXPECT_GE(answered["b"], 20);
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

// The asynchronous form: one thread starts every call at once and none of
// them waits for another; a killed replica's calls are retried on the other
// after the contract's backoff, without a thread waiting through it. (Calls
// after the kill go one at a time, as a burst of them would spend the
// client's retry budget, which is there to refuse retry storms.)
TEST_F(Grpc, AsynchronousCallsRunTogetherAndFailOver) {
  Replica* a = StartReplica("a");
  Replica* b = StartReplica("b");
  ASSERT_TRUE(a && b);
  EchoServiceClient client(GrpcOptions({a, b}));
  constexpr int kCalls = 40;
  struct Call {
    EchoRequest request;
    EchoResponse response;
    Status status;
  };
  const auto run_all = [&](std::vector<Call>& calls, uint32_t delay_ms) {
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    for (Call& call : calls) {
      call.request.set_message("async");
      call.request.set_delay_ms(delay_ms);
      client.Echo(call.request, &call.response, {}, [&, c = &call](Status status) {
        std::lock_guard<std::mutex> lock(mu);
        c->status = std::move(status);
        if (++done == static_cast<int>(calls.size())) cv.notify_all();
      });
    }
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, 20s, [&] { return done == static_cast<int>(calls.size()); });
  };
  // 40 calls of 200 ms each from one thread: together well under 40 x 200 ms.
  std::vector<Call> calls(kCalls);
  const auto start = SteadyClock::now();
  ASSERT_TRUE(run_all(calls, 200));
  EXPECT_LT(SteadyClock::now() - start, 3s) << "the calls did not run together";
  std::map<std::string, int> by_replica;
  for (const Call& c : calls) {
    EXPECT_TRUE(c.status.ok()) << c.status.ToString();
    ++by_replica[c.response.replica()];
  }
  EXPECT_GT(by_replica["a"], 0);
  EXPECT_GT(by_replica["b"], 0);

  b->process->Kill();
  for (int i = 0; i < 20; ++i) {
    std::vector<Call> one(1);
    ASSERT_TRUE(run_all(one, 0));
    EXPECT_TRUE(one[0].status.ok()) << one[0].status.ToString();
    EXPECT_EQ(one[0].response.replica(), "a");
  }
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

// An idle service stops at once: nothing in the way out (threads that
// sleep, library shutdowns) holds the exit after "stopped".
TEST_F(Shutdown, IdleServiceExitsPromptlyAfterSigterm) {
  Replica* a = StartReplica("a", 0, {"ECHO_SHUTDOWN_DELAY_MS=0"});
  ASSERT_TRUE(a);
  const auto sigterm_at = SteadyClock::now();
  a->process->Signal(SIGTERM);
  std::optional<int> exit = a->process->Wait(8s);
  ASSERT_TRUE(exit.has_value()) << "the process did not exit within 8 s of SIGTERM";
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << DescribeWaitStatus(exit);
  ASSERT_TRUE(a->process->exited_at().has_value());
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(*a->process->exited_at() - sigterm_at);
  EXPECT_LT(took, 500ms) << "exit took " << took.count() << " ms\n" << a->process->Stderr();
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
                     "CPPSVC_REQUEST_LOG_DELAY_MS=5000",
                     "CPPSVC_JWT_ALGORITHM=HS256",
                     "CPPSVC_JWT_KEY=only-31-bytes-of-hs256-secret!!"},
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
                                 "CPPSVC_JWT_ISSUER"}) {
      EXPECT_NE(err.find(variable), std::string::npos) << variable << " missing from:\n" << err;
    }
    // RFC 7518: an HS256 key at least as long as the hash.
    EXPECT_NE(err.find("CPPSVC_JWT_KEY: an HS256 key must be at least 32 bytes, got 31"),
              std::string::npos)
        << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "not a single line:\n" << err;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
