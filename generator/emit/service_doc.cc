#include <map>
#include <set>

#include "emit/access_summary.h"
#include "emit/emitters.h"
#include "emit/saga_view.h"
#include "emit/template.h"
#include "model/names.h"
#include "text/join.h"

namespace cppsvc::emit {
namespace {

// Markdown table cells cannot hold '|' or line breaks.
std::string Cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string Code(const std::string& s) {
  return s.empty() ? "" : "`" + s + "`";
}

Data Bool(bool b) {
  return Data(b);
}

Data MethodRow(const model::Method& m) {
  Data row;
  row.set("name", m.name);
  row.set("input", model::ShortName(m.input));
  row.set("output", model::ShortName(m.output));
  row.set("access", Cell(AccessSummary(m)));
  row.set("http", m.http ? Code(m.http->verb + " " + m.http->path) : "");
  std::vector<std::string> notes;
  if (m.idempotent) notes.push_back("idempotent");
  if (!m.idempotency_key.empty()) notes.push_back("idempotency key `" + m.idempotency_key + "`");
  if (m.timeout_ms) notes.push_back("timeout " + std::to_string(m.timeout_ms) + " ms");
  if (!m.emits.empty()) {
    std::vector<std::string> short_names;
    for (const std::string& e : m.emits) short_names.push_back(Code(model::ShortName(e)));
    notes.push_back("emits " + text::Join(short_names, ", "));
  }
  if (m.rate_limit) {
    char rps[32];
    std::snprintf(rps, sizeof rps, "%g", m.rate_limit->requests_per_second);
    notes.push_back(std::string("rate limit ") + rps + "/s per " + m.rate_limit->key);
  }
  row.set("notes", Cell(text::Join(notes, ", ")));
  row.set("doc", Cell(m.description.empty() ? m.comment : m.description));
  return row;
}

std::string Subject(const model::Model& model, const std::string& event) {
  const model::Message* m = model.FindEvent(event);
  return m != nullptr ? m->event->subject : "";
}

// "rpc `Pay`, on `OrderPlaced`, service".
std::string Sources(const model::PublishedEvent& p) {
  std::vector<std::string> sources;
  for (const model::PublishedEvent::Origin& o : p.origins) {
    switch (o.source) {
      case model::PublishedEvent::Source::kRpc:
        sources.push_back("rpc " + Code(o.name));
        break;
      case model::PublishedEvent::Source::kSubscription:
        sources.push_back("on " + Code(model::ShortName(o.name)));
        break;
      case model::PublishedEvent::Source::kService:
        sources.push_back("service");
        break;
    }
  }
  return text::Join(sources, ", ");
}

Data ServiceView(const model::Model& model, const model::Service& s) {
  Data v;
  v.set("name", s.name);
  v.set("full_name", s.full_name);
  v.set("short_name", s.short_name);
  v.set("description", Cell(s.description.empty() ? s.comment : s.description));
  v.set("database", s.database.empty() ? "none" : Code(s.database));
  v.set("grpc_port", s.grpc_port ? std::to_string(s.grpc_port) : "default");
  v.set("admin_port", s.admin_port ? std::to_string(s.admin_port) : "default");
  v.set("transports", s.nats ? "gRPC, NATS request-reply" : "gRPC");
  v.set("default_roles", s.default_roles.empty() ? "none" : text::Join(s.default_roles, ", "));
  v.set("stream", Code(s.stream));

  Data methods = List();
  for (const model::Method& m : s.methods) methods.push_back(MethodRow(m));
  v.set("methods", methods);

  // Events published, each with where it comes from, in name order.
  std::map<std::string, const model::PublishedEvent*> published;
  for (const model::PublishedEvent& p : s.published) published.emplace(p.event, &p);
  Data pub = List();
  for (const auto& [event, p] : published) {
    Data row;
    row.set("event", event);
    row.set("subject", Code(Subject(model, event)));
    row.set("sources", Sources(*p));
    pub.push_back(row);
  }
  v.set("has_published", Bool(!published.empty()));
  v.set("published", pub);

  Data consumed = List();
  for (const model::Subscription& sub : s.subscriptions) {
    Data row;
    row.set("event", sub.event);
    row.set("subject", Code(Subject(model, sub.event)));
    row.set("handler", Code(sub.handler));
    row.set("queue_group", Code(sub.effective_queue_group));
    row.set("max_deliver", std::to_string(sub.effective_max_deliver));
    consumed.push_back(row);
  }
  v.set("has_consumed", Bool(!s.subscriptions.empty()));
  v.set("consumed", consumed);
  return v;
}

// The saga's state machine: the same transitions the runtime's machine
// makes (emit/saga_view.h).
std::vector<std::string> SagaDiagram(const model::Saga& saga) {
  std::vector<std::string> lines = {"stateDiagram-v2"};
  for (const SagaTransition& t : SagaTransitions(saga)) {
    lines.push_back("  " + t.from + " --> " + t.to + (t.label.empty() ? "" : ": " + t.label));
  }
  return lines;
}

Data EventRow(const model::Message& m) {
  Data row;
  row.set("name", m.name);
  row.set("subject", Code(m.event->subject));
  row.set("key", m.event->key.empty() ? "none" : Code(m.event->key));
  row.set("doc", Cell(m.event->description.empty() ? m.comment : m.event->description));
  return row;
}

Data TableRow(const model::Message& m) {
  Data row;
  row.set("name", Code(m.table->name));
  row.set("message", m.name);
  row.set("primary_key", Code(text::Join(m.table->primary_key, ", ")));
  std::vector<std::string> indexes;
  for (const model::Index& idx : m.table->indexes) {
    const std::string kind = !idx.text_search.empty() ? "text search (" + idx.text_search + ") "
                             : idx.unique             ? "unique "
                                                      : "";
    indexes.push_back(kind + Code(text::Join(idx.fields, ", ")));
  }
  row.set("indexes", indexes.empty() ? "none" : text::Join(indexes, ", "));
  row.set("versioned", m.table->versioned ? "yes" : "no");
  return row;
}

// The file's events and tables, in the order of its messages.
void SetEventsAndTables(const model::Model& model, const model::File& file, Data& view) {
  Data events = List(), tables = List();
  for (const std::string& name : file.messages) {
    const model::Message& m = model.messages.at(name);
    if (m.event) events.push_back(EventRow(m));
    if (m.table) tables.push_back(TableRow(m));
  }
  view.set("has_events", Bool(!events.is_empty_list()));
  view.set("events", events);
  view.set("has_tables", Bool(!tables.is_empty_list()));
  view.set("tables", tables);
}

Data RoleRows(const model::File& file) {
  Data roles = List();
  for (const model::Role& r : file.roles) {
    Data row;
    row.set("name", Code(r.name));
    row.set("includes", r.includes.empty() ? "" : text::Join(r.includes, ", "));
    row.set("bypass", r.bypass_ownership ? "yes" : "no");
    row.set("doc", Cell(r.description));
    roles.push_back(row);
  }
  return roles;
}

Data StepRow(const model::SagaStep& st, size_t number) {
  Data row;
  row.set("number", std::to_string(number));
  row.set("name", st.name);
  row.set("participant", Code(st.participant));
  row.set("on", Code(model::ShortName(st.on)));
  row.set("success", Code(model::ShortName(st.success_event)));
  row.set("failure",
          st.failure_event.empty() ? "cannot fail" : Code(model::ShortName(st.failure_event)));
  row.set(
      "compensation",
      st.has_compensation ? "until " + Code(model::ShortName(st.compensation_done_event)) : "none");
  return row;
}

Data SagaView(const model::Saga& saga) {
  Data sv;
  sv.set("name", saga.name);
  sv.set("owner", Code(saga.owner));
  sv.set("trigger", Code(saga.trigger));
  sv.set("timeout", saga.timeout_ms ? std::to_string(saga.timeout_ms) + " ms" : "none");
  sv.set("description", saga.description);
  Data diagram = List();
  if (!saga.steps.empty()) {
    for (const std::string& line : SagaDiagram(saga)) diagram.push_back(Data(line));
  }
  sv.set("diagram", diagram);
  Data steps = List();
  for (size_t i = 0; i < saga.steps.size(); ++i) steps.push_back(StepRow(saga.steps[i], i + 1));
  sv.set("steps", steps);
  return sv;
}

}  // namespace

void EmitServiceDoc(const EmitInput& in, Rendered& out) {
  const model::File& file = in.file;
  Data view;
  view.set("source", file.name);
  view.set("package", file.package.empty() ? "(no package)" : file.package);
  Data services = List();
  for (const model::Service& s : file.services) services.push_back(ServiceView(in.model, s));
  view.set("has_services", Bool(!file.services.empty()));
  view.set("services", services);
  SetEventsAndTables(in.model, file, view);
  view.set("has_roles", Bool(!file.roles.empty()));
  view.set("roles", RoleRows(file));
  Data sagas = List();
  for (const model::Saga& saga : file.sagas) sagas.push_back(SagaView(saga));
  view.set("has_sagas", Bool(!file.sagas.empty()));
  view.set("sagas", sagas);
  out.outputs.push_back(Render("service_doc/service_doc.md.mustache", view));
}

}  // namespace cppsvc::emit
