// Authentication of the provider's webhook notifications: an HMAC-SHA256
// signature over the body with a shared secret, and a timestamp tolerance.
#pragma once

#include <chrono>
#include <string>

#include "commerce/payments/v1/payments.pb.h"
#include "cppsvc/status.h"

namespace payments {

// How far a notification's timestamp may be from the server's clock.
inline constexpr std::chrono::seconds kWebhookTolerance{300};

// Lower-case hex HMAC-SHA256 of `data` with `key` (OpenSSL).
std::string HmacSha256Hex(const std::string& key, const std::string& data);

// The signed body: the request with `signature` empty, in protobuf's
// deterministic binary serialization.
std::string WebhookBody(const commerce::payments::v1::ProviderWebhookRequest& request);

// The signature a provider sharing `secret` puts on `request`.
std::string WebhookSignature(const std::string& secret,
                             const commerce::payments::v1::ProviderWebhookRequest& request);

// UNAUTHENTICATED unless `request` is signed with `secret` and its timestamp
// is within kWebhookTolerance of `now`. The signature is compared in constant
// time.
cppsvc::Status VerifyWebhook(const std::string& secret,
                             const commerce::payments::v1::ProviderWebhookRequest& request,
                             std::chrono::system_clock::time_point now);

}  // namespace payments
