#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
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

// Defined the way generated repositories define theirs.
const Statement kAddOne("pool_test_add_one", "SELECT $1::integer + 1");

// Nothing listens on port 1 of the loopback interface.
constexpr char kNoServerUrl[] = "postgresql://postgres@127.0.0.1:1/postgres";

long long Millis(SteadyClock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

int BackendPid(Pool::Lease& lease) {
  pqxx::nontransaction tx(lease.connection());
  return tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
}

class PoolTest : public DatabaseTest {
 protected:
  PoolOptions Options(size_t size) const {
    PoolOptions options;
    options.conninfo = url();
    options.size = size;
    return options;
  }
};

TEST_F(PoolTest, OpensConnectionsOnlyWhenAcquired) {
  Pool pool(Options(2));
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(pool.open(), 0u);
  {
    Pool::Lease lease = pool.Acquire(In(5s));
    EXPECT_EQ(pool.open(), 1u);
    EXPECT_EQ(pool.idle(), 0u);
  }
  EXPECT_EQ(pool.open(), 1u);
  EXPECT_EQ(pool.idle(), 1u);
}

TEST_F(PoolTest, ReusesIdleConnections) {
  Pool pool(Options(2));
  int first = 0;
  {
    Pool::Lease lease = pool.Acquire(In(5s));
    first = BackendPid(lease);
  }
  Pool::Lease lease = pool.Acquire(In(5s));
  EXPECT_EQ(BackendPid(lease), first);
  EXPECT_EQ(pool.open(), 1u);
}

TEST_F(PoolTest, NeverOpensMoreThanItsSize) {
  Pool pool(Options(3));
  std::mutex mu;
  std::set<int> backends;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 3; ++j) {
        Status status = RunInTransaction(pool, In(20s), [&](Tx& tx) {
          const int pid = tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
          tx.exec("SELECT pg_sleep(0.05)");
          std::lock_guard lock(mu);
          backends.insert(pid);
          return Status::Ok();
        });
        if (!status.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(backends.size(), 3u);
  EXPECT_EQ(pool.open(), 3u);
  EXPECT_EQ(pool.idle(), 3u);
}

TEST_F(PoolTest, AcquireGivesUpAtTheDeadline) {
  Pool pool(Options(1));
  Pool::Lease held = pool.Acquire(In(5s));
  const auto start = SteadyClock::now();
  try {
    pool.Acquire(In(300ms));
    FAIL() << "Acquire succeeded with every connection leased";
  } catch (const Unavailable& e) {
    EXPECT_STREQ(e.what(), "no database connection became free in time (all 1 in use)");
  }
  const auto waited = Millis(SteadyClock::now() - start);
  EXPECT_GE(waited, 290);
  EXPECT_LT(waited, 3000);
  EXPECT_EQ(pool.open(), 1u);
}

TEST_F(PoolTest, AcquireTimeoutCapsAFarDeadline) {
  PoolOptions options = Options(1);
  options.acquire_timeout = 200ms;
  Pool pool(options);
  Pool::Lease held = pool.Acquire(In(5s));
  const auto start = SteadyClock::now();
  EXPECT_THROW(pool.Acquire(In(60s)), Unavailable);
  const auto waited = Millis(SteadyClock::now() - start);
  EXPECT_GE(waited, 190);
  EXPECT_LT(waited, 3000);
}

TEST_F(PoolTest, WaitingAcquireGetsTheReturnedConnection) {
  Pool pool(Options(1));
  auto held = std::make_unique<Pool::Lease>(pool.Acquire(In(5s)));
  const int pid = BackendPid(*held);
  std::atomic<int> waiter_pid{0};
  std::atomic<long long> waited{0};
  std::thread waiter([&] {
    const auto start = SteadyClock::now();
    Pool::Lease lease = pool.Acquire(In(10s));
    waited = Millis(SteadyClock::now() - start);
    waiter_pid = BackendPid(lease);
  });
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(waiter_pid.load(), 0) << "the waiter got a connection while the only one was leased";
  held.reset();
  waiter.join();
  EXPECT_EQ(waiter_pid.load(), pid);
  EXPECT_GE(waited.load(), 250);
  EXPECT_EQ(pool.open(), 1u);
}

TEST_F(PoolTest, ConnectionsDefineRegisteredStatements) {
  Pool pool(Options(1));
  Pool::Lease lease = pool.Acquire(In(5s));
  pqxx::work tx(lease.connection());
  EXPECT_EQ(tx.exec_prepared1(kAddOne.name, 41)[0].as<int>(), 42);
  bool registered = false;
  for (const Statement* statement : RegisteredStatements()) {
    registered = registered || statement == &kAddOne;
  }
  EXPECT_TRUE(registered);
}

TEST_F(PoolTest, ReadyWhileTheServerAnswers) {
  Pool pool(Options(1));
  EXPECT_TRUE(pool.Ready());
  // The probe has a connection of its own: a pool with every connection
  // leased is still ready.
  Pool::Lease held = pool.Acquire(In(5s));
  EXPECT_TRUE(pool.Ready());
}

TEST(PoolWithoutServerTest, UnreachableDatabaseIsUnavailable) {
  PoolOptions options;
  options.conninfo = kNoServerUrl;
  Pool pool(options);
  try {
    pool.Acquire(In(5s));
    FAIL() << "Acquire succeeded without a server";
  } catch (const Unavailable& e) {
    EXPECT_EQ(std::string(e.what()).rfind("cannot connect to the database: ", 0), 0u) << e.what();
  }
  EXPECT_EQ(pool.open(), 0u);
  EXPECT_FALSE(pool.Ready());
}

// The server stops and starts again under a live pool: Ready() follows it,
// calls fail with UNAVAILABLE meanwhile, and the same pool serves again after
// the restart with new connections.
TEST(PoolFaultTest, FollowsTheServerThroughARestart) {
  testing::PrivateServer server("pool-restart");
  ASSERT_NO_FATAL_FAILURE(server.Start());
  testing::Exec(server.url(), "CREATE TABLE visits (n integer NOT NULL)");

  PoolOptions options;
  options.conninfo = server.url();
  options.size = 2;
  Pool pool(options);
  auto visit = [&](int n) {
    return RunInTransaction(pool, In(5s), [n](Tx& tx) {
      tx.exec("INSERT INTO visits VALUES (" + std::to_string(n) + ")");
      return Status::Ok();
    });
  };
  ASSERT_TRUE(visit(1).ok());
  EXPECT_TRUE(pool.Ready());
  EXPECT_EQ(pool.open(), 1u);

  ASSERT_NO_FATAL_FAILURE(server.Stop());
  std::this_thread::sleep_for(600ms);  // past the cached answer
  EXPECT_FALSE(pool.Ready());
  Status down = visit(2);
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.ToString();
  EXPECT_EQ(pool.open(), 0u) << "broken connections must be dropped";

  ASSERT_NO_FATAL_FAILURE(server.Start());
  const auto until = SteadyClock::now() + 10s;
  bool ready = false;
  while (!(ready = pool.Ready()) && SteadyClock::now() < until) std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(ready) << "Ready() stayed false after the server came back";
  Status up = visit(3);
  EXPECT_TRUE(up.ok()) << up.ToString();
  EXPECT_EQ(testing::QueryInt(server.url(), "SELECT count(*) FROM visits"), 2);
  EXPECT_EQ(testing::QueryInt(server.url(), "SELECT sum(n) FROM visits"), 4);
}

// An idle connection that died with the server is replaced when the next
// transaction begins: the caller never sees it.
TEST(PoolFaultTest, StaleIdleConnectionsAreReplacedTransparently) {
  testing::PrivateServer server("pool-stale");
  ASSERT_NO_FATAL_FAILURE(server.Start());
  PoolOptions options;
  options.conninfo = server.url();
  options.size = 2;
  Pool pool(options);
  auto answer = [&] {
    return RunInTransaction(pool, In(5s), [](Tx& tx) {
      return tx.exec("SELECT 1")[0][0].as<int>() == 1 ? Status::Ok() : Status::Internal("wrong");
    });
  };
  // Two idle connections.
  {
    Pool::Lease a = pool.Acquire(In(5s));
    Pool::Lease b = pool.Acquire(In(5s));
  }
  ASSERT_EQ(pool.idle(), 2u);
  ASSERT_NO_FATAL_FAILURE(server.Stop());
  ASSERT_NO_FATAL_FAILURE(server.Start());
  Status status = answer();
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_LE(pool.open(), 2u);
}

}  // namespace
}  // namespace cppsvc::db
