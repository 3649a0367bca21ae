// The integration suites' fixture: replicas of echo_service (the generated
// main() with the handlers of echo_service.cc) as real processes on free
// loopback ports, the nats-server they all need, a token for the "user" role
// and helpers to call them. Every process and temporary directory a test
// makes is removed in TearDown, also when the test fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cppsvc/client.h"
#include "echo/v1/echo.cppsvc.client.h"
#include "process_testing.h"

namespace cppsvc::integration {

inline constexpr char kJwtKey[] = "integration-test-hs256-secret-of-enough-length";
inline constexpr char kIssuer[] = "cppsvc-integration";
inline constexpr char kAudience[] = "echo";

// The fixture: replicas of echo_service, and the nats-server they all need
// (the echo service serves NATS, so NATS_URL is required configuration).

struct Replica {
  std::string id;
  uint16_t grpc_port = 0;
  uint16_t admin_port = 0;
  std::unique_ptr<process_testing::Process> process;

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
  void SetUp() override;

  void TearDown() override;

  // A token of the "user" role for `subject`, valid for an hour.
  static std::string TokenFor(
      const std::string& subject,
      std::chrono::system_clock::time_point issued_at = std::chrono::system_clock::now());

  // A throwaway nats-server; skips the test when nats-server is not installed.
  void StartNats();

  // The environment of a replica: every required variable, loopback only.
  std::vector<std::string> ReplicaEnv(const Replica& r,
                                      const std::vector<std::string>& extra) const;

  // Starts a replica and waits (at most 10 s) until its /readyz answers 200.
  // grpc_port 0: a free one. Fails the test (and returns null) otherwise.
  Replica* StartReplica(const std::string& id,
                        uint16_t grpc_port = 0,
                        const std::vector<std::string>& extra = {});

  // Starts a replica without waiting for it to be ready.
  Replica* LaunchReplica(const std::string& id,
                         uint16_t grpc_port = 0,
                         const std::vector<std::string>& extra = {});

  bool WaitReady(Replica& r, std::chrono::milliseconds timeout);

  cppsvc::ClientOptions GrpcOptions(const std::vector<Replica*>& targets) const;

  cppsvc::ClientOptions NatsOptions() const;

  static Status Echo(echo::v1::EchoServiceClient& client,
                     const std::string& message,
                     echo::v1::EchoResponse* response,
                     uint32_t delay_ms = 0);

  // `threads` callers share `client` for `total` Echo calls (each `delay_ms`
  // long on the server, so calls are in flight on a replica when it dies);
  // after `kill_after` calls have completed, `victim` is SIGKILLed. Bounded
  // by `budget`.
  std::vector<CallRecord> RunWithKill(echo::v1::EchoServiceClient& client,
                                      Replica& victim,
                                      int total,
                                      int kill_after,
                                      int threads,
                                      uint32_t delay_ms,
                                      std::chrono::seconds budget);

  static void ExpectNoFailures(const std::vector<CallRecord>& records);

  std::string dir_;
  std::string nats_url_;
  bool nats_started_ = false;
  std::string token_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  int starts_ = 0;
};

}  // namespace cppsvc::integration
