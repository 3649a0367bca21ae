// What a handler knows about the call or event it serves: who the caller is
// and until when the result is still wanted.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

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
};

using Clock = std::chrono::system_clock;

// Context of one RPC. Created by the generated server per call.
class CallContext {
 public:
  CallContext() = default;
  CallContext(Caller caller, Clock::time_point deadline, std::string method, std::string trace_id)
      : caller_(std::move(caller)),
        deadline_(deadline),
        method_(std::move(method)),
        trace_id_(std::move(trace_id)) {}

  const Caller& caller() const { return caller_; }
  Clock::time_point deadline() const { return deadline_; }
  // Full RPC name, e.g. "commerce.orders.v1.OrdersService/GetOrder".
  const std::string& method() const { return method_; }
  const std::string& trace_id() const { return trace_id_; }

  // W3C traceparent of this call's span, for outgoing calls to continue.
  const std::string& traceparent() const { return traceparent_; }
  void set_traceparent(std::string value) { traceparent_ = std::move(value); }
  // The caller's bearer token, for outgoing calls that act on its behalf.
  const std::string& bearer_token() const { return bearer_token_; }
  void set_bearer_token(std::string value) { bearer_token_ = std::move(value); }

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
  pqxx::transaction_base* tx_ = nullptr;
  Caller caller_;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::string method_;
  std::string trace_id_;
  std::string traceparent_;
  std::string bearer_token_;
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
