#include "products/products_service.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "common/util.h"

namespace products {
namespace {

using cppsvc::StatusCode;

cppsvc::CallContext Ctx(std::vector<std::string> roles = {"admin"}) {
  return cppsvc::CallContext(
      cppsvc::Caller{"7d0b4c2e-0000-4000-8000-0000000000ad", std::move(roles), "jti"},
      cppsvc::Clock::now() + std::chrono::seconds(5),
      "m",
      "t");
}

class ProductsServiceTest : public ::testing::Test {
 protected:
  ProductsServiceTest()
      : service(
            std::make_unique<ProductsService>(std::make_shared<InMemoryProductStore>(), outbox)) {
    category = NewCategory("Office", "office");
  }

  std::string NewCategory(const std::string& name, const std::string& slug) {
    auto ctx = Ctx();
    v1::CreateCategoryRequest req;
    req.set_name(name);
    req.set_slug(slug);
    v1::CreateCategoryResponse resp;
    EXPECT_TRUE(service->CreateCategory(ctx, req, resp).ok());
    return resp.category().id();
  }

  cppsvc::Status Create(const std::string& sku,
                        const std::string& name,
                        int stock,
                        v1::Product* out = nullptr,
                        const std::string& description = "",
                        std::string category_id = "") {
    auto ctx = Ctx();
    v1::CreateProductRequest req;
    req.set_sku(sku);
    req.set_name(name);
    req.set_description(description);
    req.set_category_id(category_id.empty() ? category : category_id);
    req.set_price_cents(100);
    req.set_stock(stock);
    v1::CreateProductResponse resp;
    cppsvc::Status s = service->CreateProduct(ctx, req, resp);
    if (out) *out = resp.product();
    return s;
  }

  v1::Product MustCreate(const std::string& sku, const std::string& name, int stock) {
    v1::Product p;
    EXPECT_TRUE(Create(sku, name, stock, &p).ok());
    return p;
  }

  int Stock(const std::string& id) {
    auto ctx = Ctx();
    v1::GetProductRequest req;
    req.set_product_id(id);
    v1::GetProductResponse resp;
    EXPECT_TRUE(service->GetProduct(ctx, req, resp).ok());
    return resp.product().stock();
  }

  cppsvc::Status Reserve(const std::string& order,
                         std::vector<std::pair<std::string, int>> lines,
                         v1::ReserveStockResponse& resp) {
    auto ctx = Ctx({"service"});
    v1::ReserveStockRequest req;
    req.set_order_id(order);
    for (auto& [id, qty] : lines) {
      auto* l = req.add_lines();
      l->set_product_id(id);
      l->set_quantity(qty);
    }
    return service->ReserveStock(ctx, req, resp);
  }

  int ReleaseCount(const std::string& order) {
    auto ctx = Ctx({"service"});
    v1::ReleaseStockRequest req;
    req.set_order_id(order);
    v1::ReleaseStockResponse resp;
    EXPECT_TRUE(service->ReleaseStock(ctx, req, resp).ok());
    return resp.released_count();
  }

  std::shared_ptr<services::InMemoryOutbox> outbox = std::make_shared<services::InMemoryOutbox>();
  std::unique_ptr<v1::ProductsServiceBase> service;
  std::string category;
};

TEST_F(ProductsServiceTest, CategorySlugsAreUniqueAndListedByName) {
  NewCategory("Books", "books");
  auto ctx = Ctx();
  v1::CreateCategoryRequest dup;
  dup.set_name("Other office");
  dup.set_slug("office");
  v1::CreateCategoryResponse resp;
  EXPECT_EQ(service->CreateCategory(ctx, dup, resp).code(), StatusCode::kAlreadyExists);
  v1::ListCategoriesResponse list;
  ASSERT_TRUE(service->ListCategories(ctx, {}, list).ok());
  ASSERT_EQ(list.categories_size(), 2);
  EXPECT_EQ(list.categories(0).name(), "Books");
  EXPECT_EQ(list.categories(1).name(), "Office");
}

TEST_F(ProductsServiceTest, CreateProductChecksCategoryAndSku) {
  v1::Product p;
  ASSERT_TRUE(Create("SKU-1", "Pen", 5, &p).ok());
  EXPECT_EQ(p.version(), 1);
  EXPECT_EQ(p.stock(), 5);
  EXPECT_EQ(Create("SKU-1", "Other pen", 5).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Create("SKU-2", "Pen", 5, nullptr, "", services::NewUuid()).code(),
            StatusCode::kFailedPrecondition);
  auto created = outbox->EventsOf<v1::ProductCreated>();
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].product_id(), p.id());
  EXPECT_EQ(created[0].sku(), "SKU-1");
}

