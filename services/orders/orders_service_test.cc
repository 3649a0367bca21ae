#include "orders/orders_service.h"

#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "common/util.h"
#include "cppsvc/ownership.h"

namespace orders {
namespace {

using cppsvc::StatusCode;

constexpr char kAlice[] = "7d0b4c2e-0000-4000-8000-00000000a11c";
constexpr char kBob[] = "7d0b4c2e-0000-4000-8000-000000000b0b";
constexpr char kPen[] = "11111111-1111-4111-8111-111111111111";
constexpr char kInk[] = "22222222-2222-4222-8222-222222222222";

class FakeCatalog : public ProductCatalog {
 public:
  std::map<std::string, CatalogProduct> products;
  cppsvc::Status GetProduct(const cppsvc::CallContext&,
                            const std::string& id,
                            CatalogProduct& out) override {
    auto it = products.find(id);
    if (it == products.end()) return cppsvc::Status::NotFound("no such product");
    out = it->second;
    return cppsvc::Status::Ok();
  }
};

cppsvc::CallContext Ctx(const std::string& user, std::vector<std::string> roles = {"customer"}) {
  return cppsvc::CallContext(cppsvc::Caller{user, std::move(roles), "jti-" + user},
                             cppsvc::Clock::now() + std::chrono::seconds(5),
                             "m",
                             "t");
}

class OrdersServiceTest : public ::testing::Test {
 protected:
  OrdersServiceTest() {
    catalog->products[kPen] = {kPen, "Pen", 250};
    catalog->products[kInk] = {kInk, "Ink", 1000};
    service =
        std::make_unique<OrdersService>(std::make_shared<InMemoryOrderStore>(), catalog, outbox);
  }

  cppsvc::Status Add(const std::string& user,
                     const std::string& product,
                     int quantity,
                     v1::Cart* cart = nullptr) {
    auto ctx = Ctx(user);
    v1::AddCartItemRequest req;
    req.set_product_id(product);
    req.set_quantity(quantity);
    v1::AddCartItemResponse resp;
    cppsvc::Status s = service->AddCartItem(ctx, req, resp);
    if (cart) *cart = resp.cart();
    return s;
  }

  v1::Order CheckoutOk(const std::string& user, const std::string& request_id) {
    auto ctx = Ctx(user);
    v1::CheckoutRequest req;
    req.set_request_id(request_id);
    v1::CheckoutResponse resp;
    EXPECT_TRUE(service->Checkout(ctx, req, resp).ok());
    return resp.order();
  }

  // Places an order of one pen and takes it through the saga to CONFIRMED.
  v1::Order ConfirmedOrder(const std::string& user) {
    EXPECT_TRUE(Add(user, kPen, 1).ok());
    v1::Order order = CheckoutOk(user, services::NewUuid());
    cppsvc::EventContext ectx("e", "s", 1, "t");
    commerce::products::v1::StockReserved reserved;
    reserved.set_order_id(order.id());
    EXPECT_TRUE(service->OnStockReserved(ectx, reserved).ok());
    commerce::payments::v1::PaymentProcessed paid;
    paid.set_order_id(order.id());
    paid.set_payment_id("pay-1");
    EXPECT_TRUE(service->OnPaymentProcessed(ectx, paid).ok());
    return Get(order.id());
  }

  v1::Order Get(const std::string& id) {
    auto ctx = Ctx(kAlice);
    v1::GetOrderRequest req;
    req.set_order_id(id);
    v1::GetOrderResponse resp;
    EXPECT_TRUE(service->GetOrder(ctx, req, resp).ok());
    return resp.order();
  }

  cppsvc::Status Cancel(const std::string& user,
                        const std::string& id,
                        std::vector<std::string> roles = {"customer"}) {
    auto ctx = Ctx(user, std::move(roles));
    v1::CancelOrderRequest req;
    req.set_order_id(id);
    req.set_detail("changed my mind");
    v1::CancelOrderResponse resp;
    return service->CancelOrder(ctx, req, resp);
  }

