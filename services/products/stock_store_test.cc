// StockStore against a real PostgreSQL: all lines or none, idempotence per
// order, release and commit, and no overselling under concurrency.
#include "products/stock_store.h"

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "commerce/products/v1/products.cppsvc.repo.h"
#include "common/util.h"
#include "products/products_test_support.h"

namespace products {
namespace {

using cppsvc::db::Tx;

constexpr auto kHeld = v1::RESERVATION_STATUS_HELD;
constexpr auto kRejected = v1::RESERVATION_STATUS_REJECTED;
constexpr auto kReleased = v1::RESERVATION_STATUS_RELEASED;
constexpr auto kCommitted = v1::RESERVATION_STATUS_COMMITTED;

StockLine Line(const std::string& product_id, int quantity) {
  StockLine line;
  line.set_product_id(product_id);
  line.set_quantity(quantity);
  return line;
}

// Holds transactions until `count` are open (or 30 s passed, so that one
// that could not open does not hold the others forever).
class StartLine {
 public:
  explicit StartLine(int count) : count_(count) {}
  void Wait(Tx& tx) {
    tx.exec("SELECT 1");
    ++ready_;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (ready_.load() < count_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

 private:
  const int count_;
  std::atomic<int> ready_{0};
};

class StockStoreTest : public testing::ProductsTest {
 protected:
  std::string NewProduct(int stock) {
    Product p;
    p.set_sku("SKU-" + services::RandomHex(4));
    p.set_name("Pen");
    p.set_category_id(services::NewUuid());
    p.set_stock(stock);
    EXPECT_TRUE(InTx([&](Tx& tx) {
                  v1::ProductRepository(tx).Insert(p);
                  return cppsvc::Status::Ok();
                }).ok());
    return p.id();
  }

  int Stock(const std::string& product_id) { return Get(product_id).stock(); }

  Product Get(const std::string& product_id) {
    Product p;
    EXPECT_TRUE(InTx([&](Tx& tx) {
                  p = v1::ProductRepository(tx).Get(product_id);
                  return cppsvc::Status::Ok();
                }).ok());
    return p;
  }

  ReserveOutcome Reserve(const std::string& order_id, const std::vector<StockLine>& lines) {
    ReserveOutcome outcome;
    EXPECT_TRUE(InTx([&](Tx& tx) {
                  outcome = store.Reserve(tx, order_id, lines);
                  return cppsvc::Status::Ok();
                }).ok());
    return outcome;
  }

  ReleaseOutcome Release(const std::string& order_id) {
    ReleaseOutcome outcome;
    EXPECT_TRUE(InTx([&](Tx& tx) {
                  outcome = store.Release(tx, order_id);
                  return cppsvc::Status::Ok();
                }).ok());
    return outcome;
  }

  CommitOutcome Commit(const std::string& order_id) {
    CommitOutcome outcome;
    EXPECT_TRUE(InTx([&](Tx& tx) {
                  outcome = store.Commit(tx, order_id);
                  return cppsvc::Status::Ok();
                }).ok());
    return outcome;
  }

  // Units of `product_id` held (or committed) for orders, from the table.
  int64_t Held(const std::string& product_id) {
    int64_t held = 0;
    EXPECT_TRUE(InTx([&](Tx& tx) {
                  held = tx.exec_params(
                               "SELECT COALESCE(SUM(quantity), 0) FROM stock_reservations"
                               " WHERE product_id = $1 AND status IN (1, 4)",
                               product_id)[0][0]
                             .as<int64_t>();
                  return cppsvc::Status::Ok();
                }).ok());
    return held;
  }

  StockStore store;
};

TEST_F(StockStoreTest, ReservesEveryLineOrNone) {
  const std::string pen = NewProduct(5);
  const std::string ink = NewProduct(1);
  const std::string order = services::NewUuid();
  ReserveOutcome short_of_ink = Reserve(order, {Line(pen, 2), Line(ink, 2)});
  EXPECT_EQ(short_of_ink.status, kRejected);
  EXPECT_FALSE(short_of_ink.reserved());
  EXPECT_EQ(short_of_ink.unavailable_product_ids, std::vector<std::string>{ink});
  EXPECT_EQ(short_of_ink.reason, "not enough stock for 1 product(s)");
  EXPECT_EQ(Stock(pen), 5);
  EXPECT_EQ(Stock(ink), 1);

  const std::string other = services::NewUuid();
  ReserveOutcome both = Reserve(other, {Line(pen, 2), Line(ink, 1)});
  EXPECT_EQ(both.status, kHeld);
  EXPECT_TRUE(both.newly_reserved);
  EXPECT_EQ(Stock(pen), 3);
  EXPECT_EQ(Stock(ink), 0);
  EXPECT_EQ(Held(pen), 2);
}

TEST_F(StockStoreTest, AnOrderKeepsItsFirstOutcome) {
  const std::string pen = NewProduct(5);
  const std::string order = services::NewUuid();
  ASSERT_TRUE(Reserve(order, {Line(pen, 2)}).newly_reserved);
  ReserveOutcome again = Reserve(order, {Line(pen, 2)});
  EXPECT_EQ(again.status, kHeld);
  EXPECT_FALSE(again.newly_reserved);
  ASSERT_EQ(again.lines.size(), 1u);
  EXPECT_EQ(again.lines[0].quantity(), 2);
  EXPECT_EQ(Stock(pen), 3);

  const std::string rejected = services::NewUuid();
  EXPECT_EQ(Reserve(rejected, {Line(pen, 4)}).status, kRejected);
  ReserveOutcome still = Reserve(rejected, {Line(pen, 1)});  // would fit now: the order is decided
  EXPECT_EQ(still.status, kRejected);
  EXPECT_EQ(still.unavailable_product_ids, std::vector<std::string>{pen});
  EXPECT_EQ(Stock(pen), 3);
}

TEST_F(StockStoreTest, MalformedLinesAndUnknownProductsAreRejected) {
  const std::string pen = NewProduct(5);
  EXPECT_EQ(Reserve(services::NewUuid(), {}).reason, "the order has no lines");
  ReserveOutcome twice = Reserve(services::NewUuid(), {Line(pen, 1), Line(pen, 1)});
  EXPECT_EQ(twice.status, kRejected);
  EXPECT_EQ(twice.reason, "product " + pen + " appears more than once");
  ReserveOutcome negative = Reserve(services::NewUuid(), {Line(pen, -3)});
  EXPECT_EQ(negative.status, kRejected);
  EXPECT_EQ(negative.reason, "product " + pen + ": quantity -3");
  const std::string unknown = services::NewUuid();
  EXPECT_EQ(Reserve(services::NewUuid(), {Line(unknown, 1)}).unavailable_product_ids,
            std::vector<std::string>{unknown});
  EXPECT_EQ(Stock(pen), 5);
}

TEST_F(StockStoreTest, ReleaseReturnsTheUnitsOnce) {
  const std::string pen = NewProduct(5);
  const std::string order = services::NewUuid();
  Reserve(order, {Line(pen, 4)});
  ReleaseOutcome released = Release(order);
  EXPECT_EQ(released.status, kReleased);
  ASSERT_EQ(released.lines.size(), 1u);
  EXPECT_EQ(released.lines[0].quantity(), 4);
  EXPECT_EQ(Stock(pen), 5);
  EXPECT_EQ(Held(pen), 0);
  EXPECT_TRUE(Release(order).lines.empty());
  EXPECT_EQ(Stock(pen), 5);
  EXPECT_EQ(Reserve(order, {Line(pen, 4)}).status, kReleased);  // not taken again
  EXPECT_EQ(Stock(pen), 5);
}

TEST_F(StockStoreTest, AReleaseBeforeTheReservationWins) {
  const std::string pen = NewProduct(5);
  const std::string order = services::NewUuid();
  ReleaseOutcome early = Release(order);
  EXPECT_EQ(early.status, kReleased);
  EXPECT_TRUE(early.lines.empty());
  EXPECT_EQ(Reserve(order, {Line(pen, 1)}).status, kReleased);
  EXPECT_EQ(Stock(pen), 5);
}

TEST_F(StockStoreTest, CommittedUnitsNeverComeBack) {
  const std::string pen = NewProduct(5);
  const std::string order = services::NewUuid();
  Reserve(order, {Line(pen, 2)});
  CommitOutcome committed = Commit(order);
  EXPECT_EQ(committed.status, kCommitted);
  EXPECT_EQ(committed.committed_count, 1);
  EXPECT_EQ(Commit(order).committed_count, 0);  // repeated
  EXPECT_EQ(Release(order).status, kCommitted);
  EXPECT_EQ(Stock(pen), 3);
  EXPECT_EQ(Held(pen), 2);
  EXPECT_TRUE(Reserve(order, {Line(pen, 2)}).reserved());

  EXPECT_EQ(Commit(services::NewUuid()).status, v1::RESERVATION_STATUS_UNSPECIFIED);
  const std::string released = services::NewUuid();
  Reserve(released, {Line(pen, 1)});
  Release(released);
  EXPECT_EQ(Commit(released).status, kReleased);
  EXPECT_EQ(Stock(pen), 3);
}

TEST_F(StockStoreTest, AdjustKeepsStockWithinRange) {
  const std::string pen = NewProduct(5);
  bool adjusted = false;
  auto adjust = [&](int32_t delta) {
    EXPECT_TRUE(InTx([&](Tx& tx) {
                  adjusted = store.Adjust(tx, pen, delta);
                  return cppsvc::Status::Ok();
                }).ok());
    return adjusted;
  };
  EXPECT_TRUE(adjust(10));
  EXPECT_EQ(Stock(pen), 15);
  EXPECT_FALSE(adjust(-16));
  EXPECT_EQ(Stock(pen), 15);
  EXPECT_TRUE(adjust(-15));
  EXPECT_EQ(Stock(pen), 0);
  EXPECT_EQ(Get(pen).version(), 1);  // stock moves leave the catalog version alone
  cppsvc::Status missing = InTx([&](Tx& tx) {
    store.Adjust(tx, services::NewUuid(), 1);
    return cppsvc::Status::Ok();
  });
  EXPECT_EQ(missing.code(), cppsvc::StatusCode::kNotFound);
}

// 50 checkouts at once for the last 10 units, one unit each, each in a
// transaction of its own, all open before any reserves: exactly 10 get one.
TEST_F(StockStoreTest, FiftyConcurrentCheckoutsShareTheLastTenUnits) {
  const std::string pen = NewProduct(10);
  auto wide = WidePool(50);
  std::atomic<int> reserved{0};
  std::atomic<int> failed{0};
  StartLine start(50);
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      const std::string order = services::NewUuid();
      bool got = false;  // counted once committed: a retried transaction runs again
      bool waited = false;
      cppsvc::Status status = testing::RunIn(*wide, [&](Tx& tx) {
        if (!waited) start.Wait(tx);  // every transaction open before any reserves
        waited = true;
        got = store.Reserve(tx, order, {Line(pen, 1)}).reserved();
        return cppsvc::Status::Ok();
      });
      if (!status.ok()) ++failed;
      if (status.ok() && got) ++reserved;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(reserved.load(), 10);
  EXPECT_GE(Stock(pen), 0);
  EXPECT_EQ(Stock(pen), 0);
  EXPECT_EQ(Held(pen), 10);
}

// 50 orders at once of 1 to 3 units of two products, locked in opposite
// orders: no stock below 0, and what left the shelves is what is held.
TEST_F(StockStoreTest, ConcurrentMultiLineOrdersNeverOversell) {
  const std::string pen = NewProduct(10);
  const std::string ink = NewProduct(10);
  auto wide = WidePool(50);
  std::atomic<int> taken_pens{0};
  std::atomic<int> taken_inks{0};
  std::atomic<int> failed{0};
  StartLine start(50);
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      std::mt19937 random(static_cast<unsigned>(i));
      const int pens = 1 + static_cast<int>(random() % 3);
      const int inks = 1 + static_cast<int>(random() % 3);
      std::vector<StockLine> lines{Line(pen, pens), Line(ink, inks)};
      if (i % 2 == 1) std::swap(lines[0], lines[1]);
      bool got = false;
      bool waited = false;
      cppsvc::Status status = testing::RunIn(*wide, [&](Tx& tx) {
        if (!waited) start.Wait(tx);  // every transaction open before any reserves
        waited = true;
        got = store.Reserve(tx, services::NewUuid(), lines).reserved();
        return cppsvc::Status::Ok();
      });
      if (!status.ok()) ++failed;
      if (status.ok() && got) {
        taken_pens += pens;
        taken_inks += inks;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GE(Stock(pen), 0);
  EXPECT_GE(Stock(ink), 0);
  EXPECT_GT(taken_pens.load(), 0);
  EXPECT_EQ(Stock(pen) + taken_pens.load(), 10);
  EXPECT_EQ(Stock(ink) + taken_inks.load(), 10);
  EXPECT_EQ(Held(pen), taken_pens.load());
  EXPECT_EQ(Held(ink), taken_inks.load());
}

// The same order reserved by 20 callers at once takes its units once.
TEST_F(StockStoreTest, ConcurrentRepeatsOfOneOrderTakeStockOnce) {
  const std::string pen = NewProduct(10);
  const std::string order = services::NewUuid();
  auto wide = WidePool(20);
  std::atomic<int> newly{0};
  std::atomic<int> reserved{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&] {
      ReserveOutcome outcome;
      EXPECT_TRUE(testing::RunIn(*wide, [&](Tx& tx) {
                    outcome = store.Reserve(tx, order, {Line(pen, 3)});
                    return cppsvc::Status::Ok();
                  }).ok());
      if (outcome.reserved()) ++reserved;
      if (outcome.newly_reserved) ++newly;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(reserved.load(), 20);
  EXPECT_EQ(newly.load(), 1);
  EXPECT_EQ(Stock(pen), 7);
}

}  // namespace
}  // namespace products
