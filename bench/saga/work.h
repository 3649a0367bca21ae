// The business work of the saga benchmark's services (bench/saga_bench.sh),
// shared by both variants so that they differ only in how events reach it: a
// generated saga (bench/saga/proto/sagabench) or plain subscriptions
// (bench/saga/proto/plainbench). Each call is one statement in the
// transaction of the call or event it is given.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>

namespace saga_bench {

// The owner records a new flow.
void RecordFlow(pqxx::transaction_base& tx, const std::string& flow_id);

// The owner's Start: records each flow of `request` and emits its
// FlowStarted through `emit` (the service's generated Emit).
template <typename Started, typename Request, typename EmitFn>
void StartFlows(pqxx::transaction_base& tx, const Request& request, EmitFn emit) {
  for (const std::string& id : request.flow_ids()) {
    RecordFlow(tx, id);
    Started started;
    started.set_flow_id(id);
    emit(started);
  }
}

// The owner records that a flow moved on to `step` (from 'started' only:
// with plain subscriptions, a step's event may come after the flow completed).
void RecordProgress(pqxx::transaction_base& tx,
                    const std::string& flow_id,
                    const std::string& step);

// The owner records that a flow completed.
void CompleteFlow(pqxx::transaction_base& tx, const std::string& flow_id);

// The worker records one step of a flow.
void RecordStep(pqxx::transaction_base& tx, const std::string& flow_id, const std::string& step);

// The worker's steps so far.
int64_t CountSteps(pqxx::transaction_base& tx);

}  // namespace saga_bench
