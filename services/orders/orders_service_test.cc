#include "orders/orders_service.h"

#include <cstdio>
#include <map>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "commerce/orders/v1/orders.cppsvc.server.h"
#include "cppsvc/db/transaction.h"
#include "cppsvc/testing/saga_harness.h"
#include "cppsvc/testing/test_database.h"

namespace orders {
namespace {

using cppsvc::Status;
using cppsvc::StatusCode;
using cppsvc::sagas::InputKind;

constexpr char kAlice[] = "7d0b4c2e-0000-4000-8000-00000000a11c";
constexpr char kBob[] = "7d0b4c2e-0000-4000-8000-000000000b0b";
constexpr char kPen[] = "11111111-1111-4111-8111-111111111111";
constexpr char kInk[] = "22222222-2222-4222-8222-222222222222";

class FakeCatalog : public ProductCatalog {
 public:
  std::map<std::string, CatalogProduct> products;
  Status GetProduct(const cppsvc::CallContext&,
                    const std::string& id,
                    CatalogProduct& out) override {
    auto it = products.find(id);
    if (it == products.end()) return Status::NotFound("no such product");
    out = it->second;
    return Status::Ok();
  }
};

// The orders service on a database of its own; each call runs in a
// transaction of its own, as the generated server runs it.
class OrdersServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    db_ = cppsvc::testing::TestDatabase::Create(v1::OrdersServiceServer::Migrations(), &why);
    if (!db_) GTEST_SKIP() << why;
    catalog_->products[kPen] = {kPen, "Pen", 250};
    catalog_->products[kInk] = {kInk, "Ink", 1000};
    service_ = std::make_unique<OrdersService>(catalog_);
    saga_ = std::make_unique<cppsvc::testing::SagaHarness>(service_->CheckoutSaga(), *db_->pool());
  }

  template <typename Call>
  Status As(const std::string& user, Call call, std::vector<std::string> roles = {"customer"}) {
    return cppsvc::db::RunInTransaction(*db_->pool(),
                                        cppsvc::Clock::now() + std::chrono::seconds(10),
                                        [&](cppsvc::db::Tx& tx) {
                                          cppsvc::CallContext ctx(
                                              cppsvc::Caller{user, roles, "jti"},
                                              cppsvc::Clock::now() + std::chrono::seconds(10),
                                              "m",
                                              "t");
                                          ctx.set_tx(&tx);
                                          return call(ctx);
                                        });
  }

  Status Add(const std::string& user,
             const std::string& product,
             int quantity,
             v1::Cart* cart = nullptr) {
    v1::AddCartItemRequest req;
    req.set_product_id(product);
    req.set_quantity(quantity);
    v1::AddCartItemResponse resp;
    Status s =
        As(user, [&](cppsvc::CallContext& ctx) { return service_->AddCartItem(ctx, req, resp); });
    if (cart != nullptr) *cart = resp.cart();
    return s;
  }

  // Checks out `user`'s cart and starts its saga, as the consumer of
  // OrderCreated does.
  v1::Order CheckoutOk(const std::string& user) {
    v1::CheckoutRequest req;
    req.set_request_id(cppsvc::impl::NewUuid());
    v1::CheckoutResponse resp;
    EXPECT_TRUE(As(user, [&](cppsvc::CallContext& ctx) {
                  return service_->Checkout(ctx, req, resp);
                }).ok());
    saga_->Start(resp.order().id());
    return resp.order();
  }

  v1::Order Get(const std::string& id) {
    v1::GetOrderRequest req;
    req.set_order_id(id);
    v1::GetOrderResponse resp;
    EXPECT_TRUE(As(kAlice, [&](cppsvc::CallContext& ctx) {
                  return service_->GetOrder(ctx, req, resp);
                }).ok());
    return resp.order();
  }

