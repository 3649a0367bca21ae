// Catalog, stock and the products side of the checkout saga. Every handler
// works in the call's (or event's) transaction, ctx.tx(): catalog rows
// through the generated repositories and CatalogStore, stock through
// StockStore, events through the generated Emit (the outbox of the same
// transaction).
#pragma once

#include "commerce/products/v1/products.cppsvc.h"
#include "products/catalog_store.h"
#include "products/stock_store.h"

namespace products {

namespace v1 = commerce::products::v1;

class ProductsService final : public v1::ProductsServiceBase {
 public:
  cppsvc::Status CreateProduct(cppsvc::CallContext& ctx,
                               const v1::CreateProductRequest& request,
                               v1::CreateProductResponse& response) override;
  cppsvc::Status UpdateProduct(cppsvc::CallContext& ctx,
                               const v1::UpdateProductRequest& request,
                               v1::UpdateProductResponse& response) override;
  cppsvc::Status DeleteProduct(cppsvc::CallContext& ctx,
                               const v1::DeleteProductRequest& request,
                               v1::DeleteProductResponse& response) override;
  cppsvc::Status GetProduct(cppsvc::CallContext& ctx,
                            const v1::GetProductRequest& request,
                            v1::GetProductResponse& response) override;
  cppsvc::Status ListProducts(cppsvc::CallContext& ctx,
                              const v1::ListProductsRequest& request,
                              v1::ListProductsResponse& response) override;
  cppsvc::Status SearchProducts(cppsvc::CallContext& ctx,
                                const v1::SearchProductsRequest& request,
                                v1::SearchProductsResponse& response) override;
  cppsvc::Status CreateCategory(cppsvc::CallContext& ctx,
                                const v1::CreateCategoryRequest& request,
                                v1::CreateCategoryResponse& response) override;
  cppsvc::Status ListCategories(cppsvc::CallContext& ctx,
                                const v1::ListCategoriesRequest& request,
                                v1::ListCategoriesResponse& response) override;
  cppsvc::Status ReserveStock(cppsvc::CallContext& ctx,
                              const v1::ReserveStockRequest& request,
                              v1::ReserveStockResponse& response) override;
  cppsvc::Status ReleaseStock(cppsvc::CallContext& ctx,
                              const v1::ReleaseStockRequest& request,
                              v1::ReleaseStockResponse& response) override;
  cppsvc::Status CommitStock(cppsvc::CallContext& ctx,
                             const v1::CommitStockRequest& request,
                             v1::CommitStockResponse& response) override;
  cppsvc::Status AdjustStock(cppsvc::CallContext& ctx,
                             const v1::AdjustStockRequest& request,
                             v1::AdjustStockResponse& response) override;

  // The checkout saga's "reserve_stock" step and its compensation: thin
  // calls into StockStore, answered with the saga's events.
  // Step "reserve_stock" of the checkout saga, and its compensation.
  CheckoutReserveStockResult CheckoutReserveStock(
      cppsvc::EventContext& ctx,
      const commerce::orders::v1::OrderCreated& event) override;
  cppsvc::Status UndoCheckoutReserveStock(cppsvc::EventContext& ctx,
                                          const cppsvc::sagas::Undo& undo,
                                          v1::StockReleased& done) override;
  // A confirmed order's units leave stock for good.
  cppsvc::Status OnOrderConfirmed(cppsvc::EventContext& ctx,
                                  const commerce::orders::v1::OrderConfirmed& event) override;

 private:
  CatalogStore catalog_;
  StockStore stock_;
};

}  // namespace products
