// plain_origin of the saga benchmark's baseline: starts flows, and its
// subscription to StepTwoDone records the completion and emits FlowCompleted.
#include "cppsvc/register.h"
#include "plainbench/origin/v1/origin.cppsvc.h"
#include "work.h"

namespace saga_bench {

namespace v1 = plainbench::origin::v1;

class PlainOrigin final : public v1::OriginServiceBase {
 public:
  cppsvc::Status Start(cppsvc::CallContext& ctx,
                       const v1::StartRequest& request,
                       v1::StartResponse&) override {
    StartFlows<v1::FlowStarted>(ctx.tx(), request, [&](const v1::FlowStarted& started) {
      Emit(ctx, started);
    });
    return cppsvc::Status::Ok();
  }

  cppsvc::Status OnStepOneDone(cppsvc::EventContext& ctx,
                               const plainbench::worker::v1::StepOneDone& event) override {
    RecordProgress(ctx.tx(), event.flow_id(), "two");
    return cppsvc::Status::Ok();
  }

  cppsvc::Status OnStepTwoDone(cppsvc::EventContext& ctx,
                               const plainbench::worker::v1::StepTwoDone& event) override {
    CompleteFlow(ctx.tx(), event.flow_id());
    v1::FlowCompleted completed;
    completed.set_flow_id(event.flow_id());
    Emit(ctx, completed);
    return cppsvc::Status::Ok();
  }
};

}  // namespace saga_bench

CPPSVC_REGISTER_HANDLERS(plainbench::origin::v1::OriginServiceBase, saga_bench::PlainOrigin);
