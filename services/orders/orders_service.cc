#include "orders/orders_service.h"

#include "commerce/orders/v1/orders.cppsvc.server.h"
#include "common/util.h"
#include "cppsvc/ownership.h"

namespace orders {
namespace {

using cppsvc::Status;
using cppsvc::StatusCode;

Status RequireCaller(const cppsvc::CallContext& ctx) {
  if (ctx.caller().anonymous())
    return Status(StatusCode::kUnauthenticated, "a signed-in caller is required");
  return Status::Ok();
}

bool InCheckout(const Order& order) {
  return order.status() == v1::ORDER_STATUS_PENDING ||
         order.status() == v1::ORDER_STATUS_STOCK_RESERVED;
}

std::unique_ptr<google::protobuf::Message> Cancel(Order& order,
                                                  v1::CancellationReason reason,
                                                  const std::string& detail) {
  order.set_status(v1::ORDER_STATUS_CANCELLED);
  order.set_cancellation_reason(reason);
  order.set_cancellation_detail(detail);
  auto event = std::make_unique<v1::OrderCancelled>();
  event->set_order_id(order.id());
  event->set_user_id(order.user_id());
  event->set_reason(reason);
  event->set_detail(detail);
  return event;
}

}  // namespace

OrdersService::OrdersService()
    : OrdersService(std::make_shared<InMemoryOrderStore>(),
                    ProductsServiceCatalog::FromEnvironment(),
                    std::make_shared<services::InMemoryOutbox>()) {}

OrdersService::OrdersService(std::shared_ptr<OrderStore> store,
                             std::shared_ptr<ProductCatalog> catalog,
                             std::shared_ptr<services::EventSink> events)
    : store_(std::move(store)),
      catalog_(std::move(catalog)),
      events_(std::move(events)),
      roles_(v1::OrdersServiceServer::Roles()) {}

void OrdersService::FillCart(const std::string& user_id, v1::Cart& cart) {
  int64_t total = 0;
  for (CartItem& item : store_->GetCart(user_id)) {
    total += item.unit_price_cents() * item.quantity();
    *cart.add_items() = std::move(item);
  }
  cart.set_total_cents(total);
}

Status OrdersService::AddCartItem(cppsvc::CallContext& ctx,
                                  const v1::AddCartItemRequest& request,
                                  v1::AddCartItemResponse& response) {
  if (Status s = RequireCaller(ctx); !s.ok()) return s;
  const std::string& user = ctx.caller().subject;
  CatalogProduct product;
  if (Status s = catalog_->GetProduct(ctx, request.product_id(), product); !s.ok()) {
    if (s.code() == StatusCode::kNotFound)
      return Status::NotFound("product " + request.product_id() + " does not exist");
    return s;
  }
  bool present = false;
  std::vector<CartItem> cart = store_->GetCart(user);
  for (const CartItem& line : cart) present = present || line.product_id() == request.product_id();
  if (!present && cart.size() >= kMaxCartLines) {
    return Status::FailedPrecondition("the cart holds at most " + std::to_string(kMaxCartLines) +
                                      " products");
  }
  CartItem item;
  item.set_user_id(user);
  item.set_product_id(request.product_id());
  item.set_product_name(product.name);
  item.set_unit_price_cents(product.price_cents);
  item.set_quantity(request.quantity());
  auto now = services::ToTimestamp(cppsvc::Clock::now());
  *item.mutable_added_at() = now;  // kept by the store when the line exists
  *item.mutable_updated_at() = now;
  store_->PutCartItem(item);
  FillCart(user, *response.mutable_cart());
  return Status::Ok();
}

Status OrdersService::RemoveCartItem(cppsvc::CallContext& ctx,
                                     const v1::RemoveCartItemRequest& request,
                                     v1::RemoveCartItemResponse& response) {
  if (Status s = RequireCaller(ctx); !s.ok()) return s;
  store_->RemoveCartItem(ctx.caller().subject, request.product_id());  // absent: nothing to do
  FillCart(ctx.caller().subject, *response.mutable_cart());
  return Status::Ok();
}

Status OrdersService::GetCart(cppsvc::CallContext& ctx,
                              const v1::GetCartRequest&,
                              v1::GetCartResponse& response) {
  if (Status s = RequireCaller(ctx); !s.ok()) return s;
  FillCart(ctx.caller().subject, *response.mutable_cart());
  return Status::Ok();
}

Status OrdersService::Checkout(cppsvc::CallContext& ctx,
                               const v1::CheckoutRequest& request,
                               v1::CheckoutResponse& response) {
  if (Status s = RequireCaller(ctx); !s.ok()) return s;
  const std::string& user = ctx.caller().subject;
  if (auto existing = store_->FindOrderByRequest(user, request.request_id())) {
    *response.mutable_order() = std::move(*existing);
    return Status::Ok();
  }
  std::vector<CartItem> cart = store_->GetCart(user);
  if (cart.empty()) {
    // A concurrent retry may have just turned the cart into this request's order.
    if (auto existing = store_->FindOrderByRequest(user, request.request_id())) {
      *response.mutable_order() = std::move(*existing);
      return Status::Ok();
    }
    return Status::FailedPrecondition("the cart is empty");
  }

  Order order;
  order.set_id(services::NewUuid());
  order.set_user_id(user);
  order.set_status(v1::ORDER_STATUS_PENDING);
  order.set_note(request.note());
  int64_t total = 0;
  for (const CartItem& item : cart) {
    v1::OrderLine* line = order.add_lines();
    line->set_product_id(item.product_id());
    line->set_product_name(item.product_name());
    line->set_unit_price_cents(item.unit_price_cents());
    line->set_quantity(item.quantity());
    total += item.unit_price_cents() * item.quantity();
  }
  order.set_total_cents(total);
  *order.mutable_created_at() = services::ToTimestamp(cppsvc::Clock::now());
  *order.mutable_updated_at() = order.created_at();

  if (store_->PlaceOrder(request.request_id(),
                         order)) {  // false: a concurrent retry won; `order` is its order
    v1::OrderCreated event;
    event.set_order_id(order.id());
    event.set_user_id(order.user_id());
    *event.mutable_lines() = order.lines();
    event.set_total_cents(order.total_cents());
    *event.mutable_created_at() = order.created_at();
    events_->Publish(event);
  }
  *response.mutable_order() = std::move(order);
  return Status::Ok();
}

Status OrdersService::GetOrder(cppsvc::CallContext&,
                               const v1::GetOrderRequest& request,
                               v1::GetOrderResponse& response) {
  // Ownership (order.user_id) is checked by the runtime on the response.
  auto order = store_->GetOrder(request.order_id());
  // The same answer as the runtime's for another customer's order.
  if (!order) return cppsvc::ResourceNotFound();
  *response.mutable_order() = std::move(*order);
  return Status::Ok();
}

Status OrdersService::ListOrders(cppsvc::CallContext&,
                                 const v1::ListOrdersRequest& request,
                                 v1::ListOrdersResponse& response) {
  int64_t cursor = 0;
  if (Status s = services::ParsePageToken(request.page_token(), cursor); !s.ok()) return s;
  std::optional<OrderStatus> status;
  if (request.has_status()) status = request.status();
  int64_t next = 0;
  for (Order& order : store_->ListOrders(request.user_id(),
                                         status,
                                         cursor,
                                         services::PageSize(request.page_size(), 20),
                                         next)) {
    *response.add_orders() = std::move(order);
  }
  response.set_next_page_token(services::PageToken(next));
  return Status::Ok();
}

Status OrdersService::CancelOrder(cppsvc::CallContext& ctx,
                                  const v1::CancelOrderRequest& request,
                                  v1::CancelOrderResponse& response) {
  if (Status s = RequireCaller(ctx); !s.ok()) return s;
  const bool any_owner = roles_.BypassesOwnership(ctx.caller());
  std::unique_ptr<google::protobuf::Message> event;
  Status status = store_->UpdateOrder(request.order_id(), [&](Order& order) {
    if (!any_owner && order.user_id() != ctx.caller().subject) {
      return cppsvc::ForeignResource(kForeignResources);
    }
    if (order.status() != v1::ORDER_STATUS_CONFIRMED) {
      return Status::FailedPrecondition(InCheckout(order)
                                            ? "order " + order.id() + " is still in checkout"
                                            : "order " + order.id() + " is already cancelled");
    }
    event = Cancel(order, v1::CANCELLATION_REASON_CUSTOMER_REQUEST, request.detail());
    *order.mutable_updated_at() = services::ToTimestamp(cppsvc::Clock::now());
    *response.mutable_order() = order;
    return Status::Ok();
  });
  // A missing order and (by default) another customer's look the same.
  if (status.code() == StatusCode::kNotFound) return cppsvc::ResourceNotFound();
  if (status.ok()) events_->Publish(*event);
  return status;
}

Status OrdersService::SagaUpdate(
    const std::string& order_id,
    const std::function<std::unique_ptr<google::protobuf::Message>(Order&)>& change) {
  std::unique_ptr<google::protobuf::Message> event;
  Status status = store_->UpdateOrder(order_id, [&](Order& order) {
    event = change(order);
    *order.mutable_updated_at() = services::ToTimestamp(cppsvc::Clock::now());
    return Status::Ok();
  });
  if (status.code() == StatusCode::kNotFound) return Status::Ok();
  if (status.ok() && event) events_->Publish(*event);
  return status;
}

Status OrdersService::OnStockReserved(cppsvc::EventContext&,
                                      const commerce::products::v1::StockReserved& event) {
  return SagaUpdate(event.order_id(),
                    [](Order& order) -> std::unique_ptr<google::protobuf::Message> {
                      if (order.status() == v1::ORDER_STATUS_PENDING)
                        order.set_status(v1::ORDER_STATUS_STOCK_RESERVED);
                      return nullptr;
                    });
}

Status OrdersService::OnStockRejected(cppsvc::EventContext&,
                                      const commerce::products::v1::StockRejected& event) {
  return SagaUpdate(event.order_id(),
                    [&](Order& order) -> std::unique_ptr<google::protobuf::Message> {
                      if (order.status() != v1::ORDER_STATUS_PENDING) return nullptr;
                      return Cancel(order, v1::CANCELLATION_REASON_OUT_OF_STOCK, event.reason());
                    });
}

Status OrdersService::OnPaymentProcessed(cppsvc::EventContext&,
                                         const commerce::payments::v1::PaymentProcessed& event) {
  return SagaUpdate(event.order_id(),
                    [&](Order& order) -> std::unique_ptr<google::protobuf::Message> {
                      // A payment failure already being compensated keeps the order on its way to
                      // cancelled.
                      if (!InCheckout(order) ||
                          order.cancellation_reason() != v1::CANCELLATION_REASON_UNSPECIFIED)
                        return nullptr;
                      order.set_status(v1::ORDER_STATUS_CONFIRMED);
                      order.set_payment_id(event.payment_id());
                      auto confirmed = std::make_unique<v1::OrderConfirmed>();
                      confirmed->set_order_id(order.id());
                      confirmed->set_user_id(order.user_id());
                      confirmed->set_total_cents(order.total_cents());
                      confirmed->set_payment_id(event.payment_id());
                      return confirmed;
                    });
}

// The saga cancels an order whose payment failed once products has released
// its stock (StockReleased); until then the order keeps its status and
// records why it will be cancelled.
Status OrdersService::OnPaymentFailed(cppsvc::EventContext&,
                                      const commerce::payments::v1::PaymentFailed& event) {
  return SagaUpdate(event.order_id(),
                    [&](Order& order) -> std::unique_ptr<google::protobuf::Message> {
                      if (!InCheckout(order)) return nullptr;
                      order.set_cancellation_reason(v1::CANCELLATION_REASON_PAYMENT_FAILED);
                      order.set_cancellation_detail(event.reason());
                      return nullptr;
                    });
}

Status OrdersService::OnStockReleased(cppsvc::EventContext&,
                                      const commerce::products::v1::StockReleased& event) {
  return SagaUpdate(
      event.order_id(),
      [](Order& order) -> std::unique_ptr<google::protobuf::Message> {
        // Only the compensation of a failed step ends the saga here; a release
        // after CancelOrder finds the order cancelled already.
        if (!InCheckout(order) ||
            order.cancellation_reason() == v1::CANCELLATION_REASON_UNSPECIFIED)
          return nullptr;
        return Cancel(order, order.cancellation_reason(), order.cancellation_detail());
      });
}

}  // namespace orders
