// The external payment provider behind Charge and Refund.
#pragma once

#include <cstdint>
#include <string>

#include "commerce/payments/v1/payments.pb.h"
#include "cppsvc/status.h"

namespace payments {

struct ProviderCharge {
  // SUCCEEDED or FAILED when the provider settles at once; UNSPECIFIED when
  // the outcome comes later through ProviderWebhook.
  commerce::payments::v1::ProviderOutcome outcome =
      commerce::payments::v1::PROVIDER_OUTCOME_UNSPECIFIED;
  std::string provider_payment_id;
  std::string failure_reason;  // when FAILED
};

class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  virtual std::string name() const = 0;
  virtual ProviderCharge Charge(const commerce::payments::v1::Payment& payment) = 0;
  virtual cppsvc::Status Refund(const commerce::payments::v1::Payment& payment,
                                int64_t amount_cents) = 0;
};

// Stand-in until a real provider is integrated: settles at once, declining
// charges above `decline_above_cents` (0: none), e.g. to exercise the saga's
// compensation. From PAYMENTS_FAKE_DECLINE_ABOVE_CENTS.
class FakeProvider final : public PaymentProvider {
 public:
  explicit FakeProvider(int64_t decline_above_cents = 0)
      : decline_above_cents_(decline_above_cents) {}
  std::string name() const override { return "fake_pay"; }
  ProviderCharge Charge(const commerce::payments::v1::Payment& payment) override;
  cppsvc::Status Refund(const commerce::payments::v1::Payment&, int64_t) override {
    return cppsvc::Status::Ok();
  }

 private:
  int64_t decline_above_cents_;
};

// Lower-case hex HMAC-SHA256 of `data` with `key` (OpenSSL).
std::string HmacSha256Hex(const std::string& key, const std::string& data);

}  // namespace payments
