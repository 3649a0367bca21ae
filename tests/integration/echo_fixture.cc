#include "echo_fixture.h"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "cppsvc/auth/jwt.h"

#ifndef ECHO_SERVICE_BINARY
#error "ECHO_SERVICE_BINARY must name the echo_service executable"
#endif
#ifndef NATS_SCRIPT
#error "NATS_SCRIPT must name scripts/nats.sh"
#endif

namespace cppsvc::integration {

using namespace std::chrono_literals;
using namespace cppsvc::process_testing;
using SteadyClock = std::chrono::steady_clock;
using echo::v1::EchoRequest;
using echo::v1::EchoResponse;
using echo::v1::EchoServiceClient;

void ServiceTest::SetUp() {
  dir_ = MakeTempDir("cppsvc-integration");
  ASSERT_FALSE(dir_.empty()) << "mkdtemp failed";
  StartNats();
  if (IsSkipped() || HasFatalFailure()) return;
  token_ = TokenFor("integration-test");
}

std::string ServiceTest::TokenFor(const std::string& subject,
                                  std::chrono::system_clock::time_point issued_at) {
  cppsvc::auth::JwtConfig config;
  config.algorithm = cppsvc::auth::Algorithm::kHS256;
  config.key = kJwtKey;
  config.issuer = kIssuer;
  config.audience = kAudience;
  cppsvc::auth::TokenClaims claims;
  claims.subject = subject;
  claims.roles = {"user"};
  claims.issued_at = issued_at;
  claims.ttl = std::chrono::seconds(3600);
  return cppsvc::auth::JwtSigner(config).Sign(claims);
}

void ServiceTest::TearDown() {
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

void ServiceTest::StartNats() {
  const std::string nats_dir = dir_ + "/nats";
  std::filesystem::create_directories(nats_dir);
  std::string command =
      "bash '" NATS_SCRIPT "' start '" + nats_dir + "' > /dev/null 2> '" + nats_dir + "/start.err'";
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

std::vector<std::string> ServiceTest::ReplicaEnv(const Replica& r,
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

Replica* ServiceTest::StartReplica(const std::string& id,
                                   uint16_t grpc_port,
                                   const std::vector<std::string>& extra) {
  Replica* r = LaunchReplica(id, grpc_port, extra);
  if (r == nullptr || !WaitReady(*r, 10s)) return nullptr;
  return r;
}

Replica* ServiceTest::LaunchReplica(const std::string& id,
                                    uint16_t grpc_port,
                                    const std::vector<std::string>& extra) {
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
  return raw;
}

bool ServiceTest::WaitReady(Replica& r, std::chrono::milliseconds timeout) {
  return cppsvc::process_testing::WaitReady(*r.process,
                                            r.admin_port,
                                            "replica " + r.id,
                                            timeout,
                                            20ms);
}

cppsvc::ClientOptions ServiceTest::GrpcOptions(const std::vector<Replica*>& targets) const {
  cppsvc::ClientOptions options;
  for (const Replica* r : targets) options.addresses.push_back(r->address());
  options.bearer_token = token_;
  return options;
}

cppsvc::ClientOptions ServiceTest::NatsOptions() const {
  cppsvc::ClientOptions options;
  options.transport = cppsvc::Transport::kNats;
  options.nats_url = nats_url_;
  options.bearer_token = token_;
  return options;
}

Status ServiceTest::Echo(EchoServiceClient& client,
                         const std::string& message,
                         EchoResponse* response,
                         uint32_t delay_ms) {
  EchoRequest request;
  request.set_message(message);
  request.set_delay_ms(delay_ms);
  return client.Echo(request, response);
}

// `threads` callers share `client` for `total` Echo calls (each `delay_ms`
// long on the server, so calls are in flight on a replica when it dies);
// after `kill_after` calls have completed, `victim` is SIGKILLed. Bounded
// by `budget`.

std::vector<CallRecord> ServiceTest::RunWithKill(EchoServiceClient& client,
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
        record.status = Echo(client, "call from thread " + std::to_string(t), &response, delay_ms);
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

void ServiceTest::ExpectNoFailures(const std::vector<CallRecord>& records) {
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

}  // namespace cppsvc::integration
