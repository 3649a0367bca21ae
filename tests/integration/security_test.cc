// What an outsider can send to a running service: replicas of echo_service as
// real processes, called over real gRPC and NATS connections with requests
// shaped to crash, confuse or exhaust them. Each test fails on a service that
// lets the attack through.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "echo_fixture.h"

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

}  // namespace
}  // namespace cppsvc::integration
