// Carts, checkout and the orders side of the checkout saga.
#pragma once

#include <memory>

#include "commerce/orders/v1/orders.cppsvc.h"
#include "common/outbox.h"
#include "cppsvc/auth/rbac.h"
#include "orders/order_store.h"
#include "orders/product_catalog.h"

namespace orders {

namespace v1 = commerce::orders::v1;

class OrdersService final : public v1::OrdersServiceBase {
 public:
  // In-memory store and outbox; the products service as catalog.
  OrdersService();
  OrdersService(std::shared_ptr<OrderStore> store,
                std::shared_ptr<ProductCatalog> catalog,
                std::shared_ptr<services::EventSink> events);

  // Carts hold at most this many products (a checkout reserves at most 100 lines).
  static constexpr size_t kMaxCartLines = 100;

  cppsvc::Status AddCartItem(cppsvc::CallContext& ctx,
                             const v1::AddCartItemRequest& request,
                             v1::AddCartItemResponse& response) override;
  cppsvc::Status RemoveCartItem(cppsvc::CallContext& ctx,
                                const v1::RemoveCartItemRequest& request,
                                v1::RemoveCartItemResponse& response) override;
  cppsvc::Status GetCart(cppsvc::CallContext& ctx,
                         const v1::GetCartRequest& request,
                         v1::GetCartResponse& response) override;
  cppsvc::Status Checkout(cppsvc::CallContext& ctx,
                          const v1::CheckoutRequest& request,
                          v1::CheckoutResponse& response) override;
  cppsvc::Status GetOrder(cppsvc::CallContext& ctx,
                          const v1::GetOrderRequest& request,
                          v1::GetOrderResponse& response) override;
  cppsvc::Status ListOrders(cppsvc::CallContext& ctx,
                            const v1::ListOrdersRequest& request,
                            v1::ListOrdersResponse& response) override;
  cppsvc::Status CancelOrder(cppsvc::CallContext& ctx,
                             const v1::CancelOrderRequest& request,
                             v1::CancelOrderResponse& response) override;

  cppsvc::Status OnStockReserved(cppsvc::EventContext& ctx,
                                 const commerce::products::v1::StockReserved& event) override;
  cppsvc::Status OnStockRejected(cppsvc::EventContext& ctx,
                                 const commerce::products::v1::StockRejected& event) override;
  cppsvc::Status OnStockReleased(cppsvc::EventContext& ctx,
                                 const commerce::products::v1::StockReleased& event) override;
  cppsvc::Status OnPaymentProcessed(cppsvc::EventContext& ctx,
                                    const commerce::payments::v1::PaymentProcessed& event) override;
  cppsvc::Status OnPaymentFailed(cppsvc::EventContext& ctx,
                                 const commerce::payments::v1::PaymentFailed& event) override;

 private:
  void FillCart(const std::string& user_id, v1::Cart& cart);
  // Applies `change` to an order in the saga; unknown orders are ignored (an
  // event may outlive its order in a store that was reset).
  cppsvc::Status SagaUpdate(
      const std::string& order_id,
      const std::function<std::unique_ptr<google::protobuf::Message>(Order&)>& change);

  std::shared_ptr<OrderStore> store_;
  std::shared_ptr<ProductCatalog> catalog_;
  std::shared_ptr<services::EventSink> events_;
  cppsvc::auth::RoleGraph roles_;
};

}  // namespace orders
