#include "payments/webhook.h"

#include <cstdlib>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/util.h"

namespace payments {

namespace v1 = commerce::payments::v1;
using cppsvc::Status;
using cppsvc::StatusCode;

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

std::string WebhookBody(const v1::ProviderWebhookRequest& request) {
  v1::ProviderWebhookRequest unsigned_request = request;
  unsigned_request.clear_signature();
  std::string body;
  {
    google::protobuf::io::StringOutputStream stream(&body);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    unsigned_request.SerializeToCodedStream(&out);
  }
  return body;
}

std::string WebhookSignature(const std::string& secret, const v1::ProviderWebhookRequest& request) {
  return HmacSha256Hex(secret, WebhookBody(request));
}

Status VerifyWebhook(const std::string& secret,
                     const v1::ProviderWebhookRequest& request,
                     std::chrono::system_clock::time_point now) {
  const std::string expected = WebhookSignature(secret, request);
  const std::string& given = request.signature();
  if (secret.empty() || given.size() != expected.size() ||
      CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
    return Status(StatusCode::kUnauthenticated, "invalid webhook signature");
  }
  const int64_t skew = std::llabs(std::chrono::system_clock::to_time_t(now) - request.timestamp());
  if (skew > kWebhookTolerance.count()) {
    return Status(StatusCode::kUnauthenticated,
                  "webhook timestamp is more than " + std::to_string(kWebhookTolerance.count()) +
                      " s away from the server's clock");
  }
  return Status::Ok();
}

}  // namespace payments
