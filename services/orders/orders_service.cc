#include "orders/orders_service.h"

#include <algorithm>

#include <pqxx/pqxx>

#include "commerce/orders/v1/orders.cppsvc.repo.h"
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

bool InCheckout(const v1::Order& order) {
  return order.status() == v1::ORDER_STATUS_PENDING ||
         order.status() == v1::ORDER_STATUS_STOCK_RESERVED;
}

std::vector<v1::CartItem> CartOf(cppsvc::db::Tx& tx, const std::string& user) {
  v1::CartItemFilter filter;
  filter.user_id = user;
  return v1::CartItemRepository(tx).List(filter, 1000).rows;
}

// Where the line of `product_id` is in `cart` (in key order), or would go.
std::vector<v1::CartItem>::iterator LineAt(std::vector<v1::CartItem>& cart,
                                           const std::string& product_id) {
  return std::lower_bound(
      cart.begin(),
      cart.end(),
      product_id,
      [](const v1::CartItem& item, const std::string& id) { return item.product_id() < id; });
}

// `items` (in key order) and their total as `cart`.
void SetCart(std::vector<v1::CartItem> items, v1::Cart& cart) {
  int64_t total = 0;
  for (v1::CartItem& item : items) {
    total += item.unit_price_cents() * item.quantity();
    *cart.add_items() = std::move(item);
  }
  cart.set_total_cents(total);
}

void FillCart(cppsvc::db::Tx& tx, const std::string& user, v1::Cart& cart) {
  SetCart(CartOf(tx, user), cart);
}

v1::Order NewOrder(const std::string& user,
                   const std::string& note,
                   const std::vector<v1::CartItem>& cart) {
  v1::Order order;
  order.set_user_id(user);
  order.set_status(v1::ORDER_STATUS_PENDING);
  order.set_note(note);
  int64_t total = 0;
  for (const v1::CartItem& item : cart) {
    v1::OrderLine* line = order.add_lines();
    line->set_product_id(item.product_id());
    line->set_product_name(item.product_name());
    line->set_unit_price_cents(item.unit_price_cents());
    line->set_quantity(item.quantity());
    total += item.unit_price_cents() * item.quantity();
  }
  order.set_total_cents(total);
  return order;
}

void Cancel(v1::Order& order,
            v1::CancellationReason reason,
            const std::string& detail,
            v1::OrderCancelled& event) {
  order.set_status(v1::ORDER_STATUS_CANCELLED);
  order.set_cancellation_reason(reason);
  order.set_cancellation_detail(detail);
  event.set_user_id(order.user_id());
  event.set_reason(reason);
  event.set_detail(detail);
}

// Why an instance ended aborted, from the event behind it or its cause.
void CancellationOf(const cppsvc::sagas::Instance& saga,
                    v1::CancellationReason& reason,
                    std::string& detail) {
  if (const auto* rejected =
          dynamic_cast<const commerce::products::v1::StockRejected*>(saga.event)) {
    reason = v1::CANCELLATION_REASON_OUT_OF_STOCK;
    detail = rejected->reason();
  } else if (saga.state.cause == cppsvc::sagas::Cause::kTimedOut) {
    reason = v1::CANCELLATION_REASON_TIMEOUT;
    detail = "checkout did not finish in time";
  } else if (saga.state.cause == cppsvc::sagas::Cause::kAborted) {
    reason = v1::CANCELLATION_REASON_CUSTOMER_REQUEST;
    detail = saga.error;
  }
}

// The caller's orders, newest first, after the position `token` names
// ("<created_at>|<id>", empty for the first page).
constexpr char kListSql[] = R"sql(
SELECT id, created_at::text FROM orders
WHERE user_id = $1
  AND ($2::integer IS NULL OR status = $2::integer)
  AND ($3 = '' OR (created_at, id) < (nullif($3, '')::timestamptz, $4))
ORDER BY created_at DESC, id DESC
LIMIT $5)sql";

}  // namespace

OrdersService::OrdersService() : OrdersService(ProductsServiceCatalog::FromEnvironment()) {}

