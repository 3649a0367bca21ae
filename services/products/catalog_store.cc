#include "products/catalog_store.h"

#include <cmath>
#include <cstdlib>

#include <pqxx/pqxx>

#include "cppsvc/db/errors.h"
#include "cppsvc/db/statements.h"
#include "products/cursor.h"
#include "products/search_query.h"

namespace products {
namespace {

// The columns ReadProduct reads; times as whole microseconds since the epoch.
#define PRODUCT_COLUMNS                                                    \
  "id, sku, name, description, category_id, price_cents, stock, version, " \
  "(EXTRACT(EPOCH FROM created_at) * 1000000)::bigint, "                   \
  "(EXTRACT(EPOCH FROM updated_at) * 1000000)::bigint"

const cppsvc::db::Statement kLockProduct("products.catalog.LockProduct",
                                         "SELECT 1 FROM products WHERE id = $1 FOR UPDATE");

const cppsvc::db::Statement kListByName("products.catalog.ListByName",
                                        "SELECT " PRODUCT_COLUMNS
                                        " FROM products WHERE (name, id) > ($1, $2)"
                                        " ORDER BY name, id LIMIT $3");

const cppsvc::db::Statement kListCategoryByName(
    "products.catalog.ListCategoryByName",
    "SELECT " PRODUCT_COLUMNS
    " FROM products WHERE category_id = $1 AND (name, id) > ($2, $3)"
    " ORDER BY name, id LIMIT $4");

// Matching uses the unweighted document (the expression the GIN index of
// the contract covers); ranking weighs names (A) above descriptions (B). Ranks travel in
// page tokens as float8 text and are compared as real, their own type, so
// a token's rank is the row's exactly.
const cppsvc::db::Statement kSearch(
    "products.catalog.Search",
    "WITH found AS ("
    " SELECT products.*, ts_rank(setweight(to_tsvector('english', name), 'A') ||"
    " setweight(to_tsvector('english', description), 'B'), query) AS rank"
    " FROM products, to_tsquery('english', $1) AS query"
    " WHERE " PRODUCTS_SEARCH_DOCUMENT
    " @@ query"
    " AND ($2::text IS NULL OR category_id = $2)"
    " AND ($3::bigint IS NULL OR price_cents >= $3)"
    " AND ($4::bigint IS NULL OR price_cents <= $4))"
    " SELECT " PRODUCT_COLUMNS
    ", rank::float8::text FROM found"
    " WHERE $5::text IS NULL OR rank < $5::real OR (rank = $5::real AND id > $6)"
    " ORDER BY rank DESC, id LIMIT $7");

constexpr char kListTag[] = "products.by_name";
constexpr char kSearchTag[] = "products.search";

google::protobuf::Timestamp FromMicros(int64_t micros) {
  google::protobuf::Timestamp t;
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  t.set_seconds(seconds);
  t.set_nanos(static_cast<int32_t>(rest * 1000));
  return t;
}

Product ReadProduct(const pqxx::row& row) {
  Product p;
  p.set_id(row[0].as<std::string>());
  p.set_sku(row[1].as<std::string>());
  p.set_name(row[2].as<std::string>());
  p.set_description(row[3].as<std::string>());
  p.set_category_id(row[4].as<std::string>());
  p.set_price_cents(row[5].as<int64_t>());
  p.set_stock(row[6].as<int32_t>());
  p.set_version(row[7].as<int64_t>());
  *p.mutable_created_at() = FromMicros(row[8].as<int64_t>());
  *p.mutable_updated_at() = FromMicros(row[9].as<int64_t>());
  return p;
}

// The page in `result`, fetched with one row more than `page_size`; `key`
// gives the cursor parts of the last row of the page.
template <typename Key>
ProductPage ReadPage(const pqxx::result& result, size_t page_size, const char* tag, Key key) {
  ProductPage page;
  for (const pqxx::row& row : result) {
    if (page.products.size() == page_size) {
      page.next_page_token = EncodeCursor(tag, key(result[page_size - 1]));
      break;
    }
    page.products.push_back(ReadProduct(row));
  }
  return page;
}

// The rank held by a search token: a finite number, else the token was
// not one Search returned.
std::string CheckedRank(const std::string& rank) {
  char* end = nullptr;
  double value = std::strtod(rank.c_str(), &end);
  if (rank.empty() || rank.find_first_not_of("0123456789.eE+-") != std::string::npos ||
      end != rank.c_str() + rank.size() || !std::isfinite(value)) {
    throw cppsvc::db::InvalidArgument("page_token: not a token of this list");
  }
  return rank;
}

}  // namespace

void CatalogStore::LockProduct(cppsvc::db::Tx& tx, const std::string& product_id) const {
  if (tx.exec_prepared(kLockProduct.name, product_id).empty()) {
    throw cppsvc::db::NotFound("product " + product_id + " does not exist");
  }
}

ProductPage CatalogStore::ListByName(cppsvc::db::Tx& tx,
                                     const std::optional<std::string>& category_id,
                                     size_t page_size,
                                     const std::string& page_token) const {
  std::vector<std::string> after{"", ""};
  if (!page_token.empty()) after = DecodeCursor(kListTag, page_token, 2);
  const size_t limit = page_size + 1;
  pqxx::result result =
      category_id
          ? tx.exec_prepared(kListCategoryByName.name, *category_id, after[0], after[1], limit)
          : tx.exec_prepared(kListByName.name, after[0], after[1], limit);
  return ReadPage(result, page_size, kListTag, [](const pqxx::row& row) {
    return std::vector<std::string>{row[2].as<std::string>(), row[0].as<std::string>()};
  });
}

ProductPage CatalogStore::Search(cppsvc::db::Tx& tx,
                                 const SearchFilter& filter,
                                 size_t page_size,
                                 const std::string& page_token) const {
  const std::string query = ToTsQuery(filter.query);
  if (query.empty()) return {};
  std::optional<std::string> rank;
  std::optional<std::string> id;
  if (!page_token.empty()) {
    std::vector<std::string> after = DecodeCursor(kSearchTag, page_token, 2);
    rank = CheckedRank(after[0]);
    id = after[1];
  }
  pqxx::result result = tx.exec_prepared(kSearch.name,
                                         query,
                                         filter.category_id,
                                         filter.min_price_cents,
                                         filter.max_price_cents,
                                         rank,
                                         id,
                                         page_size + 1);
  return ReadPage(result, page_size, kSearchTag, [](const pqxx::row& row) {
    return std::vector<std::string>{row[10].as<std::string>(), row[0].as<std::string>()};
  });
}

}  // namespace products
