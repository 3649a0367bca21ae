// Charges, refunds, provider webhooks and the payments side of the checkout
// saga, kept in the payments database (tables payments, refunds and
// webhook_events, through the generated repositories and the call's
// transaction).
#pragma once

#include <memory>
#include <string>

#include "commerce/payments/v1/payments.cppsvc.h"
#include "payments/provider.h"

namespace payments {

namespace v1 = commerce::payments::v1;

class PaymentsService final : public v1::PaymentsServiceBase {
 public:
  // Used when PAYMENTS_WEBHOOK_SECRET is not set; for development only.
  static constexpr char kDevelopmentWebhookSecret[] = "dev-webhook-secret";

  // The simulated provider (slow card: PAYMENTS_SIMULATED_SLOW_MS, 3000 by
  // default) and the webhook secret from PAYMENTS_WEBHOOK_SECRET (or the
  // file named by PAYMENTS_WEBHOOK_SECRET_FILE), else the development one.
  PaymentsService();
  PaymentsService(std::shared_ptr<PaymentProvider> provider, std::string webhook_secret);

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
  // Emits PaymentProcessed or PaymentFailed for a settled payment.
  static void EmitOutcome(const cppsvc::CallContext& ctx, const v1::Payment& payment);

  std::shared_ptr<PaymentProvider> provider_;
  std::string webhook_secret_;
};

}  // namespace payments
