// Drives a generated saga in the generated contract tests: the owner's
// machine on a database of its own, fed synthetic participant events (built
// from the saga's spec by reflection), with what it stored and sent read
// back from cppsvc_sagas and cppsvc_outbox; and a participant's step and
// undo routes, fed in any order.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cppsvc/db/pool.h"
#include "cppsvc/impl/repository.h"  // NewUuid, for the generated cases
#include "cppsvc/impl/subscriptions.h"
#include "cppsvc/sagas/owner.h"

namespace cppsvc::testing {

class SagaHarness {
 public:
  SagaHarness(sagas::Owner& owner, db::Pool& pool);

  // Starts an instance with a new id and returns the id; or with `id`.
  std::string Start();
  void Start(const std::string& id);
  // Delivers the participant's success, failure or undo-done event of `step`
  // (an empty one of the step's type, or `event`).
  void Deliver(const std::string& id, sagas::InputKind kind, int step);
  void Deliver(const std::string& id,
               sagas::InputKind kind,
               int step,
               const google::protobuf::Message& event);
  // Moves the instance's deadline to the past and runs the timeout sweep.
  void Expire(const std::string& id);
  // "running:<state>", "compensating:<state>", "completed" or "aborted".
  std::string State(const std::string& id);
  // The steps whose undo commands were sent for `id`, in order.
  std::vector<std::string> Undos(const std::string& id);
  // Short names of the end events emitted for `id`, in order.
  std::vector<std::string> EndEvents(const std::string& id);

  // The properties every generated saga must have.
  ::testing::AssertionResult CompletesWhenEveryStepSucceeds();
  ::testing::AssertionResult FailureAtEachStepUndoesTheStepsBefore();
  ::testing::AssertionResult TimeoutAtEachStepCompensates();
  ::testing::AssertionResult EveryEventTwiceChangesNothing();
  ::testing::AssertionResult LateEventsChangeNothing();

 private:
  // Answers every undo command with its done event, in the order sent,
  // until the instance stops compensating.
  void AnswerUndos(const std::string& id);
  std::vector<std::string> ExpectedUndos(int from) const;
  void InTransaction(const std::function<void(EventContext&)>& body);

  sagas::Owner& owner_;
  db::Pool& pool_;
};

// A participant's saga routes (from <Service>Server::Subscriptions()), fed
// directly in a transaction each.
class StepHarness {
 public:
  StepHarness(std::vector<impl::SubscriptionRoute> routes, db::Pool& pool);

  // A step of the participant: its consumers (durable names), the type of
  // its `on` event and the field holding the correlation id.
  void AddStep(std::string step,
               std::string saga,
               std::string durable,
               std::string undo_durable,
               std::string in_type,
               std::string key);
  // Delivers the step's `on` event for instance `id`, or an undo command.
  Status Step(const std::string& step, const std::string& id);
  Status Undo(const std::string& step, const std::string& id);
  // Short names of the events the participant emitted for `id`, in order,
  // separated by spaces.
  std::string Emitted(const std::string& id);

 private:
  struct StepRoutes {
    std::string saga, durable, undo_durable, in_type, key;
  };
  Status Deliver(std::string_view durable, const std::string& payload);

  std::vector<impl::SubscriptionRoute> routes_;
  std::map<std::string, StepRoutes> steps_;
  db::Pool& pool_;
};

}  // namespace cppsvc::testing
