// The development tools against a running echo_service: what they print
// must work on a real call.
#include <sys/wait.h>

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "echo_fixture.h"

#ifndef CPPSVC_TOKEN_TOOL
#error "CPPSVC_TOKEN_TOOL must name the cppsvc-token binary"
#endif

namespace cppsvc::integration {
namespace {

using namespace std::chrono_literals;

class Tools : public ServiceTest {
 protected:
  // Runs cppsvc-token with `args` and the fixture's JWT settings; its exit
  // status, stdout (trimmed) and stderr.
  struct Run {
    int status = -1;
    std::string out, err;
  };
  Run Token(const std::vector<std::string>& args, bool with_key = true) {
    std::vector<std::string> argv = {CPPSVC_TOKEN_TOOL};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = {"CPPSVC_JWT_ALGORITHM=HS256",
                                    std::string("CPPSVC_JWT_ISSUER=") + kIssuer,
                                    std::string("CPPSVC_JWT_AUDIENCE=") + kAudience};
    if (with_key) env.push_back(std::string("CPPSVC_JWT_KEY=") + kJwtKey);
    const std::string base = dir_ + "/token" + std::to_string(++runs_);
    process_testing::Process p(argv, env, base + ".out", base + ".err");
    std::string error;
    EXPECT_TRUE(p.Start(error)) << error;
    Run r;
    if (std::optional<int> status = p.Wait(10s); status && WIFEXITED(*status))
      r.status = WEXITSTATUS(*status);
    r.out = process_testing::Trim(p.Stdout());
    r.err = p.Stderr();
    return r;
  }
  int runs_ = 0;
};

TEST_F(Tools, TokenToolSignsATokenTheServiceAccepts) {
  Replica* r = StartReplica("a");
  ASSERT_NE(r, nullptr);
  const Run run = Token({"--sub", "dev-user", "--role", "user", "--ttl", "60"});
  ASSERT_EQ(run.status, 0) << run.err;
  cppsvc::ClientOptions options = GrpcOptions({r});
  options.bearer_token = run.out;
  echo::v1::EchoServiceClient client(options);
  echo::v1::EchoResponse response;
  const Status status = Echo(client, "hello", &response);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(response.message(), "hello");

  // A role the RPC does not allow: the token is valid, the call is refused.
  options.bearer_token = Token({"--sub", "dev-user", "--role", "nobody"}).out;
  echo::v1::EchoServiceClient other(options);
  EXPECT_EQ(Echo(other, "hello", &response).code(), StatusCode::kPermissionDenied);
}

TEST_F(Tools, TokenToolExplainsWhatIsMissing) {
  const Run run = Token({"--role", "user", "--ttl", "soon"}, /*with_key=*/false);
  EXPECT_EQ(run.status, 2);
  EXPECT_TRUE(run.out.empty()) << run.out;
  for (const char* part : {"CPPSVC_JWT_KEY or CPPSVC_JWT_KEY_FILE is required",
                           "--ttl: 'soon' is not a number of seconds",
                           "--sub is required",
                           "usage: cppsvc-token"}) {
    EXPECT_NE(run.err.find(part), std::string::npos) << part << " in:\n" << run.err;
  }
  EXPECT_EQ(Token({"--help"}).status, 0);
}

// The service binary's --help lists its commands and every variable its
// configuration check reads, including those read only when another is set.
TEST_F(Tools, ServiceBinaryHelpListsCommandsAndVariables) {
  process_testing::Process p(std::vector<std::string>{ECHO_SERVICE_BINARY, "--help"},
                             {},
                             dir_ + "/help.out",
                             dir_ + "/help.err");
  std::string error;
  ASSERT_TRUE(p.Start(error)) << error;
  const std::optional<int> status = p.Wait(10s);
  ASSERT_TRUE(status && WIFEXITED(*status)) << p.Stderr();
  EXPECT_EQ(WEXITSTATUS(*status), 0) << p.Stderr();
  const std::string out = p.Stdout();
  for (const char* part : {"usage: ",
                           "relay",
                           "dead-letters replay <id>",
                           "ECHO_GRPC_PORT",
                           "ECHO_ADMIN_ADDRESS",
                           "CPPSVC_JWT_ALGORITHM",
                           "NATS_URL",
                           "CPPSVC_REVOCATION_TARGET",
                           "CPPSVC_SERVICE_TOKEN"}) {
    EXPECT_NE(out.find(part), std::string::npos) << part << " in:\n" << out;
  }
}

}  // namespace
}  // namespace cppsvc::integration
