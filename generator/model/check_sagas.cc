// A saga's references (owner, participants, events each publishes and
// subscribes to), its compensations, and the graph of its steps.

#include <algorithm>
#include <utility>

#include "model/checker.h"

namespace cppsvc::model::checks {
namespace {

bool Subscribes(const Service& s, const std::string& event) {
  return std::any_of(s.subscriptions.begin(), s.subscriptions.end(), [&](const Subscription& sub) {
    return sub.event == event;
  });
}

// Steps form a graph: a step follows every step whose success event starts
// it. A depth-first walk from the steps the trigger starts finds what is
// reachable, then a walk from the rest finds cycles among the others too.
class StepWalk {
 public:
  explicit StepWalk(const Saga& saga)
      : saga_(saga), next_(saga.steps.size()), state_(saga.steps.size(), kUnvisited) {
    const auto& steps = saga.steps;
    for (size_t i = 0; i < steps.size(); ++i) {
      for (size_t j = 0; j < steps.size(); ++j) {
        if (!steps[i].success_event.empty() && steps[j].on == steps[i].success_event)
          next_[i].push_back(j);
      }
    }
    for (size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].on == saga.trigger && state_[i] == kUnvisited) Visit(i);
    }
    reachable_ = state_;
    for (size_t i = 0; i < steps.size(); ++i) {
      if (state_[i] == kUnvisited) Visit(i);
    }
  }

  bool Reachable(size_t step) const { return reachable_[step] != kUnvisited; }
  // (from, to) of each edge that closes a cycle.
  const std::set<std::pair<size_t, size_t>>& back_edges() const { return back_edges_; }

 private:
  enum State { kUnvisited, kOnStack, kDone };

  void Visit(size_t i) {
    state_[i] = kOnStack;
    for (size_t j : next_[i]) {
      // A success event that is the trigger is reported on its own.
      bool via_trigger = saga_.steps[i].success_event == saga_.trigger;
      if (state_[j] == kOnStack && !via_trigger) {
        back_edges_.emplace(i, j);
      } else if (state_[j] == kUnvisited) {
        Visit(j);
      }
    }
    state_[i] = kDone;
  }

  const Saga& saga_;
  std::vector<std::vector<size_t>> next_;
  std::vector<State> state_;
  std::vector<State> reachable_;
  std::set<std::pair<size_t, size_t>> back_edges_;
};

}  // namespace

void Checker::CheckSaga(const Saga& saga) {
  std::string what = "saga " + Quote(saga.name);
  bool owner_ok = CheckSagaOwner(saga, what);
  if (saga.steps.empty()) {
    Error(saga.span, what + " has no steps");
    return;
  }
  std::set<std::string> step_names;
  for (size_t i = 0; i < saga.steps.size(); ++i) {
    const SagaStep& step = saga.steps[i];
    if (!step_names.insert(step.name).second)
      Error(saga.span, what + " step " + Quote(step.name) + " is declared twice");
    CheckSagaStep(saga, owner_ok, step, i);
  }
  CheckCompensations(saga);
  CheckTimeoutCompensations(saga);
  CheckSagaKeys(saga);
  CheckSagaGraph(saga);
}

// The saga's name, its owner, and the events the owner must publish.
// Returns whether the owner is a declared service.
bool Checker::CheckSagaOwner(const Saga& saga, const std::string& what) {
  const Span& span = saga.span;
  if (saga.name.empty()) Error(span, "saga has no name");
  bool owner_ok = !saga.owner.empty() && CheckServiceRef(span, what + " owner", saga.owner);
  if (saga.owner.empty())
    Error(span, what + " has no owner: set owner to the service that keeps its state");
  if (saga.trigger.empty()) {
    Error(span, what + " has no trigger event");
  } else if (owner_ok) {
    CheckPublishedBy(span, what + " trigger", saga.trigger, saga.owner);
  }
  if (owner_ok && !saga.completed_event.empty()) {
    CheckPublishedBy(span, what + " completed_event", saga.completed_event, saga.owner);
  }
  if (owner_ok && !saga.aborted_event.empty()) {
    CheckPublishedBy(span, what + " aborted_event", saga.aborted_event, saga.owner);
  }
  if (owner_ok) CheckSagaDatabase(span, what + " owner", saga.owner);
  return owner_ok;
}

