#include "payments/payments_service.h"

#include <chrono>
#include <iostream>

#include "commerce/payments/v1/payments.cppsvc.repo.h"
#include "common/util.h"
#include "cppsvc/config/env.h"
#include "cppsvc/ownership.h"
#include "payments/ledger.h"
#include "payments/webhook.h"

namespace payments {

using cppsvc::Status;
using cppsvc::StatusCode;
using Result = PaymentsService::CheckoutProcessPaymentResult;

namespace {

std::shared_ptr<PaymentProvider> ProviderFromEnvironment(cppsvc::config::Env& env) {
  return std::make_shared<SimulatedProvider>(
      env.Millis("PAYMENTS_SIMULATED_SLOW_MS", std::chrono::milliseconds(3000)));
}

std::string WebhookSecretFromEnvironment(cppsvc::config::Env& env) {
  std::string secret = env.ValueOrFile("PAYMENTS_WEBHOOK_SECRET");
  if (secret.empty()) {
    std::cerr << "payments: PAYMENTS_WEBHOOK_SECRET is not set: using the development secret"
              << std::endl;
    secret = PaymentsService::kDevelopmentWebhookSecret;
  }
  return secret;
}

v1::PaymentProcessed ProcessedOf(const v1::Payment& payment) {
  v1::PaymentProcessed event;
  event.set_order_id(payment.order_id());
  event.set_payment_id(payment.id());
  event.set_user_id(payment.user_id());
  event.set_amount_cents(payment.amount_cents());
  return event;
}

v1::PaymentFailed FailedOf(const v1::Payment& payment, const std::string& reason) {
  v1::PaymentFailed event;
  event.set_order_id(payment.order_id());
  event.set_payment_id(payment.id());
  event.set_user_id(payment.user_id());
  event.set_reason(reason);
  return event;
}

void FillRefunded(const v1::Payment& payment,
                  const v1::PaymentRefund& refund,
                  v1::PaymentRefunded& event) {
  event.set_payment_id(payment.id());
  event.set_order_id(payment.order_id());
  event.set_user_id(payment.user_id());
  event.set_amount_cents(refund.amount_cents());
  event.set_reason(refund.reason());
}

// The step's answer for the order's payment. A pending one is not settled
// yet: the error has StockReserved delivered again.
Result SagaOutcome(const v1::Payment& payment) {
  switch (payment.status()) {
    case v1::PAYMENT_STATUS_SUCCEEDED:
      return Result::Succeeded(ProcessedOf(payment));
    case v1::PAYMENT_STATUS_FAILED:
      return Result::Failed(FailedOf(payment, payment.failure_reason()));
    case v1::PAYMENT_STATUS_REFUNDED:
      return Result::Failed(FailedOf(payment, "payment was refunded"));
    default:
      return Status(StatusCode::kUnavailable, "payment " + payment.id() + " is not settled yet");
  }
}

ChargeOrder OrderOf(const v1::ChargeRequest& request) {
  return {request.order_id(), request.user_id(), request.amount_cents(), request.card_token()};
}

}  // namespace

PaymentsService::PaymentsService() {
  cppsvc::config::Env env;
  provider_ = ProviderFromEnvironment(env);
  webhook_secret_ = WebhookSecretFromEnvironment(env);
  services::ExitOnConfigurationProblems("payments", env);
}

PaymentsService::PaymentsService(std::shared_ptr<PaymentProvider> provider,
                                 std::string webhook_secret)
    : provider_(std::move(provider)), webhook_secret_(std::move(webhook_secret)) {}

void PaymentsService::EmitOutcome(const cppsvc::CallContext& ctx, const v1::Payment& payment) {
  if (payment.status() == v1::PAYMENT_STATUS_SUCCEEDED) Emit(ctx, ProcessedOf(payment));
  if (payment.status() == v1::PAYMENT_STATUS_FAILED)
    Emit(ctx, FailedOf(payment, payment.failure_reason()));
}

// A repeated idempotency_key gets the first response from the runtime's
// idempotency record; another key for a charged order is refused.
Status PaymentsService::Charge(cppsvc::CallContext& ctx,
                               const v1::ChargeRequest& request,
                               v1::ChargeResponse& response) {
  Ledger ledger(ctx.tx(), *provider_);
  if (auto existing = ledger.PaymentOfOrder(request.order_id())) {
    return Status::AlreadyExists("order " + request.order_id() + " already has payment " +
                                 existing->id());
  }
  v1::Payment& payment = *response.mutable_payment();
  if (Status s = ledger.Charge(OrderOf(request), payment); !s.ok()) return s;
  EmitOutcome(ctx, payment);
  return Status::Ok();
}

Status PaymentsService::Refund(cppsvc::CallContext& ctx,
                               const v1::RefundRequest& request,
                               v1::RefundResponse& response) {
  RefundOrder order{"refund:" + request.request_id(), request.payment_id(), {}, request.reason()};
  if (request.has_amount_cents()) order.amount_cents = request.amount_cents();
  v1::PaymentRefund refund;
  bool repeated = false;
  v1::Payment& payment = *response.mutable_payment();
  if (Status s = Ledger(ctx.tx(), *provider_).Refund(order, payment, refund, repeated); !s.ok())
    return s;
  if (repeated) return Status::Ok();
  v1::PaymentRefunded event;
  FillRefunded(payment, refund, event);
  Emit(ctx, event);
  return Status::Ok();
}

Status PaymentsService::GetPayment(cppsvc::CallContext& ctx,
                                   const v1::GetPaymentRequest& request,
                                   v1::GetPaymentResponse& response) {
  // Ownership (payment.user_id) is checked by the runtime on the response.
  auto payment = v1::PaymentRepository(ctx.tx()).Find(request.payment_id());
  if (!payment) return cppsvc::ResourceNotFound();
  *response.mutable_payment() = std::move(*payment);
  return Status::Ok();
}

// A notification is applied once: a replayed provider_event_id (within the
// timestamp tolerance; older ones are refused) gets the first answer.
Status PaymentsService::ProviderWebhook(cppsvc::CallContext& ctx,
                                        const v1::ProviderWebhookRequest& request,
                                        v1::ProviderWebhookResponse& response) {
  const auto now = std::chrono::system_clock::now();
  if (Status s = VerifyWebhook(webhook_secret_, request, now); !s.ok()) return s;
  Ledger ledger(ctx.tx(), *provider_);
  bool applied = false;
  if (!ledger.RecordWebhook(request, applied)) {
    response.set_applied(applied);
    return Status::Ok();
  }
  v1::Payment payment;
  if (Status s = ledger.Settle(request, payment, applied); !s.ok()) return s;
  ledger.SetWebhookApplied(request, applied);
  if (applied) EmitOutcome(ctx, payment);
  response.set_applied(applied);
  return Status::Ok();
}

// Saga step "process_payment": at most one charge per order. The events
// carry no card, so the amount selects the test card (CardForAmount).
Result PaymentsService::CheckoutProcessPayment(cppsvc::EventContext& ctx,
                                               const commerce::products::v1::StockReserved& event) {
  Ledger ledger(ctx.tx(), *provider_);
  if (auto existing = ledger.PaymentOfOrder(event.order_id())) return SagaOutcome(*existing);
  v1::Payment payment;
  ChargeOrder order{event.order_id(), event.user_id(), event.amount_cents(), ""};
  if (Status s = ledger.Charge(order, payment); !s.ok()) return s;
  return SagaOutcome(payment);
}

// Compensation of "process_payment": refunds what is left of the order's
// payment, once (refund key "saga:<order_id>"); nothing when it was never
// charged or did not succeed.
Status PaymentsService::UndoCheckoutProcessPayment(cppsvc::EventContext& ctx,
                                                   const cppsvc::sagas::Undo& undo,
                                                   v1::PaymentRefunded& done) {
  const std::string reason = "checkout undone (" + undo.cause + ")";
  done.set_reason(reason);
  Ledger ledger(ctx.tx(), *provider_);
  auto payment = ledger.PaymentOfOrder(undo.id);
  if (!payment) return Status::Ok();
  v1::PaymentRefund refund;
  refund.set_reason(reason);
  bool repeated = false;
  Status s =
      ledger.Refund({"saga:" + undo.id, payment->id(), {}, reason}, *payment, refund, repeated);
  if (!s.ok() && s.code() != StatusCode::kFailedPrecondition) return s;
  FillRefunded(*payment, refund, done);
  return Status::Ok();
}

}  // namespace payments
