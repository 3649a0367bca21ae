#include "payments/provider.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/util.h"

namespace payments {

ProviderCharge FakeProvider::Charge(const commerce::payments::v1::Payment& payment) {
  ProviderCharge result;
  result.provider_payment_id = "fake_" + services::RandomHex(12);
  if (decline_above_cents_ > 0 && payment.amount_cents() > decline_above_cents_) {
    result.outcome = commerce::payments::v1::PROVIDER_OUTCOME_FAILED;
    result.failure_reason = "card declined";
  } else {
    result.outcome = commerce::payments::v1::PROVIDER_OUTCOME_SUCCEEDED;
  }
  return result;
}

std::string HmacSha256Hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(),
       key.data(),
       static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()),
       data.size(),
       mac,
       &len);
  return services::Hex(std::string_view(reinterpret_cast<const char*>(mac), len));
}

}  // namespace payments
