#include <algorithm>
#include <set>

#include "emit/access_summary.h"
#include "emit/cpp_names.h"
#include "emit/emitters.h"
#include "emit/saga_view.h"
#include "emit/template.h"
#include "model/names.h"

namespace cppsvc::emit {
namespace {

Data MethodView(const model::Model& model, const model::File& file, const model::Method& method) {
  Data v;
  std::string doc = method.description.empty() ? method.comment : method.description;
  v.set("name", method.name);
  v.set("cpp_name", method.cpp_name);
  v.set("access", AccessSummary(method));
  if (method.http) v.set("http", method.http->verb + " " + method.http->path);
  if (!doc.empty()) v.set("doc", doc);
  v.set("request", CppTypeIn(model, file, method.input));
  v.set("response", CppTypeIn(model, file, method.output));
  return v;
}

Data SubscriptionView(const model::Model& model,
                      const model::File& file,
                      const model::Subscription& sub) {
  Data v;
  const model::Message* event = model.FindEvent(sub.event);
  v.set("event", sub.event);
  v.set("subject", event != nullptr ? event->event->subject : "");
  v.set("handler", sub.handler);
  v.set("event_type", CppTypeIn(model, file, sub.event));
  return v;
}

Data EmitView(const model::Model& model, const model::File& file, const model::Message& event) {
  Data v;
  v.set("name", event.name);
  v.set("full_name", event.full_name);
  v.set("subject", event.event->subject);
  v.set("type", CppTypeIn(model, file, event.full_name));
  // The ordering key: the field named by the event's key, as a string.
  const model::Field* f =
      event.event && !event.event->key.empty() ? event.FindField(event.event->key) : nullptr;
  bool text =
      f != nullptr && (f->kind == model::FieldKind::kString || f->kind == model::FieldKind::kBytes);
  bool boolean = f != nullptr && f->kind == model::FieldKind::kBool;
  if (f != nullptr) v.set("key_field", f->cpp_name);
  v.set("key_string", text);
  v.set("key_bool", boolean);
  v.set("key_number", f != nullptr && !text && !boolean);
  return v;
}

// The sagas of `s` that `event` triggers: emitting it starts them.
void AddSagaStarts(const model::Model& model,
                   const model::Service& s,
                   const std::string& event,
                   Data& ev) {
  Data starts = List();
  for (const model::File& f : model.files) {
    for (const model::Saga& saga : f.sagas) {
      if (saga.owner != s.short_name || saga.trigger != event) continue;
      Data start;
      start.set("name", saga.name);
      start.set("cpp_name", saga.cpp_name);
      starts.push_back(start);
    }
  }
  ev.set("starts_sagas", Data(!starts.is_empty_list()));
  ev.set("starts", starts);
}

// The service's step methods and owned sagas (see emit/saga_view.h).
// Returns whether the service may abort a saga it owns.
bool AddSagaViews(const model::Model& model,
                  const model::File& file,
                  const model::Service& s,
                  Data& sv) {
  Data owned = OwnedSagasView(model, file, s);
  bool has_owned = !owned.is_empty_list();
  bool abortable = false;
  for (const model::File& f : model.files) {
    for (const model::Saga& saga : f.sagas) {
      if (saga.owner != s.short_name) continue;
      bool all = true;
      for (const model::SagaStep& step : saga.steps) all = all && step.has_compensation;
      abortable = abortable || all;
    }
  }
  sv.set("owned_sagas", owned);
  sv.set("has_owned_sagas", Data(has_owned));
  sv.set("saga_steps", SagaStepsView(model, file, s));
  sv.set("has_abortable", Data(abortable));
  return abortable;
}

// The file's own .pb.h and those of event types from other files, sorted
// (as clang-format orders an include block).
Data Includes(const model::Model& model, const model::File& file) {
  std::set<std::string> includes = {file.pb_header};
  for (const model::Service& s : file.services) {
    for (const model::Subscription& sub : s.subscriptions) {
      const model::Message* m = model.FindMessage(sub.event);
      if (m != nullptr && m->file != file.name) includes.insert(model.FindFile(m->file)->pb_header);
    }
    for (const model::PublishedEvent& p : s.published) {
      const model::Message* m = model.FindEvent(p.event);
      if (m != nullptr && m->file != file.name) includes.insert(model.FindFile(m->file)->pb_header);
    }
    AddSagaHeaders(model, s, includes);
  }
  Data list = List();
  for (const std::string& inc : includes) list.push_back(Data(inc));
  return list;
}

// The Emit overloads of the events `s` publishes; whether it has any.
bool SetEmits(const model::Model& model,
              const model::File& file,
              const model::Service& s,
              Data& sv) {
  Data emits = List();
  bool has_emits = false;
  for (const model::PublishedEvent& p : s.published) {
    if (const model::Message* m = model.FindEvent(p.event)) {
      Data ev = EmitView(model, file, *m);
      ev.set("blank", Data(has_emits));
      AddSagaStarts(model, s, p.event, ev);
      emits.push_back(ev);
      has_emits = true;
    }
  }
  sv.set("has_emits", Data(has_emits));
  sv.set("emits", emits);
  return has_emits;
}

Data ServiceView(const model::Model& model, const model::File& file, const model::Service& s) {
  Data sv;
  sv.set("base_class", s.base_class);
  sv.set("full_name", s.full_name);
  sv.set("short_name", s.short_name);
  sv.set("foreign_resources",
         s.effective_foreign_resources == ForeignResources::kNotFound ? "kNotFound"
                                                                      : "kPermissionDenied");
  Data methods = List();
  for (const model::Method& m : s.methods) methods.push_back(MethodView(model, file, m));
  sv.set("methods", methods);
  Data subs = List();
  for (const model::Subscription& sub : s.subscriptions) {
    if (model.FindEvent(sub.event) != nullptr) subs.push_back(SubscriptionView(model, file, sub));
  }
  sv.set("subscriptions", subs);
  const bool has_emits = SetEmits(model, file, s, sv);
  const bool abortable = AddSagaViews(model, file, s, sv);
  sv.set("has_protected", Data(abortable || has_emits));
  return sv;
}

}  // namespace

void EmitHandlerBase(const EmitInput& in, Rendered& out) {
  const model::File& file = in.file;
  Data view;
  view.set("source", file.name);
  view.set("includes", Includes(in.model, file));
  view.set("has_namespace", !file.cpp_namespace.empty() && !file.services.empty());
  view.set("namespace", file.cpp_namespace);
  Data services = List();
  bool uses_sagas = false;
  for (const model::Service& s : file.services) {
    services.push_back(ServiceView(in.model, file, s));
    uses_sagas = uses_sagas || !s.saga_routes.empty();
  }
  view.set("services", services);
  view.set("uses_sagas", Data(uses_sagas));
  out.outputs.push_back(Render("handler_base/handler_base.h.mustache", view));
}

Data ServiceFileView(const model::File& file) {
  Data view;
  view.set("source", file.name);
  view.set("base", file.base);
  view.set("has_services", Data(!file.services.empty()));
  view.set("has_namespace", !file.cpp_namespace.empty() && !file.services.empty());
  view.set("namespace", file.cpp_namespace);
  return view;
}

}  // namespace cppsvc::emit
