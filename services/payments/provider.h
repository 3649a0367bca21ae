// The external payment provider behind Charge and Refund, and the simulated
// provider the commerce system runs with.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "commerce/payments/v1/payments.pb.h"
#include "cppsvc/status.h"

namespace payments {

// What the provider is asked to charge.
struct ChargeAttempt {
  std::string payment_id;
  // Also the provider's idempotency key: one charge per order.
  std::string order_id;
  int64_t amount_cents = 0;
  std::string card_token;
};

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
  // Not OK when the provider could not be asked (a transient failure: nothing
  // was charged, the caller may try again).
  virtual cppsvc::Status Charge(const ChargeAttempt& attempt, ProviderCharge& charge) = 0;
  // Refunds `amount_cents` of a succeeded payment; sets the refund's id.
  virtual cppsvc::Status Refund(const commerce::payments::v1::Payment& payment,
                                int64_t amount_cents,
                                std::string& provider_refund_id) = 0;
};

// Test card tokens of the simulated provider (any other token succeeds).
inline constexpr std::string_view kCardSucceeds = "tok_success";
inline constexpr std::string_view kCardDeclined = "tok_declined";
inline constexpr std::string_view kCardInsufficientFunds = "tok_insufficient_funds";
inline constexpr std::string_view kCardTransient = "tok_transient";
inline constexpr std::string_view kCardSlow = "tok_slow";

// The token an amount selects when the caller names no card (the saga's
// events carry none), by its cents: 13 declined, 17 insufficient funds,
// 19 transient once, 23 slow, anything else succeeds.
std::string_view CardForAmount(int64_t amount_cents);

// Settles at once, deterministically by card token: declines, refuses for
// insufficient funds, fails the first attempt of an order transiently, or
// succeeds after `slow_delay`. Thread-safe.
class SimulatedProvider final : public PaymentProvider {
 public:
  explicit SimulatedProvider(std::chrono::milliseconds slow_delay = std::chrono::milliseconds(3000))
      : slow_delay_(slow_delay) {}
  std::string name() const override { return "simulated"; }
  cppsvc::Status Charge(const ChargeAttempt& attempt, ProviderCharge& charge) override;
  cppsvc::Status Refund(const commerce::payments::v1::Payment& payment,
                        int64_t amount_cents,
                        std::string& provider_refund_id) override;

 private:
  // True the first time an order is seen with the transient card.
  bool FirstTransientAttempt(const std::string& order_id);

  std::chrono::milliseconds slow_delay_;
  std::mutex mu_;
  std::set<std::string> transient_seen_;  // orders whose transient failure happened
};

}  // namespace payments
