// Handlers of evtest.producer.v1.ProducerService for the event tests'
// service binary: Produce emits its Ticks through the generated Emit, into
// the outbox of the call's transaction.
#include <string>

#include "cppsvc/register.h"
#include "evtest/producer/v1/producer.cppsvc.h"

namespace evtest_service {

class Producer final : public evtest::producer::v1::ProducerServiceBase {
 public:
  cppsvc::Status Produce(cppsvc::CallContext& ctx,
                         const evtest::producer::v1::ProduceRequest& request,
                         evtest::producer::v1::ProduceResponse& response) override {
    const int64_t keys = request.keys() > 0 ? request.keys() : 16;
    for (int64_t i = 0; i < request.count(); ++i) {
      evtest::producer::v1::Tick tick;
      tick.set_seq(request.first_seq() + i);
      tick.set_key("k" + std::to_string(tick.seq() % keys));
      response.add_event_ids(Emit(ctx, tick));
    }
    if (request.fail_after_emit()) {
      return cppsvc::Status::FailedPrecondition(
          "fail_after_emit: the events are in the outbox, the call fails on purpose");
    }
    return cppsvc::Status::Ok();
  }
};

}  // namespace evtest_service

CPPSVC_REGISTER_HANDLERS(evtest::producer::v1::ProducerServiceBase, evtest_service::Producer);