  Status Cancel(const std::string& user,
                const std::string& id,
                std::vector<std::string> roles = {"customer"}) {
    v1::CancelOrderRequest req;
    req.set_order_id(id);
    v1::CancelOrderResponse resp;
    return As(
        user,
        [&](cppsvc::CallContext& ctx) { return service_->CancelOrder(ctx, req, resp); },
        roles);
  }

  // Event types in the outbox for `key`, oldest first.
  std::vector<std::string> Outbox(const std::string& key) {
    std::vector<std::string> types;
    EXPECT_TRUE(
        As(kAlice, [&](cppsvc::CallContext& ctx) {
          for (const auto& r : ctx.tx().exec_params(
                   "SELECT event_type FROM cppsvc_outbox WHERE ordering_key = $1 ORDER BY seq",
                   key))
            types.push_back(r[0].as<std::string>());
          return Status::Ok();
        }).ok());
    return types;
  }

  std::shared_ptr<FakeCatalog> catalog_ = std::make_shared<FakeCatalog>();
  std::unique_ptr<cppsvc::testing::TestDatabase> db_;
  std::unique_ptr<OrdersService> service_;
  std::unique_ptr<cppsvc::testing::SagaHarness> saga_;
};

TEST_F(OrdersServiceTest, AddCartItemCopiesNameAndPriceAndReplacesTheQuantity) {
  v1::Cart cart;
  ASSERT_TRUE(Add(kAlice, kPen, 2).ok());
  ASSERT_TRUE(Add(kAlice, kInk, 1).ok());
  ASSERT_TRUE(Add(kAlice, kPen, 3, &cart).ok());
  ASSERT_EQ(cart.items_size(), 2);
  EXPECT_EQ(cart.total_cents(), 3 * 250 + 1000);
  EXPECT_EQ(Add(kAlice, "33333333-3333-4333-8333-333333333333", 1).code(), StatusCode::kNotFound);
  v1::GetCartResponse bobs;
  ASSERT_TRUE(
      As(kBob, [&](cppsvc::CallContext& ctx) { return service_->GetCart(ctx, {}, bobs); }).ok());
  EXPECT_EQ(bobs.cart().items_size(), 0);
}

// AddCartItem answers with the cart it wrote, not a second read of it: the
// answer must be what GetCart reads afterwards, lines in the same order.
TEST_F(OrdersServiceTest, AddCartItemAnswersWithTheCartAsGetCartReadsIt) {
  v1::Cart added;
  ASSERT_TRUE(Add(kAlice, kInk, 1).ok());
  ASSERT_TRUE(Add(kAlice, kPen, 2, &added).ok());  // before the ink line in key order
  ASSERT_TRUE(Add(kAlice, kInk, 4, &added).ok());
  v1::GetCartResponse read;
  ASSERT_TRUE(
      As(kAlice, [&](cppsvc::CallContext& ctx) { return service_->GetCart(ctx, {}, read); }).ok());
  EXPECT_EQ(added.DebugString(), read.cart().DebugString());
  ASSERT_EQ(added.items_size(), 2);
  EXPECT_EQ(added.items(0).product_id(), kPen);
  EXPECT_EQ(added.items(1).quantity(), 4);
  EXPECT_EQ(added.total_cents(), 2 * 250 + 4 * 1000);
}

TEST_F(OrdersServiceTest, AddCartItemRefusesANewLineBeyondTheLimitButChangesAnExistingOne) {
  for (size_t i = 0; i <= OrdersService::kMaxCartLines; ++i) {
    char id[37];
    std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012zu", i);
    catalog_->products[id] = {id, "Item", 100};
    const Status s = Add(kAlice, id, 1);
    EXPECT_EQ(s.code(),
              i < OrdersService::kMaxCartLines ? StatusCode::kOk : StatusCode::kFailedPrecondition)
        << i;
  }
  v1::Cart cart;
  ASSERT_TRUE(Add(kAlice, "00000000-0000-4000-8000-000000000007", 3, &cart).ok());
  EXPECT_EQ(static_cast<size_t>(cart.items_size()), OrdersService::kMaxCartLines);
  EXPECT_EQ(cart.items(7).quantity(), 3);
}

