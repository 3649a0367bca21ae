#include "products/product_store.h"

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "common/util.h"

namespace products {

using cppsvc::Status;

namespace {
void Touch(Product& p) {
  p.set_version(p.version() + 1);
  *p.mutable_updated_at() = services::ToTimestamp(cppsvc::Clock::now());
}
}  // namespace

Status InMemoryProductStore::CreateCategory(const Category& category) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!slugs_.insert(category.slug()).second) {
    return Status::AlreadyExists("a category with slug '" + category.slug() + "' exists");
  }
  categories_[category.id()] = category;
  return Status::Ok();
}

std::vector<Category> InMemoryProductStore::ListCategories() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Category> out;
  for (const auto& [id, c] : categories_) out.push_back(c);
  std::sort(out.begin(), out.end(), [](const Category& a, const Category& b) {
    return std::tie(a.name(), a.id()) < std::tie(b.name(), b.id());
  });
  return out;
}

bool InMemoryProductStore::CategoryExists(const std::string& category_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return categories_.count(category_id) != 0;
}

Status InMemoryProductStore::CreateProduct(const Product& product) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!skus_.insert(product.sku()).second)
    return Status::AlreadyExists("a product with SKU " + product.sku() + " exists");
  products_[product.id()] = product;
  return Status::Ok();
}

std::optional<Product> InMemoryProductStore::GetProduct(const std::string& product_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = products_.find(product_id);
  if (it == products_.end()) return std::nullopt;
  return it->second;
}

Status InMemoryProductStore::UpdateProduct(const std::string& product_id,
                                           const std::function<Status(Product&)>& change,
                                           Product& saved) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = products_.find(product_id);
  if (it == products_.end()) return Status::NotFound("product " + product_id + " does not exist");
  Product copy = it->second;
  Status status = change(copy);
  if (!status.ok()) return status;
  Touch(copy);
  it->second = copy;
  saved = std::move(copy);
  return status;
}

bool InMemoryProductStore::DeleteProduct(const std::string& product_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = products_.find(product_id);
  if (it == products_.end()) return false;
  skus_.erase(it->second.sku());
  products_.erase(it);
  return true;
}

std::vector<Product> InMemoryProductStore::ListProducts(
    const std::optional<std::string>& category_id,
    size_t offset,
    size_t limit,
    bool& more) {
  std::vector<Product> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, p] : products_) {
      if (!category_id || p.category_id() == *category_id) all.push_back(p);
    }
  }
  std::sort(all.begin(), all.end(), [](const Product& a, const Product& b) {
    return std::tie(a.name(), a.id()) < std::tie(b.name(), b.id());
  });
  more = offset + limit < all.size();
  if (offset >= all.size()) return {};
  auto end = all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), offset + limit));
  return {all.begin() + static_cast<std::ptrdiff_t>(offset), end};
}

std::vector<Product> InMemoryProductStore::SearchProducts(const std::string& query) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Product> out;
  for (const auto& [id, p] : products_) {
    if (services::ContainsIgnoringCase(p.name(), query) ||
        services::ContainsIgnoringCase(p.description(), query)) {
      out.push_back(p);
    }
  }
  return out;
}

Status InMemoryProductStore::Reserve(const std::string& order_id,
                                     const std::vector<StockLine>& lines,
                                     ReserveOutcome& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  outcome = ReserveOutcome{};
  if (auto it = reservations_.find(order_id); it != reservations_.end()) {
    if (it->second.released)
      return Status::FailedPrecondition("the stock of order " + order_id + " was released");
    outcome.reserved = true;
    outcome.lines = it->second.lines;
    return Status::Ok();
  }
  for (const StockLine& line : lines) {
    auto p = products_.find(line.product_id());
    if (p == products_.end() || p->second.stock() < line.quantity()) {
      outcome.unavailable_product_ids.push_back(line.product_id());
    }
  }
  if (!outcome.unavailable_product_ids.empty()) return Status::Ok();
  for (const StockLine& line : lines) {
    Product& p = products_.at(line.product_id());
    p.set_stock(p.stock() - line.quantity());
    Touch(p);
  }
  reservations_[order_id] = Reservation{lines, false};
  outcome.reserved = outcome.newly_reserved = true;
  outcome.lines = lines;
  return Status::Ok();
}

std::vector<StockLine> InMemoryProductStore::Release(const std::string& order_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = reservations_.find(order_id);
  if (it == reservations_.end() || it->second.released) return {};
  it->second.released = true;
  for (const StockLine& line : it->second.lines) {
    auto p = products_.find(line.product_id());
    if (p == products_.end()) continue;  // deleted meanwhile: nothing to restock
    p->second.set_stock(p->second.stock() + line.quantity());
    Touch(p->second);
  }
  return it->second.lines;
}

Status InMemoryProductStore::AdjustStock(const std::string& request_id,
                                         const std::string& product_id,
                                         int32_t delta,
                                         Product& product) {
  std::lock_guard<std::mutex> lock(mu_);
  auto p = products_.find(product_id);
  if (auto done = adjustments_.find(request_id); done != adjustments_.end()) {
    if (done->second != product_id) {
      return Status::InvalidArgument("request_id " + request_id + " was used for another product");
    }
    if (p == products_.end()) return Status::NotFound("product " + product_id + " does not exist");
    product = p->second;
    return Status::Ok();
  }
  if (p == products_.end()) return Status::NotFound("product " + product_id + " does not exist");
  int64_t stock = static_cast<int64_t>(p->second.stock()) + delta;
  if (stock < 0) {
    return Status::FailedPrecondition("stock of product " + product_id + " is " +
                                      std::to_string(p->second.stock()) + "; cannot remove " +
                                      std::to_string(-delta));
  }
  if (stock > INT32_MAX)
    return Status::FailedPrecondition("stock of product " + product_id + " would overflow");
  p->second.set_stock(static_cast<int32_t>(stock));
  Touch(p->second);
  adjustments_[request_id] = product_id;
  product = p->second;
  return Status::Ok();
}

}  // namespace products
