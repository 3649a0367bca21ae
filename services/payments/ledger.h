// The payments database within one transaction: payments (at most one per
// order, by a unique index on payments.order_id), refunds (one per request,
// by a unique index on refunds.request_key) and the webhook notifications
// seen (webhook_events), through the generated repositories.
#pragma once

#include <optional>
#include <string>

#include "commerce/payments/v1/payments.pb.h"
#include "cppsvc/db/transaction.h"
#include "cppsvc/status.h"
#include "payments/provider.h"

namespace payments {

namespace v1 = commerce::payments::v1;

// What to charge.
struct ChargeOrder {
  std::string order_id;
  std::string user_id;
  int64_t amount_cents = 0;
  std::string card_token;  // empty: CardForAmount(amount_cents)
};

// What to refund.
struct RefundOrder {
  // "refund:<request_id>" or "saga:<order_id>": a key refunds once.
  std::string request_key;
  std::string payment_id;
  std::optional<int64_t> amount_cents;  // unset: all that is left
  std::string reason;
};

class Ledger {
 public:
  Ledger(cppsvc::db::Tx& tx, PaymentProvider& provider) : tx_(tx), provider_(provider) {}

  // The order's payment, if it has one.
  std::optional<v1::Payment> PaymentOfOrder(const std::string& order_id);

  // Charges an order: inserts its payment PENDING, asks the provider and
  // stores the outcome. The insert comes first, so a concurrent charge of the
  // same order waits on the unique index and then fails (ALREADY_EXISTS)
  // without reaching the provider. A provider failure is returned as is: the
  // caller's transaction rolls back and nothing is kept.
  cppsvc::Status Charge(const ChargeOrder& order, v1::Payment& payment);

  // Refunds a succeeded payment once per request key, holding the payment's
  // row lock; a repeated key returns the first refund with `repeated` set.
  cppsvc::Status Refund(const RefundOrder& order,
                        v1::Payment& payment,
                        v1::PaymentRefund& refund,
                        bool& repeated);

  // Records a webhook notification as seen. False when it was seen before;
  // then `applied` is the first answer.
  bool RecordWebhook(const v1::ProviderWebhookRequest& request, bool& applied);
  void SetWebhookApplied(const v1::ProviderWebhookRequest& request, bool applied);

  // Moves a PENDING payment (held locked) to the provider's outcome; `changed`
  // is false when it was settled already.
  cppsvc::Status Settle(const v1::ProviderWebhookRequest& request,
                        v1::Payment& payment,
                        bool& changed);

 private:
  // Locks the payment's row (FOR UPDATE) and reads it with its version.
  std::optional<v1::Payment> LockPayment(const std::string& payment_id, int64_t& version);
  std::optional<v1::PaymentRefund> RefundOfKey(const std::string& request_key);
  cppsvc::Status RefundAmount(const RefundOrder& order, const v1::Payment& payment, int64_t& out);

  cppsvc::db::Tx& tx_;
  PaymentProvider& provider_;
};

// Applies a settled provider outcome to `payment`; false when the outcome is
// UNSPECIFIED.
bool ApplyOutcome(v1::Payment& payment,
                  v1::ProviderOutcome outcome,
                  const std::string& failure_reason);

}  // namespace payments
