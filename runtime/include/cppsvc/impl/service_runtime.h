// For generated servers only: the per-call pipeline shared by every
// transport. Order per call: deadline -> authentication -> authorization ->
// rate limit -> validation -> ownership (request) -> bulkhead -> handler ->
// ownership (response) -> error mapping; each call is measured, logged and
// traced.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/auth/rbac.h"
#include "cppsvc/context.h"
#include "cppsvc/db/pool.h"
#include "cppsvc/defaults.h"
#include "cppsvc/impl/specs.h"
#include "cppsvc/observability/metrics.h"
#include "cppsvc/resilience/bulkhead.h"
#include "cppsvc/resilience/rate_limiter.h"
#include "cppsvc/status.h"

namespace cppsvc::impl {

// One incoming call, whatever the transport.
class IncomingCall {
 public:
  virtual ~IncomingCall() = default;
  // First value of a metadata entry / header (lowercase key), if any; valid
  // as long as the call.
  virtual std::optional<std::string_view> Metadata(std::string_view key) const = 0;
  // The caller's own deadline, if it set one.
  virtual std::optional<Clock::time_point> Deadline() const = 0;
  // "ipv4:127.0.0.1:5000" or similar; for rate limits by peer.
  virtual std::string Peer() const = 0;
  virtual std::string_view Transport() const = 0;
  // Whether the handler may run on the thread delivering the call (see
  // ServiceOptions::inline_handlers). Transports that deliver calls one at a
  // time on one thread (a NATS subscription) say no.
  virtual bool MayRunInline() const { return false; }
  // Whether Peer() tells clients apart. A NATS request carries no client
  // identity (its reply inbox changes with every connection), so per-peer
  // limits there key by the token's subject, and anonymous callers share one.
  virtual bool IdentifiesPeers() const { return true; }
};

struct ServiceOptions {
  std::string service;  // short name, e.g. "orders"
  std::shared_ptr<const auth::JwtVerifier> verifier;
  std::shared_ptr<const auth::RoleGraph> roles;
  std::shared_ptr<observability::Metrics> metrics;
  size_t workers = 8;  // handlers running at once
  size_t max_queue = 64;
  // How long an idle worker stays awake for the next call (see Bulkhead).
  std::chrono::microseconds worker_spin = resilience::Bulkhead::kDefaultSpin;
  // Run a handler on the transport's own thread when a bulkhead slot is free
  // instead of handing it to a worker: faster, but only for handlers that
  // never block (no database, no outgoing calls), since a blocked transport
  // thread stops serving other calls. Limits and queueing are the same.
  bool inline_handlers = false;
  // The answer to a call on another user's resource (owner_field):
  // NOT_FOUND hides that it exists; PERMISSION_DENIED says so.
  ForeignResources foreign_resources = defaults::kForeignResources;
  // Services with a database: every call runs in one transaction on this
  // pool (see ServiceRuntime::Dispatch); null = no database.
  std::shared_ptr<db::Pool> db;
  bool log_requests = true;
  // Contract tests turn rate limits off so every cell of their matrix is
  // served; the limits themselves are tested on the pipeline directly.
  bool enforce_rate_limits = true;
  // Proxies whose X-Forwarded-For is believed for per-peer rate limits
  // (addresses, e.g. the gateway's); empty: the peer's own address counts.
  std::vector<std::string> trusted_proxies;
};

// The contract's foreign_resources as a generated handler base states it
// (a handler class may say otherwise), else `fallback`: the server's spec,
// or the default for code generated before the setting existed, so such
// code still builds against this runtime.
template <typename Handlers>
constexpr ForeignResources ForeignResourcesOf(
    ForeignResources fallback = defaults::kForeignResources) {
  if constexpr (requires { Handlers::kForeignResources; }) {
    return Handlers::kForeignResources;
  } else {
    return fallback;
  }
}

// The handler of one call, given the call's context. A small callable that
// is trivially copyable (a generated server's: the handlers object, the
// method, the request and the response) is kept in place, so a call
// allocates nothing for it; any other is kept in a std::function.
class Handler {
 public:
  Handler() = default;
  template <
      typename F,
      typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Handler> &&
                                  std::is_invocable_r_v<Status, std::decay_t<F>&, CallContext&>>>
  Handler(F&& f) {  // implicit: a lambda converts
    using D = std::decay_t<F>;
    if constexpr (sizeof(D) <= kInPlace && alignof(D) <= alignof(std::max_align_t) &&
                  std::is_trivially_copyable_v<D> && std::is_trivially_destructible_v<D>) {
      ::new (static_cast<void*>(in_place_)) D(std::forward<F>(f));
      call_ = [](const Handler& h, CallContext& ctx) -> Status {
        return (*std::launder(reinterpret_cast<D*>(const_cast<unsigned char*>(h.in_place_))))(ctx);
      };
    } else {
      other_ = std::forward<F>(f);
      call_ = [](const Handler& h, CallContext& ctx) -> Status { return h.other_(ctx); };
    }
  }

