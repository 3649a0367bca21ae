// NATS request-reply transport: NatsServer (queue-group subscriptions through
// the ServiceRuntime pipeline) and ClientRuntime::CallNats, against a real
// nats-server started by scripts/nats.sh. Skipped when nats-server is not
// installed.
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/wrappers.pb.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/impl/client.h"
#include "cppsvc/impl/nats_server.h"
#include "cppsvc/observability/trace.h"

namespace cppsvc::impl {
namespace {

using google::protobuf::StringValue;
using namespace std::chrono_literals;

constexpr char kService[] = "echo";

const std::string& EchoSubject() {
  static const std::string subject = NatsSubject(kService, "Echo");
  return subject;
}

std::filesystem::path NatsScript() {
  return NATS_SCRIPT;
}

// The handlers behind one replica.
struct EchoHandlers {
  std::atomic<int> calls{0};
  std::chrono::milliseconds delay{0};
  Status result;  // returned instead of the echo when not OK

  std::mutex mu;
  Caller caller;
  std::string trace_id;
  std::chrono::milliseconds remaining{0};

  Status Echo(CallContext& ctx, const StringValue& request, StringValue& response) {
    ++calls;
    {
      std::lock_guard<std::mutex> lock(mu);
      caller = ctx.caller();
      trace_id = ctx.trace_id();
      remaining = ctx.remaining();
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    if (!result.ok()) return result;
    response.set_value(request.value());
    return Status::Ok();
  }
};

MethodSpec EchoSpec() {
  MethodSpec m;
  m.name = "Echo";
  m.full_name = "cppsvc.test.EchoService/Echo";
  m.is_public = true;
  m.timeout = 5000ms;
  return m;
}

ClientMethodSpec EchoClientSpec(std::chrono::milliseconds timeout = 2000ms) {
  ClientMethodSpec m;
  m.name = "Echo";
  m.full_name = "cppsvc.test.EchoService/Echo";
  m.nats_subject = EchoSubject();
  m.timeout = timeout;
  return m;
}

// One server replica: its own runtime, handlers and NATS connection.
struct Replica {
  Replica(const std::string& url,
          MethodSpec spec,
          std::shared_ptr<const auth::JwtVerifier> verifier = nullptr)
      : method(std::move(spec)) {
    ServiceOptions options;
    options.service = kService;
    options.verifier = std::move(verifier);
    options.log_requests = false;
    runtime = std::make_unique<ServiceRuntime>(options, std::vector<const MethodSpec*>{&method});
    server = std::make_unique<NatsServer>(
        *runtime,
        url,
        std::vector<NatsRoute>{MakeNatsRoute(method, handlers, &EchoHandlers::Echo)});
    server->Start();
  }
  ~Replica() {
    server->Stop();
    server.reset();
    runtime.reset();
  }

  MethodSpec method;
  EchoHandlers handlers;
  std::unique_ptr<ServiceRuntime> runtime;
  std::unique_ptr<NatsServer> server;
};

class NatsTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/cppsvc-nats-test-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    std::string command = "bash '" + NatsScript().string() + "' start '" + dir_ + "' > /dev/null";
    int rc = std::system(command.c_str());
    if (rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 3) {
      skip_ = "nats-server is not installed";
      return;
    }
    if (rc != 0) {
      error_ = "scripts/nats.sh start failed (" + std::to_string(rc) + ")";
      return;
    }
    std::ifstream in(dir_ + "/nats.url");
    std::getline(in, url_);
    if (url_.empty()) error_ = "scripts/nats.sh wrote no URL";
  }

  static void TearDownTestSuite() {
    if (dir_.empty()) return;
    std::string command = "bash '" + NatsScript().string() + "' stop '" + dir_ + "'";
    EXPECT_EQ(std::system(command.c_str()), 0);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(error_.empty()) << error_;
  }

  static ClientOptions NatsClientOptions() {
    ClientOptions options;
    options.transport = Transport::kNats;
    options.nats_url = url_;
    return options;
  }

  static Status Echo(ClientRuntime& client,
                     const std::string& value,
                     StringValue* response,
                     const CallOptions& call = {},
                     const ClientMethodSpec& method = EchoClientSpec()) {
    StringValue request;
    request.set_value(value);
    return client.CallNats(method, call, request, response);
  }

