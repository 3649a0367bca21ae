#include "products/products_service.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <tuple>

#include "commerce/products/v1/products.cppsvc.repo.h"
#include "common/util.h"

namespace products {

using cppsvc::Status;

namespace {

constexpr auto kCommitted = v1::RESERVATION_STATUS_COMMITTED;
constexpr auto kRejected = v1::RESERVATION_STATUS_REJECTED;
constexpr auto kReleased = v1::RESERVATION_STATUS_RELEASED;

bool CategoryExists(cppsvc::db::Tx& tx, const std::string& category_id) {
  return v1::CategoryRepository(tx).Find(category_id).has_value();
}

Status NoCategory(const std::string& category_id) {
  return Status::FailedPrecondition("category " + category_id + " does not exist");
}

v1::ProductCreated ProductCreatedOf(const Product& p) {
  v1::ProductCreated event;
  event.set_product_id(p.id());
  event.set_sku(p.sku());
  event.set_price_cents(p.price_cents());
  return event;
}

void AddLines(const std::vector<StockLine>& lines,
              google::protobuf::RepeatedPtrField<v1::ReservedLine>* out) {
  for (const StockLine& line : lines) {
    v1::ReservedLine* added = out->Add();
    added->set_product_id(line.product_id());
    added->set_quantity(line.quantity());
  }
}

v1::StockReleased StockReleasedOf(const std::string& order_id,
                                  const std::vector<StockLine>& lines) {
  v1::StockReleased event;
  event.set_order_id(order_id);
  AddLines(lines, event.mutable_lines());
  return event;
}

std::vector<StockLine> LinesOf(const commerce::orders::v1::OrderCreated& event) {
  std::vector<StockLine> lines;
  for (const auto& line : event.lines()) {
    StockLine& l = lines.emplace_back();
    l.set_product_id(line.product_id());
    l.set_quantity(line.quantity());
  }
  return lines;
}

v1::StockReserved StockReservedOf(const commerce::orders::v1::OrderCreated& order,
                                  const ReserveOutcome& outcome) {
  v1::StockReserved event;
  event.set_order_id(order.order_id());
  event.set_user_id(order.user_id());
  event.set_amount_cents(order.total_cents());
  AddLines(outcome.lines, event.mutable_lines());
  return event;
}

v1::StockRejected StockRejectedOf(const commerce::orders::v1::OrderCreated& order,
                                  const ReserveOutcome& outcome) {
  v1::StockRejected event;
  event.set_order_id(order.order_id());
  event.set_user_id(order.user_id());
  for (const std::string& id : outcome.unavailable_product_ids)
    event.add_unavailable_product_ids(id);
  event.set_reason(outcome.reason);
  return event;
}

}  // namespace

Status ProductsService::CreateProduct(cppsvc::CallContext& ctx,
                                      const v1::CreateProductRequest& request,
                                      v1::CreateProductResponse& response) {
  if (!CategoryExists(ctx.tx(), request.category_id())) return NoCategory(request.category_id());
  Product p;
  p.set_sku(request.sku());
  p.set_name(request.name());
  p.set_description(request.description());
  p.set_category_id(request.category_id());
  p.set_price_cents(request.price_cents());
  p.set_stock(request.stock());
  v1::ProductRepository(ctx.tx()).Insert(p);
  Emit(ctx, ProductCreatedOf(p));
  *response.mutable_product() = std::move(p);
  return Status::Ok();
}

Status ProductsService::UpdateProduct(cppsvc::CallContext& ctx,
                                      const v1::UpdateProductRequest& request,
                                      v1::UpdateProductResponse& response) {
  if (request.has_category_id() && !CategoryExists(ctx.tx(), request.category_id())) {
    return NoCategory(request.category_id());
  }
  catalog_.LockProduct(ctx.tx(), request.product_id());
  v1::ProductRepository products(ctx.tx());
  Product p = products.Get(request.product_id());
  if (p.version() != request.version()) {
    return Status::Aborted("product " + p.id() + " changed: version is " +
                           std::to_string(p.version()) + ", not " +
                           std::to_string(request.version()));
  }
  if (request.has_name()) p.set_name(request.name());
  if (request.has_description()) p.set_description(request.description());
  if (request.has_category_id()) p.set_category_id(request.category_id());
  if (request.has_price_cents()) p.set_price_cents(request.price_cents());
  products.Update(p, request.version());
  *response.mutable_product() = std::move(p);
  return Status::Ok();
}

Status ProductsService::DeleteProduct(cppsvc::CallContext& ctx,
                                      const v1::DeleteProductRequest& request,
                                      v1::DeleteProductResponse&) {
  if (!v1::ProductRepository(ctx.tx()).Delete(request.product_id())) {
    return Status::NotFound("product " + request.product_id() + " does not exist");
  }
  return Status::Ok();
}

Status ProductsService::GetProduct(cppsvc::CallContext& ctx,
                                   const v1::GetProductRequest& request,
                                   v1::GetProductResponse& response) {
  *response.mutable_product() = v1::ProductRepository(ctx.tx()).Get(request.product_id());
  return Status::Ok();
}

Status ProductsService::ListProducts(cppsvc::CallContext& ctx,
                                     const v1::ListProductsRequest& request,
                                     v1::ListProductsResponse& response) {
  std::optional<std::string> category;
  if (request.has_category_id()) category = request.category_id();
  const size_t page_size = static_cast<size_t>(services::PageSize(request.page_size(), 50));
  ProductPage page = catalog_.ListByName(ctx.tx(), category, page_size, request.page_token());
  for (Product& p : page.products) *response.add_products() = std::move(p);
  response.set_next_page_token(std::move(page.next_page_token));
  return Status::Ok();
}

Status ProductsService::SearchProducts(cppsvc::CallContext& ctx,
                                       const v1::SearchProductsRequest& request,
                                       v1::SearchProductsResponse& response) {
  SearchFilter filter;
  filter.query = request.query();
  if (request.has_category_id()) filter.category_id = request.category_id();
  if (request.has_min_price_cents()) filter.min_price_cents = request.min_price_cents();
  if (request.has_max_price_cents()) filter.max_price_cents = request.max_price_cents();
  const size_t page_size = static_cast<size_t>(services::PageSize(request.limit(), 20));
  ProductPage page = catalog_.Search(ctx.tx(), filter, page_size, request.page_token());
  for (Product& p : page.products) *response.add_products() = std::move(p);
  response.set_next_page_token(std::move(page.next_page_token));
  return Status::Ok();
}

Status ProductsService::CreateCategory(cppsvc::CallContext& ctx,
                                       const v1::CreateCategoryRequest& request,
                                       v1::CreateCategoryResponse& response) {
  v1::Category c;
  c.set_name(request.name());
  c.set_slug(request.slug());
  v1::CategoryRepository(ctx.tx()).Insert(c);
  *response.mutable_category() = std::move(c);
  return Status::Ok();
}

Status ProductsService::ListCategories(cppsvc::CallContext& ctx,
                                       const v1::ListCategoriesRequest&,
                                       v1::ListCategoriesResponse& response) {
  v1::CategoryRepository categories(ctx.tx());
  std::vector<v1::Category> all;
  std::string token;
  do {
    auto page = categories.List({}, 1000, token);
    std::move(page.rows.begin(), page.rows.end(), std::back_inserter(all));
    token = std::move(page.next_page_token);
  } while (!token.empty());
  std::sort(all.begin(), all.end(), [](const v1::Category& a, const v1::Category& b) {
    return std::tie(a.name(), a.id()) < std::tie(b.name(), b.id());
  });
  for (v1::Category& c : all) *response.add_categories() = std::move(c);
  return Status::Ok();
}

Status ProductsService::ReserveStock(cppsvc::CallContext& ctx,
                                     const v1::ReserveStockRequest& request,
                                     v1::ReserveStockResponse& response) {
  std::set<std::string> seen;
  for (const StockLine& line : request.lines()) {
    if (!seen.insert(line.product_id()).second) {
      return Status::InvalidArgument("lines: product " + line.product_id() +
                                     " appears more than once");
    }
  }
  ReserveOutcome outcome = stock_.Reserve(ctx.tx(),
                                          request.order_id(),
                                          {request.lines().begin(), request.lines().end()});
  if (outcome.status == kReleased) {
    return Status::FailedPrecondition("the stock of order " + request.order_id() + " was released");
  }
  response.set_reserved(outcome.reserved());
  for (const std::string& id : outcome.unavailable_product_ids)
    response.add_unavailable_product_ids(id);
  return Status::Ok();
}

Status ProductsService::ReleaseStock(cppsvc::CallContext& ctx,
                                     const v1::ReleaseStockRequest& request,
                                     v1::ReleaseStockResponse& response) {
  ReleaseOutcome outcome = stock_.Release(ctx.tx(), request.order_id());
  if (outcome.status == kCommitted) {
    return Status::FailedPrecondition("the stock of order " + request.order_id() +
                                      " was committed");
  }
  if (!outcome.lines.empty()) Emit(ctx, StockReleasedOf(request.order_id(), outcome.lines));
  response.set_released_count(static_cast<int32_t>(outcome.lines.size()));
  return Status::Ok();
}

Status ProductsService::CommitStock(cppsvc::CallContext& ctx,
                                    const v1::CommitStockRequest& request,
                                    v1::CommitStockResponse& response) {
  CommitOutcome outcome = stock_.Commit(ctx.tx(), request.order_id());
  if (outcome.status != kCommitted) {
    return Status::FailedPrecondition("no stock is held for order " + request.order_id());
  }
  response.set_committed_count(outcome.committed_count);
  return Status::Ok();
}

Status ProductsService::AdjustStock(cppsvc::CallContext& ctx,
                                    const v1::AdjustStockRequest& request,
                                    v1::AdjustStockResponse& response) {
  const bool adjusted = stock_.Adjust(ctx.tx(), request.product_id(), request.delta());
  Product p = v1::ProductRepository(ctx.tx()).Get(request.product_id());
  if (!adjusted) {
    return Status::FailedPrecondition("stock of product " + p.id() + " is " +
                                      std::to_string(p.stock()) + "; cannot add " +
                                      std::to_string(request.delta()));
  }
  *response.mutable_product() = std::move(p);
  return Status::Ok();
}

// Saga step "reserve_stock": every line or none, answered with StockReserved
// or StockRejected (nothing for an order released before it was reserved).
ProductsService::CheckoutReserveStockResult ProductsService::CheckoutReserveStock(
    cppsvc::EventContext& ctx,
    const commerce::orders::v1::OrderCreated& event) {
  ReserveOutcome outcome = stock_.Reserve(ctx.tx(), event.order_id(), LinesOf(event));
  if (outcome.reserved())
    return CheckoutReserveStockResult::Succeeded(StockReservedOf(event, outcome));
  return CheckoutReserveStockResult::Failed(StockRejectedOf(event, outcome));
}

// Compensation of "reserve_stock": returns the order's units to stock.
Status ProductsService::UndoCheckoutReserveStock(cppsvc::EventContext& ctx,
                                                 const cppsvc::sagas::Undo& undo,
                                                 v1::StockReleased& done) {
  done = StockReleasedOf(undo.id, stock_.Release(ctx.tx(), undo.id).lines);
  return Status::Ok();
}

Status ProductsService::OnOrderConfirmed(cppsvc::EventContext& ctx,
                                         const commerce::orders::v1::OrderConfirmed& event) {
  stock_.Commit(ctx.tx(), event.order_id());
  return Status::Ok();
}

}  // namespace products
