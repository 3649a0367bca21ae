// The products service's handlers on a real PostgreSQL, called in
// transactions as the generated server and consumers call them.
#include "products/products_service.h"

#include <set>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "common/util.h"
#include "products/products_test_support.h"

namespace products {
namespace {

using cppsvc::CallContext;
using cppsvc::EventContext;
using cppsvc::StatusCode;

class ProductsServiceTest : public testing::ProductsTest {
 protected:
  void SetUp() override {
    ProductsTest::SetUp();
    if (!HasFatalFailure()) category = NewCategory("Office", "office");
  }

  std::string NewCategory(const std::string& name, const std::string& slug) {
    v1::CreateCategoryRequest req;
    req.set_name(name);
    req.set_slug(slug);
    v1::CreateCategoryResponse resp;
    EXPECT_TRUE(
        Call([&](CallContext& ctx) { return service.CreateCategory(ctx, req, resp); }).ok());
    return resp.category().id();
  }

  struct NewProduct {
    std::string sku = {};
    std::string name = {};
    int stock = 1;
    std::string description = {};
    std::string category_id = {};  // empty: the "Office" category
    int64_t price_cents = 100;
  };

  cppsvc::Status Create(const NewProduct& p, v1::Product* out = nullptr) {
    v1::CreateProductRequest req;
    req.set_sku(p.sku);
    req.set_name(p.name);
    req.set_description(p.description);
    req.set_category_id(p.category_id.empty() ? category : p.category_id);
    req.set_price_cents(p.price_cents);
    req.set_stock(p.stock);
    v1::CreateProductResponse resp;
    cppsvc::Status s =
        Call([&](CallContext& ctx) { return service.CreateProduct(ctx, req, resp); });
    if (out) *out = resp.product();
    return s;
  }

  v1::Product MustCreate(const NewProduct& p) {
    v1::Product out;
    cppsvc::Status s = Create(p, &out);
    EXPECT_TRUE(s.ok()) << s.message();
    return out;
  }

  v1::Product Get(const std::string& id) {
    v1::GetProductRequest req;
    req.set_product_id(id);
    v1::GetProductResponse resp;
    EXPECT_TRUE(Call([&](CallContext& ctx) { return service.GetProduct(ctx, req, resp); }).ok());
    return resp.product();
  }

  int Stock(const std::string& id) { return Get(id).stock(); }

  cppsvc::Status Reserve(const std::string& order,
                         std::vector<std::pair<std::string, int>> lines,
                         v1::ReserveStockResponse& resp) {
    v1::ReserveStockRequest req;
    req.set_order_id(order);
    for (auto& [id, qty] : lines) {
      auto* l = req.add_lines();
      l->set_product_id(id);
      l->set_quantity(qty);
    }
    return Call([&](CallContext& ctx) { return service.ReserveStock(ctx, req, resp); },
                {"service"});
  }

  cppsvc::Status Release(const std::string& order, v1::ReleaseStockResponse& resp) {
    v1::ReleaseStockRequest req;
    req.set_order_id(order);
    return Call([&](CallContext& ctx) { return service.ReleaseStock(ctx, req, resp); },
                {"service"});
  }

  cppsvc::Status Commit(const std::string& order, v1::CommitStockResponse& resp) {
    v1::CommitStockRequest req;
    req.set_order_id(order);
    return Call([&](CallContext& ctx) { return service.CommitStock(ctx, req, resp); }, {"service"});
  }