  std::shared_ptr<FakeCatalog> catalog = std::make_shared<FakeCatalog>();
  std::shared_ptr<services::InMemoryOutbox> outbox = std::make_shared<services::InMemoryOutbox>();
  std::unique_ptr<v1::OrdersServiceBase> service;
};

TEST_F(OrdersServiceTest, AddCartItemCopiesCatalogAndReplacesQuantity) {
  v1::Cart cart;
  ASSERT_TRUE(Add(kAlice, kPen, 2).ok());
  ASSERT_TRUE(Add(kAlice, kInk, 1).ok());
  ASSERT_TRUE(Add(kAlice, kPen, 5, &cart).ok());
  ASSERT_EQ(cart.items_size(), 2);
  EXPECT_EQ(cart.items(0).product_id(), kPen);  // oldest first, replaced in place
  EXPECT_EQ(cart.items(0).product_name(), "Pen");
  EXPECT_EQ(cart.items(0).quantity(), 5);
  EXPECT_EQ(cart.total_cents(), 5 * 250 + 1000);
}

TEST_F(OrdersServiceTest, AddCartItemOfUnknownProductIsNotFound) {
  EXPECT_EQ(Add(kAlice, "33333333-3333-4333-8333-333333333333", 1).code(), StatusCode::kNotFound);
}

TEST_F(OrdersServiceTest, CartsBelongToTheirCaller) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  auto ctx = Ctx(kBob);
  v1::GetCartResponse resp;
  ASSERT_TRUE(service->GetCart(ctx, {}, resp).ok());
  EXPECT_EQ(resp.cart().items_size(), 0);
}

TEST_F(OrdersServiceTest, RemoveCartItem) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  ASSERT_TRUE(Add(kAlice, kInk, 1).ok());
  auto ctx = Ctx(kAlice);
  v1::RemoveCartItemRequest req;
  req.set_product_id(kPen);
  v1::RemoveCartItemResponse resp;
  ASSERT_TRUE(service->RemoveCartItem(ctx, req, resp).ok());
  ASSERT_EQ(resp.cart().items_size(), 1);
  EXPECT_EQ(resp.cart().items(0).product_id(), kInk);
  EXPECT_EQ(resp.cart().total_cents(), 1000);
  EXPECT_TRUE(service->RemoveCartItem(ctx, req, resp).ok());  // idempotent
}

TEST_F(OrdersServiceTest, CartIsLimitedTo100Products) {
  for (size_t i = 0; i < OrdersService::kMaxCartLines; ++i) {
    std::string id = services::NewUuid();
    catalog->products[id] = {id, "P", 1};
    ASSERT_TRUE(Add(kAlice, id, 1).ok());
  }
  EXPECT_EQ(Add(kAlice, kPen, 1).code(), StatusCode::kFailedPrecondition);
}

TEST_F(OrdersServiceTest, CheckoutOfEmptyCartFails) {
  auto ctx = Ctx(kAlice);
  v1::CheckoutRequest req;
  req.set_request_id(services::NewUuid());
  v1::CheckoutResponse resp;
  EXPECT_EQ(service->Checkout(ctx, req, resp).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(outbox->Events().empty());
}

TEST_F(OrdersServiceTest, CheckoutCreatesPendingOrderEmptiesCartAndRecordsOrderCreated) {
  ASSERT_TRUE(Add(kAlice, kPen, 2).ok());
  ASSERT_TRUE(Add(kAlice, kInk, 1).ok());
  const std::string request_id = services::NewUuid();
  v1::Order order = CheckoutOk(kAlice, request_id);
  EXPECT_EQ(order.status(), v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(order.user_id(), kAlice);
  EXPECT_EQ(order.lines_size(), 2);
  EXPECT_EQ(order.total_cents(), 1500);

  auto ctx = Ctx(kAlice);
  v1::GetCartResponse cart;
  ASSERT_TRUE(service->GetCart(ctx, {}, cart).ok());
  EXPECT_EQ(cart.cart().items_size(), 0);

  auto created = outbox->EventsOf<v1::OrderCreated>();
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].order_id(), order.id());
  EXPECT_EQ(created[0].total_cents(), 1500);
  EXPECT_EQ(outbox->Events()[0].subject, "commerce.orders.order_created");
  EXPECT_EQ(outbox->Events()[0].key, order.id());

  // A retry returns the same order and starts no second saga.
  EXPECT_EQ(CheckoutOk(kAlice, request_id).id(), order.id());
  EXPECT_EQ(outbox->Events().size(), 1u);
}

TEST_F(OrdersServiceTest, GetOrderOfUnknownIdIsNotFound) {
  auto ctx = Ctx(kAlice);
  v1::GetOrderRequest req;
  req.set_order_id(services::NewUuid());
  v1::GetOrderResponse resp;
  // Exactly the runtime's answer for another customer's order (owner_field).
  const cppsvc::Status status = service->GetOrder(ctx, req, resp);
  const cppsvc::Status foreign = cppsvc::ForeignResource(cppsvc::ForeignResources::kNotFound);
  EXPECT_EQ(status.code(), foreign.code());
  EXPECT_EQ(status.message(), foreign.message());
}

TEST_F(OrdersServiceTest, CancelOrderOnlyWhenConfirmed) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  v1::Order pending = CheckoutOk(kAlice, services::NewUuid());
  EXPECT_EQ(Cancel(kAlice, pending.id()).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Cancel(kAlice, services::NewUuid()).code(), StatusCode::kNotFound);

  v1::Order confirmed = ConfirmedOrder(kAlice);
  ASSERT_EQ(confirmed.status(), v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(confirmed.payment_id(), "pay-1");
  ASSERT_EQ(outbox->EventsOf<v1::OrderConfirmed>().size(), 1u);

  // Another customer's order answers as an order that does not exist.
  const cppsvc::Status foreign = Cancel(kBob, confirmed.id());
  const cppsvc::Status missing = Cancel(kBob, services::NewUuid());
  EXPECT_EQ(foreign.code(), StatusCode::kNotFound);
  EXPECT_EQ(foreign.code(), missing.code());
  EXPECT_EQ(foreign.message(), missing.message());
  ASSERT_TRUE(Cancel(kAlice, confirmed.id()).ok());
  v1::Order cancelled = Get(confirmed.id());
  EXPECT_EQ(cancelled.status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(cancelled.cancellation_reason(), v1::CANCELLATION_REASON_CUSTOMER_REQUEST);
  auto events = outbox->EventsOf<v1::OrderCancelled>();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].detail(), "changed my mind");
  EXPECT_EQ(Cancel(kAlice, confirmed.id()).code(), StatusCode::kFailedPrecondition);
}