  Status operator()(CallContext& ctx) const { return call_(*this, ctx); }
  explicit operator bool() const { return call_ != nullptr; }

 private:
  static constexpr size_t kInPlace = 48;
  alignas(std::max_align_t) unsigned char in_place_[kInPlace];
  Status (*call_)(const Handler&, CallContext&) = nullptr;
  std::function<Status(CallContext&)> other_;
};
using Done = std::function<void(const Status& status)>;

class ServiceRuntime {
 public:
  ServiceRuntime(ServiceOptions options, const std::vector<const MethodSpec*>& methods);
  ~ServiceRuntime();

  // Runs the pipeline for one call and calls `done` exactly once: on this
  // thread when refused before the handler or when the handler ran inline
  // (before Dispatch returns), else on a worker after it. The request and
  // response must outlive `done`.
  void Dispatch(const IncomingCall& call,
                const MethodSpec& method,
                const Message& request,
                Message& response,
                Handler handler,
                Done done);

  // Answers a call refused before it could enter the pipeline (its request
  // did not parse) with `status`, counted and logged like any call; `done`
  // runs on this thread.
  void Refuse(const IncomingCall& call, const MethodSpec& method, const Status& status, Done done);

  // Stops accepting calls (they get UNAVAILABLE) and waits for running ones
  // until `deadline`; true when all finished.
  bool Drain(std::chrono::steady_clock::time_point deadline);
  bool draining() const;

  const ServiceOptions& options() const { return options_; }
  resilience::Bulkhead& bulkhead() { return *bulkhead_; }

 private:
  struct Limits;
  Status RunHandler(const MethodSpec& method,
                    const Message& request,
                    Message& response,
                    const Handler& handler,
                    CallContext& ctx) const;
  Status RunInTransaction(const MethodSpec& method,
                          const Message& request,
                          Message& response,
                          const Handler& handler,
                          CallContext& ctx) const;
  bool OwnsResponse(const MethodSpec& method, const Message& response, const Caller& caller) const;
  // The status of a call on a resource the caller may not see.
  Status ForeignResource() const;
  // The bucket of a call in a per-method rate limiter.
  std::string RateLimitKey(const IncomingCall& call, RateKey rate_key, const Caller& caller) const;
  // `authorization`: the call's authorization header, if any; `now`: the
  // time the call arrived; `credentials`: set to the caller's when the
  // token passes (left null for public RPCs).
  Status Admit(const IncomingCall& call,
               const MethodSpec& method,
               const Message& request,
               std::optional<std::string_view> authorization,
               Clock::time_point now,
               std::shared_ptr<const Credentials>& credentials) const;
  // Dispatch's steps once a call is admitted.
  CallContext MakeContext(const IncomingCall& call,
                          const MethodSpec& method,
                          std::shared_ptr<const Credentials> credentials,
                          Clock::time_point deadline,
                          std::string_view traceparent,
                          std::optional<std::string_view> authorization) const;
  // The handler on this thread, in the inline slot Dispatch holds.
  void RunInline(std::string_view transport,
                 const MethodSpec& method,
                 const Message& request,
                 Message& response,
                 const Handler& handler,
                 CallContext ctx,
                 std::chrono::steady_clock::time_point start,
                 const Done& done);
  // The handler on the bulkhead's workers, or RESOURCE_EXHAUSTED when full.
  void Submit(std::string_view transport,
              const MethodSpec& method,
              const Message& request,
              Message& response,
              Handler handler,
              std::shared_ptr<CallContext> ctx,
              std::chrono::steady_clock::time_point start,
              Done done);
  void Finish(const MethodSpec& method,
              std::string_view transport,
              const Caller& caller,
              std::string_view trace_id,
              std::chrono::steady_clock::time_point start,
              const Status& status,
              const Done& done) const;

  ServiceOptions options_;
  std::unique_ptr<resilience::Bulkhead> bulkhead_;
  std::unique_ptr<Limits> limits_;
  std::atomic<bool> draining_{false};
};

// "Bearer <token>" -> token; empty when absent or another scheme.
std::string_view BearerToken(std::string_view authorization);

// INVALID_ARGUMENT "request is not a valid <type>": bytes that do not parse
// as the RPC's request message.
Status InvalidRequest(std::string_view type);

}  // namespace cppsvc::impl
