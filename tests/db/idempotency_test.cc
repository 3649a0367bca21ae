#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <optional>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "cppsvc/db/db.h"
#include "db_test_support.h"

namespace cppsvc::db {
namespace {

using testing::DatabaseTest;
using testing::In;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr char kMethod[] = "commerce.orders.v1.OrdersService/PlaceOrder";
constexpr char kCaller[] = "user-1";
// Serialized responses are binary: NUL and high bytes must survive.
const std::string kResponse(
    "\x0a\x03"
    "abc\x00\xff\x10",
    8);

class IdempotencyTest : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    ApplyMigrations(url(),
                    {{"0001_infrastructure", testing::InfrastructureSql()},
                     {"0002_orders", "CREATE TABLE orders (id serial PRIMARY KEY, key text)"}});
    PoolOptions options;
    options.conninfo = url();
    options.size = 4;
    pool_ = std::make_unique<Pool>(options);
  }
  void TearDown() override {
    pool_.reset();
    DatabaseTest::TearDown();
  }

  // What a generated server does for an RPC with an idempotency key: claim,
  // replay or run the handler (which inserts one order), store the response.
  struct Outcome {
    Status status;
    bool replayed = false;
    std::optional<StoredResponse> replay;
  };
  Outcome Call(Pool& pool,
               const std::string& key,
               const std::string& request,
               const std::function<Status(Tx&)>& handler = nullptr,
               const std::string& caller = kCaller) {
    Outcome outcome;
    const IdempotencyScope scope{kMethod, caller, key};
    outcome.status = RunInTransaction(pool, In(30s), [&](Tx& tx) {
      outcome.replay.reset();
      Status claimed = ClaimIdempotencyKey(tx, scope, request, &outcome.replay);
      if (!claimed.ok()) return claimed;
      if (outcome.replay) return Status::Ok();
      tx.exec_params("INSERT INTO orders (key) VALUES ($1)", key);
      if (handler) {
        Status status = handler(tx);
        if (!status.ok()) return status;
      }
      StoreIdempotentResponse(tx, scope, StatusCode::kOk, kResponse);
      return Status::Ok();
    });
    outcome.replayed = outcome.replay.has_value();
    return outcome;
  }
  Outcome Call(const std::string& key, const std::string& request) {
    return Call(*pool_, key, request);
  }
  long long Orders() const { return QueryInt("SELECT count(*) FROM orders"); }

  std::unique_ptr<Pool> pool_;
};

TEST_F(IdempotencyTest, FirstCallRunsAndTheRepeatReplaysIt) {
  Outcome first = Call("key-1", "request-a");
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  EXPECT_FALSE(first.replayed);
  EXPECT_EQ(Orders(), 1);

  Outcome repeat = Call("key-1", "request-a");
  ASSERT_TRUE(repeat.status.ok()) << repeat.status.ToString();
  ASSERT_TRUE(repeat.replayed);
  EXPECT_EQ(repeat.replay->code, StatusCode::kOk);
  EXPECT_EQ(repeat.replay->response, kResponse);
  EXPECT_EQ(Orders(), 1) << "a replay must not run the handler";

  EXPECT_EQ(Query("SELECT request_hash FROM cppsvc_idempotency_keys WHERE key = 'key-1'"),
            Sha256Hex("request-a"));
}

TEST_F(IdempotencyTest, SameKeyWithAnotherRequestIsFailedPrecondition) {
  ASSERT_TRUE(Call("key-1", "request-a").status.ok());
  Outcome other = Call("key-1", "request-b");
  EXPECT_EQ(other.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.status.message(),
            "idempotency key key-1 was already used with a different request");
  EXPECT_EQ(Orders(), 1);
}