TEST_F(ProductsServiceTest, UpdateProductUsesOptimisticLocking) {
  v1::Product p = MustCreate("SKU-1", "Pen", 5);
  auto ctx = Ctx();
  v1::UpdateProductRequest req;
  req.set_product_id(p.id());
  req.set_version(1);
  req.set_price_cents(300);
  v1::UpdateProductResponse resp;
  ASSERT_TRUE(service->UpdateProduct(ctx, req, resp).ok());
  EXPECT_EQ(resp.product().version(), 2);
  EXPECT_EQ(resp.product().price_cents(), 300);
  EXPECT_EQ(resp.product().name(), "Pen");  // unset fields keep their value

  req.set_name("Stale");
  EXPECT_EQ(service->UpdateProduct(ctx, req, resp).code(), StatusCode::kAborted);
  req.set_product_id(services::NewUuid());
  EXPECT_EQ(service->UpdateProduct(ctx, req, resp).code(), StatusCode::kNotFound);
}

TEST_F(ProductsServiceTest, DeleteProduct) {
  v1::Product p = MustCreate("SKU-1", "Pen", 5);
  auto ctx = Ctx();
  v1::DeleteProductRequest req;
  req.set_product_id(p.id());
  v1::DeleteProductResponse resp;
  ASSERT_TRUE(service->DeleteProduct(ctx, req, resp).ok());
  EXPECT_EQ(service->DeleteProduct(ctx, req, resp).code(), StatusCode::kNotFound);
  v1::GetProductRequest get;
  get.set_product_id(p.id());
  v1::GetProductResponse got;
  EXPECT_EQ(service->GetProduct(ctx, get, got).code(), StatusCode::kNotFound);
  EXPECT_TRUE(Create("SKU-1", "Pen again", 1).ok());  // the SKU is free again
}