  static std::string dir_, url_, skip_, error_;
};

std::string NatsTransportTest::dir_, NatsTransportTest::url_, NatsTransportTest::skip_,
    NatsTransportTest::error_;

TEST_F(NatsTransportTest, EchoRoundTrip) {
  Replica replica(url_, EchoSpec());
  EXPECT_TRUE(replica.server->connected());
  ClientRuntime client(kService, NatsClientOptions());

  StringValue response;
  Status status = Echo(client, "hello", &response);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(response.value(), "hello");

  // A payload of some size, and an empty one (an empty protobuf message).
  std::string big(200 * 1024, 'x');
  status = Echo(client, big, &response);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(response.value(), big);
  status = Echo(client, "", &response);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(response.value(), "");
  EXPECT_EQ(replica.handlers.calls.load(), 3);
  EXPECT_TRUE(replica.handlers.caller.anonymous());
}

TEST_F(NatsTransportTest, HandlerErrorCodeAndMessageCarriedBack) {
  Replica replica(url_, EchoSpec());
  replica.handlers.result = Status::NotFound("order 42 does not exist");
  ClientRuntime client(kService, NatsClientOptions());

  StringValue response;
  Status status = Echo(client, "42", &response);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "order 42 does not exist");
  EXPECT_EQ(response.value(), "");

  // Line breaks cannot travel in a header; the rest of the message does.
  replica.handlers.result = Status(StatusCode::kFailedPrecondition, "line one\nline two");
  status = Echo(client, "x", &response);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "line one line two");
}

TEST_F(NatsTransportTest, ValidationFailureIsInvalidArgument) {
  MethodSpec spec = EchoSpec();
  spec.validate = [](const Message& request, Violations& v) {
    if (static_cast<const StringValue&>(request).value().empty())
      v.Add(FieldRef{nullptr, "value", -1}, "is required");
  };
  Replica replica(url_, spec);
  ClientRuntime client(kService, NatsClientOptions());

  StringValue response;
  Status status = Echo(client, "", &response);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "value: is required");
  EXPECT_EQ(replica.handlers.calls.load(), 0);

  status = Echo(client, "present", &response);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(replica.handlers.calls.load(), 1);
}

TEST_F(NatsTransportTest, NonPublicMethodNeedsToken) {
  auth::JwtConfig config;
  config.algorithm = auth::Algorithm::kHS256;
  config.key = "nats-transport-test-secret-0123456789";
  config.issuer = "cppsvc-test";
  config.audience = "cppsvc";
  auto verifier = std::make_shared<auth::JwtVerifier>(config);
  auth::JwtSigner signer(config);

  MethodSpec spec = EchoSpec();
  spec.is_public = false;
  spec.roles = {"customer"};
  Replica replica(url_, spec, verifier);
  ClientRuntime client(kService, NatsClientOptions());

  StringValue response;
  Status status = Echo(client, "hi", &response);
  EXPECT_EQ(status.code(), StatusCode::kUnauthenticated) << status.ToString();

  CallOptions call;
  call.bearer_token = "not-a-jwt";
  status = Echo(client, "hi", &response, call);
  EXPECT_EQ(status.code(), StatusCode::kUnauthenticated) << status.ToString();

  auth::TokenClaims other;
  other.subject = "user-2";
  other.roles = {"auditor"};
  call.bearer_token = signer.Sign(other);
  status = Echo(client, "hi", &response, call);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
  EXPECT_EQ(replica.handlers.calls.load(), 0);

  auth::TokenClaims claims;
  claims.subject = "user-1";
  claims.roles = {"customer"};
  call.bearer_token = signer.Sign(claims);
  status = Echo(client, "hi", &response, call);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(response.value(), "hi");
  std::lock_guard<std::mutex> lock(replica.handlers.mu);
  EXPECT_EQ(replica.handlers.caller.subject, "user-1");
}

TEST_F(NatsTransportTest, DeadlineAndTraceTravelInHeaders) {
  Replica replica(url_, EchoSpec());
  ClientRuntime client(kService, NatsClientOptions());

  observability::TraceContext trace = observability::NewTrace();
  CallContext parent(Caller{}, Clock::now() + 400ms, "cppsvc.test.Parent/Run", trace.trace_id);
  parent.set_traceparent(observability::FormatTraceparent(trace));
  CallOptions call;
  call.parent = &parent;

  StringValue response;
  Status status = Echo(client, "traced", &response, call);
  ASSERT_TRUE(status.ok()) << status.ToString();
  std::lock_guard<std::mutex> lock(replica.handlers.mu);
  EXPECT_EQ(replica.handlers.trace_id, trace.trace_id);
  EXPECT_LE(replica.handlers.remaining, 400ms);  // the caller's, not the contract's 5 s
  EXPECT_GT(replica.handlers.remaining, 0ms);
}

TEST_F(NatsTransportTest, QueueGroupSpreadsCallsOverReplicas) {
  Replica first(url_, EchoSpec());
  Replica second(url_, EchoSpec());
  ClientRuntime client(kService, NatsClientOptions());

  constexpr int kCalls = 200;
  for (int i = 0; i < kCalls; ++i) {
    StringValue response;
    Status status = Echo(client, "call-" + std::to_string(i), &response);
    ASSERT_TRUE(status.ok()) << i << ": " << status.ToString();
    ASSERT_EQ(response.value(), "call-" + std::to_string(i));
  }
  int a = first.handlers.calls.load(), b = second.handlers.calls.load();
  EXPECT_GT(a, 0);
  EXPECT_GT(b, 0);
  EXPECT_EQ(a + b, kCalls);  // each call handled exactly once
}

