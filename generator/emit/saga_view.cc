#include "emit/saga_view.h"

#include "emit/cpp_names.h"
#include "model/names.h"

namespace cppsvc::emit {
namespace {

using Kind = model::SagaRoute::Kind;

// {type, cpp_type, subject, key} of an event; all empty for "".
Data EventView(const model::Model& model, const model::File& file, const std::string& event) {
  Data v;
  const model::Message* m = event.empty() ? nullptr : model.FindEvent(event);
  v.set("type", event);
  v.set("cpp_type", m != nullptr ? CppTypeIn(model, file, event) : "");
  v.set("subject", m != nullptr ? m->event->subject : "");
  v.set("key", m != nullptr ? m->event->key : "");
  v.set("short", m != nullptr ? m->name : "");
  return v;
}

bool Abortable(const model::Saga& saga) {
  for (const model::SagaStep& s : saga.steps) {
    if (!s.has_compensation) return false;
  }
  return true;
}

Data StepSpecView(const model::SagaStep& step, bool last) {
  Data v;
  v.set("name", step.name);
  v.set("participant", step.participant);
  v.set("success", step.success_event);
  v.set("failure", step.failure_event);
  v.set("done", step.compensation_done_event);
  v.set("undo_subject", step.undo_subject);
  v.set("last", Data(last));
  return v;
}

Data OwnedSagaView(const model::Model& model, const model::File& file, const model::Saga& saga) {
  Data v;
  v.set("name", saga.name);
  v.set("cpp_name", saga.cpp_name);
  v.set("owner", saga.owner);
  v.set("trigger", saga.trigger);
  v.set("timeout_ms", std::to_string(saga.timeout_ms));
  v.set("completed", EventView(model, file, saga.completed_event));
  v.set("aborted", EventView(model, file, saga.aborted_event));
  v.set("has_completed", Data(!saga.completed_event.empty()));
  v.set("has_aborted", Data(!saga.aborted_event.empty()));
  v.set("abortable", Data(Abortable(saga)));
  Data steps = List();
  for (size_t i = 0; i < saga.steps.size(); ++i) {
    steps.push_back(StepSpecView(saga.steps[i], i + 1 == saga.steps.size()));
  }
  v.set("steps", steps);
  v.set("has_timeout", Data(saga.timeout_ms > 0));
  const model::File* doc = model.FindFile(saga.file);
  v.set("doc", doc != nullptr ? doc->base + ".cppsvc.md" : "");
  Data transitions = List();
  for (const SagaTransition& t : SagaTransitions(saga)) {
    Data tv;
    tv.set("from", t.from);
    tv.set("to", t.to);
    tv.set("label", t.label);
    transitions.push_back(tv);
  }
  v.set("transitions", transitions);
  return v;
}

Data StepView(const model::Model& model,
              const model::File& file,
              const model::Saga& saga,
              const model::SagaStep& step) {
  Data v;
  v.set("saga", saga.name);
  v.set("step", step.name);
  v.set("method", saga.cpp_name + step.cpp_name);
  v.set("description", step.description);
  v.set("in", EventView(model, file, step.on));
  v.set("success", EventView(model, file, step.success_event));
  v.set("failure", EventView(model, file, step.failure_event));
  v.set("has_failure", Data(!step.failure_event.empty()));
  v.set("has_undo", Data(step.has_compensation));
  v.set("done", EventView(model, file, step.compensation_done_event));
  v.set("undo_description", step.compensation_description);
  return v;
}

std::string KindOf(const model::SagaRoute& r) {
  switch (r.kind) {
    case Kind::kSucceeded:
      return "::cppsvc::sagas::InputKind::kSucceeded";
    case Kind::kFailed:
      return "::cppsvc::sagas::InputKind::kFailed";
    case Kind::kUndone:
      return "::cppsvc::sagas::InputKind::kCompensated";
    default:  // a participant's route: no input of the owner's machine
      return "";
  }
}

int LastCompensable(const model::Saga& saga, int from) {
  for (int j = from; j >= 0; --j) {
    if (saga.steps[static_cast<size_t>(j)].has_compensation) return j;
  }
  return -1;
}

std::string Target(const model::Saga& saga, int j) {
  return j < 0 ? "aborted" : "undo_" + saga.steps[static_cast<size_t>(j)].name;
}

std::string Short(const std::string& event) {
  return event.empty() ? "" : model::ShortName(event);
}

void AddStepTransitions(const model::Saga& saga, int i, std::vector<SagaTransition>& out) {
  const model::SagaStep& s = saga.steps[static_cast<size_t>(i)];
  const bool last = i + 1 == static_cast<int>(saga.steps.size());
  out.push_back({s.name, last ? "completed" : saga.steps[i + 1].name, Short(s.success_event)});
  if (!s.failure_event.empty()) {
    out.push_back({s.name, Target(saga, LastCompensable(saga, i - 1)), Short(s.failure_event)});
  }
  if (saga.timeout_ms > 0)
    out.push_back({s.name, Target(saga, LastCompensable(saga, i)), "timeout"});
  if (Abortable(saga)) out.push_back({s.name, Target(saga, i), "abort"});
}

}  // namespace

std::vector<SagaTransition> SagaTransitions(const model::Saga& saga) {
  std::vector<SagaTransition> out;
  if (saga.steps.empty()) return out;
  out.push_back({"[*]", saga.steps[0].name, Short(saga.trigger)});
  for (int i = 0; i < static_cast<int>(saga.steps.size()); ++i) AddStepTransitions(saga, i, out);
  for (int j = static_cast<int>(saga.steps.size()) - 1; j >= 0; --j) {
    const model::SagaStep& s = saga.steps[static_cast<size_t>(j)];
    if (!s.has_compensation) continue;
    out.push_back({Target(saga, j),
                   Target(saga, LastCompensable(saga, j - 1)),
                   Short(s.compensation_done_event)});
  }
  out.push_back({"completed", "[*]", Short(saga.completed_event)});
  out.push_back({"aborted", "[*]", Short(saga.aborted_event)});
  return out;
}

const model::Saga* FindSaga(const model::Model& model, const std::string& name) {
  for (const model::File& f : model.files) {
    for (const model::Saga& s : f.sagas) {
      if (s.name == name) return &s;
    }
  }
  return nullptr;
}

Data OwnedSagasView(const model::Model& model,
                    const model::File& file,
                    const model::Service& service) {
  std::vector<Data> owned;
  for (const model::File& f : model.files) {
    for (const model::Saga& saga : f.sagas) {
      if (saga.owner == service.short_name) owned.push_back(OwnedSagaView(model, file, saga));
    }
  }
  Data list = List();
  for (size_t i = 0; i < owned.size(); ++i) {
    owned[i].set("last", Data(i + 1 == owned.size()));
    list.push_back(owned[i]);
  }
  return list;
}

Data SagaStepsView(const model::Model& model,
                   const model::File& file,
                   const model::Service& service) {
  Data list = List();
  for (const model::SagaRoute& r : service.saga_routes) {
    if (r.kind != Kind::kStep) continue;
    const model::Saga* saga = FindSaga(model, r.saga);
    Data v = StepView(model, file, *saga, saga->steps[r.step]);
    v.set("durable", r.durable);
    for (const model::SagaRoute& u : service.saga_routes) {
      if (u.kind == Kind::kUndo && u.saga == r.saga && u.step == r.step)
        v.set("undo_durable", u.durable);
    }
    list.push_back(v);
  }
  return list;
}

Data SagaRoutesView(const model::Model& model,
                    const model::File& file,
                    const model::Service& service) {
  Data list = List();
  for (const model::SagaRoute& r : service.saga_routes) {
    const model::Saga* saga = FindSaga(model, r.saga);
    Data v = r.kind == Kind::kStep || r.kind == Kind::kUndo
                 ? StepView(model, file, *saga, saga->steps[r.step])
                 : Data();
    v.set("event_type", r.kind == Kind::kUndo ? "cppsvc.saga.Undo" : r.event);
    v.set("cpp_type", r.event.empty() ? "" : CppTypeIn(model, file, r.event));
    v.set("subject", r.subject);
    v.set("stream", r.stream);
    v.set("durable", r.durable);
    v.set("saga_cpp", saga->cpp_name);
    v.set("key", r.event.empty() ? "" : model.FindEvent(r.event)->event->key);
    v.set("kind", KindOf(r));
    v.set("step_index", std::to_string(r.step));
    v.set("owner", Data(r.kind != Kind::kStep && r.kind != Kind::kUndo));
    v.set("is_step", Data(r.kind == Kind::kStep));
    v.set("is_undo", Data(r.kind == Kind::kUndo));
    list.push_back(v);
  }
  return list;
}

void AddSagaHeaders(const model::Model& model,
                    const model::Service& service,
                    std::set<std::string>& headers) {
  auto add = [&](const std::string& event) {
    const model::Message* m = event.empty() ? nullptr : model.FindEvent(event);
    if (m != nullptr) headers.insert(model.FindFile(m->file)->pb_header);
  };
  for (const model::SagaRoute& r : service.saga_routes) {
    add(r.event);
    const model::Saga* saga = FindSaga(model, r.saga);
    if (r.kind == Kind::kStep || r.kind == Kind::kUndo) {
      const model::SagaStep& step = saga->steps[r.step];
      add(step.success_event);
      add(step.failure_event);
      add(step.compensation_done_event);
    } else {
      add(saga->completed_event);
      add(saga->aborted_event);
    }
  }
}

}  // namespace cppsvc::emit
