#include <array>
#include <exception>
#include <map>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "cppsvc/db/idempotency.h"
#include "cppsvc/db/transaction.h"
#include "cppsvc/ownership.h"

#include "cppsvc/impl/client_address.h"
#include "cppsvc/impl/service_runtime.h"
#include "cppsvc/observability/log.h"
#include "cppsvc/observability/trace.h"

namespace cppsvc::impl {

struct ServiceRuntime::Limits {
  std::map<std::string_view, std::unique_ptr<resilience::RateLimiter>> by_method;
  // Per-method request series, resolved once (keyed by the spec's address).
  std::map<const MethodSpec*, std::unique_ptr<observability::MethodMetrics>> metrics;
};

namespace {

const Caller& CallerOf(const std::shared_ptr<const Credentials>& credentials) {
  return credentials ? credentials->caller : Caller::Anonymous();
}

}  // namespace

std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  // The scheme is case-insensitive (RFC 7235); ASCII letters differ in case
  // by bit 0x20 only, and the space must match exactly.
  for (size_t i = 0; i + 1 < kScheme.size(); ++i) {
    if ((authorization[i] | 0x20) != (kScheme[i] | 0x20)) return {};
  }
  if (authorization[kScheme.size() - 1] != ' ') return {};
  return authorization.substr(kScheme.size());
}

std::string ServiceRuntime::RateLimitKey(const IncomingCall& call,
                                         RateKey rate_key,
                                         const Caller& caller) const {
  // Prefixed, so no subject can share a bucket with an address.
  if (rate_key == RateKey::kGlobal) return "";
  if (rate_key == RateKey::kCaller && !caller.anonymous()) return "s:" + caller.subject;
  if (call.IdentifiesPeers()) {
    return "a:" +
           ClientAddress(call.Peer(), call.Metadata("x-forwarded-for"), options_.trusted_proxies);
  }
  return caller.anonymous() ? "anonymous" : "s:" + caller.subject;
}

Status InvalidRequest(std::string_view type) {
  return {StatusCode::kInvalidArgument, "request is not a valid " + std::string(type)};
}

ServiceRuntime::ServiceRuntime(ServiceOptions options,
                               const std::vector<const MethodSpec*>& methods)
    : options_(std::move(options)),
      bulkhead_(std::make_unique<resilience::Bulkhead>(options_.workers,
                                                       options_.max_queue,
                                                       options_.worker_spin)),
      limits_(std::make_unique<Limits>()) {
  if (!options_.roles) options_.roles = std::make_shared<auth::RoleGraph>();
  for (const MethodSpec* m : methods) {
    if (options_.metrics) {
      limits_->metrics.emplace(
          m,
          std::make_unique<observability::MethodMetrics>(*options_.metrics, std::string(m->name)));
    }
    if (m->rate_per_second > 0 && options_.enforce_rate_limits) {
      double burst = m->rate_burst > 0 ? m->rate_burst : std::max(1.0, m->rate_per_second);
      limits_->by_method.emplace(
          m->full_name,
          std::make_unique<resilience::RateLimiter>(m->rate_per_second, burst));
    }
  }
}

ServiceRuntime::~ServiceRuntime() = default;

bool ServiceRuntime::draining() const {
  return draining_.load();
}

bool ServiceRuntime::Drain(std::chrono::steady_clock::time_point deadline) {
  draining_ = true;
  return bulkhead_->Drain(deadline);
}

