// Handlers of echo.v1.EchoService for the integration tests' service binary.
// Each response carries the replica's ECHO_REPLICA_ID so a test can count
// which process answered.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "cppsvc/register.h"
#include "echo/v1/echo.cppsvc.h"

namespace echo_test {

class EchoService final : public echo::v1::EchoServiceBase {
 public:
  EchoService() {
    const char* id = std::getenv("ECHO_REPLICA_ID");
    replica_ = id != nullptr ? id : "";
  }

  cppsvc::Status Echo(cppsvc::CallContext&,
                      const echo::v1::EchoRequest& request,
                      echo::v1::EchoResponse& response) override {
    if (request.delay_ms() > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(request.delay_ms()));
    response.set_message(request.message());
    response.set_replica(replica_);
    return cppsvc::Status::Ok();
  }

  cppsvc::Status Limited(cppsvc::CallContext& ctx,
                         const echo::v1::EchoRequest& request,
                         echo::v1::EchoResponse& response) override {
    return Echo(ctx, request, response);
  }

  cppsvc::Status Write(cppsvc::CallContext&,
                       const echo::v1::WriteRequest&,
                       echo::v1::WriteResponse& response) override {
    response.set_replica(replica_);
    response.set_writes(++writes_);
    return cppsvc::Status::Ok();
  }

  cppsvc::Status Slow(cppsvc::CallContext& ctx,
                      const echo::v1::SlowRequest& request,
                      echo::v1::SlowResponse& response) override {
    response.set_deadline_left_ms(
        static_cast<uint32_t>(std::max<int64_t>(0, ctx.remaining().count())));
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(request.sleep_ms()));
    response.set_replica(replica_);
    response.set_slept_ms(
        static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count()));
    return cppsvc::Status::Ok();
  }

 private:
  std::string replica_;
  std::atomic<uint64_t> writes_{0};
};

}  // namespace echo_test

CPPSVC_REGISTER_HANDLERS(echo::v1::EchoServiceBase, echo_test::EchoService);
