#include "payments/provider.h"

#include <thread>

#include "common/util.h"

namespace payments {

namespace v1 = commerce::payments::v1;

std::string_view CardForAmount(int64_t amount_cents) {
  switch (amount_cents % 100) {
    case 13:
      return kCardDeclined;
    case 17:
      return kCardInsufficientFunds;
    case 19:
      return kCardTransient;
    case 23:
      return kCardSlow;
    default:
      return kCardSucceeds;
  }
}

bool SimulatedProvider::FirstTransientAttempt(const std::string& order_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return transient_seen_.insert(order_id).second;
}

cppsvc::Status SimulatedProvider::Charge(const ChargeAttempt& attempt, ProviderCharge& charge) {
  const std::string_view card = attempt.card_token;
  if (card == kCardTransient && FirstTransientAttempt(attempt.order_id))
    return cppsvc::Status(cppsvc::StatusCode::kUnavailable, "payment provider unavailable");
  if (card == kCardSlow) std::this_thread::sleep_for(slow_delay_);
  charge.provider_payment_id = "sim_ch_" + services::RandomHex(12);
  charge.outcome = v1::PROVIDER_OUTCOME_SUCCEEDED;
  if (card == kCardDeclined || card == kCardInsufficientFunds) {
    charge.outcome = v1::PROVIDER_OUTCOME_FAILED;
    charge.failure_reason = card == kCardDeclined ? "card declined" : "insufficient funds";
  }
  return cppsvc::Status::Ok();
}

cppsvc::Status SimulatedProvider::Refund(const v1::Payment&,
                                         int64_t,
                                         std::string& provider_refund_id) {
  provider_refund_id = "sim_re_" + services::RandomHex(12);
  return cppsvc::Status::Ok();
}

}  // namespace payments
