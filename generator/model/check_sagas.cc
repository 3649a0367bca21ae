// A saga's references (owner, participants, events each publishes and
// subscribes to), its compensations, and the graph of its steps.

#include <algorithm>
#include <map>
#include <utility>

#include "model/checker.h"

namespace cppsvc::model::checks {
namespace {

bool Subscribes(const Service& s, const std::string& event) {
  return std::any_of(s.subscriptions.begin(), s.subscriptions.end(), [&](const Subscription& sub) {
    return sub.event == event;
  });
}

// The generated machine runs the steps in their order: the first on the
// trigger, each next one on the success event of the one before.
bool OutOfOrder(const Saga& saga, size_t i) {
  const std::string& expected = i == 0 ? saga.trigger : saga.steps[i - 1].success_event;
  return saga.steps[i].on_explicit && !expected.empty() && saga.steps[i].on != expected;
}

}  // namespace

// Where a key of the saga's option is written: `key` of the saga itself.
Span Checker::SagaAt(const Saga& saga, const std::string& key) const {
  return At(saga.span, {{key}});
}

// Step i of the saga, or `key` (and `sub` inside it) of that step.
Span Checker::StepAt(const Saga& saga,
                     size_t i,
                     const std::string& key,
                     const std::string& sub) const {
  std::vector<OptionKey> path = {{"steps"}, {"", static_cast<int>(i)}};
  if (!key.empty()) path.push_back({key});
  if (!sub.empty()) path.push_back({sub});
  return At(saga.span, path);
}

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
      Error(StepAt(saga, i, "name"), what + " step " + Quote(step.name) + " is declared twice");
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
  const Span owner = SagaAt(saga, "owner");
  bool owner_ok = !saga.owner.empty() && CheckServiceRef(owner, what + " owner", saga.owner);
  if (saga.owner.empty())
    Error(span, what + " has no owner: set owner to the service that keeps its state");
  if (saga.trigger.empty()) {
    Error(span, what + " has no trigger event");
  } else if (owner_ok) {
    CheckPublishedBy(SagaAt(saga, "trigger"), what + " trigger", saga.trigger, saga.owner);
  }
  for (const char* key : {"completed_event", "aborted_event"}) {
    const std::string& event = key[0] == 'c' ? saga.completed_event : saga.aborted_event;
    if (owner_ok && !event.empty())
      CheckPublishedBy(SagaAt(saga, key), what + " " + key, event, saga.owner);
  }
  if (owner_ok) CheckSagaDatabase(owner, what + " owner", saga.owner);
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
  const Span span = StepAt(saga, i);
  std::string sw = "saga " + Quote(saga.name) + " step " + Quote(step.name);
  if (step.name.empty())
    Error(span, "saga " + Quote(saga.name) + " step " + std::to_string(i + 1) + " has no name");
  if (step.success_event.empty()) Error(span, sw + " has no success_event");
  if (step.on_explicit) CheckEventRef(StepAt(saga, i, "on"), sw + " on", step.on);
  if (step.has_compensation && step.compensation_done_event.empty()) {
    Error(StepAt(saga, i, "compensation"), sw + ": compensation has no done_event");
  }
  if (step.participant.empty()) {
    Error(span, sw + " has no participant: set participant to the service that runs the step");
    return;
  }
  const Span participant_span = StepAt(saga, i, "participant");
  if (!CheckServiceRef(participant_span, sw + " participant", step.participant)) return;
  CheckSagaDatabase(participant_span, sw + " participant", step.participant);
  CheckStepEventsPublished(saga, i, sw);
  CheckStepOrder(saga, step, i, sw);
  CheckStepEventsDistinct(saga, i, sw);
  const Service* participant = model_.FindService(step.participant);
  if (!step.on.empty() && Subscribes(*participant, step.on)) {
    Error(participant_span,
          sw + ": participant " + Quote(step.participant) + " subscribes to " + Quote(step.on) +
              ", which the saga routes to its step method already; remove the subscription");
  }
  if (owner_ok) CheckOwnerTracksStep(saga, step, sw);
}

void Checker::CheckStepEventsPublished(const Saga& saga, size_t i, const std::string& what) {
  const SagaStep& step = saga.steps[i];
  if (!step.success_event.empty())
    CheckPublishedBy(StepAt(saga, i, "success_event"), what, step.success_event, step.participant);
  if (!step.failure_event.empty())
    CheckPublishedBy(StepAt(saga, i, "failure_event"), what, step.failure_event, step.participant);
  if (!step.compensation_done_event.empty()) {
    CheckPublishedBy(StepAt(saga, i, "compensation", "done_event"),
                     what + " compensation",
                     step.compensation_done_event,
                     step.participant);
  }
}

