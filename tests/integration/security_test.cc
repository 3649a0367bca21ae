// What an outsider can send to a running service: replicas of echo_service as
// real processes, called over real gRPC and NATS connections with requests
// shaped to crash, confuse or exhaust them. Each test fails on a service that
// lets the attack through.
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "echo/v1/echo.grpc.pb.h"
#include "echo_fixture.h"
#include "prometheus_text.h"

namespace cppsvc::integration {
namespace {

using namespace std::chrono_literals;
using echo::v1::EchoRequest;
using echo::v1::EchoResponse;
using echo::v1::EchoServiceClient;

class Attack : public ServiceTest {
 protected:
  // The replica still answers an ordinary call.
  static void ExpectAlive(EchoServiceClient& client) {
    EchoResponse response;
    Status status = Echo(client, "still here", &response);
    EXPECT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(response.message(), "still here");
  }

  // A call to Limited on a connection of its own (a local subchannel pool:
  // gRPC would otherwise share one connection between channels).
  grpc::StatusCode LimitedOnFreshConnection(const Replica& r) const {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto stub = echo::v1::EchoService::NewStub(
        grpc::CreateCustomChannel(r.address(), grpc::InsecureChannelCredentials(), args));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    context.AddMetadata("authorization", "Bearer " + token_);
    EchoRequest request;
    EchoResponse response;
    return stub->Limited(&context, request, &response).error_code();
  }
};

// std::regex recursed once per character of a pattern field: 30,000
// characters overflowed the stack and one request killed the process.
TEST_F(Attack, LongValuesForPatternFieldsAreRefusedAndTheServiceStaysUp) {
  Replica* r = StartReplica("a");
  ASSERT_NE(r, nullptr);
  for (cppsvc::ClientOptions options : {GrpcOptions({r}), NatsOptions()}) {
    SCOPED_TRACE(options.transport == cppsvc::Transport::kNats ? "nats" : "grpc");
    EchoServiceClient client(options);

    // Over max_len: refused by the length rule, the pattern is not matched.
    EchoRequest request;
    request.set_tag(std::string(100'000, 'a'));
    EchoResponse response;
    Status status = client.Echo(request, &response);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    EXPECT_NE(status.message().find("tag: must be at most 64 characters"), std::string::npos)
        << status.message();
    EXPECT_EQ(status.message().find("must match"), std::string::npos) << status.message();

    // No length rule: the whole value is matched, in linear time. NATS
    // carries at most 1 MiB by default.
    request.Clear();
    request.set_label(std::string(900'000, 'a') + "-!");
    status = client.Echo(request, &response);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    EXPECT_NE(status.message().find("label: must match"), std::string::npos) << status.message();

    request.set_label(std::string(900'000, 'a') + "-1");
    status = client.Echo(request, &response);
    EXPECT_TRUE(status.ok()) << status.ToString();

    ExpectAlive(client);
  }
  EXPECT_TRUE(r->process->Running()) << process_testing::Tail(r->process->Stderr());
}

// The per-peer key held the source port: every new connection got a full
// bucket, so brute-force limits were no limits.
TEST_F(Attack, NewConnectionsDoNotResetAPeersRateLimit) {
  Replica* r = StartReplica("a");
  ASSERT_NE(r, nullptr);
  int served = 0, refused = 0;
  for (int i = 0; i < 20; ++i) {
    const grpc::StatusCode code = LimitedOnFreshConnection(*r);
    served += code == grpc::StatusCode::OK;
    refused += code == grpc::StatusCode::RESOURCE_EXHAUSTED;
  }
  EXPECT_LE(served, 6) << "a burst of 5 (one more may refill during the run)";
  EXPECT_EQ(served + refused, 20);
}

// Every NATS caller was peer "nats": one client spending the budget locked
// every other client out. Over NATS a peer is now the token's subject.
TEST_F(Attack, NatsCallersHaveBudgetsOfTheirOwn) {
  Replica* r = StartReplica("a");
  ASSERT_NE(r, nullptr);
  cppsvc::ClientOptions options = NatsOptions();
  options.bearer_token = TokenFor("greedy");
  EchoServiceClient greedy(options);
  options.bearer_token = TokenFor("patient");
  EchoServiceClient patient(options);
  EchoRequest request;
  EchoResponse response;
  int greedy_served = 0;
  for (int i = 0; i < 10; ++i) greedy_served += greedy.Limited(request, &response).ok();
  EXPECT_LE(greedy_served, 6);
  for (int i = 0; i < 5; ++i) {
    Status status = patient.Limited(request, &response);
    EXPECT_TRUE(status.ok()) << "call " << i << ": " << status.ToString();
  }
}

// The admin port bound every address without authentication. It now binds
// loopback unless configured, even when the service listens on all.
TEST_F(Attack, AdminPortListensOnLoopbackOnly) {
  Replica* r = StartReplica("a", 0, {"ECHO_LISTEN_ADDRESS=0.0.0.0"});
  ASSERT_NE(r, nullptr);
  process_testing::HttpRequest healthz;
  healthz.port = r->admin_port;
  healthz.path = "/healthz";
  EXPECT_EQ(process_testing::Send(healthz).status, 200);
  healthz.host = "127.0.0.2";  // another address of this host
  process_testing::HttpResponse other = process_testing::Send(healthz);
  EXPECT_EQ(other.status, 0) << "the admin port answered on 127.0.0.2: " << other.body;
  EXPECT_NE(other.error.find("Connection refused"), std::string::npos) << other.error;

  // The gRPC port does answer there: the address is reachable.
  cppsvc::ClientOptions options = GrpcOptions({r});
  options.addresses = {"127.0.0.2:" + std::to_string(r->grpc_port)};
  EchoServiceClient client(options);
  ExpectAlive(client);

  Replica* open = StartReplica("b", 0, {"ECHO_ADMIN_ADDRESS=0.0.0.0"});
  ASSERT_NE(open, nullptr);
  healthz.port = open->admin_port;
  EXPECT_EQ(process_testing::Send(healthz).status, 200) << "ECHO_ADMIN_ADDRESS is not honoured";
}

// A service whose revocation target was unreachable reported ready and
// accepted revoked tokens forever. Now it is not ready before its first
// list, and past the staleness bound it refuses tokens older than its last
// good list (here: every token issued before it started).
TEST_F(Attack, RevocationFailsClosedWhenItsTargetIsDown) {
  const std::string dead_target = "127.0.0.1:" + std::to_string(process_testing::FreePort());
  const auto before_start = std::chrono::system_clock::now() - 10s;
  Replica* r = LaunchReplica("a",
                             0,
                             {"CPPSVC_REVOCATION_TARGET=" + dead_target,
                              "CPPSVC_REVOCATION_METHOD=/auth.v1.Auth/ListRevokedTokens",
                              "CPPSVC_SERVICE_TOKEN=service-token",
                              "CPPSVC_REVOCATION_INTERVAL_MS=100",
                              "CPPSVC_REVOCATION_MAX_STALENESS_MS=500"});
  ASSERT_NE(r, nullptr);
  process_testing::HttpResponse ready;
  bool answered = process_testing::WaitFor(
      [&] {
        ready = process_testing::HttpGet(r->admin_port, "/readyz", 500ms);
        return ready.status != 0;
      },
      10s,
      20ms);
  ASSERT_TRUE(answered) << ready.error;
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("revocation list not fetched yet"), std::string::npos) << ready.body;

  cppsvc::ClientOptions options = GrpcOptions({r});
  options.bearer_token = TokenFor("old", before_start);
  EchoServiceClient old_token(options);
  EchoResponse response;
  Status status;
  bool refused = process_testing::WaitFor(
      [&] {
        status = Echo(old_token, "hi", &response);
        return status.code() == StatusCode::kUnauthenticated;
      },
      10s,
      50ms);
  ASSERT_TRUE(refused) << status.ToString();
  EXPECT_EQ(status.message(), "token issued before the revocation list went stale");

  // A token issued after the last good list (here: after the service
  // started; a little ahead, since iat has whole seconds) passes.
  options.bearer_token = TokenFor("new", std::chrono::system_clock::now() + 5s);
  EchoServiceClient new_token(options);
  ExpectAlive(new_token);

  const Exposition metrics =
      ParsePrometheusText(process_testing::HttpGet(r->admin_port, "/metrics").body);
  EXPECT_EQ(metrics.Sum("cppsvc_revocation_stale", {{"service", "echo"}}), 1);
  EXPECT_EQ(metrics.Sum("cppsvc_revocation_stale_total", {{"service", "echo"}}), 1);
  const std::string err = r->process->Stderr();
  size_t lines = 0;
  for (size_t at = err.find("revocation list stale"); at != std::string::npos;
       at = err.find("revocation list stale", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 1u) << "one log line per outage:\n" << process_testing::Tail(err);
}

// gRPC C++'s callback API answered bytes that do not parse as the request
// with UNIMPLEMENTED and an empty message, and the call appeared in neither
// the metrics nor the request log.
TEST_F(Attack, MalformedRequestBytesAreInvalidArgumentCountedAndLogged) {
  Replica* r = StartReplica("a", 0, {"CPPSVC_LOG_REQUESTS=true", "CPPSVC_REQUEST_LOG_DELAY_MS=0"});
  ASSERT_NE(r, nullptr);
  grpc::GenericStub stub(grpc::CreateChannel(r->address(), grpc::InsecureChannelCredentials()));
  // Field 1, length 5, but only two bytes follow.
  const std::string garbage(
      "\x0a\x05"
      "ab",
      4);
  for (const std::string method : {"/echo.v1.EchoService/Echo", "/echo.v1.EchoService/Write"}) {
    SCOPED_TRACE(method);
    grpc::Slice slice(garbage);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    context.AddMetadata("authorization", "Bearer " + token_);
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context,
                   method,
                   grpc::StubOptions(),
                   &request,
                   &response,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
    const grpc::Status status = done.get_future().get();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    const std::string type =
        method.ends_with("/Echo") ? "echo.v1.EchoRequest" : "echo.v1.WriteRequest";
    EXPECT_EQ(status.error_message(), "request is not a valid " + type);
  }
  EchoServiceClient client(GrpcOptions({r}));
  ExpectAlive(client);

  const Exposition metrics =
      ParsePrometheusText(process_testing::HttpGet(r->admin_port, "/metrics").body);
  EXPECT_EQ(
      metrics.Sum("cppsvc_requests_total", {{"method", "Echo"}, {"code", "INVALID_ARGUMENT"}}),
      1);
  EXPECT_EQ(
      metrics.Sum("cppsvc_requests_total", {{"method", "Write"}, {"code", "INVALID_ARGUMENT"}}),
      1);
  bool logged = process_testing::WaitFor(
      [&] {
        const std::string err = r->process->Stderr();
        return err.find("\"code\":\"INVALID_ARGUMENT\"") != std::string::npos &&
               err.find("echo.v1.EchoService/Write") != std::string::npos;
      },
      5s,
      50ms);
  EXPECT_TRUE(logged) << process_testing::Tail(r->process->Stderr());
}

// gRPC's default 8 KiB header limit made one 64 KiB token end the HTTP/2
// connection, failing the other callers' calls on it. Now an oversized
// token is refused by its own call and every other call goes on.
TEST_F(Attack, AnOversizedTokenFailsItsOwnCallAlone) {
  Replica* r = StartReplica("a");
  ASSERT_NE(r, nullptr);
  // One channel, so every call below shares one connection.
  auto stub = echo::v1::EchoService::NewStub(
      grpc::CreateChannel(r->address(), grpc::InsecureChannelCredentials()));
  auto call = [&](const std::string& token, grpc::Status* status) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    context.AddMetadata("authorization", "Bearer " + token);
    EchoRequest request;
    request.set_message("m");
    request.set_delay_ms(20);
    EchoResponse response;
    *status = stub->Echo(&context, request, &response);
  };
  grpc::Status warm;
  call(token_, &warm);
  ASSERT_TRUE(warm.ok()) << warm.error_message();

  constexpr int kOthers = 48;  // in flight together, within the bulkhead's queue
  std::vector<grpc::Status> others(kOthers);
  grpc::Status big, huge;
  std::vector<std::thread> threads;
  for (int i = 0; i < kOthers; ++i) {
    threads.emplace_back(call, token_, &others[i]);
    if (i == kOthers / 2) {
      threads.emplace_back(call, std::string(64 * 1024, 'a'), &big);
      threads.emplace_back(call, std::string(512 * 1024, 'b'), &huge);
    }
  }
  for (std::thread& t : threads) t.join();
  for (const grpc::Status& status : {big, huge}) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
    EXPECT_NE(status.error_message().find("token too large"), std::string::npos)
        << status.error_message();
  }
  int failed = 0;
  std::string first_failure;
  for (const grpc::Status& status : others) {
    if (status.ok()) continue;
    if (++failed == 1)
      first_failure = std::to_string(status.error_code()) + " " + status.error_message();
  }
  EXPECT_EQ(failed, 0) << "of " << kOthers
                       << " calls sharing the connection, first: " << first_failure;
}

// The runtime's clients do not send a token every server would refuse, so a
// channel they share (a gateway's) never carries one.
TEST_F(Attack, ClientsDoNotSendAnOversizedToken) {
  Replica* r = StartReplica("a");
  ASSERT_NE(r, nullptr);
  for (cppsvc::ClientOptions options : {GrpcOptions({r}), NatsOptions()}) {
    SCOPED_TRACE(options.transport == cppsvc::Transport::kNats ? "nats" : "grpc");
    options.bearer_token = std::string(20 * 1024, 'a');
    EchoServiceClient client(options);
    EchoResponse response;
    const Status status = Echo(client, "m", &response);
    EXPECT_EQ(status.code(), StatusCode::kUnauthenticated) << status.ToString();
    EXPECT_EQ(status.message(), "token too large: 20480 bytes, the limit is 16384 (not sent)");
  }
  const Exposition metrics =
      ParsePrometheusText(process_testing::HttpGet(r->admin_port, "/metrics").body);
  EXPECT_EQ(metrics.Sum("cppsvc_requests_total", {{"method", "Echo"}}), 0);
}

}  // namespace
}  // namespace cppsvc::integration