TEST_F(OrdersServiceTest, AdminCancelsAnyonesOrder) {
  v1::Order confirmed = ConfirmedOrder(kBob);
  EXPECT_TRUE(Cancel(kAlice, confirmed.id(), {"admin"}).ok());
}

TEST_F(OrdersServiceTest, StockRejectedCancelsForOutOfStock) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  v1::Order order = CheckoutOk(kAlice, services::NewUuid());
  cppsvc::EventContext ectx("e", "s", 1, "t");
  commerce::products::v1::StockRejected rejected;
  rejected.set_order_id(order.id());
  rejected.set_reason("no pens left");
  ASSERT_TRUE(service->OnStockRejected(ectx, rejected).ok());
  v1::Order after = Get(order.id());
  EXPECT_EQ(after.status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(after.cancellation_reason(), v1::CANCELLATION_REASON_OUT_OF_STOCK);
  EXPECT_EQ(outbox->EventsOf<v1::OrderCancelled>().size(), 1u);
}

TEST_F(OrdersServiceTest, PaymentFailedCancelsOnceStockIsReleased) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  v1::Order order = CheckoutOk(kAlice, services::NewUuid());
  cppsvc::EventContext ectx("e", "s", 1, "t");
  commerce::products::v1::StockReserved reserved;
  reserved.set_order_id(order.id());
  ASSERT_TRUE(service->OnStockReserved(ectx, reserved).ok());
  commerce::payments::v1::PaymentFailed failed;
  failed.set_order_id(order.id());
  failed.set_reason("card declined");
  ASSERT_TRUE(service->OnPaymentFailed(ectx, failed).ok());
  EXPECT_EQ(Get(order.id()).status(), v1::ORDER_STATUS_STOCK_RESERVED);
  EXPECT_TRUE(outbox->EventsOf<v1::OrderCancelled>().empty());

  commerce::products::v1::StockReleased released;
  released.set_order_id(order.id());
  ASSERT_TRUE(service->OnStockReleased(ectx, released).ok());
  v1::Order after = Get(order.id());
  EXPECT_EQ(after.status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(after.cancellation_reason(), v1::CANCELLATION_REASON_PAYMENT_FAILED);
  EXPECT_EQ(after.cancellation_detail(), "card declined");
  EXPECT_EQ(outbox->EventsOf<v1::OrderCancelled>().size(), 1u);
}

TEST_F(OrdersServiceTest, EventsForUnknownOrdersAreAcknowledged) {
  cppsvc::EventContext ectx("e", "s", 1, "t");
  commerce::products::v1::StockReserved reserved;
  reserved.set_order_id(services::NewUuid());
  EXPECT_TRUE(service->OnStockReserved(ectx, reserved).ok());
}

TEST_F(OrdersServiceTest, ListOrdersPagesNewestFirstAndFilters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
    ids.push_back(CheckoutOk(kAlice, services::NewUuid()).id());
  }
  ASSERT_TRUE(Add(kBob, kPen, 1).ok());
  CheckoutOk(kBob, services::NewUuid());

  auto ctx = Ctx(kAlice);
  v1::ListOrdersRequest req;
  req.set_user_id(kAlice);
  req.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    v1::ListOrdersResponse resp;
    ASSERT_TRUE(service->ListOrders(ctx, req, resp).ok());
    EXPECT_LE(resp.orders_size(), 2);
    for (const auto& o : resp.orders()) seen.push_back(o.id());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(seen, std::vector<std::string>(ids.rbegin(), ids.rend()));

  req.clear_page_token();
  req.set_page_size(0);
  req.set_status(v1::ORDER_STATUS_CONFIRMED);
  v1::ListOrdersResponse none;
  ASSERT_TRUE(service->ListOrders(ctx, req, none).ok());
  EXPECT_EQ(none.orders_size(), 0);
  EXPECT_TRUE(none.next_page_token().empty());

  req.set_page_token("garbage");
  EXPECT_EQ(service->ListOrders(ctx, req, none).code(), StatusCode::kInvalidArgument);
}

TEST_F(OrdersServiceTest, ConcurrentRetriesOfACheckoutMakeOneOrder) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  const std::string request_id = services::NewUuid();
  std::vector<std::string> ids(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] {
      auto ctx = Ctx(kAlice);
      v1::CheckoutRequest req;
      req.set_request_id(request_id);
      v1::CheckoutResponse resp;
      if (service->Checkout(ctx, req, resp).ok()) ids[i] = resp.order().id();
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_FALSE(ids.front().empty());
  for (const std::string& id : ids) EXPECT_EQ(id, ids.front());
  EXPECT_EQ(outbox->EventsOf<v1::OrderCreated>().size(), 1u);
}

}  // namespace
}  // namespace orders