OrdersService::OrdersService(std::shared_ptr<ProductCatalog> catalog)
    : catalog_(std::move(catalog)), roles_(v1::OrdersServiceServer::Roles()) {}

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
  // The cart is read once: the line is changed in it, and the response is
  // the cart as written.
  std::vector<v1::CartItem> cart = CartOf(ctx.tx(), user);
  auto line = LineAt(cart, request.product_id());
  const bool added = line == cart.end() || line->product_id() != request.product_id();
  if (added && cart.size() >= kMaxCartLines) {
    return Status::FailedPrecondition("the cart holds at most " + std::to_string(kMaxCartLines) +
                                      " products");
  }
  if (added) line = cart.insert(line, v1::CartItem());
  line->set_user_id(user);
  line->set_product_id(request.product_id());
  line->set_product_name(product.name);
  line->set_unit_price_cents(product.price_cents);
  line->set_quantity(request.quantity());
  v1::CartItemRepository carts(ctx.tx());
  added ? carts.Insert(*line) : carts.Update(*line);
  SetCart(std::move(cart), *response.mutable_cart());
  return Status::Ok();
}

Status OrdersService::RemoveCartItem(cppsvc::CallContext& ctx,
                                     const v1::RemoveCartItemRequest& request,
                                     v1::RemoveCartItemResponse& response) {
  if (Status s = RequireCaller(ctx); !s.ok()) return s;
  v1::CartItemRepository(ctx.tx()).Delete(ctx.caller().subject, request.product_id());
  FillCart(ctx.tx(), ctx.caller().subject, *response.mutable_cart());
  return Status::Ok();
}

Status OrdersService::GetCart(cppsvc::CallContext& ctx,
                              const v1::GetCartRequest&,
                              v1::GetCartResponse& response) {
  if (Status s = RequireCaller(ctx); !s.ok()) return s;
  FillCart(ctx.tx(), ctx.caller().subject, *response.mutable_cart());
  return Status::Ok();
}

// A repeated request_id gets the first response from the runtime's
// idempotency record, in this same transaction.
Status OrdersService::Checkout(cppsvc::CallContext& ctx,
                               const v1::CheckoutRequest& request,
                               v1::CheckoutResponse& response) {
  if (Status s = RequireCaller(ctx); !s.ok()) return s;
  const std::string& user = ctx.caller().subject;
  const std::vector<v1::CartItem> cart = CartOf(ctx.tx(), user);
  if (cart.empty()) return Status::FailedPrecondition("the cart is empty");
  v1::Order order = NewOrder(user, request.note(), cart);
  v1::OrderRepository(ctx.tx()).Insert(order);
  ctx.tx().exec_params("DELETE FROM cart_items WHERE user_id = $1", user);
  v1::OrderCreated event;
  event.set_order_id(order.id());
  event.set_user_id(user);
  *event.mutable_lines() = order.lines();
  event.set_total_cents(order.total_cents());
  *event.mutable_created_at() = order.created_at();
  Emit(ctx, event);
  *response.mutable_order() = std::move(order);
  return Status::Ok();
}

Status OrdersService::GetOrder(cppsvc::CallContext& ctx,
                               const v1::GetOrderRequest& request,
                               v1::GetOrderResponse& response) {
  // Ownership (order.user_id) is checked by the runtime on the response.
  auto order = v1::OrderRepository(ctx.tx()).Find(request.order_id());
  if (!order) return cppsvc::ResourceNotFound();
  *response.mutable_order() = std::move(*order);
  return Status::Ok();
}

Status OrdersService::ListOrders(cppsvc::CallContext& ctx,
                                 const v1::ListOrdersRequest& request,
                                 v1::ListOrdersResponse& response) {
  const std::string& token = request.page_token();
  const size_t bar = token.find('|');
  if (!token.empty() && bar == std::string::npos) return Status::InvalidArgument("bad page_token");
  std::optional<int> status;
  if (request.has_status()) status = request.status();
  const int size = services::PageSize(request.page_size(), 20);
  const pqxx::result rows =
      ctx.tx().exec_params(kListSql,
                           request.user_id(),
                           status,
                           token.substr(0, bar),
                           bar == std::string::npos ? "" : token.substr(bar + 1),
                           size + 1);
  v1::OrderRepository repo(ctx.tx());
  for (int i = 0; i < static_cast<int>(rows.size()) && i < size; ++i) {
    *response.add_orders() = repo.Get(rows[i][0].as<std::string>());
  }
  if (static_cast<int>(rows.size()) > size) {
    const auto& last = rows[size - 1];
    response.set_next_page_token(last[1].as<std::string>() + "|" + last[0].as<std::string>());
  }
  return Status::Ok();
}

