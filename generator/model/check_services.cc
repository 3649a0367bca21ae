// A service and its rpcs: subscriptions, handler names, and each rpc's
// access, ownership, idempotency, events, retries, rate limit and HTTP
// mapping (the numbers of retries, rate limits, circuit breakers and
// timeouts are in check_resilience.cc, NATS names in check_nats.cc).

#include "model/checker.h"
#include "model/names.h"

namespace cppsvc::model::checks {

void Checker::CheckService(const Service& s) {
  const Span& sspan = s.has_options ? s.option_span : s.span;
  std::string what = "service " + Quote(s.name);
  for (size_t i = 0; i < s.default_roles.size(); ++i) {
    CheckRoleRef(At(sspan, {{"default_roles"}, {"", int(i)}}),
                 what + " default_roles",
                 s.default_roles[i]);
  }
  CheckSubscriptions(s, sspan, what);
  for (size_t i = 0; i < s.publishes.size(); ++i) {
    CheckEventRef(At(sspan, {{"publishes"}, {"", int(i)}}), what + " publishes", s.publishes[i]);
  }
  if (s.inline_handlers && !s.database.empty()) {
    Error(At(sspan, {{"inline_handlers"}}),
          what +
              ": inline_handlers is for handlers that never block, and the handlers of a "
              "service with a database wait for it; remove one of the two");
  }
  CheckPublishesNeedDatabase(s, sspan, what);
  CheckHandlerNames(s, sspan, what);
  CheckServiceResilience(s, sspan, what);
  CheckNatsNames(s, sspan, what);
  for (const Method& m : s.methods) CheckMethod(s, m);
}

// Rpcs and On<Event> handlers are methods of one generated class.
void Checker::CheckHandlerNames(const Service& s, const Span& span, const std::string& what) {
  std::set<std::string> handler_names;
  for (const Method& m : s.methods) {
    handler_names.insert(m.cpp_name);
    if (m.cpp_name == s.base_class) {
      Error(m.span,
            "rpc " + Quote(s.name + "." + m.name) + " has the name of the generated class " +
                Quote(s.base_class) + ": rename the rpc");
    }
  }
  std::set<std::string> seen_events;
  for (const Subscription& sub : s.subscriptions) {
    if (!seen_events.insert(sub.event).second) continue;  // reported as subscribed twice
    if (!handler_names.insert(sub.handler).second) {
      Error(span,
            what + ": handler " + Quote(sub.handler) + " for event " + Quote(sub.event) +
                " clashes with another rpc or subscription of the same name");
    }
  }
}

void Checker::CheckMethod(const Service& s, const Method& m) {
  std::string what = "rpc " + Quote(s.name + "." + m.name);
  const Span& span = m.has_options ? m.option_span : m.span;
  const Message* req = model_.FindMessage(m.input);
  const Message* resp = model_.FindMessage(m.output);
  CheckStreaming(m, what);
  CheckAccessRule(s, m, span, what);
  const Span owner_span = At(span, {{"owner_field"}});
  if (!m.owner_field.empty() && m.is_public) {
    Error(
        owner_span,
        what + ": owner_field means nothing on a public rpc (there is no caller to own anything)");
  } else if (!m.owner_field.empty() && req != nullptr && resp != nullptr) {
    CheckOwnerField(m, *req, *resp, owner_span, what);
  }
  if (!m.idempotency_key.empty() && req != nullptr)
    CheckIdempotencyKey(m, *req, At(span, {{"idempotency_key"}}), what);
  for (size_t i = 0; i < m.emits.size(); ++i)
    CheckEventRef(At(span, {{"emits"}, {"", int(i)}}), what + " emits", m.emits[i]);
  if (m.retry) CheckRetry(m, span, what);
  if (m.rate_limit)
    CheckRateLimit(*m.rate_limit, At(span, {{"rate_limit"}, {"requests_per_second"}}), what);
  CheckTimeout(m.timeout_ms, At(span, {{"timeout_ms"}}), what + ": timeout_ms");
  CheckVersionConflictRetries(m, span, what);
  if (s.database.empty()) CheckNeedsDatabase(s, m, span, what);
  if (m.http && req != nullptr && resp != nullptr) CheckHttp(s, m, *req, *resp, span, what);
}

// An idempotent reply is stored in the service's database, with the
// call's other writes.
void Checker::CheckNeedsDatabase(const Service& s,
                                 const Method& m,
                                 const Span& span,
                                 const std::string& what) {
  if (!m.idempotency_key.empty()) {
    Error(At(span, {{"idempotency_key"}}),
          what +
              ": idempotency_key keeps the first response in the service's database, and "
              "service " +
              Quote(s.name) + " has no database: set database in its (cppsvc.v1.service) option");
  }
  if (!m.emits.empty()) {
    Error(At(span, {{"emits"}}), what + ": " + NoOutbox(s));
  }
  if (m.version_conflict_retries != 0) {
    Error(At(span, {{"version_conflict_retries"}}),
          what + ": version_conflict_retries reruns the handler's transaction, and service " +
              Quote(s.name) + " has no database: set database in its (cppsvc.v1.service) option");
  }
}

// A hot row is better locked (SELECT ... FOR UPDATE) than retried at length.
void Checker::CheckVersionConflictRetries(const Method& m,
                                          const Span& span,
                                          const std::string& what) {
  if (m.version_conflict_retries <= kMaxVersionConflictRetries) return;
  Error(At(span, {{"version_conflict_retries"}}),
        what + ": version_conflict_retries " + std::to_string(m.version_conflict_retries) +
            " is above the limit of " + std::to_string(kMaxVersionConflictRetries) +
            ": a row that many callers change at once is better locked while it is read "
            "(SELECT ... FOR UPDATE on ctx.tx())");
}

// An event is written to the outbox in the transaction of the call or the
// event that emits it; a service without a database has neither.
std::string Checker::NoOutbox(const Service& s) {
  return "events are written to the outbox in the service's database, and service " +
         Quote(s.name) + " has no database: set database in its (cppsvc.v1.service) option";
}

void Checker::CheckPublishesNeedDatabase(const Service& s,
                                         const Span& span,
                                         const std::string& what) {
  if (!s.database.empty()) return;
  if (!s.publishes.empty()) Error(At(span, {{"publishes"}}), what + " publishes: " + NoOutbox(s));
  for (size_t i = 0; i < s.subscriptions.size(); ++i) {
    if (s.subscriptions[i].emits.empty()) continue;
    Error(At(span, {{"subscribe"}, {"", int(i)}, {"emits"}}),
          what + " subscription to " + Quote(ShortName(s.subscriptions[i].event)) +
              " emits: " + NoOutbox(s));
  }
}

void Checker::CheckStreaming(const Method& m, const std::string& what) {
  if (!m.client_streaming && !m.server_streaming) return;
  const char* kind = m.client_streaming && m.server_streaming ? "bidirectional"
                     : m.client_streaming                     ? "client"
                                                              : "server";
  Error(m.span,
        what + " is " + kind +
            "-streaming: streaming rpcs are not supported, use unary rpcs or events");
}

void Checker::CheckIdempotencyKey(const Method& m,
                                  const Message& req,
                                  const Span& span,
                                  const std::string& what) {
  std::string why;
  const Field* f = FieldPath(req, m.idempotency_key, why);
  if (f == nullptr) {
    Error(span,
          what + ": idempotency_key " + Quote(m.idempotency_key) +
              " must be a request field: " + why);
  } else if (!SingularString(*f)) {
    Error(span,
          what + ": idempotency_key " + Quote(m.idempotency_key) +
              " must be a singular string, found " + (f->repeated ? "repeated " : "") +
              KindName(f->kind));
  }
}

void Checker::CheckRetry(const Method& m, const Span& span, const std::string& what) {
  // An idempotency key makes a repeat safe: such rpcs are retried too.
  if (!m.idempotent && m.idempotency_key.empty()) {
    Error(At(span, {{"retry"}}),
          what +
              ": retry means nothing on an rpc that is not idempotent (set idempotent: true or "
              "an idempotency_key, or remove retry)");
  }
  CheckRetryPolicy(*m.retry, span, {"retry"}, what + ": retry");
}

}  // namespace cppsvc::model::checks