Status ServiceRuntime::Admit(const IncomingCall& call,
                             const MethodSpec& method,
                             const Message& request,
                             std::optional<std::string_view> authorization,
                             Clock::time_point now,
                             std::shared_ptr<const Credentials>& credentials) const {
  // Authentication: public RPCs skip it entirely.
  if (!method.is_public) {
    if (!authorization) return {StatusCode::kUnauthenticated, "missing bearer token"};
    std::string_view token = BearerToken(*authorization);
    if (token.empty()) return {StatusCode::kUnauthenticated, "authorization is not a bearer token"};
    if (!options_.verifier) return {StatusCode::kUnauthenticated, "no token verifier configured"};
    auth::Authenticated verified = options_.verifier->Authenticate(token, now);
    if (!verified.ok()) return {StatusCode::kUnauthenticated, std::move(verified.reason)};
    credentials = std::move(verified.credentials);
    // Authorization.
    if (!options_.roles->Allows(credentials->caller, method.roles)) {
      return {StatusCode::kPermissionDenied,
              "the caller's roles may not call " + std::string(method.name)};
    }
  }
  const Caller& caller = CallerOf(credentials);

  auto limiter = limits_->by_method.find(method.full_name);
  if (limiter != limits_->by_method.end()) {
    if (!limiter->second->Allow(RateLimitKey(call, method.rate_key, caller))) {
      if (options_.metrics) options_.metrics->RateLimited(std::string(method.name));
      return {StatusCode::kResourceExhausted, "rate limit exceeded"};
    }
  }

  if (method.validate != nullptr) {
    Violations violations;
    method.validate(request, violations);
    if (!violations.empty()) return {StatusCode::kInvalidArgument, violations.ToString()};
  }

  if (method.request_owner != nullptr && !options_.roles->BypassesOwnership(caller) &&
      method.request_owner(request) != caller.subject) {
    return ForeignResource();
  }
  return Status::Ok();
}

void ServiceRuntime::Finish(const MethodSpec& method,
                            std::string_view transport,
                            const Caller& caller,
                            std::string_view trace_id,
                            std::chrono::steady_clock::time_point start,
                            const Status& status,
                            const Done& done) const {
  auto elapsed = std::chrono::steady_clock::now() - start;
  const std::string_view code = StatusCodeName(status.code());
  if (options_.metrics) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    if (auto it = limits_->metrics.find(&method); it != limits_->metrics.end()) {
      it->second->Record(static_cast<int>(status.code()), code, transport, seconds);
    } else {
      options_.metrics->RecordRequest(std::string(method.name),
                                      std::string(code),
                                      seconds,
                                      std::string(transport));
    }
    options_.metrics->InFlight(-1);
  }
  if (options_.log_requests) {
    observability::RequestLog log;
    log.service = options_.service;
    log.method = method.full_name;
    log.code = code;
    log.duration = std::chrono::duration_cast<std::chrono::microseconds>(elapsed);
    log.trace_id = trace_id;
    log.caller = caller.subject;
    log.transport = transport;
    observability::LogRequest(log);
  }
  done(status);
}

bool ServiceRuntime::OwnsResponse(const MethodSpec& method,
                                  const Message& response,
                                  const Caller& caller) const {
  return method.response_owner == nullptr || options_.roles->BypassesOwnership(caller) ||
         method.response_owner(response) == caller.subject;
}

Status ServiceRuntime::ForeignResource() const {
  return cppsvc::ForeignResource(options_.foreign_resources);
}

Status ServiceRuntime::RunInTransaction(const MethodSpec& method,
                                        const Message& request,
                                        Message& response,
                                        const Handler& handler,
                                        CallContext& ctx) const {
  // One transaction per call: the handler's writes, the idempotency record
  // and outbox rows commit together, and only on success.
  db::TxOptions tx_options;
  tx_options.max_version_conflict_retries = method.version_conflict_retries;
  return db::RunInTransaction(
      *options_.db,
      ctx.deadline(),
      [&](db::Tx& tx) -> Status {
        struct Scope {
          CallContext& c;
          Scope(CallContext& ctx, db::Tx& tx) : c(ctx) { c.set_tx(&tx); }
          ~Scope() { c.set_tx(nullptr); }
        } scope(ctx, tx);
        response.Clear();  // an attempt retried after a conflict starts afresh
        const std::string_view key = method.idempotency_key != nullptr
                                         ? method.idempotency_key(request)
                                         : std::string_view();
        const db::IdempotencyScope idempotency{method.full_name, ctx.caller().subject, key};
        if (!key.empty()) {
          std::string request_bytes;
          {
            google::protobuf::io::StringOutputStream stream(&request_bytes);
            google::protobuf::io::CodedOutputStream coded(&stream);
            coded.SetSerializationDeterministic(true);
            request.SerializeToCodedStream(&coded);
          }
          std::optional<db::StoredResponse> replay;
          if (Status claimed = db::ClaimIdempotencyKey(tx, idempotency, request_bytes, &replay);
              !claimed.ok()) {
            return claimed;
          }
          if (replay) {
            // The first call's answer, without running the handler again.
            if (!response.ParseFromString(replay->response))
              return Status::Internal("internal error");
            if (!OwnsResponse(method, response, ctx.caller())) {
              return ForeignResource();
            }
            return Status(replay->code, "");
          }
        }
        Status status = handler(ctx);
        if (status.ok() && !OwnsResponse(method, response, ctx.caller())) {
          return ForeignResource();
        }
        if (status.ok() && !key.empty()) {
          db::StoreIdempotentResponse(tx, idempotency, status.code(), response.SerializeAsString());
        }
        return status;
      },
      tx_options);
}

