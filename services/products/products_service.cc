#include "products/products_service.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "common/util.h"

namespace products {

using cppsvc::Status;

ProductsService::ProductsService()
    : ProductsService(std::make_shared<InMemoryProductStore>(),
                      std::make_shared<services::InMemoryOutbox>()) {}

ProductsService::ProductsService(std::shared_ptr<ProductStore> store,
                                 std::shared_ptr<services::EventSink> events)
    : store_(std::move(store)), events_(std::move(events)) {}

Status ProductsService::CreateProduct(cppsvc::CallContext&,
                                      const v1::CreateProductRequest& request,
                                      v1::CreateProductResponse& response) {
  if (!store_->CategoryExists(request.category_id())) {
    return Status::FailedPrecondition("category " + request.category_id() + " does not exist");
  }
  Product p;
  p.set_id(services::NewUuid());
  p.set_sku(request.sku());
  p.set_name(request.name());
  p.set_description(request.description());
  p.set_category_id(request.category_id());
  p.set_price_cents(request.price_cents());
  p.set_stock(request.stock());
  p.set_version(1);
  *p.mutable_created_at() = services::ToTimestamp(cppsvc::Clock::now());
  *p.mutable_updated_at() = p.created_at();
  if (Status s = store_->CreateProduct(p); !s.ok()) return s;
  v1::ProductCreated event;
  event.set_product_id(p.id());
  event.set_sku(p.sku());
  event.set_price_cents(p.price_cents());
  events_->Publish(event);
  *response.mutable_product() = std::move(p);
  return Status::Ok();
}

Status ProductsService::UpdateProduct(cppsvc::CallContext&,
                                      const v1::UpdateProductRequest& request,
                                      v1::UpdateProductResponse& response) {
  if (request.has_category_id() && !store_->CategoryExists(request.category_id())) {
    return Status::FailedPrecondition("category " + request.category_id() + " does not exist");
  }
  return store_->UpdateProduct(
      request.product_id(),
      [&](Product& p) {
        if (p.version() != request.version()) {
          return Status::Aborted("product " + p.id() + " changed: version is " +
                                 std::to_string(p.version()) + ", not " +
                                 std::to_string(request.version()));
        }
        if (request.has_name()) p.set_name(request.name());
        if (request.has_description()) p.set_description(request.description());
        if (request.has_category_id()) p.set_category_id(request.category_id());
        if (request.has_price_cents()) p.set_price_cents(request.price_cents());
        return Status::Ok();
      },
      *response.mutable_product());
}

Status ProductsService::DeleteProduct(cppsvc::CallContext&,
                                      const v1::DeleteProductRequest& request,
                                      v1::DeleteProductResponse&) {
  if (!store_->DeleteProduct(request.product_id())) {
    return Status::NotFound("product " + request.product_id() + " does not exist");
  }
  return Status::Ok();
}

Status ProductsService::GetProduct(cppsvc::CallContext&,
                                   const v1::GetProductRequest& request,
                                   v1::GetProductResponse& response) {
  auto p = store_->GetProduct(request.product_id());
  if (!p) return Status::NotFound("product " + request.product_id() + " does not exist");
  *response.mutable_product() = std::move(*p);
  return Status::Ok();
}

// Page tokens are offsets into the list by name.
Status ProductsService::ListProducts(cppsvc::CallContext&,
                                     const v1::ListProductsRequest& request,
                                     v1::ListProductsResponse& response) {
  int64_t offset = 0;
  if (Status s = services::ParsePageToken(request.page_token(), offset); !s.ok()) return s;
  size_t limit = static_cast<size_t>(services::PageSize(request.page_size(), 50));
  std::optional<std::string> category;
  if (request.has_category_id()) category = request.category_id();
  bool more = false;
  for (Product& p : store_->ListProducts(category, static_cast<size_t>(offset), limit, more)) {
    *response.add_products() = std::move(p);
  }
  if (more) response.set_next_page_token(services::PageToken(offset + static_cast<int64_t>(limit)));
  return Status::Ok();
}

// Best match first: names starting with the query, then names containing it,
// then descriptions containing it; by name within each group.
Status ProductsService::SearchProducts(cppsvc::CallContext&,
                                       const v1::SearchProductsRequest& request,
                                       v1::SearchProductsResponse& response) {
  const std::string query = services::Lower(request.query());
  auto rank = [&](const Product& p) {
    std::string name = services::Lower(p.name());
    return name.rfind(query, 0) == 0 ? 0 : name.find(query) != std::string::npos ? 1 : 2;
  };
  std::vector<Product> found = store_->SearchProducts(request.query());
  std::sort(found.begin(), found.end(), [&](const Product& a, const Product& b) {
    return std::make_tuple(rank(a), a.name(), a.id()) < std::make_tuple(rank(b), b.name(), b.id());
  });
  size_t limit = static_cast<size_t>(services::PageSize(request.limit(), 20));
  for (size_t i = 0; i < found.size() && i < limit; ++i)
    *response.add_products() = std::move(found[i]);
  return Status::Ok();
}

Status ProductsService::CreateCategory(cppsvc::CallContext&,
                                       const v1::CreateCategoryRequest& request,
                                       v1::CreateCategoryResponse& response) {
  Category c;
  c.set_id(services::NewUuid());
  c.set_name(request.name());
  c.set_slug(request.slug());
  *c.mutable_created_at() = services::ToTimestamp(cppsvc::Clock::now());
  if (Status s = store_->CreateCategory(c); !s.ok()) return s;
  *response.mutable_category() = std::move(c);
  return Status::Ok();
}

Status ProductsService::ListCategories(cppsvc::CallContext&,
                                       const v1::ListCategoriesRequest&,
                                       v1::ListCategoriesResponse& response) {
  for (Category& c : store_->ListCategories()) *response.add_categories() = std::move(c);
  return Status::Ok();
}

Status ProductsService::Reserve(const std::string& order_id,
                                const std::vector<StockLine>& lines,
                                ReserveOutcome& outcome) {
  std::set<std::string> seen;
  for (const StockLine& line : lines) {
    if (!seen.insert(line.product_id()).second) {
      return Status::InvalidArgument("lines: product " + line.product_id() +
                                     " appears more than once");
    }
  }
  return store_->Reserve(order_id, lines, outcome);
}

Status ProductsService::ReserveStock(cppsvc::CallContext&,
                                     const v1::ReserveStockRequest& request,
                                     v1::ReserveStockResponse& response) {
  ReserveOutcome outcome;
  if (Status s =
          Reserve(request.order_id(), {request.lines().begin(), request.lines().end()}, outcome);
      !s.ok()) {
    return s;
  }
  response.set_reserved(outcome.reserved);
  for (const std::string& id : outcome.unavailable_product_ids)
    response.add_unavailable_product_ids(id);
  return Status::Ok();
}

int ProductsService::Release(const std::string& order_id, bool always_publish) {
  std::vector<StockLine> lines = store_->Release(order_id);
  if (lines.empty() && !always_publish) return 0;
  v1::StockReleased event;
  event.set_order_id(order_id);
  for (const StockLine& line : lines) {
    v1::ReservedLine* out = event.add_lines();
    out->set_product_id(line.product_id());
    out->set_quantity(line.quantity());
  }
  events_->Publish(event);
  return static_cast<int>(lines.size());
}

Status ProductsService::ReleaseStock(cppsvc::CallContext&,
                                     const v1::ReleaseStockRequest& request,
                                     v1::ReleaseStockResponse& response) {
  response.set_released_count(Release(request.order_id(), false));
  return Status::Ok();
}

Status ProductsService::AdjustStock(cppsvc::CallContext&,
                                    const v1::AdjustStockRequest& request,
                                    v1::AdjustStockResponse& response) {
  return store_->AdjustStock(request.request_id(),
                             request.product_id(),
                             request.delta(),
                             *response.mutable_product());
}

// Saga step "reserve_stock": every line or none, answered with StockReserved
// or StockRejected.
ProductsService::CheckoutReserveStockResult ProductsService::CheckoutReserveStock(
    cppsvc::EventContext&,
    const commerce::orders::v1::OrderCreated& event) {
  std::vector<StockLine> lines;
  for (const auto& line : event.lines()) {
    StockLine l;
    l.set_product_id(line.product_id());
    l.set_quantity(line.quantity());
    lines.push_back(std::move(l));
  }
  ReserveOutcome outcome;
  Status status = Reserve(event.order_id(), lines, outcome);
  if (!status.ok() && status.code() != cppsvc::StatusCode::kInvalidArgument &&
      status.code() != cppsvc::StatusCode::kFailedPrecondition)
    return status;
  if (status.ok() && outcome.reserved) {
    v1::StockReserved reserved;
    reserved.set_user_id(event.user_id());
    reserved.set_amount_cents(event.total_cents());
    for (const StockLine& line : outcome.lines) {
      v1::ReservedLine* out = reserved.add_lines();
      out->set_product_id(line.product_id());
      out->set_quantity(line.quantity());
    }
    return CheckoutReserveStockResult::Succeeded(std::move(reserved));
  }
  v1::StockRejected rejected;
  rejected.set_user_id(event.user_id());
  for (const std::string& id : outcome.unavailable_product_ids)
    rejected.add_unavailable_product_ids(id);
  rejected.set_reason(status.ok() ? "not enough stock for " +
                                        std::to_string(outcome.unavailable_product_ids.size()) +
                                        " product(s)"
                                  : status.message());
  return CheckoutReserveStockResult::Failed(std::move(rejected));
}

// Compensation of "reserve_stock": returns the order's units to stock.
Status ProductsService::UndoCheckoutReserveStock(cppsvc::EventContext&,
                                                 const cppsvc::sagas::Undo& undo,
                                                 v1::StockReleased& done) {
  for (const StockLine& line : store_->Release(undo.id)) {
    v1::ReservedLine* out = done.add_lines();
    out->set_product_id(line.product_id());
    out->set_quantity(line.quantity());
  }
  return Status::Ok();
}

}  // namespace products
