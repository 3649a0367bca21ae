// The catalog queries the generated repositories do not cover: products by
// name and full-text search, both with keyset pagination, and row locks
// that keep a read-modify-write of a product consistent with concurrent
// stock moves. Every function works inside the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "commerce/products/v1/products.pb.h"
#include "cppsvc/db/transaction.h"

namespace products {

using commerce::products::v1::Product;

struct ProductPage {
  std::vector<Product> products;
  std::string next_page_token;  // empty on the last page
};

// The document search matches, exactly the expression of the contract's
// text search index on products (name, description; "english"), so that
// the index serves it.
#define PRODUCTS_SEARCH_DOCUMENT "to_tsvector('english', name || ' ' || description)"

struct SearchFilter {
  std::string query;  // the shopper's words
  std::optional<std::string> category_id;
  std::optional<int64_t> min_price_cents;
  std::optional<int64_t> max_price_cents;
};

class CatalogStore {
 public:
  // Locks the product's row until the transaction ends, so that a
  // repository Get then Update keeps every column it did not change (stock
  // included) as it is now. Throws cppsvc::db::NotFound.
  void LockProduct(cppsvc::db::Tx& tx, const std::string& product_id) const;

  // Products by name then id, optionally of one category. A bad token throws
  // cppsvc::db::InvalidArgument.
  ProductPage ListByName(cppsvc::db::Tx& tx,
                         const std::optional<std::string>& category_id,
                         size_t page_size,
                         const std::string& page_token) const;

  // Full-text search (PostgreSQL's english configuration) of names (weight
  // A) and descriptions (weight B); every word must match, the last also as
  // a prefix. Best rank first, then by id. A bad token throws
  // cppsvc::db::InvalidArgument.
  ProductPage Search(cppsvc::db::Tx& tx,
                     const SearchFilter& filter,
                     size_t page_size,
                     const std::string& page_token) const;
};

}  // namespace products
