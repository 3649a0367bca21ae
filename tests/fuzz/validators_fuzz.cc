// libFuzzer target over the generated request checks of the commerce
// contract: the first byte picks an RPC of any commerce service, the rest is
// parsed as its request, and the server's own per-RPC accessors run on it
// (validation with its patterns, request owner, idempotency key), exactly as
// the server pipeline calls them. A crash, a hang or a sanitizer report fails.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "commerce/auth/v1/auth.cppsvc.server.h"
#include "commerce/notifications/v1/notifications.cppsvc.server.h"
#include "commerce/orders/v1/orders.cppsvc.server.h"
#include "commerce/payments/v1/payments.cppsvc.server.h"
#include "commerce/products/v1/products.cppsvc.server.h"

namespace {

struct Target {
  const cppsvc::impl::MethodSpec* spec;
  const google::protobuf::Message* prototype;  // of the RPC's request type
};

void Add(const std::vector<const cppsvc::impl::MethodSpec*>& methods, std::vector<Target>& out) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  for (const cppsvc::impl::MethodSpec* spec : methods) {
    std::string name(spec->full_name);
    name[name.find('/')] = '.';
    const google::protobuf::MethodDescriptor* method = pool->FindMethodByName(name);
    if (method == nullptr) __builtin_trap();  // the spec names an RPC protoc did not declare
    out.push_back({spec, factory->GetPrototype(method->input_type())});
  }
}

std::vector<Target> Targets() {
  std::vector<Target> targets;
  Add(commerce::auth::v1::AuthServiceServer::Methods(), targets);
  Add(commerce::notifications::v1::NotificationsServiceServer::Methods(), targets);
  Add(commerce::orders::v1::OrdersServiceServer::Methods(), targets);
  Add(commerce::payments::v1::PaymentsServiceServer::Methods(), targets);
  Add(commerce::products::v1::ProductsServiceServer::Methods(), targets);
  return targets;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<Target> targets = Targets();
  if (size == 0) return 0;
  const Target& target = targets[data[0] % targets.size()];
  std::unique_ptr<google::protobuf::Message> request(target.prototype->New());
  if (!request->ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;
  const cppsvc::impl::MethodSpec& spec = *target.spec;
  if (spec.validate != nullptr) {
    cppsvc::impl::Violations violations;
    spec.validate(*request, violations);
    if (violations.ToString().empty() != violations.empty()) __builtin_trap();
  }
  if (spec.request_owner != nullptr) (void)spec.request_owner(*request);
  if (spec.idempotency_key != nullptr) (void)spec.idempotency_key(*request);
  return 0;
}