Status ServiceRuntime::RunHandler(const MethodSpec& method,
                                  const Message& request,
                                  Message& response,
                                  const Handler& handler,
                                  CallContext& ctx) const {
  Status status;
  try {
    if (options_.db) {
      status = RunInTransaction(method, request, response, handler, ctx);
    } else {
      status = handler(ctx);
      if (status.ok() && !OwnsResponse(method, response, ctx.caller())) {
        status = ForeignResource();
      }
    }
  } catch (const std::exception& e) {
    observability::LogJson({{"level", "error"},
                            {"msg", "handler threw"},
                            {"service", options_.service},
                            {"method", std::string(method.full_name)},
                            {"trace_id", ctx.trace_id()},
                            {"error", e.what()}});
    status = Status(StatusCode::kInternal, "internal error");
  } catch (...) {
    observability::LogJson({{"level", "error"},
                            {"msg", "handler threw a non-exception"},
                            {"service", options_.service},
                            {"method", std::string(method.full_name)},
                            {"trace_id", ctx.trace_id()}});
    status = Status(StatusCode::kInternal, "internal error");
  }
  return status;
}

void ServiceRuntime::Refuse(const IncomingCall& call,
                            const MethodSpec& method,
                            const Status& status,
                            Done done) {
  const auto start = std::chrono::steady_clock::now();
  if (options_.metrics) options_.metrics->InFlight(+1);
  std::array<char, observability::kTraceparentLength> traceparent;
  observability::ContinueOrStart(call.Metadata("traceparent"), traceparent);
  const std::string_view trace_id =
      observability::TraceIdOf(std::string_view(traceparent.data(), traceparent.size()));
  Finish(method, call.Transport(), Caller::Anonymous(), trace_id, start, status, done);
}

namespace {

// The caller's deadline, capped by the contract's timeout.
Clock::time_point DeadlineOf(const IncomingCall& call,
                             const MethodSpec& method,
                             Clock::time_point now) {
  Clock::time_point deadline = now + method.timeout;
  if (std::optional<Clock::time_point> own = call.Deadline(); own && *own < deadline)
    deadline = *own;
  return deadline;
}

// Gives back the inline slot Bulkhead::TryEnterInline took, however the
// inline run ends.
struct InlineSlot {
  resilience::Bulkhead& bulkhead;
  ~InlineSlot() { bulkhead.ExitInline(); }
};

}  // namespace

