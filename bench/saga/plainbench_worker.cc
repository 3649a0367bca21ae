// plain_worker of the saga benchmark's baseline: the saga's two steps as
// plain consumers, each recording one row and emitting the next event.
#include "cppsvc/register.h"
#include "plainbench/worker/v1/worker.cppsvc.h"
#include "work.h"

namespace saga_bench {

namespace v1 = plainbench::worker::v1;

class PlainWorker final : public v1::WorkerServiceBase {
 public:
  cppsvc::Status CountSteps(cppsvc::CallContext& ctx,
                            const v1::CountStepsRequest&,
                            v1::CountStepsResponse& response) override {
    response.set_steps(saga_bench::CountSteps(ctx.tx()));
    return cppsvc::Status::Ok();
  }

  cppsvc::Status OnFlowStarted(cppsvc::EventContext& ctx,
                               const plainbench::origin::v1::FlowStarted& event) override {
    RecordStep(ctx.tx(), event.flow_id(), "one");
    v1::StepOneDone done;
    done.set_flow_id(event.flow_id());
    Emit(ctx, done);
    return cppsvc::Status::Ok();
  }

  cppsvc::Status OnStepOneDone(cppsvc::EventContext& ctx, const v1::StepOneDone& event) override {
    RecordStep(ctx.tx(), event.flow_id(), "two");
    v1::StepTwoDone done;
    done.set_flow_id(event.flow_id());
    Emit(ctx, done);
    return cppsvc::Status::Ok();
  }
};

}  // namespace saga_bench

CPPSVC_REGISTER_HANDLERS(plainbench::worker::v1::WorkerServiceBase, saga_bench::PlainWorker);