TEST_F(OrdersServiceTest, CheckoutPlacesAPendingOrderEmptiesTheCartAndEmitsOrderCreated) {
  ASSERT_TRUE(Add(kAlice, kPen, 2).ok());
  const v1::Order order = CheckoutOk(kAlice);
  EXPECT_EQ(order.status(), v1::ORDER_STATUS_PENDING);
  EXPECT_EQ(order.total_cents(), 500);
  EXPECT_EQ(Outbox(order.id()), std::vector<std::string>{"commerce.orders.v1.OrderCreated"});
  v1::CheckoutRequest again;
  again.set_request_id(cppsvc::impl::NewUuid());
  v1::CheckoutResponse resp;
  EXPECT_EQ(
      As(kAlice, [&](cppsvc::CallContext& ctx) { return service_->Checkout(ctx, again, resp); })
          .code(),
      StatusCode::kFailedPrecondition);
}

TEST_F(OrdersServiceTest, TheSagaConfirmsAPaidOrder) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  const v1::Order order = CheckoutOk(kAlice);
  saga_->Deliver(order.id(), InputKind::kSucceeded, 0);
  EXPECT_EQ(Get(order.id()).status(), v1::ORDER_STATUS_STOCK_RESERVED);
  commerce::payments::v1::PaymentProcessed paid;
  paid.set_payment_id("pay-1");
  saga_->Deliver(order.id(), InputKind::kSucceeded, 1, paid);
  const v1::Order after = Get(order.id());
  EXPECT_EQ(after.status(), v1::ORDER_STATUS_CONFIRMED);
  EXPECT_EQ(after.payment_id(), "pay-1");
  EXPECT_EQ(Outbox(order.id()).back(), "commerce.orders.v1.OrderConfirmed");
  EXPECT_EQ(Cancel(kAlice, order.id()).code(), StatusCode::kFailedPrecondition);
}

// A participant may answer before the owner's own delivery of the trigger:
// Checkout's Emit of OrderCreated starts the instance in its transaction, so
// the early answer advances it instead of being dropped as unknown.
TEST_F(OrdersServiceTest, TheSagaStartsInCheckoutsTransaction) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  v1::CheckoutRequest req;
  req.set_request_id(cppsvc::impl::NewUuid());
  v1::CheckoutResponse resp;
  ASSERT_TRUE(As(kAlice, [&](cppsvc::CallContext& ctx) {
                return service_->Checkout(ctx, req, resp);
              }).ok());
  const std::string id = resp.order().id();
  saga_->Deliver(id, InputKind::kSucceeded, 0);  // stock reserved: the instance exists
  EXPECT_EQ(Get(id).status(), v1::ORDER_STATUS_STOCK_RESERVED);
  saga_->Start(id);  // a second start of the same id changes nothing
  EXPECT_EQ(Get(id).status(), v1::ORDER_STATUS_STOCK_RESERVED);
  commerce::payments::v1::PaymentProcessed paid;
  paid.set_payment_id("pay-early");
  saga_->Deliver(id, InputKind::kSucceeded, 1, paid);
  EXPECT_EQ(Get(id).status(), v1::ORDER_STATUS_CONFIRMED);
}

TEST_F(OrdersServiceTest, StockRejectedCancelsForOutOfStock) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  const v1::Order order = CheckoutOk(kAlice);
  commerce::products::v1::StockRejected rejected;
  rejected.set_reason("no pens left");
  saga_->Deliver(order.id(), InputKind::kFailed, 0, rejected);
  const v1::Order after = Get(order.id());
  EXPECT_EQ(after.status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(after.cancellation_reason(), v1::CANCELLATION_REASON_OUT_OF_STOCK);
  EXPECT_EQ(after.cancellation_detail(), "no pens left");
  EXPECT_EQ(Outbox(order.id()).back(), "commerce.orders.v1.OrderCancelled");
}