void ServiceRuntime::Dispatch(const IncomingCall& call,
                              const MethodSpec& method,
                              const Message& request,
                              Message& response,
                              Handler handler,
                              Done done) {
  const auto start = std::chrono::steady_clock::now();
  if (options_.metrics) options_.metrics->InFlight(+1);

  // Trace: continue the caller's trace, or start one.
  std::array<char, observability::kTraceparentLength> traceparent;
  observability::ContinueOrStart(call.Metadata("traceparent"), traceparent);
  const std::string_view traceparent_view(traceparent.data(), traceparent.size());

  // One reading of the wall clock serves the deadline and the token's
  // time checks.
  const Clock::time_point now = Clock::now();
  const Clock::time_point deadline = DeadlineOf(call, method, now);
  std::shared_ptr<const Credentials> credentials;
  const std::optional<std::string_view> authorization = call.Metadata("authorization");
  Status admitted = draining_ ? Status(StatusCode::kUnavailable, "server is shutting down")
                    : now >= deadline
                        ? Status(StatusCode::kDeadlineExceeded, "deadline exceeded")
                        : Admit(call, method, request, authorization, now, credentials);
  if (!admitted.ok()) {
    const std::string_view trace_id = observability::TraceIdOf(traceparent_view);
    Finish(method, call.Transport(), CallerOf(credentials), trace_id, start, admitted, done);
    return;
  }
  auto context = [&] {
    return MakeContext(call,
                       method,
                       std::move(credentials),
                       deadline,
                       traceparent_view,
                       authorization);
  };
  // Inline handlers (ServiceOptions::inline_handlers): with a slot free, the
  // handler runs here, on the transport's thread, and nothing is packed up
  // to run later.
  if (options_.inline_handlers && call.MayRunInline() && bulkhead_->TryEnterInline()) {
    const InlineSlot slot{*bulkhead_};
    RunInline(call.Transport(), method, request, response, handler, context(), start, done);
    return;
  }
  Submit(call.Transport(),
         method,
         request,
         response,
         std::move(handler),
         std::make_shared<CallContext>(context()),
         start,
         std::move(done));
}

// The context shares the caller and its token with the token verifier and
// names the method by the contract's constant: nothing is copied.
CallContext ServiceRuntime::MakeContext(const IncomingCall& call,
                                        const MethodSpec& method,
                                        std::shared_ptr<const Credentials> credentials,
                                        Clock::time_point deadline,
                                        std::string_view traceparent,
                                        std::optional<std::string_view> authorization) const {
  CallContext ctx(std::move(credentials), deadline, method.full_name);
  ctx.set_traceparent(traceparent);
  if (call.IdentifiesPeers()) {
    ctx.set_client_address(
        ClientAddress(call.Peer(), call.Metadata("x-forwarded-for"), options_.trusted_proxies));
  }
  // A public RPC's token, not verified, is still passed on to calls made on
  // the caller's behalf.
  if (authorization && ctx.bearer_token().empty()) {
    if (std::string_view token = BearerToken(*authorization); !token.empty())
      ctx.set_bearer_token(std::string(token));
  }
  return ctx;
}

void ServiceRuntime::RunInline(std::string_view transport,
                               const MethodSpec& method,
                               const Message& request,
                               Message& response,
                               const Handler& handler,
                               CallContext ctx,
                               std::chrono::steady_clock::time_point start,
                               const Done& done) {
  Status status = RunHandler(method, request, response, handler, ctx);
  if (!status.ok()) response.Clear();
  Finish(method, transport, ctx.caller(), ctx.trace_id(), start, status, done);
}

// The handler runs on the bulkhead; the call is only valid until Dispatch
// returns, so its transport name is captured by value.
void ServiceRuntime::Submit(std::string_view transport,
                            const MethodSpec& method,
                            const Message& request,
                            Message& response,
                            Handler handler,
                            std::shared_ptr<CallContext> ctx,
                            std::chrono::steady_clock::time_point start,
                            Done done) {
  auto finish =
      [this, &method, transport = std::string(transport), ctx, start, done](const Status& status) {
        Finish(method, transport, ctx->caller(), ctx->trace_id(), start, status, done);
      };
  bool accepted = bulkhead_->TrySubmit(
      [this, &method, &request, &response, handler = std::move(handler), ctx, finish]() {
        if (ctx->expired()) {
          finish(Status(StatusCode::kDeadlineExceeded, "deadline exceeded before the handler ran"));
          return;
        }
        Status status = RunHandler(method, request, response, handler, *ctx);
        if (!status.ok()) response.Clear();
        finish(status);
      });
  if (!accepted) {
    if (options_.metrics) options_.metrics->BulkheadRejected();
    Finish(method,
           transport,
           ctx->caller(),
           ctx->trace_id(),
           start,
           Status(StatusCode::kResourceExhausted, "server overloaded"),
           done);
  }
}

}  // namespace cppsvc::impl
