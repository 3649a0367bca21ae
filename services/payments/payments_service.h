// Charges, refunds, provider webhooks and the payments side of the checkout
// saga.
#pragma once

#include <memory>
#include <string>

#include "commerce/payments/v1/payments.cppsvc.h"
#include "common/outbox.h"
#include "payments/payment_store.h"
#include "payments/provider.h"

namespace payments {

namespace v1 = commerce::payments::v1;

class PaymentsService final : public v1::PaymentsServiceBase {
 public:
  // In-memory store and outbox, FakeProvider; the webhook secret from
  // PAYMENTS_WEBHOOK_SECRET (without it every webhook is refused).
  PaymentsService();
  PaymentsService(std::shared_ptr<PaymentStore> store,
                  std::shared_ptr<PaymentProvider> provider,
                  std::shared_ptr<services::EventSink> events,
                  std::string webhook_secret);

  // The text a webhook's signature covers: "provider_event_id.payment_id.OUTCOME"
  // with the outcome's enum name, e.g. "PROVIDER_OUTCOME_SUCCEEDED".
  static std::string SignedText(const v1::ProviderWebhookRequest& request);

  cppsvc::Status Charge(cppsvc::CallContext& ctx,
                        const v1::ChargeRequest& request,
                        v1::ChargeResponse& response) override;
  cppsvc::Status Refund(cppsvc::CallContext& ctx,
                        const v1::RefundRequest& request,
                        v1::RefundResponse& response) override;
  cppsvc::Status GetPayment(cppsvc::CallContext& ctx,
                            const v1::GetPaymentRequest& request,
                            v1::GetPaymentResponse& response) override;
  cppsvc::Status ProviderWebhook(cppsvc::CallContext& ctx,
                                 const v1::ProviderWebhookRequest& request,
                                 v1::ProviderWebhookResponse& response) override;

  // Step "process_payment" of the checkout saga, and its compensation.
  CheckoutProcessPaymentResult CheckoutProcessPayment(
      cppsvc::EventContext& ctx,
      const commerce::products::v1::StockReserved& event) override;
  cppsvc::Status UndoCheckoutProcessPayment(cppsvc::EventContext& ctx,
                                            const cppsvc::sagas::Undo& undo,
                                            v1::PaymentRefunded& done) override;

 private:
  cppsvc::Status DoCharge(const v1::ChargeRequest& request, Payment& payment);
  cppsvc::Status DoRefund(const std::string& request_key,
                          const std::string& payment_id,
                          std::optional<int64_t> amount_cents,
                          const std::string& reason,
                          Payment& payment);
  // Settles a pending payment; false when it was settled already.
  bool Settle(Payment& payment, v1::ProviderOutcome outcome, const std::string& failure_reason);
  void PublishOutcome(const Payment& payment);

  std::shared_ptr<PaymentStore> store_;
  std::shared_ptr<PaymentProvider> provider_;
  std::shared_ptr<services::EventSink> events_;
  std::string webhook_secret_;
};

}  // namespace payments