// The generated owner hears how each step ends; a subscription of its own
// to one of those events would consume it a second time. (Its trigger is
// not among them: an instance starts at the owner's Emit of it.)
void Checker::CheckOwnerTracksStep(const Saga& saga,
                                   const SagaStep& step,
                                   const std::string& what) {
  const Service* owner = model_.FindService(saga.owner);
  for (const std::string* e :
       {&step.success_event, &step.failure_event, &step.compensation_done_event}) {
    if (!e->empty() && Subscribes(*owner, *e)) {
      Error(SagaAt(saga, "owner"),
            what + ": owner " + Quote(saga.owner) + " subscribes to " + Quote(*e) +
                ", which the saga routes to it already; remove the subscription (the saga's "
                "hooks run on it)");
    }
  }
}

void Checker::CheckStepOrder(const Saga& saga,
                             const SagaStep& step,
                             size_t i,
                             const std::string& what) {
  if (!OutOfOrder(saga, i)) return;
  const std::string& expected = i == 0 ? saga.trigger : saga.steps[i - 1].success_event;
  Error(StepAt(saga, i, "on"),
        what + " runs on " + Quote(step.on) + ", but saga steps run in order: this one on " +
            Quote(expected) + (i == 0 ? ", the trigger" : ", the previous step's success_event"));
}

void Checker::CheckStepEventsDistinct(const Saga& saga, size_t i, const std::string& what) {
  const SagaStep& step = saga.steps[i];
  if (!step.failure_event.empty() && step.failure_event == step.success_event) {
    Error(StepAt(saga, i, "failure_event"),
          what + ": success_event and failure_event are both " + Quote(step.success_event));
  }
  const std::string& done = step.compensation_done_event;
  if (!done.empty() && (done == step.success_event || done == step.failure_event)) {
    Error(StepAt(saga, i, "compensation", "done_event"),
          what + ": the compensation's done_event " + Quote(done) + " is also the step's " +
              (done == step.success_event ? "success_event" : "failure_event"));
  }
}

// The first key of the saga's option that names `event`.
Span Checker::SagaEventAt(const Saga& saga, const std::string& event) const {
  if (event == saga.trigger) return SagaAt(saga, "trigger");
  for (size_t i = 0; i < saga.steps.size(); ++i) {
    const SagaStep& step = saga.steps[i];
    if (step.on_explicit && event == step.on) return StepAt(saga, i, "on");
    if (event == step.success_event) return StepAt(saga, i, "success_event");
    if (event == step.failure_event) return StepAt(saga, i, "failure_event");
    if (event == step.compensation_done_event) return StepAt(saga, i, "compensation", "done_event");
  }
  return SagaAt(saga, event == saga.completed_event ? "completed_event" : "aborted_event");
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
      Error(SagaEventAt(saga, e),
            "saga " + Quote(saga.name) + ": event " + Quote(e) +
                " needs a string ordering key (event key), the saga's correlation id");
    }
  }
}

// A timed-out instance undoes its current step too, since it may have run.
void Checker::CheckTimeoutCompensations(const Saga& saga) {
  if (saga.timeout_ms == 0) return;
  for (size_t i = 0; i < saga.steps.size(); ++i) {
    const SagaStep& step = saga.steps[i];
    if (step.has_compensation) continue;
    Error(StepAt(saga, i),
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
        Error(StepAt(saga, j),
              "saga " + Quote(saga.name) + " step " + Quote(saga.steps[j].name) +
                  " has no compensation, but step " + Quote(saga.steps[k].name) +
                  " can fail after it and must undo it");
      }
    }
  }
}

// Steps run in order, each on the success event of the one before (see
// CheckStepOrder). A success event that is the trigger or another step's
// would start a step a second time: a cycle.
void Checker::CheckSagaGraph(const Saga& saga) {
  std::string what = "saga " + Quote(saga.name);
  const auto& steps = saga.steps;
  std::map<std::string, size_t> ended_by;  // success event -> first step it ends
  for (size_t i = 0; i < steps.size(); ++i) {
    const SagaStep& step = steps[i];
    if (step.success_event.empty()) continue;
    const Span at = StepAt(saga, i, "success_event");
    const std::string prefix =
        what + " step " + Quote(step.name) + ": success event " + Quote(step.success_event);
    if (step.success_event == saga.trigger) {
      Error(at, prefix + " is the saga's trigger, which makes a cycle");
      continue;
    }
    auto [first, inserted] = ended_by.emplace(step.success_event, i);
    if (!inserted) {
      Error(at,
            prefix + " also ends step " + Quote(steps[first->second].name) +
                ", which makes a cycle: give each step a success event of its own");
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