TEST_F(ProductsServiceTest, ListProductsByNamePagedAndFiltered) {
  std::string books = NewCategory("Books", "books");
  for (std::string name : {"Eraser", "Apple", "Desk", "Chair", "Binder"})
    MustCreate("SKU-" + name.substr(0, 3), name, 1);
  ASSERT_TRUE(Create("SKU-NOV", "Novel", 1, nullptr, "", books).ok());

  auto ctx = Ctx();
  v1::ListProductsRequest req;
  req.set_category_id(category);
  req.set_page_size(2);
  std::vector<std::string> names;
  for (int i = 0; i < 10; ++i) {
    v1::ListProductsResponse resp;
    ASSERT_TRUE(service->ListProducts(ctx, req, resp).ok());
    for (const auto& p : resp.products()) names.push_back(p.name());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Apple", "Binder", "Chair", "Desk", "Eraser"}));

  v1::ListProductsRequest all;
  v1::ListProductsResponse resp;
  ASSERT_TRUE(service->ListProducts(ctx, all, resp).ok());
  EXPECT_EQ(resp.products_size(), 6);
  all.set_page_token("-3");
  EXPECT_EQ(service->ListProducts(ctx, all, resp).code(), StatusCode::kInvalidArgument);
}

TEST_F(ProductsServiceTest, SearchRanksNamePrefixThenNameThenDescription) {
  ASSERT_TRUE(Create("SKU-1", "Blue pen", 1, nullptr, "writes blue").ok());
  ASSERT_TRUE(Create("SKU-2", "Pen holder", 1).ok());
  ASSERT_TRUE(Create("SKU-3", "Notebook", 1, nullptr, "lies flat next to your PEN").ok());
  ASSERT_TRUE(Create("SKU-4", "Chair", 1).ok());
  auto ctx = Ctx({});
  v1::SearchProductsRequest req;
  req.set_query("pEn");
  v1::SearchProductsResponse resp;
  ASSERT_TRUE(service->SearchProducts(ctx, req, resp).ok());
  ASSERT_EQ(resp.products_size(), 3);
  EXPECT_EQ(resp.products(0).name(), "Pen holder");
  EXPECT_EQ(resp.products(1).name(), "Blue pen");
  EXPECT_EQ(resp.products(2).name(), "Notebook");
  req.set_limit(1);
  resp.Clear();
  ASSERT_TRUE(service->SearchProducts(ctx, req, resp).ok());
  EXPECT_EQ(resp.products_size(), 1);
}

TEST_F(ProductsServiceTest, ReserveStockIsAllOrNoneAndIdempotent) {
  v1::Product pen = MustCreate("SKU-1", "Pen", 5);
  v1::Product ink = MustCreate("SKU-2", "Ink", 1);
  const std::string order = services::NewUuid();
  v1::ReserveStockResponse resp;
  ASSERT_TRUE(Reserve(order, {{pen.id(), 2}, {ink.id(), 2}}, resp).ok());
  EXPECT_FALSE(resp.reserved());
  ASSERT_EQ(resp.unavailable_product_ids_size(), 1);
  EXPECT_EQ(resp.unavailable_product_ids(0), ink.id());
  EXPECT_EQ(Stock(pen.id()), 5);  // nothing held

  resp.Clear();
  ASSERT_TRUE(Reserve(order, {{pen.id(), 2}, {ink.id(), 1}}, resp).ok());
  EXPECT_TRUE(resp.reserved());
  EXPECT_EQ(Stock(pen.id()), 3);
  EXPECT_EQ(Stock(ink.id()), 0);
  ASSERT_TRUE(Reserve(order, {{pen.id(), 2}, {ink.id(), 1}}, resp).ok());  // repeat: no-op
  EXPECT_TRUE(resp.reserved());
  EXPECT_EQ(Stock(pen.id()), 3);

  EXPECT_EQ(Reserve(services::NewUuid(), {{pen.id(), 1}, {pen.id(), 1}}, resp).code(),
            StatusCode::kInvalidArgument);
  resp.Clear();
  ASSERT_TRUE(Reserve(services::NewUuid(), {{services::NewUuid(), 1}}, resp).ok());
  EXPECT_FALSE(resp.reserved());  // unknown products are unavailable
}

TEST_F(ProductsServiceTest, ReleaseStockReturnsUnitsOnce) {
  v1::Product pen = MustCreate("SKU-1", "Pen", 5);
  const std::string order = services::NewUuid();
  v1::ReserveStockResponse resp;
  ASSERT_TRUE(Reserve(order, {{pen.id(), 4}}, resp).ok());
  EXPECT_EQ(Stock(pen.id()), 1);
  EXPECT_EQ(ReleaseCount(order), 1);
  EXPECT_EQ(Stock(pen.id()), 5);
  EXPECT_EQ(ReleaseCount(order), 0);
  EXPECT_EQ(Stock(pen.id()), 5);
  EXPECT_EQ(outbox->EventsOf<v1::StockReleased>().size(), 1u);
  EXPECT_EQ(Reserve(order, {{pen.id(), 4}}, resp).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReleaseCount(services::NewUuid()), 0);
}

TEST_F(ProductsServiceTest, AdjustStockIsIdempotentAndNeverNegative) {
  v1::Product pen = MustCreate("SKU-1", "Pen", 5);
  auto ctx = Ctx();
  v1::AdjustStockRequest req;
  req.set_request_id(services::NewUuid());
  req.set_product_id(pen.id());
  req.set_delta(10);
  v1::AdjustStockResponse resp;
  ASSERT_TRUE(service->AdjustStock(ctx, req, resp).ok());
  EXPECT_EQ(resp.product().stock(), 15);
  ASSERT_TRUE(service->AdjustStock(ctx, req, resp).ok());  // retried
  EXPECT_EQ(resp.product().stock(), 15);

  req.set_request_id(services::NewUuid());
  req.set_delta(-16);
  EXPECT_EQ(service->AdjustStock(ctx, req, resp).code(), StatusCode::kFailedPrecondition);
  req.set_delta(-15);
  ASSERT_TRUE(service->AdjustStock(ctx, req, resp).ok());
  EXPECT_EQ(resp.product().stock(), 0);

  req.set_request_id(services::NewUuid());
  req.set_product_id(services::NewUuid());
  EXPECT_EQ(service->AdjustStock(ctx, req, resp).code(), StatusCode::kNotFound);
}

TEST_F(ProductsServiceTest, SagaStepReservesRejectsAndIsUndone) {
  v1::Product pen = MustCreate("SKU-1", "Pen", 3);
  cppsvc::EventContext ectx("e", "s", 1, "t");
  commerce::orders::v1::OrderCreated created;
  created.set_order_id(services::NewUuid());
  created.set_user_id("u");
  created.set_total_cents(500);
  auto* line = created.add_lines();
  line->set_product_id(pen.id());
  line->set_quantity(2);
  auto reserved = service->CheckoutReserveStock(ectx, created);
  ASSERT_TRUE(reserved.succeeded());
  EXPECT_EQ(reserved.success().amount_cents(), 500);
  EXPECT_EQ(reserved.success().user_id(), "u");
  ASSERT_EQ(reserved.success().lines_size(), 1);
  EXPECT_EQ(Stock(pen.id()), 1);

  commerce::orders::v1::OrderCreated second = created;
  second.set_order_id(services::NewUuid());
  auto rejected = service->CheckoutReserveStock(ectx, second);
  ASSERT_TRUE(rejected.failed());
  ASSERT_EQ(rejected.failure().unavailable_product_ids_size(), 1);

  cppsvc::sagas::Undo undo{"checkout", "reserve_stock", created.order_id(), "failed"};
  v1::StockReleased released;
  ASSERT_TRUE(service->UndoCheckoutReserveStock(ectx, undo, released).ok());
  EXPECT_EQ(Stock(pen.id()), 3);
  EXPECT_EQ(released.lines_size(), 1);
}

TEST_F(ProductsServiceTest, ConcurrentReservationsNeverOversell) {
  v1::Product pen = MustCreate("SKU-1", "Pen", 5);
  std::atomic<int> reserved{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      v1::ReserveStockResponse resp;
      if (Reserve(services::NewUuid(), {{pen.id(), 1}}, resp).ok() && resp.reserved()) ++reserved;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(reserved.load(), 5);
  EXPECT_EQ(Stock(pen.id()), 0);
}

}  // namespace
}  // namespace products