  std::string category;
};

TEST_F(ProductsServiceTest, CategorySlugsAreUniqueAndListedByName) {
  NewCategory("Books", "books");
  v1::CreateCategoryRequest dup;
  dup.set_name("Other office");
  dup.set_slug("office");
  v1::CreateCategoryResponse resp;
  EXPECT_EQ(Call([&](CallContext& ctx) { return service.CreateCategory(ctx, dup, resp); }).code(),
            StatusCode::kAlreadyExists);
  v1::ListCategoriesResponse list;
  ASSERT_TRUE(Call([&](CallContext& ctx) { return service.ListCategories(ctx, {}, list); }).ok());
  ASSERT_EQ(list.categories_size(), 2);
  EXPECT_EQ(list.categories(0).name(), "Books");
  EXPECT_EQ(list.categories(1).name(), "Office");
}

TEST_F(ProductsServiceTest, CreateProductChecksCategoryAndSkuAndEmitsOnce) {
  v1::Product p = MustCreate({.sku = "SKU-1", .name = "Pen", .stock = 5});
  EXPECT_EQ(p.version(), 1);
  EXPECT_EQ(p.stock(), 5);
  EXPECT_EQ(Get(p.id()).name(), "Pen");
  EXPECT_EQ(Create({.sku = "SKU-1", .name = "Other pen"}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Create({.sku = "SKU-2", .name = "Pen", .category_id = services::NewUuid()}).code(),
            StatusCode::kFailedPrecondition);
  auto created = Emitted<v1::ProductCreated>();  // the refused calls emitted nothing
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].product_id(), p.id());
  EXPECT_EQ(created[0].sku(), "SKU-1");
}

TEST_F(ProductsServiceTest, UpdateProductUsesOptimisticLockingAndKeepsStock) {
  v1::Product p = MustCreate({.sku = "SKU-1", .name = "Pen", .stock = 5});
  v1::ReserveStockResponse reserved;
  ASSERT_TRUE(Reserve(services::NewUuid(), {{p.id(), 2}}, reserved).ok());  // a stock move
  v1::UpdateProductRequest req;
  req.set_product_id(p.id());
  req.set_version(1);
  req.set_price_cents(300);
  v1::UpdateProductResponse resp;
  auto update = [&] {
    return Call([&](CallContext& ctx) { return service.UpdateProduct(ctx, req, resp); });
  };
  ASSERT_TRUE(update().ok());
  EXPECT_EQ(resp.product().version(), 2);
  EXPECT_EQ(resp.product().price_cents(), 300);
  EXPECT_EQ(resp.product().name(), "Pen");  // unset fields keep their value
  EXPECT_EQ(Stock(p.id()), 3);              // and so does the stock

  req.set_name("Stale");
  EXPECT_EQ(update().code(), StatusCode::kAborted);
  req.set_version(2);
  req.set_category_id(services::NewUuid());
  EXPECT_EQ(update().code(), StatusCode::kFailedPrecondition);
  req.clear_category_id();
  req.set_product_id(services::NewUuid());
  EXPECT_EQ(update().code(), StatusCode::kNotFound);
}

TEST_F(ProductsServiceTest, DeleteProduct) {
  v1::Product p = MustCreate({.sku = "SKU-1", .name = "Pen"});
  v1::DeleteProductRequest req;
  req.set_product_id(p.id());
  v1::DeleteProductResponse resp;
  auto remove = [&] {
    return Call([&](CallContext& ctx) { return service.DeleteProduct(ctx, req, resp); });
  };
  ASSERT_TRUE(remove().ok());
  EXPECT_EQ(remove().code(), StatusCode::kNotFound);
  v1::GetProductRequest get;
  get.set_product_id(p.id());
  v1::GetProductResponse got;
  EXPECT_EQ(Call([&](CallContext& ctx) { return service.GetProduct(ctx, get, got); }).code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(Create({.sku = "SKU-1", .name = "Pen again"}).ok());  // the SKU is free again
}

TEST_F(ProductsServiceTest, ListProductsByNameInKeysetPages) {
  std::string books = NewCategory("Books", "books");
  for (std::string name : {"Eraser", "Apple", "Desk", "Chair", "Binder"})
    MustCreate({.sku = "SKU-" + name.substr(0, 3), .name = name});
  MustCreate({.sku = "SKU-NOV", .name = "Novel", .category_id = books});

  v1::ListProductsRequest req;
  req.set_category_id(category);
  req.set_page_size(2);
  std::vector<std::string> names;
  for (int page = 0; page < 10; ++page) {
    v1::ListProductsResponse resp;
    ASSERT_TRUE(Call([&](CallContext& ctx) { return service.ListProducts(ctx, req, resp); }).ok());
    for (const auto& p : resp.products()) names.push_back(p.name());
    if (page == 0) MustCreate({.sku = "SKU-AAR", .name = "Aardvark"});  // before the cursor
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Apple", "Binder", "Chair", "Desk", "Eraser"}));

  v1::ListProductsRequest all;
  v1::ListProductsResponse resp;
  ASSERT_TRUE(Call([&](CallContext& ctx) { return service.ListProducts(ctx, all, resp); }).ok());
  EXPECT_EQ(resp.products_size(), 7);
  EXPECT_EQ(resp.products(0).name(), "Aardvark");
  EXPECT_TRUE(resp.next_page_token().empty());
  const std::vector<std::string> bad_tokens{"-3",
                                            "zz",
                                            "00",
                                            services::Hex("15:products.search2:ab2:cd")};
  for (const std::string& bad : bad_tokens) {
    all.set_page_token(bad);
    EXPECT_EQ(Call([&](CallContext& ctx) { return service.ListProducts(ctx, all, resp); }).code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

class SearchTest : public ProductsServiceTest {
 protected:
  std::vector<std::string> Search(v1::SearchProductsRequest req) {
    std::vector<std::string> names;
    for (int page = 0; page < 20; ++page) {
      v1::SearchProductsResponse resp;
      cppsvc::Status s =
          Call([&](CallContext& ctx) { return service.SearchProducts(ctx, req, resp); }, {});
      EXPECT_TRUE(s.ok()) << s.message();
      for (const auto& p : resp.products()) names.push_back(p.name());
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return names;
  }

  std::vector<std::string> Search(const std::string& query) {
    v1::SearchProductsRequest req;
    req.set_query(query);
    return Search(req);
  }
};

// The contract's text search index covers exactly the document the search
// matches: with sequential scans off, the planner takes it.
TEST_F(SearchTest, TheSearchDocumentIsServedByTheGinIndex) {
  std::string plan;
  cppsvc::Status s = testing::RunIn(*pool, [&](cppsvc::db::Tx& tx) {
    tx.exec0("SET LOCAL enable_seqscan = off");
    for (const auto& row : tx.exec("EXPLAIN SELECT id FROM products WHERE " PRODUCTS_SEARCH_DOCUMENT
                                   " @@ to_tsquery('english', 'tea')"))
      plan += row[0].as<std::string>() + "\n";
    return cppsvc::Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_NE(plan.find("products_name_description_search_idx"), std::string::npos) << plan;
}

TEST_F(SearchTest, NamesRankAboveDescriptions) {
  MustCreate({.sku = "SKU-1", .name = "Notebook", .description = "lies flat next to your pen"});
  MustCreate({.sku = "SKU-2", .name = "Blue pen", .description = "writes blue"});
  MustCreate({.sku = "SKU-3", .name = "Chair"});
  EXPECT_EQ(Search("PEN"), (std::vector<std::string>{"Blue pen", "Notebook"}));
}

TEST_F(SearchTest, EveryWordMatchesTheLastAlsoAsAPrefix) {
  MustCreate({.sku = "SKU-1", .name = "Blue pencil"});
  MustCreate({.sku = "SKU-2", .name = "Red pencil"});
  MustCreate({.sku = "SKU-3", .name = "Blue chair", .description = "for pencil pushers"});
  EXPECT_EQ(Search("blue penc"), (std::vector<std::string>{"Blue pencil", "Blue chair"}));
  EXPECT_EQ(Search("pencils").size(), 3u);         // stemmed: pencils ~ pencil
  EXPECT_TRUE(Search("bl pencil").empty());        // only the last word is a prefix
  EXPECT_TRUE(Search("'&|!():*<->").empty());      // no word: nothing, no error
  EXPECT_EQ(Search("red & | ! pen").size(), 1u);   // operators are not passed through
  EXPECT_EQ(Search("the red pencil").size(), 1u);  // stop words are ignored
}

TEST_F(SearchTest, FiltersByCategoryAndPrice) {
  std::string books = NewCategory("Books", "books");
  MustCreate({.sku = "SKU-1", .name = "Cheap pen", .price_cents = 100});
  MustCreate({.sku = "SKU-2", .name = "Fine pen", .price_cents = 5000});
  MustCreate({.sku = "SKU-3", .name = "Pen drawing", .category_id = books, .price_cents = 900});
  v1::SearchProductsRequest req;
  req.set_query("pen");
  req.set_category_id(category);
  std::vector<std::string> office = Search(req);
  EXPECT_EQ(std::set<std::string>(office.begin(), office.end()),
            (std::set<std::string>{"Cheap pen", "Fine pen"}));
  req.clear_category_id();
  req.set_min_price_cents(900);
  EXPECT_EQ(Search(req).size(), 2u);
  req.set_max_price_cents(900);
  EXPECT_EQ(Search(req), std::vector<std::string>{"Pen drawing"});
  req.set_min_price_cents(901);
  EXPECT_TRUE(Search(req).empty());
}

TEST_F(SearchTest, PagesHoldEveryMatchOnceBestFirst) {
  for (int i = 0; i < 25; ++i) {
    std::string n = std::to_string(i);
    MustCreate({.sku = "SKU-P" + n, .name = "Pen " + n, .description = i % 2 ? "pen pen" : ""});
    MustCreate({.sku = "SKU-N" + n, .name = "Notebook " + n, .description = "pen"});
  }
  v1::SearchProductsRequest req;
  req.set_query("pen");
  req.set_limit(7);
  std::vector<std::string> names = Search(req);
  ASSERT_EQ(names.size(), 50u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 50u);
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(names[i].rfind("Pen", 0) == 0, i < 25) << i << " " << names[i];
  }
  req.set_page_token(services::Hex("15:products.search4:nope2:ab"));
  v1::SearchProductsResponse resp;
  EXPECT_EQ(
      Call([&](CallContext& ctx) { return service.SearchProducts(ctx, req, resp); }, {}).code(),
      StatusCode::kInvalidArgument);
}

TEST_F(ProductsServiceTest, ReserveStockIsAllOrNoneAndIdempotent) {
  v1::Product pen = MustCreate({.sku = "SKU-1", .name = "Pen", .stock = 5});
  v1::Product ink = MustCreate({.sku = "SKU-2", .name = "Ink", .stock = 1});
  v1::ReserveStockResponse resp;
  ASSERT_TRUE(Reserve(services::NewUuid(), {{pen.id(), 2}, {ink.id(), 2}}, resp).ok());
  EXPECT_FALSE(resp.reserved());
  ASSERT_EQ(resp.unavailable_product_ids_size(), 1);
  EXPECT_EQ(resp.unavailable_product_ids(0), ink.id());
  EXPECT_EQ(Stock(pen.id()), 5);  // nothing held

  const std::string order = services::NewUuid();
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

TEST_F(ProductsServiceTest, ReleaseStockReturnsUnitsOnceAndEmits) {
  v1::Product pen = MustCreate({.sku = "SKU-1", .name = "Pen", .stock = 5});
  const std::string order = services::NewUuid();
  v1::ReserveStockResponse reserved;
  ASSERT_TRUE(Reserve(order, {{pen.id(), 4}}, reserved).ok());
  EXPECT_EQ(Stock(pen.id()), 1);
  v1::ReleaseStockResponse released;
  ASSERT_TRUE(Release(order, released).ok());
  EXPECT_EQ(released.released_count(), 1);
  EXPECT_EQ(Stock(pen.id()), 5);
  ASSERT_TRUE(Release(order, released).ok());
  EXPECT_EQ(released.released_count(), 0);
  EXPECT_EQ(Stock(pen.id()), 5);
  auto events = Emitted<v1::StockReleased>();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].order_id(), order);
  ASSERT_EQ(events[0].lines_size(), 1);
  EXPECT_EQ(events[0].lines(0).quantity(), 4);
  EXPECT_EQ(Reserve(order, {{pen.id(), 4}}, reserved).code(), StatusCode::kFailedPrecondition);
}

TEST_F(ProductsServiceTest, CommitStockMakesTheSaleFinal) {
  v1::Product pen = MustCreate({.sku = "SKU-1", .name = "Pen", .stock = 5});
  const std::string order = services::NewUuid();
  v1::ReserveStockResponse reserved;
  ASSERT_TRUE(Reserve(order, {{pen.id(), 2}}, reserved).ok());
  v1::CommitStockResponse committed;
  ASSERT_TRUE(Commit(order, committed).ok());
  EXPECT_EQ(committed.committed_count(), 1);
  ASSERT_TRUE(Commit(order, committed).ok());
  EXPECT_EQ(committed.committed_count(), 0);
  v1::ReleaseStockResponse released;
  EXPECT_EQ(Release(order, released).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Stock(pen.id()), 3);
  EXPECT_EQ(Commit(services::NewUuid(), committed).code(), StatusCode::kFailedPrecondition);
}

TEST_F(ProductsServiceTest, AdjustStockNeverGoesNegative) {
  v1::Product pen = MustCreate({.sku = "SKU-1", .name = "Pen", .stock = 5});
  v1::AdjustStockRequest req;
  req.set_request_id(services::NewUuid());
  req.set_product_id(pen.id());
  req.set_delta(10);
  v1::AdjustStockResponse resp;
  auto adjust = [&] {
    return Call([&](CallContext& ctx) { return service.AdjustStock(ctx, req, resp); });
  };
  ASSERT_TRUE(adjust().ok());
  EXPECT_EQ(resp.product().stock(), 15);
  req.set_delta(-16);
  cppsvc::Status refused = adjust();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(), "stock of product " + pen.id() + " is 15; cannot add -16");
  req.set_delta(-15);
  ASSERT_TRUE(adjust().ok());
  EXPECT_EQ(resp.product().stock(), 0);
  req.set_product_id(services::NewUuid());
  EXPECT_EQ(adjust().code(), StatusCode::kNotFound);
}

commerce::orders::v1::OrderCreated OrderOf(const std::string& product_id, int quantity) {
  commerce::orders::v1::OrderCreated created;
  created.set_order_id(services::NewUuid());
  created.set_user_id("u");
  created.set_total_cents(500);
  auto* line = created.add_lines();
  line->set_product_id(product_id);
  line->set_quantity(quantity);
  return created;
}

TEST_F(ProductsServiceTest, SagaStepReservesRejectsAndIsUndone) {
  v1::Product pen = MustCreate({.sku = "SKU-1", .name = "Pen", .stock = 3});
  auto created = OrderOf(pen.id(), 2);
  v1::StockReserved reserved;
  ASSERT_TRUE(Deliver([&](EventContext& ctx) {
                auto result = service.CheckoutReserveStock(ctx, created);
                EXPECT_TRUE(result.succeeded());
                if (result.succeeded()) reserved = result.success();
                return result.error();
              }).ok());
  EXPECT_EQ(reserved.amount_cents(), 500);
  EXPECT_EQ(reserved.user_id(), "u");
  ASSERT_EQ(reserved.lines_size(), 1);
  EXPECT_EQ(Stock(pen.id()), 1);

  auto second = OrderOf(pen.id(), 2);
  v1::StockRejected rejected;
  ASSERT_TRUE(Deliver([&](EventContext& ctx) {
                auto result = service.CheckoutReserveStock(ctx, second);
                EXPECT_TRUE(result.failed());
                if (result.failed()) rejected = result.failure();
                return result.error();
              }).ok());
  EXPECT_EQ(rejected.reason(), "not enough stock for 1 product(s)");
  ASSERT_EQ(rejected.unavailable_product_ids_size(), 1);

  const cppsvc::sagas::Undo undo{"checkout", "reserve_stock", created.order_id(), "failed"};
  v1::StockReleased released;
  ASSERT_TRUE(Deliver([&](EventContext& ctx) {
                return service.UndoCheckoutReserveStock(ctx, undo, released);
              }).ok());
  EXPECT_EQ(Stock(pen.id()), 3);
  EXPECT_EQ(released.lines_size(), 1);
}

TEST_F(ProductsServiceTest, AConfirmedOrderCommitsItsStock) {
  v1::Product pen = MustCreate({.sku = "SKU-1", .name = "Pen", .stock = 3});
  auto created = OrderOf(pen.id(), 2);
  ASSERT_TRUE(Deliver([&](EventContext& ctx) {
                return service.CheckoutReserveStock(ctx, created).error();
              }).ok());
  commerce::orders::v1::OrderConfirmed confirmed;
  confirmed.set_order_id(created.order_id());
  ASSERT_TRUE(
      Deliver([&](EventContext& ctx) { return service.OnOrderConfirmed(ctx, confirmed); }).ok());
  const cppsvc::sagas::Undo undo{"checkout", "reserve_stock", created.order_id(), "timed_out"};
  v1::StockReleased released;
  ASSERT_TRUE(Deliver([&](EventContext& ctx) {
                return service.UndoCheckoutReserveStock(ctx, undo, released);
              }).ok());
  EXPECT_EQ(Stock(pen.id()), 1);  // committed units never return
}

}  // namespace
}  // namespace products
