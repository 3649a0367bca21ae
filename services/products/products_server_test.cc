// The products handlers behind the generated server, over gRPC, on a real
// PostgreSQL: what the pipeline adds (a transaction per call, idempotency
// keys, the outbox) together with the handlers.
#include <gtest/gtest.h>

#include "commerce/products/v1/products.cppsvc.server.h"
#include "common/util.h"
#include "cppsvc/testing/in_process_server.h"
#include "products/products_test_support.h"

namespace products {
namespace {

using Server = cppsvc::testing::InProcessServer<v1::ProductsServiceServer>;

class ProductsServerTest : public testing::ProductsTest {
 protected:
  void SetUp() override {
    ProductsTest::SetUp();
    if (HasFatalFailure()) return;
    server = std::make_unique<Server>(service, tokens, pool);
    stub = v1::ProductsService::NewStub(server->channel());
    admin = tokens.Valid(services::NewUuid(), {"admin"});
  }

  template <typename Request, typename Response>
  grpc::Status Send(grpc::Status (v1::ProductsService::Stub::*rpc)(grpc::ClientContext*,
                                                                   const Request&,
                                                                   Response*),
                    const Request& request,
                    Response& response,
                    const std::string& token) {
    grpc::ClientContext context;
    cppsvc::testing::PrepareContext(context, token);
    return (stub.get()->*rpc)(&context, request, &response);
  }

  v1::Product NewProduct(int stock) {
    v1::CreateCategoryRequest category;
    category.set_name("Office");
    category.set_slug("office");
    v1::CreateCategoryResponse created_category;
    EXPECT_TRUE(
        Send(&v1::ProductsService::Stub::CreateCategory, category, created_category, admin).ok());
    v1::CreateProductRequest product;
    product.set_sku("SKU-1");
    product.set_name("Blue fountain pen");
    product.set_category_id(created_category.category().id());
    product.set_stock(stock);
    v1::CreateProductResponse created;
    EXPECT_TRUE(Send(&v1::ProductsService::Stub::CreateProduct, product, created, admin).ok());
    return created.product();
  }

  cppsvc::testing::TestTokens tokens;
  std::unique_ptr<Server> server;
  std::unique_ptr<v1::ProductsService::Stub> stub;
  std::string admin;
};

TEST_F(ProductsServerTest, AnAdjustmentRetriedWithItsRequestIdCountsOnce) {
  v1::Product pen = NewProduct(5);
  v1::AdjustStockRequest req;
  req.set_request_id(services::NewUuid());
  req.set_product_id(pen.id());
  req.set_delta(10);
  for (int attempt = 0; attempt < 3; ++attempt) {
    v1::AdjustStockResponse resp;
    ASSERT_TRUE(Send(&v1::ProductsService::Stub::AdjustStock, req, resp, admin).ok());
    EXPECT_EQ(resp.product().stock(), 15);
  }
  v1::GetProductRequest get;
  get.set_product_id(pen.id());
  v1::GetProductResponse got;
  ASSERT_TRUE(Send(&v1::ProductsService::Stub::GetProduct, get, got, "").ok());  // public
  EXPECT_EQ(got.product().stock(), 15);
}

TEST_F(ProductsServerTest, SearchIsPublicAndCreationIsEmittedOnce) {
  v1::Product pen = NewProduct(5);
  v1::SearchProductsRequest req;
  req.set_query("fountain pe");
  v1::SearchProductsResponse resp;
  ASSERT_TRUE(Send(&v1::ProductsService::Stub::SearchProducts, req, resp, "").ok());
  ASSERT_EQ(resp.products_size(), 1);
  EXPECT_EQ(resp.products(0).id(), pen.id());
  auto created = Emitted<v1::ProductCreated>();
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].product_id(), pen.id());
}

TEST_F(ProductsServerTest, OnlyServicesReserveStock) {
  v1::Product pen = NewProduct(5);
  v1::ReserveStockRequest req;
  req.set_order_id(services::NewUuid());
  auto* line = req.add_lines();
  line->set_product_id(pen.id());
  line->set_quantity(2);
  v1::ReserveStockResponse resp;
  EXPECT_EQ(Send(&v1::ProductsService::Stub::ReserveStock, req, resp, admin).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const std::string service_token = tokens.Valid(services::NewUuid(), {"service"});
  ASSERT_TRUE(Send(&v1::ProductsService::Stub::ReserveStock, req, resp, service_token).ok());
  EXPECT_TRUE(resp.reserved());
}

}  // namespace
}  // namespace products
