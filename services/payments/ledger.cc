#include "payments/ledger.h"

#include <pqxx/pqxx>

#include "commerce/payments/v1/payments.cppsvc.repo.h"

namespace payments {

using cppsvc::Status;

namespace {

constexpr char kLockPaymentSql[] = "SELECT 1 FROM payments WHERE id = $1 FOR UPDATE";

// A replayed notification hits the primary key and inserts nothing.
constexpr char kRecordWebhookSql[] = R"sql(
INSERT INTO webhook_events (provider, provider_event_id, payment_id, applied)
VALUES ($1, $2, $3, false)
ON CONFLICT (provider, provider_event_id) DO NOTHING)sql";

constexpr char kSetWebhookAppliedSql[] =
    "UPDATE webhook_events SET applied = $3 WHERE provider = $1 AND provider_event_id = $2";

v1::Payment NewPayment(const ChargeOrder& order, const std::string& provider) {
  v1::Payment payment;
  payment.set_order_id(order.order_id);
  payment.set_user_id(order.user_id);
  payment.set_amount_cents(order.amount_cents);
  payment.set_status(v1::PAYMENT_STATUS_PENDING);
  payment.set_provider(provider);
  return payment;
}

ChargeAttempt AttemptOf(const ChargeOrder& order, const v1::Payment& payment) {
  ChargeAttempt attempt;
  attempt.payment_id = payment.id();
  attempt.order_id = order.order_id;
  attempt.amount_cents = order.amount_cents;
  attempt.card_token =
      order.card_token.empty() ? std::string(CardForAmount(order.amount_cents)) : order.card_token;
  return attempt;
}

}  // namespace

bool ApplyOutcome(v1::Payment& payment,
                  v1::ProviderOutcome outcome,
                  const std::string& failure_reason) {
  if (outcome == v1::PROVIDER_OUTCOME_SUCCEEDED) {
    payment.set_status(v1::PAYMENT_STATUS_SUCCEEDED);
  } else if (outcome == v1::PROVIDER_OUTCOME_FAILED) {
    payment.set_status(v1::PAYMENT_STATUS_FAILED);
    payment.set_failure_reason(failure_reason.empty() ? "declined by the provider"
                                                      : failure_reason);
  } else {
    return false;
  }
  return true;
}

std::optional<v1::Payment> Ledger::PaymentOfOrder(const std::string& order_id) {
  v1::PaymentFilter filter;
  filter.order_id = order_id;
  auto page = v1::PaymentRepository(tx_).List(filter, 1);
  if (page.rows.empty()) return std::nullopt;
  return std::move(page.rows.front());
}

Status Ledger::Charge(const ChargeOrder& order, v1::Payment& payment) {
  v1::PaymentRepository repo(tx_);
  payment = NewPayment(order, provider_.name());
  repo.Insert(payment);
  ProviderCharge charge;
  if (Status s = provider_.Charge(AttemptOf(order, payment), charge); !s.ok()) return s;
  payment.set_provider_payment_id(charge.provider_payment_id);
  ApplyOutcome(payment, charge.outcome, charge.failure_reason);
  repo.Update(payment, 1);
  return Status::Ok();
}

std::optional<v1::Payment> Ledger::LockPayment(const std::string& payment_id, int64_t& version) {
  if (tx_.exec_params(kLockPaymentSql, payment_id).empty()) return std::nullopt;
  return v1::PaymentRepository(tx_).Find(payment_id, &version);
}

std::optional<v1::PaymentRefund> Ledger::RefundOfKey(const std::string& request_key) {
  v1::PaymentRefundFilter filter;
  filter.request_key = request_key;
  auto page = v1::PaymentRefundRepository(tx_).List(filter, 1);
  if (page.rows.empty()) return std::nullopt;
  return std::move(page.rows.front());
}

Status Ledger::RefundAmount(const RefundOrder& order, const v1::Payment& payment, int64_t& out) {
  if (payment.status() == v1::PAYMENT_STATUS_REFUNDED)
    return Status::FailedPrecondition("payment is refunded in full");
  if (payment.status() != v1::PAYMENT_STATUS_SUCCEEDED)
    return Status::FailedPrecondition("payment did not succeed");
  const int64_t remaining = payment.amount_cents() - payment.refunded_cents();
  out = order.amount_cents.value_or(remaining);
  if (out > remaining) {
    return Status::FailedPrecondition("at most " + std::to_string(remaining) +
                                      " cents can be refunded");
  }
  return Status::Ok();
}

Status Ledger::Refund(const RefundOrder& order,
                      v1::Payment& payment,
                      v1::PaymentRefund& refund,
                      bool& repeated) {
  int64_t version = 0;
  auto locked = LockPayment(order.payment_id, version);
  if (!locked) return Status::NotFound("payment " + order.payment_id + " does not exist");
  payment = std::move(*locked);
  if (auto first = RefundOfKey(order.request_key)) {
    repeated = true;
    refund = std::move(*first);
    return Status::Ok();
  }
  int64_t amount = 0;
  if (Status s = RefundAmount(order, payment, amount); !s.ok()) return s;
  std::string provider_refund_id;
  if (Status s = provider_.Refund(payment, amount, provider_refund_id); !s.ok()) return s;
  refund.set_payment_id(payment.id());
  refund.set_order_id(payment.order_id());
  refund.set_request_key(order.request_key);
  refund.set_amount_cents(amount);
  refund.set_reason(order.reason);
  refund.set_provider_refund_id(provider_refund_id);
  v1::PaymentRefundRepository(tx_).Insert(refund);
  payment.set_refunded_cents(payment.refunded_cents() + amount);
  if (payment.refunded_cents() == payment.amount_cents())
    payment.set_status(v1::PAYMENT_STATUS_REFUNDED);
  v1::PaymentRepository(tx_).Update(payment, version);
  return Status::Ok();
}

bool Ledger::RecordWebhook(const v1::ProviderWebhookRequest& request, bool& applied) {
  const pqxx::result inserted = tx_.exec_params(kRecordWebhookSql,
                                                request.provider(),
                                                request.provider_event_id(),
                                                request.payment_id());
  if (inserted.affected_rows() == 1) return true;
  applied = v1::WebhookEventRepository(tx_)
                .Get(request.provider(), request.provider_event_id())
                .applied();
  return false;
}

void Ledger::SetWebhookApplied(const v1::ProviderWebhookRequest& request, bool applied) {
  tx_.exec_params(kSetWebhookAppliedSql, request.provider(), request.provider_event_id(), applied);
}

Status Ledger::Settle(const v1::ProviderWebhookRequest& request,
                      v1::Payment& payment,
                      bool& changed) {
  int64_t version = 0;
  auto locked = LockPayment(request.payment_id(), version);
  if (!locked) return Status::NotFound("payment " + request.payment_id() + " does not exist");
  payment = std::move(*locked);
  if (payment.provider() != request.provider()) {
    return Status::FailedPrecondition("payment was not made with provider " + request.provider());
  }
  changed = payment.status() == v1::PAYMENT_STATUS_PENDING &&
            ApplyOutcome(payment, request.outcome(), request.failure_message());
  if (changed) v1::PaymentRepository(tx_).Update(payment, version);
  return Status::Ok();
}

}  // namespace payments
