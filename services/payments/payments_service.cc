#include "payments/payments_service.h"

#include <cstdint>
#include <iostream>

#include <openssl/crypto.h>

#include "common/util.h"
#include "cppsvc/config/env.h"
#include "cppsvc/ownership.h"

namespace payments {

using cppsvc::Status;
using cppsvc::StatusCode;

namespace {
std::shared_ptr<PaymentProvider> ProviderFromEnvironment(cppsvc::config::Env& env) {
  return std::make_shared<FakeProvider>(
      env.Integer("PAYMENTS_FAKE_DECLINE_ABOVE_CENTS", 0, 0, INT64_MAX));
}

std::string WebhookSecretFromEnvironment(cppsvc::config::Env& env) {
  std::string secret = env.Optional("PAYMENTS_WEBHOOK_SECRET", "");
  services::ExitOnConfigurationProblems("payments", env);
  if (secret.empty())
    std::cerr << "payments: PAYMENTS_WEBHOOK_SECRET is not set: every webhook is refused"
              << std::endl;
  return secret;
}
}  // namespace

PaymentsService::PaymentsService() : PaymentsService(nullptr, nullptr, nullptr, "") {
  cppsvc::config::Env env;
  provider_ = ProviderFromEnvironment(env);
  webhook_secret_ = WebhookSecretFromEnvironment(env);
  store_ = std::make_shared<InMemoryPaymentStore>();
  events_ = std::make_shared<services::InMemoryOutbox>();
}

PaymentsService::PaymentsService(std::shared_ptr<PaymentStore> store,
                                 std::shared_ptr<PaymentProvider> provider,
                                 std::shared_ptr<services::EventSink> events,
                                 std::string webhook_secret)
    : store_(std::move(store)),
      provider_(std::move(provider)),
      events_(std::move(events)),
      webhook_secret_(std::move(webhook_secret)) {}

std::string PaymentsService::SignedText(const v1::ProviderWebhookRequest& request) {
  return request.provider_event_id() + "." + request.payment_id() + "." +
         v1::ProviderOutcome_Name(request.outcome());
}

bool PaymentsService::Settle(Payment& payment,
                             v1::ProviderOutcome outcome,
                             const std::string& failure_reason) {
  if (payment.status() != v1::PAYMENT_STATUS_PENDING || outcome == v1::PROVIDER_OUTCOME_UNSPECIFIED)
    return false;
  if (outcome == v1::PROVIDER_OUTCOME_SUCCEEDED) {
    payment.set_status(v1::PAYMENT_STATUS_SUCCEEDED);
  } else {
    payment.set_status(v1::PAYMENT_STATUS_FAILED);
    payment.set_failure_reason(failure_reason.empty() ? "declined by the provider"
                                                      : failure_reason);
  }
  *payment.mutable_updated_at() = services::ToTimestamp(cppsvc::Clock::now());
  return true;
}

void PaymentsService::PublishOutcome(const Payment& payment) {
  if (payment.status() == v1::PAYMENT_STATUS_SUCCEEDED) {
    v1::PaymentProcessed event;
    event.set_order_id(payment.order_id());
    event.set_payment_id(payment.id());
    event.set_user_id(payment.user_id());
    event.set_amount_cents(payment.amount_cents());
    events_->Publish(event);
  } else if (payment.status() == v1::PAYMENT_STATUS_FAILED) {
    v1::PaymentFailed event;
    event.set_order_id(payment.order_id());
    event.set_payment_id(payment.id());
    event.set_user_id(payment.user_id());
    event.set_reason(payment.failure_reason());
    events_->Publish(event);
  }
}

Status PaymentsService::DoCharge(const v1::ChargeRequest& request, Payment& payment) {
  auto first = [&](const Payment& existing) {
    if (existing.order_id() != request.order_id() || existing.user_id() != request.user_id() ||
        existing.amount_cents() != request.amount_cents()) {
      return Status::InvalidArgument("idempotency_key was used for a different charge");
    }
    payment = existing;
    return Status::Ok();
  };
  if (auto existing = store_->FindByIdempotencyKey(request.idempotency_key()))
    return first(*existing);

  Payment p;
  p.set_id(services::NewUuid());
  p.set_order_id(request.order_id());
  p.set_user_id(request.user_id());
  p.set_amount_cents(request.amount_cents());
  p.set_status(v1::PAYMENT_STATUS_PENDING);
  p.set_provider(provider_->name());
  *p.mutable_created_at() = services::ToTimestamp(cppsvc::Clock::now());
  *p.mutable_updated_at() = p.created_at();
  Payment existing;
  if (!store_->Insert(request.idempotency_key(), p, existing)) {
    if (auto same = store_->FindByIdempotencyKey(request.idempotency_key()))
      return first(*same);  // a concurrent retry
    return Status::AlreadyExists("order " + request.order_id() + " already has payment " +
                                 existing.id());
  }

  ProviderCharge charge = provider_->Charge(p);
  std::string settled;
  bool repeated = false;
  Status status = store_->Update(
      p.id(),
      "",
      [&](Payment& stored, std::string& answer) {
        stored.set_provider_payment_id(charge.provider_payment_id);
        answer = Settle(stored, charge.outcome, charge.failure_reason) ? "settled" : "";
        return Status::Ok();
      },
      payment,
      settled,
      repeated);
  if (status.ok() && !settled.empty()) PublishOutcome(payment);
  return status;
}

Status PaymentsService::Charge(cppsvc::CallContext&,
                               const v1::ChargeRequest& request,
                               v1::ChargeResponse& response) {
  return DoCharge(request, *response.mutable_payment());
}

// The provider is called while the payment is locked, so a refund is asked
// for at most once per request key; a real provider will move behind the
// outbox ("refund requested", then settled).
Status PaymentsService::DoRefund(const std::string& request_key,
                                 const std::string& payment_id,
                                 std::optional<int64_t> amount_cents,
                                 const std::string& reason,
                                 Payment& payment) {
  int64_t refunded = 0;
  std::string answer;
  bool repeated = false;
  Status status = store_->Update(
      payment_id,
      request_key,
      [&](Payment& p, std::string& first) {
        if (p.status() == v1::PAYMENT_STATUS_REFUNDED)
          return Status::FailedPrecondition("payment is refunded in full");
        if (p.status() != v1::PAYMENT_STATUS_SUCCEEDED)
          return Status::FailedPrecondition("payment did not succeed");
        const int64_t remaining = p.amount_cents() - p.refunded_cents();
        refunded = amount_cents.value_or(remaining);
        if (refunded > remaining) {
          return Status::FailedPrecondition("at most " + std::to_string(remaining) +
                                            " cents can be refunded");
        }
        if (Status s = provider_->Refund(p, refunded); !s.ok()) return s;
        p.set_refunded_cents(p.refunded_cents() + refunded);
        if (p.refunded_cents() == p.amount_cents()) p.set_status(v1::PAYMENT_STATUS_REFUNDED);
        *p.mutable_updated_at() = services::ToTimestamp(cppsvc::Clock::now());
        first = std::to_string(refunded);
        return Status::Ok();
      },
      payment,
      answer,
      repeated);
  if (status.ok() && !repeated) {
    v1::PaymentRefunded event;
    event.set_payment_id(payment.id());
    event.set_order_id(payment.order_id());
    event.set_user_id(payment.user_id());
    event.set_amount_cents(refunded);
    event.set_reason(reason);
    events_->Publish(event);
  }
  return status;
}

Status PaymentsService::Refund(cppsvc::CallContext&,
                               const v1::RefundRequest& request,
                               v1::RefundResponse& response) {
  std::optional<int64_t> amount;
  if (request.has_amount_cents()) amount = request.amount_cents();
  return DoRefund("refund:" + request.request_id(),
                  request.payment_id(),
                  amount,
                  request.reason(),
                  *response.mutable_payment());
}

Status PaymentsService::GetPayment(cppsvc::CallContext&,
                                   const v1::GetPaymentRequest& request,
                                   v1::GetPaymentResponse& response) {
  // Ownership (payment.user_id) is checked by the runtime on the response.
  auto payment = store_->Get(request.payment_id());
  // The same answer as the runtime's for another customer's payment.
  if (!payment) return cppsvc::ResourceNotFound();
  *response.mutable_payment() = std::move(*payment);
  return Status::Ok();
}

Status PaymentsService::ProviderWebhook(cppsvc::CallContext&,
                                        const v1::ProviderWebhookRequest& request,
                                        v1::ProviderWebhookResponse& response) {
  const std::string expected = HmacSha256Hex(webhook_secret_, SignedText(request));
  if (webhook_secret_.empty() || request.signature().size() != expected.size() ||
      CRYPTO_memcmp(request.signature().data(), expected.data(), expected.size()) != 0) {
    return Status(StatusCode::kUnauthenticated, "invalid webhook signature");
  }
  if (request.outcome() == v1::PROVIDER_OUTCOME_UNSPECIFIED)
    return Status::InvalidArgument("outcome: required");
  Payment payment;
  std::string answer;
  bool repeated = false;
  Status status = store_->Update(
      request.payment_id(),
      "webhook:" + request.provider() + ":" + request.provider_event_id(),
      [&](Payment& p, std::string& first) {
        if (p.provider() != request.provider()) {
          return Status::FailedPrecondition("payment was not made with provider " +
                                            request.provider());
        }
        first = Settle(p, request.outcome(), request.failure_message()) ? "applied" : "";
        return Status::Ok();
      },
      payment,
      answer,
      repeated);
  if (!status.ok()) return status;
  response.set_applied(!answer.empty());
  if (!repeated && response.applied()) PublishOutcome(payment);
  return Status::Ok();
}

// Saga step "process_payment": one charge per order.
PaymentsService::CheckoutProcessPaymentResult PaymentsService::CheckoutProcessPayment(
    cppsvc::EventContext&,
    const commerce::products::v1::StockReserved& event) {
  v1::ChargeRequest request;
  request.set_idempotency_key("saga:" + event.order_id());
  request.set_order_id(event.order_id());
  request.set_user_id(event.user_id());
  request.set_amount_cents(event.amount_cents());
  Payment payment;
  if (Status status = DoCharge(request, payment); !status.ok()) return status;
  if (payment.status() == v1::PAYMENT_STATUS_SUCCEEDED) {
    v1::PaymentProcessed processed;
    processed.set_payment_id(payment.id());
    processed.set_user_id(payment.user_id());
    processed.set_amount_cents(payment.amount_cents());
    return CheckoutProcessPaymentResult::Succeeded(std::move(processed));
  }
  if (payment.status() != v1::PAYMENT_STATUS_FAILED) {
    return Status(StatusCode::kUnavailable, "payment " + payment.id() + " is not settled yet");
  }
  v1::PaymentFailed failed;
  failed.set_payment_id(payment.id());
  failed.set_user_id(payment.user_id());
  failed.set_reason(payment.failure_reason());
  return CheckoutProcessPaymentResult::Failed(std::move(failed));
}

// Compensation of "process_payment": refunds what is left of the charge.
Status PaymentsService::UndoCheckoutProcessPayment(cppsvc::EventContext&,
                                                   const cppsvc::sagas::Undo& undo,
                                                   v1::PaymentRefunded& done) {
  auto payment = store_->FindByOrder(undo.id);
  if (!payment || payment->status() != v1::PAYMENT_STATUS_SUCCEEDED) return Status::Ok();
  Payment refunded;
  Status status = DoRefund("saga:" + undo.id,
                           payment->id(),
                           std::nullopt,
                           "checkout undone (" + undo.cause + ")",
                           refunded);
  if (!status.ok() && status.code() != StatusCode::kFailedPrecondition) return status;
  done.set_payment_id(payment->id());
  done.set_user_id(payment->user_id());
  done.set_amount_cents(payment->amount_cents());
  done.set_reason("checkout undone (" + undo.cause + ")");
  return Status::Ok();
}

}  // namespace payments
