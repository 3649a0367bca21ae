// libFuzzer target over the HTTP/JSON gateway's handling of requests: the
// input is parsed as an HTTP/1.1 request by Beast's parser with the
// gateway's limits, and, when it parses, handled by a Gateway serving every
// route of the commerce contract (path matching, the query string and JSON
// body mapped onto the real request types, edge authentication, CORS); the
// calls themselves answer OK at once. A crash, a hang or a sanitizer report
// fails.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <boost/beast/http.hpp>

#include "cppsvc/gateway/gateway.h"

// Every commerce service's types, linked in so the generated pool has them.
#include "commerce/auth/v1/auth.pb.h"
#include "commerce/notifications/v1/notifications.pb.h"
#include "commerce/orders/v1/orders.pb.h"
#include "commerce/payments/v1/payments.pb.h"
#include "commerce/products/v1/products.pb.h"

namespace {

namespace http = boost::beast::http;
using cppsvc::gateway::Route;

struct Row {
  const char* verb;
  const char* path;
  const char* body;
  const char* method;  // full RPC name
  bool is_public;
};

// The commerce contract's http rules (specs/commerce/*/v1/*.proto).
constexpr Row kRows[] = {
    {"POST", "/v1/auth/register", "*", "commerce.auth.v1.AuthService.Register", true},
    {"POST", "/v1/auth/login", "*", "commerce.auth.v1.AuthService.Login", true},
    {"GET", "/v1/auth/me", "", "commerce.auth.v1.AuthService.Me", false},
    {"POST", "/v1/users/{user_id}/roles", "*", "commerce.auth.v1.AuthService.AssignRole", false},
    {"GET", "/v1/users", "", "commerce.auth.v1.AuthService.ListUsers", false},
    {"GET",
     "/v1/users/{user_id}/notifications",
     "",
     "commerce.notifications.v1.NotificationsService.ListNotifications",
     false},
    {"PATCH",
     "/v1/users/{user_id}/notification-preferences",
     "*",
     "commerce.notifications.v1.NotificationsService.UpdatePreferences",
     false},
    {"POST", "/v1/cart/items", "*", "commerce.orders.v1.OrdersService.AddCartItem", false},
    {"DELETE",
     "/v1/cart/items/{product_id}",
     "",
     "commerce.orders.v1.OrdersService.RemoveCartItem",
     false},
    {"POST", "/v1/orders", "*", "commerce.orders.v1.OrdersService.Checkout", false},
    {"GET", "/v1/users/{user_id}/orders", "", "commerce.orders.v1.OrdersService.ListOrders", false},
    {"POST",
     "/v1/orders/{order_id}:cancel",
     "*",
     "commerce.orders.v1.OrdersService.CancelOrder",
     false},
    {"POST",
     "/v1/payments/{payment_id}:refund",
     "*",
     "commerce.payments.v1.PaymentsService.Refund",
     false},
    {"POST",
     "/v1/payments/webhook",
     "*",
     "commerce.payments.v1.PaymentsService.ProviderWebhook",
     true},
    {"PATCH",
     "/v1/products/{product_id}",
     "*",
     "commerce.products.v1.ProductsService.UpdateProduct",
     false},
    {"GET",
     "/v1/products/{product_id}",
     "",
     "commerce.products.v1.ProductsService.GetProduct",
     true},
    {"GET", "/v1/products", "", "commerce.products.v1.ProductsService.ListProducts", true},
    {"GET", "/v1/products:search", "", "commerce.products.v1.ProductsService.SearchProducts", true},
    {"POST",
     "/v1/products/{product_id}/stock",
     "*",
     "commerce.products.v1.ProductsService.AdjustStock",
     false},
};

// Touches a message of each file so the linker keeps their descriptors.
void LinkContracts() {
  (void)commerce::auth::v1::LoginRequest::default_instance();
  (void)commerce::notifications::v1::GetPreferencesRequest::default_instance();
  (void)commerce::orders::v1::CheckoutRequest::default_instance();
  (void)commerce::payments::v1::RefundRequest::default_instance();
  (void)commerce::products::v1::GetProductRequest::default_instance();
}

std::unique_ptr<cppsvc::gateway::Gateway> MakeGateway() {
  LinkContracts();
  cppsvc::auth::JwtConfig jwt;
  jwt.key = "0123456789abcdef0123456789abcdef";
  jwt.issuer = "fuzz";
  jwt.audience = "fuzz";
  cppsvc::gateway::GatewayOptions options;
  options.cors_origins = {"https://shop.example"};
  auto gateway =
      std::make_unique<cppsvc::gateway::Gateway>(options,
                                                 std::make_shared<cppsvc::auth::JwtVerifier>(jwt),
                                                 cppsvc::auth::RoleGraph(),
                                                 nullptr);
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  for (const Row& row : kRows) {
    const google::protobuf::MethodDescriptor* method = pool->FindMethodByName(row.method);
    if (method == nullptr) __builtin_trap();  // the table names an RPC the contract lacks
    Route route;
    route.spec.verb = row.verb;
    route.spec.path = row.path;
    route.spec.body = row.body;
    route.spec.service = method->service()->full_name();
    route.spec.rpc = method->name();
    route.spec.is_public = row.is_public;
    route.request_prototype = factory->GetPrototype(method->input_type());
    route.response_prototype = factory->GetPrototype(method->output_type());
    route.invoke = [](const google::protobuf::Message&,
                      google::protobuf::Message*,
                      const cppsvc::CallOptions&,
                      std::function<void(cppsvc::Status)> done) { done(cppsvc::Status::Ok()); };
    gateway->Add(std::move(route));
  }
  return gateway;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<cppsvc::gateway::Gateway> gateway = MakeGateway();
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  const auto& req = parser.get();
  cppsvc::gateway::HttpRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  request.body = req.body();
  request.peer = "192.0.2.1";
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  (void)gateway->Handle(request);
  return 0;
}
