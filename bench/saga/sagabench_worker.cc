// saga_worker of the saga benchmark: the two steps of saga `flow`. Each
// records one row; the generated code emits the step's success event.
#include "cppsvc/register.h"
#include "sagabench/worker/v1/worker.cppsvc.h"
#include "work.h"

namespace saga_bench {

namespace v1 = sagabench::worker::v1;

class SagaWorker final : public v1::WorkerServiceBase {
 public:
  cppsvc::Status CountSteps(cppsvc::CallContext& ctx,
                            const v1::CountStepsRequest&,
                            v1::CountStepsResponse& response) override {
    response.set_steps(saga_bench::CountSteps(ctx.tx()));
    return cppsvc::Status::Ok();
  }

  FlowOneResult FlowOne(cppsvc::EventContext& ctx,
                        const sagabench::origin::v1::FlowStarted& event) override {
    RecordStep(ctx.tx(), event.flow_id(), "one");
    v1::StepOneDone done;
    done.set_flow_id(event.flow_id());
    return FlowOneResult::Succeeded(std::move(done));
  }

  FlowTwoResult FlowTwo(cppsvc::EventContext& ctx, const v1::StepOneDone& event) override {
    RecordStep(ctx.tx(), event.flow_id(), "two");
    v1::StepTwoDone done;
    done.set_flow_id(event.flow_id());
    return FlowTwoResult::Succeeded(std::move(done));
  }

  // Never called: no step of the benchmark fails.
  cppsvc::Status UndoFlowOne(cppsvc::EventContext&,
                             const cppsvc::sagas::Undo& undo,
                             v1::StepOneUndone& done) override {
    done.set_flow_id(undo.id);
    return cppsvc::Status::Ok();
  }

  cppsvc::Status UndoFlowTwo(cppsvc::EventContext&,
                             const cppsvc::sagas::Undo& undo,
                             v1::StepTwoUndone& done) override {
    done.set_flow_id(undo.id);
    return cppsvc::Status::Ok();
  }
};

}  // namespace saga_bench

CPPSVC_REGISTER_HANDLERS(sagabench::worker::v1::WorkerServiceBase, saga_bench::SagaWorker);