TEST_F(OrdersServiceTest, AFailedPaymentCancelsOnceTheStockIsReleased) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  const v1::Order order = CheckoutOk(kAlice);
  saga_->Deliver(order.id(), InputKind::kSucceeded, 0);
  commerce::payments::v1::PaymentFailed failed;
  failed.set_reason("card declined");
  saga_->Deliver(order.id(), InputKind::kFailed, 1, failed);
  EXPECT_EQ(Get(order.id()).status(), v1::ORDER_STATUS_STOCK_RESERVED);
  EXPECT_EQ(saga_->Undos(order.id()), std::vector<std::string>{"reserve_stock"});
  saga_->Deliver(order.id(), InputKind::kCompensated, 0);
  const v1::Order after = Get(order.id());
  EXPECT_EQ(after.status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(after.cancellation_reason(), v1::CANCELLATION_REASON_PAYMENT_FAILED);
  EXPECT_EQ(after.cancellation_detail(), "card declined");
}

TEST_F(OrdersServiceTest, CancelOrderInCheckoutUndoesTheSaga) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  const v1::Order order = CheckoutOk(kAlice);
  saga_->Deliver(order.id(), InputKind::kSucceeded, 0);
  EXPECT_EQ(Cancel(kBob, order.id()).code(), StatusCode::kNotFound);
  ASSERT_TRUE(Cancel(kAlice, order.id()).ok());
  EXPECT_EQ(saga_->Undos(order.id()), (std::vector<std::string>{"process_payment"}));
  saga_->Deliver(order.id(), InputKind::kCompensated, 1);
  saga_->Deliver(order.id(), InputKind::kCompensated, 0);
  const v1::Order after = Get(order.id());
  EXPECT_EQ(after.status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(after.cancellation_reason(), v1::CANCELLATION_REASON_CUSTOMER_REQUEST);
  EXPECT_EQ(Cancel(kAlice, order.id()).code(), StatusCode::kFailedPrecondition);
}

TEST_F(OrdersServiceTest, AnUnfinishedCheckoutTimesOut) {
  ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
  const v1::Order order = CheckoutOk(kAlice);
  saga_->Expire(order.id());
  saga_->Deliver(order.id(), InputKind::kCompensated, 0);
  const v1::Order after = Get(order.id());
  EXPECT_EQ(after.status(), v1::ORDER_STATUS_CANCELLED);
  EXPECT_EQ(after.cancellation_reason(), v1::CANCELLATION_REASON_TIMEOUT);
}

TEST_F(OrdersServiceTest, ListOrdersPagesNewestFirstAndFilters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Add(kAlice, kPen, 1).ok());
    ids.insert(ids.begin(), CheckoutOk(kAlice).id());
  }
  ASSERT_TRUE(Add(kBob, kPen, 1).ok());
  CheckoutOk(kBob);
  std::vector<std::string> seen;
  v1::ListOrdersRequest req;
  req.set_user_id(kAlice);
  req.set_page_size(2);
  for (int page = 0; page < 5; ++page) {
    v1::ListOrdersResponse resp;
    ASSERT_TRUE(As(kAlice, [&](cppsvc::CallContext& ctx) {
                  return service_->ListOrders(ctx, req, resp);
                }).ok());
    for (const v1::Order& o : resp.orders()) seen.push_back(o.id());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(seen, ids);
  req.clear_page_token();
  req.set_status(v1::ORDER_STATUS_CONFIRMED);
  v1::ListOrdersResponse none;
  ASSERT_TRUE(As(kAlice, [&](cppsvc::CallContext& ctx) {
                return service_->ListOrders(ctx, req, none);
              }).ok());
  EXPECT_EQ(none.orders_size(), 0);
}

}  // namespace
}  // namespace orders
