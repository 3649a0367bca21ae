// What a handler knows about the call or event it serves: who the caller is
// and until when the result is still wanted.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/observability/trace.h"

namespace pqxx {
class transaction_base;
}

namespace cppsvc {

// The authenticated caller, from a verified JWT. Anonymous callers (public
// RPCs without a token) have an empty subject and no roles.
struct Caller {
  std::string subject;             // JWT `sub`: the user or service id
  std::vector<std::string> roles;  // JWT `roles`, as granted (not expanded)
  std::string token_id;            // JWT `jti`

  bool anonymous() const { return subject.empty(); }
  bool HasRole(const std::string& role) const;
  // The caller of a call nobody authenticated.
  static const Caller& Anonymous();
};

// A verified caller together with the bearer token it presented. The
// generated server shares one per token between the calls that present it
// (the token verifier keeps them), so a call copies neither.
struct Credentials {
  Caller caller;
  std::string bearer_token;
};

using Clock = std::chrono::system_clock;

// Context of one RPC. Created by the generated server per call.
class CallContext {
 public:
  CallContext() = default;
  CallContext(Caller caller, Clock::time_point deadline, std::string method, std::string trace_id)
      : credentials_(std::make_shared<const Credentials>(Credentials{std::move(caller), {}})),
        deadline_(deadline),
        method_(std::move(method)),
        trace_id_(std::move(trace_id)) {}
  // For the generated server: `credentials` as the token verifier shares
  // them (null: anonymous), `method` a name that outlives the context (the
  // contract's), so that a call copies neither.
  CallContext(std::shared_ptr<const Credentials> credentials,
              Clock::time_point deadline,
              std::string_view method)
      : credentials_(std::move(credentials)), deadline_(deadline), static_method_(method) {}

  const Caller& caller() const { return credentials_ ? credentials_->caller : Caller::Anonymous(); }
  Clock::time_point deadline() const { return deadline_; }
  // Full RPC name, e.g. "commerce.orders.v1.OrdersService/GetOrder".
  std::string_view method() const { return method_.empty() ? static_method_ : method_; }
  // The trace id given to the constructor, else the traceparent's.
  std::string_view trace_id() const;

  // W3C traceparent of this call's span, for outgoing calls to continue.
  std::string_view traceparent() const;
  void set_traceparent(std::string_view value);
  // The caller's bearer token, for outgoing calls that act on its behalf.
  std::string_view bearer_token() const {
    return credentials_ ? std::string_view(credentials_->bearer_token) : std::string_view();
  }
  void set_bearer_token(std::string value);

  // The client's address ("10.0.0.7", "::1"): the peer's, or, when the
  // peer is one of CPPSVC_TRUSTED_PROXIES (the gateway), the nearest
  // untrusted hop of its X-Forwarded-For. "" when the transport tells
  // clients apart by no address (NATS requests).
  const std::string& client_address() const { return client_address_; }
  void set_client_address(std::string address) { client_address_ = std::move(address); }

  bool expired() const { return Clock::now() >= deadline_; }
  std::chrono::milliseconds remaining() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
  }

  // The call's database transaction (services with a database): the handler's
  // reads and writes, the idempotency record and the outbox rows commit
  // together, and only if the handler returns OK. Throws std::logic_error in
  // a service without a database.
  pqxx::transaction_base& tx() const {
    if (tx_ == nullptr)
      throw std::logic_error("this call has no database transaction (the service has no database)");
    return *tx_;
  }
  bool has_tx() const { return tx_ != nullptr; }
  void set_tx(pqxx::transaction_base* tx) { tx_ = tx; }

 private:
  // A traceparent of version 00 (as every span this runtime starts) is
  // kept in place, without an allocation; others in long_traceparent_.
  static constexpr size_t kTraceparentSize = observability::kTraceparentLength;

  pqxx::transaction_base* tx_ = nullptr;
  std::shared_ptr<const Credentials> credentials_;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::string_view static_method_;
  std::string method_;
  std::string trace_id_;
  std::string client_address_;
  bool traceparent_in_place_ = false;
  std::array<char, kTraceparentSize> traceparent_{};
  std::string long_traceparent_;
};

// Context of one delivered event. Created by the generated consumer.
class EventContext {
 public:
  EventContext() = default;
  EventContext(std::string event_id,
               std::string subject,
               int delivery_attempt,
               std::string trace_id)
      : event_id_(std::move(event_id)),
        subject_(std::move(subject)),
        delivery_attempt_(delivery_attempt),
        trace_id_(std::move(trace_id)) {}

  // Stable id of the event (the outbox row id, sent as Nats-Msg-Id).
  const std::string& event_id() const { return event_id_; }
  const std::string& subject() const { return subject_; }
  // 1 for the first delivery, >1 for redeliveries.
  int delivery_attempt() const { return delivery_attempt_; }
  const std::string& trace_id() const { return trace_id_; }

  // W3C traceparent of the span that handles the event (continued from the
  // publisher's), for events the handler emits and calls it makes.
  const std::string& traceparent() const { return traceparent_; }
  void set_traceparent(std::string value) { traceparent_ = std::move(value); }

  // The consumer's transaction: the handler's writes, the inbox row and the
  // events it emits commit together. Throws std::logic_error without one.
  pqxx::transaction_base& tx() const {
    if (tx_ == nullptr) throw std::logic_error("this event has no database transaction");
    return *tx_;
  }
  bool has_tx() const { return tx_ != nullptr; }
  void set_tx(pqxx::transaction_base* tx) { tx_ = tx; }

 private:
  pqxx::transaction_base* tx_ = nullptr;
  std::string traceparent_;
  std::string event_id_;
  std::string subject_;
  int delivery_attempt_ = 1;
  std::string trace_id_;
};

}  // namespace cppsvc
