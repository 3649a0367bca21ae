#include <algorithm>
#include <set>

#include "emit/artifacts.h"
#include "emit/cpp_names.h"
#include "emit/emitters.h"
#include "emit/saga_view.h"
#include "emit/template.h"
#include "model/names.h"
#include "text/number.h"

namespace cppsvc::emit {
namespace {

Data MethodView(const model::Model& model,
                const model::File& file,
                const model::Service& s,
                const model::Method& m) {
  Data v = RpcView(model, file, s, m);
  // Per service, as the constant: helpers share the anonymous namespace too.
  v.set("stem", s.name + "_" + m.name);
  v.set("public", Data(m.is_public));
  Data roles = List();
  for (size_t i = 0; i < m.effective_roles.size(); ++i) {
    Data role;
    role.set("role", CppLiteral(m.effective_roles[i]));
    role.set("last", Data(i + 1 == m.effective_roles.size()));
    roles.push_back(role);
  }
  v.set("allowed_roles", roles);
  v.set("version_conflict_retries",
        m.version_conflict_retries == 0 ? Data(false)
                                        : Data(std::to_string(m.version_conflict_retries)));
  bool has_rate = m.rate_limit.has_value();
  v.set("has_rate", Data(has_rate));
  if (has_rate) {
    v.set("rate", text::Number(m.rate_limit->requests_per_second));
    v.set("burst", std::to_string(m.rate_limit->burst));
    v.set("rate_key",
          m.rate_limit->key == "global" ? "kGlobal"
          : m.rate_limit->key == "peer" ? "kPeer"
                                        : "kCaller");
  }
  bool validates = NeedsValidation(model, m.input);
  v.set("validates", Data(validates));

  std::string owner_request, owner_response;
  if (!m.owner_field.empty()) {
    owner_request = AccessorChain(model, m.input, m.owner_field);
    if (owner_request.empty()) owner_response = AccessorChain(model, m.output, m.owner_field);
  }
  v.set("has_request_owner", Data(!owner_request.empty()));
  v.set("request_owner", owner_request);
  v.set("has_response_owner", Data(!owner_response.empty()));
  v.set("response_owner", owner_response);
  v.set("owner_field", m.owner_field);
  // Only services with a database keep idempotency records (in their transaction).
  std::string key_accessor;
  if (!m.idempotency_key.empty() && !s.database.empty())
    key_accessor = AccessorChain(model, m.input, m.idempotency_key);
  v.set("has_idempotency_key", Data(!key_accessor.empty()));
  v.set("idempotency_key", m.idempotency_key);
  v.set("idempotency_accessor", key_accessor);

  // gRPC's method index is the RPC's position in the service.
  const auto index = std::find_if(s.methods.begin(),
                                  s.methods.end(),
                                  [&](const model::Method& x) { return &x == &m; }) -
                     s.methods.begin();
  v.set("index", std::to_string(index));
  return v;
}

// The subjects of the events `s` publishes, each once.
Data PublishedSubjects(const model::Model& model, const model::Service& s) {
  Data subjects = List();
  std::set<std::string> seen;
  for (const model::PublishedEvent& p : s.published) {
    const model::Message* m = model.FindEvent(p.event);
    if (m != nullptr && seen.insert(m->event->subject).second)
      subjects.push_back(Data(CppLiteral(m->event->subject)));
  }
  // The undo commands of the sagas it owns.
  for (const model::File& f : model.files) {
    for (const model::Saga& saga : f.sagas) {
      if (saga.owner != s.short_name) continue;
      for (const model::SagaStep& step : saga.steps) {
        if (!step.undo_subject.empty()) subjects.push_back(Data(CppLiteral(step.undo_subject)));
      }
    }
  }
  return subjects;
}

Data SubscriptionViews(const model::Model& model, const model::Service& s) {
  Data subs = List();
  for (const model::Subscription& sub : s.subscriptions) {
    const model::Message* event = model.FindEvent(sub.event);
    if (event == nullptr) continue;
    Data v;
    v.set("event", sub.event);
    v.set("subject", CppLiteral(event->event->subject));
    v.set("stream", sub.stream);
    v.set("durable", sub.durable);
    v.set("max_deliver", std::to_string(sub.effective_max_deliver));
    v.set("ack_wait_ms", std::to_string(sub.effective_ack_wait_ms));
    v.set("handler", sub.handler);
    subs.push_back(v);
  }
  return subs;
}

// The served RPCs (streaming ones are not served); adds the validate
// headers of their requests to `validate_includes`.
Data MethodViews(const model::Model& model,
                 const model::File& file,
                 const model::Service& s,
                 std::set<std::string>& validate_includes) {
  Data methods = List();
  for (const model::Method& m : s.methods) {
    if (m.client_streaming || m.server_streaming) continue;
    methods.push_back(MethodView(model, file, s, m));
    if (NeedsValidation(model, m.input)) {
      validate_includes.insert(
          OutputPath(*model.FindFile(model.messages.at(m.input).file), "validate", 0));
    }
  }
  return methods;
}

// Events: the service's stream, what it publishes and its subscriptions.
void EventsView(const model::Model& model,
                const model::File& file,
                const model::Service& s,
                Data& sv) {
  sv.set("stream", s.stream);
  sv.set("subjects", PublishedSubjects(model, s));
  sv.set("subscriptions", SubscriptionViews(model, s));
  sv.set("subscription_count", std::to_string(s.subscriptions.size() + s.saga_routes.size()));
  sv.set("saga_routes", SagaRoutesView(model, file, s));
  Data owned = OwnedSagasView(model, file, s);
  sv.set("owned_sagas", owned);
  sv.set("has_owned_sagas", Data(!owned.is_empty_list()));
  sv.set("publishes", Data(!s.published.empty()));
}

}  // namespace

// Every role of the system, sorted by name.
Data RoleViews(const model::Model& model) {
  std::map<std::string, const model::Role*> roles;
  for (const model::File& f : model.files) {
    for (const model::Role& r : f.roles) roles.emplace(r.name, &r);
  }
  Data role_list = List();
  for (const auto& [name, r] : roles) {
    Data rv;
    rv.set("role", CppLiteral(name));
    Data includes = List();
    for (size_t i = 0; i < r->includes.size(); ++i) {
      Data inc;
      inc.set("role", CppLiteral(r->includes[i]));
      inc.set("last", Data(i + 1 == r->includes.size()));
      includes.push_back(inc);
    }
    rv.set("includes", includes);
    rv.set("bypass_ownership", Data(r->bypass_ownership));
    role_list.push_back(rv);
  }
  return role_list;
}

void EmitServer(const EmitInput& in, Rendered& out) {
  const model::Model& model = in.model;
  const model::File& file = in.file;
  std::set<std::string> validate_includes;
  Data services = List();
  for (const model::Service& s : file.services) {
    Data sv;
    sv.set("name", s.name);
    sv.set("server_class", s.server_class);
    sv.set("base_class", s.base_class);
    sv.set("full_name", s.full_name);
    sv.set("short_name", s.short_name);
    sv.set("grpc_port", std::to_string(s.effective_grpc_port));
    sv.set("admin_port", std::to_string(s.effective_admin_port));
    sv.set("nats", s.nats ? "true" : "false");
    sv.set("database", s.database);
    sv.set("has_database", Data(!s.database.empty()));
    sv.set("migrations_function", file.migrations_function);
    sv.set("workers", std::to_string(s.max_concurrency));
    sv.set("max_queue", std::to_string(s.max_queue));
    sv.set("inline_handlers", s.inline_handlers ? "true" : "false");
    sv.set("methods", MethodViews(model, file, s, validate_includes));
    EventsView(model, file, s, sv);
    services.push_back(sv);
  }

  Data view = ServiceFileView(file);
  view.set("services", services);
  view.set("roles", RoleViews(model));
  Data includes = List();
  for (const std::string& inc : validate_includes) includes.push_back(Data(inc));
  view.set("validate_includes", includes);
  view.set("has_validate_includes", Data(!validate_includes.empty()));
  bool has_database = false;
  for (const model::Service& s : file.services) has_database = has_database || !s.database.empty();
  view.set("has_migrations", Data(has_database));
  out.outputs.push_back(Render("server/server.h.mustache", view));
  out.outputs.push_back(Render("server/server.cc.mustache", view));
}

}  // namespace cppsvc::emit
