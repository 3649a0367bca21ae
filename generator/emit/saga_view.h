// The sagas a service takes part in, as template data: the owner's machine
// and hooks and the participant's step methods (handler base), and the
// routes of their events (server).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "emit/template.h"
#include "model/model.h"

namespace cppsvc::emit {

// Sagas owned by `service`: spec, hooks, undo subjects.
Data OwnedSagasView(const model::Model& model,
                    const model::File& file,
                    const model::Service& service);
// Steps `service` performs: its step and undo methods.
Data SagaStepsView(const model::Model& model,
                   const model::File& file,
                   const model::Service& service);
// The consumers of service.saga_routes.
Data SagaRoutesView(const model::Model& model,
                    const model::File& file,
                    const model::Service& service);
// The .pb.h files of the saga events `service` handles or emits.
void AddSagaHeaders(const model::Model& model,
                    const model::Service& service,
                    std::set<std::string>& headers);
// A transition of a saga's state machine, as the diagram in the service doc
// and the contract tests show it: states are step names, "undo_<step>",
// "completed", "aborted" and "[*]" (start and end); labels are event short
// names, "timeout" or "abort". The same list, in the same order, as the
// runtime's sagas::Transitions (a generated test compares them).
struct SagaTransition {
  std::string from;
  std::string to;
  std::string label;
};
std::vector<SagaTransition> SagaTransitions(const model::Saga& saga);

// The saga a route belongs to.
const model::Saga* FindSaga(const model::Model& model, const std::string& name);

}  // namespace cppsvc::emit
