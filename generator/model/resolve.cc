#include "model/resolve.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>

#include "cppsvc/defaults.h"
#include "model/http_path.h"
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
  if (m.http) {
    PathTemplate tmpl;
    std::string error;
    if (ParsePathTemplate(m.http->path, tmpl, error)) {
      m.http->variables = tmpl.variables;
      m.http->named_path = tmpl.named;
    }
  }
}

// Each event once, in the order of its first mention; `index` finds an
// event's entry without a scan (a service may emit thousands).
void AddPublished(Service& s,
                  std::map<std::string, size_t>& index,
                  const std::string& event,
                  PublishedEvent::Origin origin) {
  auto [it, inserted] = index.emplace(event, s.published.size());
  if (inserted) s.published.push_back(PublishedEvent{event, {}});
  s.published[it->second].origins.push_back(std::move(origin));
}

void ResolvePublished(Service& s) {
  using Source = PublishedEvent::Source;
  std::map<std::string, size_t> index;
  for (const Method& m : s.methods) {
    for (const std::string& e : m.emits) AddPublished(s, index, e, {Source::kRpc, m.name});
  }
  for (const Subscription& sub : s.subscriptions) {
    for (const std::string& e : sub.emits)
      AddPublished(s, index, e, {Source::kSubscription, sub.event});
  }
  for (const std::string& e : s.publishes) AddPublished(s, index, e, {Source::kService, ""});
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

// Event -> the stream of the first service, in file order, that publishes
// it: each bounded context publishes on its own stream.
std::map<std::string, std::string> StreamsOfEvents(const Model& model) {
  std::map<std::string, std::string> streams;
  for (const File& f : model.files) {
    for (const Service& s : f.services) {
      for (const PublishedEvent& p : s.published) streams.emplace(p.event, s.stream);
    }
  }
  return streams;
}

void ResolveSubscription(const std::map<std::string, std::string>& streams,
                         const Service& s,
                         Subscription& sub) {
  sub.handler = "On" + ShortName(sub.event);
  sub.effective_queue_group = sub.queue_group.empty() ? s.short_name : sub.queue_group;
  sub.durable = sub.effective_queue_group + "-" + sub.handler;
  auto stream = streams.find(sub.event);
  sub.stream = stream == streams.end() ? "" : stream->second;
  sub.effective_max_deliver = Or(sub.max_deliver, defaults::kMaxDeliver);
  sub.effective_ack_wait_ms = Or(sub.ack_wait_ms, Millis(defaults::kAckWait));
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

using Streams = std::map<std::string, std::string>;

void AddSagaRoute(const Model& model,
                  const Streams& streams,
                  Service* s,
                  SagaRoute::Kind kind,
                  const Saga& saga,
                  size_t step,
                  const std::string& event,
                  const std::string& name = "") {
  const Message* m = EventMessage(model, event);
  if (s == nullptr || m == nullptr) return;
  const auto stream = streams.find(event);
  SagaRoute r{kind,
              saga.name,
              step,
              event,
              m->event->subject,
              stream == streams.end() ? "" : stream->second,
              ""};
  r.durable =
      s->short_name + "-saga-" + saga.name + "-" + (name.empty() ? SnakeCase(m->name) : name);
  s->saga_routes.push_back(std::move(r));
}

void ResolveSagaRoutes(Model& model, const Streams& streams, Saga& saga) {
  using Kind = SagaRoute::Kind;
  Service* owner = FindServiceIn(model, saga.owner);
  for (size_t i = 0; i < saga.steps.size(); ++i) {
    SagaStep& step = saga.steps[i];
    step.cpp_name = PascalCase(step.name);
    Service* participant = FindServiceIn(model, step.participant);
    AddSagaRoute(model, streams, participant, Kind::kStep, saga, i, step.on, step.name);
    AddSagaRoute(model, streams, owner, Kind::kSucceeded, saga, i, step.success_event);
    AddSagaRoute(model, streams, owner, Kind::kFailed, saga, i, step.failure_event);
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
    AddSagaRoute(model, streams, owner, Kind::kUndone, saga, i, step.compensation_done_event);
  }
}

void ResolveSagas(Model& model, const Streams& streams) {
  for (File& f : model.files) {
    for (Saga& saga : f.sagas) {
      saga.cpp_name = PascalCase(saga.name);
      ResolveSagaRoutes(model, streams, saga);
    }
  }
}

// v1, v2beta1, ...: "v" and a digit.
std::string PackageVersion(const std::string& package) {
  const std::string last = package.substr(package.rfind('.') + 1);
  return last.size() >= 2 && last[0] == 'v' && std::isdigit(static_cast<unsigned char>(last[1]))
             ? last
             : "";
}

void AddInView(const Model& model, const std::string& name, std::vector<std::string>& out) {
  if (std::find(out.begin(), out.end(), name) != out.end()) return;
  out.push_back(name);
  const File* file = model.FindFile(name);
  if (file == nullptr) return;
  for (const std::string& dep : file->public_dependencies) AddInView(model, dep, out);
}

void ResolveFile(const Model& model, File& f) {
  f.version = PackageVersion(f.package);
  f.files_in_view.clear();
  AddInView(model, f.name, f.files_in_view);
}

}  // namespace

void Resolve(Model& model) {
  for (File& f : model.files) {
    for (Service& s : f.services) ResolveService(s);
    ResolveFile(model, f);
  }
  // Subscriptions look up the publishers, so every service is resolved first.
  const std::map<std::string, std::string> streams = StreamsOfEvents(model);
  for (File& f : model.files) {
    for (Service& s : f.services) {
      for (Subscription& sub : s.subscriptions) ResolveSubscription(streams, s, sub);
    }
  }
  ResolveSagas(model, streams);
}

}  // namespace cppsvc::model
