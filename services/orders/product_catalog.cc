#include "orders/product_catalog.h"

#include "commerce/products/v1/products.cppsvc.client.h"
#include "cppsvc/config/env.h"

namespace orders {

ProductsServiceCatalog::ProductsServiceCatalog(cppsvc::ClientOptions options)
    : client_(std::make_unique<commerce::products::v1::ProductsServiceClient>(std::move(options))) {
}

ProductsServiceCatalog::~ProductsServiceCatalog() = default;

std::unique_ptr<ProductsServiceCatalog> ProductsServiceCatalog::FromEnvironment() {
  cppsvc::config::Env env;
  cppsvc::ClientOptions options;
  options.addresses = env.List("ORDERS_PRODUCTS_ADDRESSES", {"127.0.0.1:3002"});
  return std::make_unique<ProductsServiceCatalog>(std::move(options));
}

cppsvc::Status ProductsServiceCatalog::GetProduct(const cppsvc::CallContext& ctx,
                                                  const std::string& product_id,
                                                  CatalogProduct& product) {
  commerce::products::v1::GetProductRequest request;
  request.set_product_id(product_id);
  commerce::products::v1::GetProductResponse response;
  cppsvc::CallOptions call;
  call.parent = &ctx;  // deadline and trace carry over
  cppsvc::Status status = client_->GetProduct(request, &response, call);
  if (!status.ok()) return status;
  product.id = response.product().id();
  product.name = response.product().name();
  product.price_cents = response.product().price_cents();
  return cppsvc::Status::Ok();
}

}  // namespace orders
