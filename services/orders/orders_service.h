// Carts, checkout and the order side of the checkout saga, kept in the
// orders database (tables cart_items and orders, through the generated
// repositories and the call's transaction).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "commerce/orders/v1/orders.cppsvc.h"
#include "cppsvc/auth/rbac.h"
#include "orders/product_catalog.h"

namespace orders {

namespace v1 = commerce::orders::v1;

class OrdersService final : public v1::OrdersServiceBase {
 public:
  // The products service as catalog (see ProductsServiceCatalog).
  OrdersService();
  explicit OrdersService(std::shared_ptr<ProductCatalog> catalog);

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

  // The checkout saga's hooks: the order's status follows its instance.
  cppsvc::Status OnCheckoutChanged(cppsvc::EventContext& ctx,
                                   const cppsvc::sagas::Instance& saga) override;
  cppsvc::Status OnCheckoutCompleted(cppsvc::EventContext& ctx,
                                     const cppsvc::sagas::Instance& saga,
                                     v1::OrderConfirmed& event) override;
  cppsvc::Status OnCheckoutAborted(cppsvc::EventContext& ctx,
                                   const cppsvc::sagas::Instance& saga,
                                   v1::OrderCancelled& event) override;

 private:
  // Applies `change` to the order of a saga instance and stores it; an
  // unknown order is left alone (OK).
  static cppsvc::Status UpdateOrder(cppsvc::EventContext& ctx,
                                    const std::string& order_id,
                                    const std::function<void(v1::Order&)>& change);

  std::shared_ptr<ProductCatalog> catalog_;
  cppsvc::auth::RoleGraph roles_;
};

}  // namespace orders
