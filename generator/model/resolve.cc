#include "model/resolve.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

#include "cppsvc/defaults.h"
#include "model/names.h"

namespace cppsvc::model {
namespace {

uint32_t Millis(std::chrono::milliseconds ms) {
  return static_cast<uint32_t>(ms.count());
}

uint32_t Or(uint32_t value, uint32_t fallback) {
  return value != 0 ? value : fallback;
}

RetryPolicy WithDefaults(RetryPolicy p) {
  p.max_attempts = Or(p.max_attempts, defaults::kRetryMaxAttempts);
  p.initial_backoff_ms = Or(p.initial_backoff_ms, Millis(defaults::kRetryInitialBackoff));
  p.max_backoff_ms = Or(p.max_backoff_ms, Millis(defaults::kRetryMaxBackoff));
  if (p.backoff_multiplier <= 0) p.backoff_multiplier = defaults::kRetryMultiplier;
  return p;
}

void ResolveMethod(const Service& s, Method& m) {
  m.effective_roles = m.roles.empty() ? s.default_roles : m.roles;
  m.effective_timeout_ms =
      Or(m.timeout_ms, Or(s.default_timeout_ms, Millis(defaults::kRpcTimeout)));
  m.effective_idempotent = m.idempotent || !m.idempotency_key.empty();
  if (m.retry) {
    m.effective_retry = WithDefaults(*m.retry);
  } else if (s.default_retry) {
    m.effective_retry = WithDefaults(*s.default_retry);
  }
  m.nats_subject = "cppsvc." + s.short_name + "." + m.name;
}

void AddPublished(Service& s, const std::string& event, PublishedEvent::Origin origin) {
  auto it = std::find_if(s.published.begin(), s.published.end(), [&](const PublishedEvent& p) {
    return p.event == event;
  });
  if (it == s.published.end()) it = s.published.insert(it, PublishedEvent{event, {}});
  it->origins.push_back(std::move(origin));
}

void ResolvePublished(Service& s) {
  using Source = PublishedEvent::Source;
  for (const Method& m : s.methods) {
    for (const std::string& e : m.emits) AddPublished(s, e, {Source::kRpc, m.name});
  }
  for (const Subscription& sub : s.subscriptions) {
    for (const std::string& e : sub.emits) AddPublished(s, e, {Source::kSubscription, sub.event});
  }
  for (const std::string& e : s.publishes) AddPublished(s, e, {Source::kService, ""});
}

std::string UpperCase(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

void ResolveService(Service& s) {
  s.base_class = s.name + "Base";
  s.server_class = s.name + "Server";
  s.client_class = s.name + "Client";
  s.contract_test_class = s.name + "Contract";
  s.effective_grpc_port = Or(s.grpc_port, defaults::kGrpcPort);
  s.effective_admin_port = Or(s.admin_port, defaults::kAdminPort);
  s.effective_foreign_resources = s.foreign_resources.value_or(defaults::kForeignResources);
  if (s.stream.empty()) s.stream = UpperCase(s.short_name);
  for (Method& m : s.methods) ResolveMethod(s, m);
  ResolvePublished(s);
}

// The stream of the first service, in file order, that publishes `event`:
// each bounded context publishes on its own stream.
std::string StreamOf(const Model& model, const std::string& event) {
  for (const File& f : model.files) {
    for (const Service& s : f.services) {
      for (const PublishedEvent& p : s.published) {
        if (p.event == event) return s.stream;
      }
    }
  }
  return "";
}

void ResolveSubscription(const Model& model, const Service& s, Subscription& sub) {
  sub.handler = "On" + ShortName(sub.event);
  sub.effective_queue_group = sub.queue_group.empty() ? s.short_name : sub.queue_group;
  sub.durable = sub.effective_queue_group + "-" + sub.handler;
  sub.stream = StreamOf(model, sub.event);
  sub.effective_max_deliver = Or(sub.max_deliver, defaults::kMaxDeliver);
  sub.effective_ack_wait_ms = Or(sub.ack_wait_ms, Millis(defaults::kAckWait));
}

// The one walk of role inheritance in the generator. A cycle ends the walk
// (model::Check reports it); an unknown role grants only itself.
std::vector<std::string> Grants(const Model& model, const Role& role) {
  std::set<std::string> granted = {role.name};
  std::vector<std::string> pending = role.includes;
  while (!pending.empty()) {
    std::string name = std::move(pending.back());
    pending.pop_back();
    if (!granted.insert(name).second) continue;
    if (const Role* r = model.FindRole(name)) {
      pending.insert(pending.end(), r->includes.begin(), r->includes.end());
    }
  }
  return {granted.begin(), granted.end()};
}

void ResolveRoles(Model& model) {
  for (File& f : model.files) {
    for (Role& r : f.roles) r.grants = Grants(model, r);
  }
}

const Message* EventMessage(const Model& model, const std::string& event) {
  return event.empty() ? nullptr : model.FindEvent(event);
}

Service* FindServiceIn(Model& model, const std::string& short_name) {
  for (File& f : model.files) {
    for (Service& s : f.services) {
      if (s.short_name == short_name) return &s;
    }
  }
  return nullptr;
}

void AddSagaRoute(const Model& model,
                  Service* s,
                  SagaRoute::Kind kind,
                  const Saga& saga,
                  size_t step,
                  const std::string& event,
                  const std::string& name = "") {
  const Message* m = EventMessage(model, event);
  if (s == nullptr || m == nullptr) return;
  SagaRoute r{kind, saga.name, step, event, m->event->subject, StreamOf(model, event), ""};
  r.durable =
      s->short_name + "-saga-" + saga.name + "-" + (name.empty() ? SnakeCase(m->name) : name);
  s->saga_routes.push_back(std::move(r));
}

void ResolveSagaRoutes(Model& model, Saga& saga) {
  using Kind = SagaRoute::Kind;
  Service* owner = FindServiceIn(model, saga.owner);
  AddSagaRoute(model, owner, Kind::kStart, saga, 0, saga.trigger);
  for (size_t i = 0; i < saga.steps.size(); ++i) {
    SagaStep& step = saga.steps[i];
    step.cpp_name = PascalCase(step.name);
    Service* participant = FindServiceIn(model, step.participant);
    AddSagaRoute(model, participant, Kind::kStep, saga, i, step.on, step.name);
    AddSagaRoute(model, owner, Kind::kSucceeded, saga, i, step.success_event);
    AddSagaRoute(model, owner, Kind::kFailed, saga, i, step.failure_event);
    if (!step.has_compensation) continue;
    step.undo_subject = "cppsvc.sagas." + saga.name + "." + step.name + ".undo";
    if (participant != nullptr && owner != nullptr) {
      participant->saga_routes.push_back(
          {Kind::kUndo,
           saga.name,
           i,
           "",
           step.undo_subject,
           owner->stream,
           participant->short_name + "-saga-" + saga.name + "-" + step.name + "-undo"});
    }
    AddSagaRoute(model, owner, Kind::kUndone, saga, i, step.compensation_done_event);
  }
}

void ResolveSagas(Model& model) {
  for (File& f : model.files) {
    for (Saga& saga : f.sagas) {
      saga.cpp_name = PascalCase(saga.name);
      ResolveSagaRoutes(model, saga);
    }
  }
}

}  // namespace

void Resolve(Model& model) {
  for (File& f : model.files) {
    for (Service& s : f.services) ResolveService(s);
  }
  // Subscriptions look up the publishers, so every service is resolved first.
  for (File& f : model.files) {
    for (Service& s : f.services) {
      for (Subscription& sub : s.subscriptions) ResolveSubscription(model, s, sub);
    }
  }
  ResolveSagas(model);
  ResolveRoles(model);
}

}  // namespace cppsvc::model
