// Where orders looks up a product's current name and price (AddCartItem
// copies them into the cart line).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cppsvc/client.h"
#include "cppsvc/context.h"
#include "cppsvc/status.h"

namespace commerce::products::v1 {
class ProductsServiceClient;
}

namespace orders {

struct CatalogProduct {
  std::string id;
  std::string name;
  int64_t price_cents = 0;
};

class ProductCatalog {
 public:
  virtual ~ProductCatalog() = default;
  // NOT_FOUND when the product is not in the catalog; transport errors as is.
  virtual cppsvc::Status GetProduct(const cppsvc::CallContext& ctx,
                                    const std::string& product_id,
                                    CatalogProduct& product) = 0;
};

// The products service over its generated client. Replicas come from
// ORDERS_PRODUCTS_ADDRESSES (comma-separated host:port; default
// 127.0.0.1:3002, the contract's port of products).
class ProductsServiceCatalog final : public ProductCatalog {
 public:
  explicit ProductsServiceCatalog(cppsvc::ClientOptions options);
  ~ProductsServiceCatalog() override;
  static std::unique_ptr<ProductsServiceCatalog> FromEnvironment();

  cppsvc::Status GetProduct(const cppsvc::CallContext& ctx,
                            const std::string& product_id,
                            CatalogProduct& product) override;

 private:
  std::unique_ptr<commerce::products::v1::ProductsServiceClient> client_;
};

}  // namespace orders