// Saga state, steps taken and the events' inbox and outbox rows live in the
// service's database, in the transaction of each event.
void Checker::CheckSagaDatabase(const Span& span,
                                const std::string& what,
                                const std::string& service) {
  const Service* s = model_.FindService(service);
  if (s == nullptr || !s->database.empty()) return;
  Error(span,
        what + " " + Quote(service) +
            " has no database: a saga's owner and participants keep its state and their "
            "events in their database (set database in its service options)");
}

void Checker::CheckSagaStep(const Saga& saga, bool owner_ok, const SagaStep& step, size_t i) {
  const Span& span = saga.span;
  std::string sw = "saga " + Quote(saga.name) + " step " + Quote(step.name);
  if (step.name.empty())
    Error(span, "saga " + Quote(saga.name) + " step " + std::to_string(i + 1) + " has no name");
  if (step.success_event.empty()) Error(span, sw + " has no success_event");
  if (step.on_explicit) CheckEventRef(span, sw + " on", step.on);
  if (step.has_compensation && step.compensation_done_event.empty()) {
    Error(span, sw + ": compensation has no done_event");
  }
  if (!CheckServiceRef(span, sw + " participant", step.participant)) return;
  CheckSagaDatabase(span, sw + " participant", step.participant);
  CheckStepEventsPublished(step, sw, span);
  CheckStepOrder(saga, step, i, sw);
  CheckStepEventsDistinct(step, sw, span);
  const Service* participant = model_.FindService(step.participant);
  if (!step.on.empty() && Subscribes(*participant, step.on)) {
    Error(span,
          sw + ": participant " + Quote(step.participant) + " subscribes to " + Quote(step.on) +
              ", which the saga routes to its step method already; remove the subscription");
  }
  if (owner_ok) CheckOwnerTracksStep(saga, step, sw);
}

void Checker::CheckStepEventsPublished(const SagaStep& step,
                                       const std::string& what,
                                       const Span& span) {
  if (!step.success_event.empty())
    CheckPublishedBy(span, what, step.success_event, step.participant);
  if (!step.failure_event.empty())
    CheckPublishedBy(span, what, step.failure_event, step.participant);
  if (!step.compensation_done_event.empty()) {
    CheckPublishedBy(span, what + " compensation", step.compensation_done_event, step.participant);
  }
}

// The generated owner hears how each step ends; a subscription of its own
// to one of those events would consume it a second time.
void Checker::CheckOwnerTracksStep(const Saga& saga,
                                   const SagaStep& step,
                                   const std::string& what) {
  const Service* owner = model_.FindService(saga.owner);
  for (const std::string* e :
       {&saga.trigger, &step.success_event, &step.failure_event, &step.compensation_done_event}) {
    if (!e->empty() && Subscribes(*owner, *e)) {
      Error(saga.span,
            what + ": owner " + Quote(saga.owner) + " subscribes to " + Quote(*e) +
                ", which the saga routes to it already; remove the subscription (the saga's "
                "hooks run on it)");
    }
  }
}

// The generated machine runs the steps in their order: the first on the
// trigger, each next one on the success event of the one before.
void Checker::CheckStepOrder(const Saga& saga,
                             const SagaStep& step,
                             size_t i,
                             const std::string& what) {
  const std::string& expected = i == 0 ? saga.trigger : saga.steps[i - 1].success_event;
  if (!step.on_explicit || step.on == expected || expected.empty()) return;
  Error(saga.span,
        what + " runs on " + Quote(step.on) + ", but saga steps run in order: this one on " +
            Quote(expected) + (i == 0 ? ", the trigger" : ", the previous step's success_event"));
}

