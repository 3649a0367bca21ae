// saga_origin of the saga benchmark: starts flows; saga `flow` is generated,
// so the only business code is recording a flow and its completion.
#include "cppsvc/register.h"
#include "sagabench/origin/v1/origin.cppsvc.h"
#include "work.h"

namespace saga_bench {

namespace v1 = sagabench::origin::v1;

class SagaOrigin final : public v1::OriginServiceBase {
 public:
  cppsvc::Status Start(cppsvc::CallContext& ctx,
                       const v1::StartRequest& request,
                       v1::StartResponse&) override {
    StartFlows<v1::FlowStarted>(ctx.tx(), request, [&](const v1::FlowStarted& started) {
      Emit(ctx, started);
    });
    return cppsvc::Status::Ok();
  }

  cppsvc::Status OnFlowChanged(cppsvc::EventContext& ctx,
                               const cppsvc::sagas::Instance& saga) override {
    RecordProgress(ctx.tx(), saga.id, saga.state_name);
    return cppsvc::Status::Ok();
  }

  cppsvc::Status OnFlowCompleted(cppsvc::EventContext& ctx,
                                 const cppsvc::sagas::Instance& saga,
                                 v1::FlowCompleted& event) override {
    CompleteFlow(ctx.tx(), saga.id);
    event.set_flow_id(saga.id);
    return cppsvc::Status::Ok();
  }

  cppsvc::Status OnFlowAborted(cppsvc::EventContext&,
                               const cppsvc::sagas::Instance& saga,
                               v1::FlowAborted& event) override {
    event.set_flow_id(saga.id);
    event.set_reason(saga.error);
    return cppsvc::Status::Ok();
  }
};

}  // namespace saga_bench

CPPSVC_REGISTER_HANDLERS(sagabench::origin::v1::OriginServiceBase, saga_bench::SagaOrigin);