Status OrdersService::CancelOrder(cppsvc::CallContext& ctx,
                                  const v1::CancelOrderRequest& request,
                                  v1::CancelOrderResponse& response) {
  if (Status s = RequireCaller(ctx); !s.ok()) return s;
  auto order = v1::OrderRepository(ctx.tx()).Find(request.order_id());
  // A missing order and (by default) another customer's look the same.
  if (!order) return cppsvc::ResourceNotFound();
  if (!roles_.BypassesOwnership(ctx.caller()) && order->user_id() != ctx.caller().subject) {
    return cppsvc::ForeignResource(kForeignResources);
  }
  if (!InCheckout(*order)) {
    return Status::FailedPrecondition("order " + order->id() + " is " +
                                      v1::OrderStatus_Name(order->status()) + ", not in checkout");
  }
  // The saga undoes the steps taken; the order ends CANCELLED once it is done.
  const std::string why = request.detail().empty() ? "cancelled by the customer" : request.detail();
  if (Status s = AbortCheckout(ctx, order->id(), why); !s.ok()) return s;
  *response.mutable_order() = std::move(*order);
  return Status::Ok();
}

Status OrdersService::UpdateOrder(cppsvc::EventContext& ctx,
                                  const std::string& order_id,
                                  const std::function<void(v1::Order&)>& change) {
  v1::OrderRepository repo(ctx.tx());
  int64_t version = 0;
  std::optional<v1::Order> order = repo.Find(order_id, &version);
  if (!order) return Status::Ok();
  change(*order);
  repo.Update(*order, version);
  return Status::Ok();
}

// Stock held: the order waits for its payment. Why it will be cancelled is
// recorded as soon as the saga starts undoing.
Status OrdersService::OnCheckoutChanged(cppsvc::EventContext& ctx,
                                        const cppsvc::sagas::Instance& saga) {
  return UpdateOrder(ctx, saga.id, [&](v1::Order& order) {
    if (saga.state_name == "process_payment" && order.status() == v1::ORDER_STATUS_PENDING)
      order.set_status(v1::ORDER_STATUS_STOCK_RESERVED);
    if (const auto* failed =
            dynamic_cast<const commerce::payments::v1::PaymentFailed*>(saga.event)) {
      order.set_cancellation_reason(v1::CANCELLATION_REASON_PAYMENT_FAILED);
      order.set_cancellation_detail(failed->reason());
    }
  });
}

Status OrdersService::OnCheckoutCompleted(cppsvc::EventContext& ctx,
                                          const cppsvc::sagas::Instance& saga,
                                          v1::OrderConfirmed& event) {
  const auto* paid = dynamic_cast<const commerce::payments::v1::PaymentProcessed*>(saga.event);
  return UpdateOrder(ctx, saga.id, [&](v1::Order& order) {
    order.set_status(v1::ORDER_STATUS_CONFIRMED);
    if (paid != nullptr) order.set_payment_id(paid->payment_id());
    event.set_user_id(order.user_id());
    event.set_total_cents(order.total_cents());
    event.set_payment_id(order.payment_id());
  });
}

Status OrdersService::OnCheckoutAborted(cppsvc::EventContext& ctx,
                                        const cppsvc::sagas::Instance& saga,
                                        v1::OrderCancelled& event) {
  return UpdateOrder(ctx, saga.id, [&](v1::Order& order) {
    v1::CancellationReason reason = order.cancellation_reason();
    std::string detail = order.cancellation_detail();
    CancellationOf(saga, reason, detail);
    Cancel(order, reason, detail, event);
  });
}

}  // namespace orders
