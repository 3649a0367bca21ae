// Storage of the catalog, stock and stock reservations. InMemoryProductStore
// is the first implementation; a PostgreSQL store (tables products,
// categories, stock_reservations) replaces it behind the same interface.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "commerce/products/v1/products.pb.h"
#include "cppsvc/status.h"

namespace products {

using commerce::products::v1::Category;
using commerce::products::v1::Product;
using commerce::products::v1::StockLine;

struct ReserveOutcome {
  bool reserved = false;
  bool newly_reserved = false;   // false when the order's lines were already held
  std::vector<StockLine> lines;  // lines held for the order, when reserved
  std::vector<std::string> unavailable_product_ids;  // when not reserved
};

class ProductStore {
 public:
  virtual ~ProductStore() = default;

  // ALREADY_EXISTS when the slug is taken.
  virtual cppsvc::Status CreateCategory(const Category& category) = 0;
  // Every category, by name.
  virtual std::vector<Category> ListCategories() = 0;
  virtual bool CategoryExists(const std::string& category_id) = 0;

  // ALREADY_EXISTS when the SKU is taken.
  virtual cppsvc::Status CreateProduct(const Product& product) = 0;
  virtual std::optional<Product> GetProduct(const std::string& product_id) = 0;
  // Atomic read-modify-write; kept only when `change` returns OK. The store
  // bumps the version and returns the saved product. NOT_FOUND for unknown ids.
  virtual cppsvc::Status UpdateProduct(const std::string& product_id,
                                       const std::function<cppsvc::Status(Product&)>& change,
                                       Product& saved) = 0;
  virtual bool DeleteProduct(const std::string& product_id) = 0;
  // Products (optionally of one category) by name then id: `limit` from
  // `offset`; `more` tells whether others follow.
  virtual std::vector<Product> ListProducts(const std::optional<std::string>& category_id,
                                            size_t offset,
                                            size_t limit,
                                            bool& more) = 0;
  // Products whose name or description contains `query`, ignoring case.
  virtual std::vector<Product> SearchProducts(const std::string& query) = 0;

  // Takes every line from stock for the order, or none (then lists the
  // products short of stock or not in the catalog). Once an order's lines are
  // held, repeating returns them without taking stock again;
  // FAILED_PRECONDITION once they were released.
  virtual cppsvc::Status Reserve(const std::string& order_id,
                                 const std::vector<StockLine>& lines,
                                 ReserveOutcome& outcome) = 0;
  // Returns the units held for the order to stock; the lines released by this
  // call (none when repeated or nothing was held).
  virtual std::vector<StockLine> Release(const std::string& order_id) = 0;
  // Adds `delta` to the stock once per request id (a repeat returns the
  // product as it is). NOT_FOUND, or FAILED_PRECONDITION below 0.
  virtual cppsvc::Status AdjustStock(const std::string& request_id,
                                     const std::string& product_id,
                                     int32_t delta,
                                     Product& product) = 0;
};

class InMemoryProductStore final : public ProductStore {
 public:
  cppsvc::Status CreateCategory(const Category& category) override;
  std::vector<Category> ListCategories() override;
  bool CategoryExists(const std::string& category_id) override;
  cppsvc::Status CreateProduct(const Product& product) override;
  std::optional<Product> GetProduct(const std::string& product_id) override;
  cppsvc::Status UpdateProduct(const std::string& product_id,
                               const std::function<cppsvc::Status(Product&)>& change,
                               Product& saved) override;
  bool DeleteProduct(const std::string& product_id) override;
  std::vector<Product> ListProducts(const std::optional<std::string>& category_id,
                                    size_t offset,
                                    size_t limit,
                                    bool& more) override;
  std::vector<Product> SearchProducts(const std::string& query) override;
  cppsvc::Status Reserve(const std::string& order_id,
                         const std::vector<StockLine>& lines,
                         ReserveOutcome& outcome) override;
  std::vector<StockLine> Release(const std::string& order_id) override;
  cppsvc::Status AdjustStock(const std::string& request_id,
                             const std::string& product_id,
                             int32_t delta,
                             Product& product) override;

 private:
  struct Reservation {
    std::vector<StockLine> lines;
    bool released = false;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Category> categories_;
  std::set<std::string> slugs_;
  std::unordered_map<std::string, Product> products_;
  std::set<std::string> skus_;
  std::unordered_map<std::string, Reservation> reservations_;  // by order id
  std::unordered_map<std::string, std::string> adjustments_;   // request id -> product id
};

}  // namespace products