TEST_F(IdempotencyTest, KeysBelongToOneMethod) {
  ASSERT_TRUE(Call("key-1", "request-a").status.ok());
  Status status = RunInTransaction(*pool_, In(10s), [](Tx& tx) {
    std::optional<StoredResponse> replay;
    Status claimed =
        ClaimIdempotencyKey(tx, {"other.v1.Other/Do", kCaller, "key-1"}, "request-a", &replay);
    if (!claimed.ok()) return claimed;
    return replay ? Status::Internal("replayed another method's response") : Status::Ok();
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
}

// Another caller's key is a new key: it neither replays the first caller's
// response nor is refused for a different request (which would tell it the
// key is in use).
TEST_F(IdempotencyTest, KeysBelongToOneCaller) {
  ASSERT_TRUE(Call("key-1", "request-a").status.ok());
  Outcome same = Call(*pool_, "key-1", "request-a", nullptr, "user-2");
  ASSERT_TRUE(same.status.ok()) << same.status.ToString();
  EXPECT_FALSE(same.replayed);
  Outcome other = Call(*pool_, "key-1", "request-b", nullptr, "user-3");
  ASSERT_TRUE(other.status.ok()) << other.status.ToString();
  EXPECT_FALSE(other.replayed);
  EXPECT_EQ(Orders(), 3);
  EXPECT_TRUE(Call("key-1", "request-a").replayed);
  EXPECT_EQ(Orders(), 3);
}

TEST_F(IdempotencyTest, StoredStatusCodeIsReplayed) {
  Status status = RunInTransaction(*pool_, In(10s), [](Tx& tx) {
    std::optional<StoredResponse> replay;
    Status claimed = ClaimIdempotencyKey(tx, {kMethod, kCaller, "key-2"}, "request", &replay);
    if (!claimed.ok()) return claimed;
    StoreIdempotentResponse(tx, {kMethod, kCaller, "key-2"}, StatusCode::kAlreadyExists, "");
    return Status::Ok();
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  Outcome repeat = Call("key-2", "request");
  ASSERT_TRUE(repeat.replayed);
  EXPECT_EQ(repeat.replay->code, StatusCode::kAlreadyExists);
  EXPECT_EQ(repeat.replay->response, "");
}

TEST_F(IdempotencyTest, StoringAnUnclaimedKeyIsABug) {
  Status status = RunInTransaction(*pool_, In(10s), [](Tx& tx) {
    StoreIdempotentResponse(tx, {kMethod, kCaller, "never-claimed"}, StatusCode::kOk, "x");
    return Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kInternal);
}

TEST_F(IdempotencyTest, RolledBackFirstCallLetsTheNextOneRun) {
  Outcome failed = Call(*pool_, "key-1", "request-a", [](Tx&) {
    return Status::Unavailable("payment provider down");
  });
  EXPECT_EQ(failed.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(Orders(), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_idempotency_keys"), 0);

  Outcome retry = Call("key-1", "request-a");
  ASSERT_TRUE(retry.status.ok()) << retry.status.ToString();
  EXPECT_FALSE(retry.replayed);
  EXPECT_EQ(Orders(), 1);
}

// The second call with a key waits for the first's transaction; when that
// one rolls back, the second runs the handler itself.
TEST_F(IdempotencyTest, ConcurrentCallWaitsAndRunsWhenTheFirstRollsBack) {
  std::promise<void> claimed;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::thread first([&] {
    Outcome outcome = Call(*pool_, "key-1", "request-a", [&](Tx&) {
      claimed.set_value();
      released.wait();
      return Status::Internal("handler failed");
    });
    EXPECT_EQ(outcome.status.code(), StatusCode::kInternal);
  });
  claimed.get_future().wait();

  Outcome second;
  std::thread waiter([&] { second = Call("key-1", "request-a"); });
  // The second call blocks on the first's uncommitted key row.
  const auto until = SteadyClock::now() + 10s;
  long long waiting = 0;
  while ((waiting = QueryInt("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                             "current_database() AND wait_event_type = 'Lock'")) == 0 &&
         SteadyClock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(waiting, 1) << "the second call did not wait for the first";
  release.set_value();
  first.join();
  waiter.join();

  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_FALSE(second.replayed);
  EXPECT_EQ(Orders(), 1);
  EXPECT_TRUE(Call("key-1", "request-a").replayed);
}

// 50 concurrent calls with the same key: one runs the handler, 49 replay.
TEST_F(IdempotencyTest, FiftyConcurrentCallsRunTheHandlerOnce) {
  constexpr int kCalls = 50;
  PoolOptions options;
  options.conninfo = url();
  options.size = kCalls;
  options.acquire_timeout = 30s;
  Pool pool(options);
  std::atomic<int> started{0};
  std::vector<Outcome> outcomes(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      ++started;
      while (started.load() < kCalls) std::this_thread::yield();
      outcomes[i] = Call(pool, "key-50", "request", [](Tx& tx) {
        // Holds the key long enough for the others to pile up behind it.
        tx.exec("SELECT pg_sleep(0.2)");
        return Status::Ok();
      });
    });
  }
  for (auto& t : threads) t.join();

  int ran = 0;
  int replayed = 0;
  for (const Outcome& outcome : outcomes) {
    EXPECT_TRUE(outcome.status.ok()) << outcome.status.ToString();
    if (!outcome.status.ok()) continue;
    if (outcome.replayed) {
      ++replayed;
      EXPECT_EQ(outcome.replay->response, kResponse);
    } else {
      ++ran;
    }
  }
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(replayed, kCalls - 1);
  EXPECT_EQ(Orders(), 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_idempotency_keys"), 1);
}

}  // namespace
}  // namespace cppsvc::db