void Checker::CheckStepEventsDistinct(const SagaStep& step,
                                      const std::string& what,
                                      const Span& span) {
  if (!step.failure_event.empty() && step.failure_event == step.success_event) {
    Error(span, what + ": success_event and failure_event are both " + Quote(step.success_event));
  }
  const std::string& done = step.compensation_done_event;
  if (!done.empty() && (done == step.success_event || done == step.failure_event)) {
    Error(span,
          what + ": the compensation's done_event " + Quote(done) + " is also the step's " +
              (done == step.success_event ? "success_event" : "failure_event"));
  }
}

// Every event of a saga carries its correlation id: the event's ordering
// key, a string field.
void Checker::CheckSagaKeys(const Saga& saga) {
  std::set<std::string> events = {saga.trigger, saga.completed_event, saga.aborted_event};
  for (const SagaStep& step : saga.steps) {
    events.insert({step.on, step.success_event, step.failure_event, step.compensation_done_event});
  }
  for (const std::string& e : events) {
    const Message* m = e.empty() ? nullptr : model_.FindEvent(e);
    if (m == nullptr) continue;
    const Field* key = m->event->key.empty() ? nullptr : m->FindField(m->event->key);
    if (key == nullptr || key->kind != FieldKind::kString || key->repeated) {
      Error(saga.span,
            "saga " + Quote(saga.name) + ": event " + Quote(e) +
                " needs a string ordering key (event key), the saga's correlation id");
    }
  }
}

// A timed-out instance undoes its current step too, since it may have run.
void Checker::CheckTimeoutCompensations(const Saga& saga) {
  if (saga.timeout_ms == 0) return;
  for (const SagaStep& step : saga.steps) {
    if (step.has_compensation) continue;
    Error(saga.span,
          "saga " + Quote(saga.name) + " step " + Quote(step.name) +
              " has no compensation, but the saga has a timeout_ms, which may give "
              "the step up after it ran");
  }
}

// When step k fails, every earlier step must be undone.
void Checker::CheckCompensations(const Saga& saga) {
  for (size_t k = 0; k < saga.steps.size(); ++k) {
    if (saga.steps[k].failure_event.empty()) continue;
    for (size_t j = 0; j < k; ++j) {
      if (!saga.steps[j].has_compensation) {
        Error(saga.span,
              "saga " + Quote(saga.name) + " step " + Quote(saga.steps[j].name) +
                  " has no compensation, but step " + Quote(saga.steps[k].name) +
                  " can fail after it and must undo it");
      }
    }
  }
}

// Every step must be reachable from the trigger, with no cycle.
void Checker::CheckSagaGraph(const Saga& saga) {
  std::string what = "saga " + Quote(saga.name);
  const auto& steps = saga.steps;
  for (const SagaStep& step : steps) {
    if (!step.success_event.empty() && step.success_event == saga.trigger) {
      Error(saga.span,
            what + " step " + Quote(step.name) + ": success event " + Quote(step.success_event) +
                " is the saga's trigger, which makes a cycle");
    }
  }
  StepWalk walk(saga);
  std::set<size_t> in_cycle;
  for (const auto& [from, to] : walk.back_edges()) {
    Error(saga.span,
          what + " has a cycle: step " + Quote(steps[from].name) + " leads back to step " +
              Quote(steps[to].name));
    in_cycle.insert(from);
    in_cycle.insert(to);
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!walk.Reachable(i) && in_cycle.count(i) == 0) {
      Error(saga.span,
            what + " step " + Quote(steps[i].name) + " is unreachable: nothing leads to " +
                Quote(steps[i].on) + ", the event that starts it");
    }
  }
}

bool Checker::CheckServiceRef(const Span& span, const std::string& what, const std::string& name) {
  if (model_.FindService(name) != nullptr) return true;
  Error(span,
        what + ": service " + Quote(name) + " is not declared" +
            diag::DidYouMean(name, service_names_));
  return false;
}

void Checker::CheckPublishedBy(const Span& span,
                               const std::string& what,
                               const std::string& event,
                               const std::string& service) {
  if (CheckEventRef(span, what, event) && !Publishes(service, event)) {
    Error(span,
          what + ": event " + Quote(event) + " is not published by service " + Quote(service) +
              " (add it to an rpc's or subscription's emits, or to the service's publishes)");
  }
}

}  // namespace cppsvc::model::checks
