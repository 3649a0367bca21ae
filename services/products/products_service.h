// Catalog, stock and the products side of the checkout saga.
#pragma once

#include <memory>

#include "commerce/products/v1/products.cppsvc.h"
#include "common/outbox.h"
#include "products/product_store.h"

namespace products {

namespace v1 = commerce::products::v1;

class ProductsService final : public v1::ProductsServiceBase {
 public:
  ProductsService();  // in-memory store and outbox
  ProductsService(std::shared_ptr<ProductStore> store, std::shared_ptr<services::EventSink> events);

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
  cppsvc::Status AdjustStock(cppsvc::CallContext& ctx,
                             const v1::AdjustStockRequest& request,
                             v1::AdjustStockResponse& response) override;

  // Step "reserve_stock" of the checkout saga, and its compensation.
  CheckoutReserveStockResult CheckoutReserveStock(
      cppsvc::EventContext& ctx,
      const commerce::orders::v1::OrderCreated& event) override;
  cppsvc::Status UndoCheckoutReserveStock(cppsvc::EventContext& ctx,
                                          const cppsvc::sagas::Undo& undo,
                                          v1::StockReleased& done) override;

 private:
  cppsvc::Status Reserve(const std::string& order_id,
                         const std::vector<StockLine>& lines,
                         ReserveOutcome& outcome);
  // Releases the order's stock; publishes StockReleased when something was
  // released, or always with `always_publish`. Returns the number of lines.
  int Release(const std::string& order_id, bool always_publish);

  std::shared_ptr<ProductStore> store_;
  std::shared_ptr<services::EventSink> events_;
};

}  // namespace products