TEST_F(NatsTransportTest, NoRespondersIsUnavailableAtOnce) {
  ClientRuntime client(kService, NatsClientOptions());
  auto start = std::chrono::steady_clock::now();
  StringValue response;
  Status status = Echo(client, "anyone?", &response, {}, EchoClientSpec(5000ms));
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("no responders"), std::string::npos) << status.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(NatsTransportTest, SlowHandlerIsDeadlineExceeded) {
  Replica replica(url_, EchoSpec());
  replica.handlers.delay = 500ms;
  ClientRuntime client(kService, NatsClientOptions());

  auto start = std::chrono::steady_clock::now();
  StringValue response;
  Status status = Echo(client, "slow", &response, {}, EchoClientSpec(100ms));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(status.code(), StatusCode::kDeadlineExceeded) << status.ToString();
  EXPECT_GE(elapsed, 90ms);
  EXPECT_LT(elapsed, 450ms);
}

TEST_F(NatsTransportTest, ClientWithoutConnectionIsUnavailable) {
  ClientOptions options = NatsClientOptions();
  options.nats_url.clear();
  ClientRuntime client(kService, options);
  StringValue response;
  Status status = Echo(client, "x", &response);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
}

// Raw nats.c requests: what any NATS client sees on the wire.
class RawConnection {
 public:
  explicit RawConnection(const std::string& url) {
    natsStatus s = natsConnection_ConnectTo(&conn_, url.c_str());
    if (s != NATS_OK) conn_ = nullptr;
  }
  ~RawConnection() {
    if (conn_ != nullptr) natsConnection_Destroy(conn_);
  }
  natsConnection* get() const { return conn_; }

 private:
  natsConnection* conn_ = nullptr;
};

TEST_F(NatsTransportTest, MalformedPayloadIsInvalidArgument) {
  Replica replica(url_, EchoSpec());
  RawConnection raw(url_);
  ASSERT_NE(raw.get(), nullptr);

  // Field 1, length 5, but only two bytes follow.
  const std::string garbage(
      "\x0a\x05"
      "ab",
      4);
  natsMsg* reply = nullptr;
  ASSERT_EQ(natsConnection_Request(&reply,
                                   raw.get(),
                                   EchoSubject().c_str(),
                                   garbage.data(),
                                   static_cast<int>(garbage.size()),
                                   2000),
            NATS_OK);
  const char* value = nullptr;
  ASSERT_EQ(natsMsgHeader_Get(reply, "cppsvc-status", &value), NATS_OK);
  EXPECT_STREQ(value, "3");
  ASSERT_EQ(natsMsgHeader_Get(reply, "cppsvc-message", &value), NATS_OK);
  EXPECT_EQ(std::string(value).rfind("request is not a valid ", 0), 0u) << value;
  natsMsg_Destroy(reply);
  EXPECT_EQ(replica.handlers.calls.load(), 0);
}

TEST_F(NatsTransportTest, MessageWithoutReplySubjectIsIgnored) {
  Replica replica(url_, EchoSpec());
  RawConnection raw(url_);
  ASSERT_NE(raw.get(), nullptr);
  StringValue request;
  request.set_value("fire and forget");
  std::string payload = request.SerializeAsString();
  ASSERT_EQ(natsConnection_Publish(raw.get(),
                                   EchoSubject().c_str(),
                                   payload.data(),
                                   static_cast<int>(payload.size())),
            NATS_OK);
  ASSERT_EQ(natsConnection_FlushTimeout(raw.get(), 2000), NATS_OK);

  // Still serving; the published message never reached the handler.
  ClientRuntime client(kService, NatsClientOptions());
  StringValue response;
  Status status = Echo(client, "after", &response);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(replica.handlers.calls.load(), 1);
}

TEST_F(NatsTransportTest, StopAnswersCallsInFlight) {
  Replica replica(url_, EchoSpec());
  replica.handlers.delay = 300ms;
  ClientRuntime client(kService, NatsClientOptions());

  Status status(StatusCode::kUnknown, "not called");
  StringValue response;
  std::thread caller([&] { status = Echo(client, "in flight", &response); });
  while (replica.handlers.calls.load() == 0) std::this_thread::sleep_for(5ms);
  replica.server->Stop();
  EXPECT_FALSE(replica.server->connected());
  caller.join();
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(response.value(), "in flight");

  // Stopped: nobody answers any more.
  status = Echo(client, "late", &response);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
}

}  // namespace
}  // namespace cppsvc::impl
