#include <gtest/gtest.h>

#include <atomic>
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
using Isolation = TxOptions::Isolation;

// Spins until `count` reaches `n` or 10 s pass; false on timeout.
bool AwaitCount(const std::atomic<int>& count, int n) {
  const auto until = SteadyClock::now() + 10s;
  while (count.load() < n) {
    if (SteadyClock::now() >= until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

class TransactionTest : public DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    Exec("CREATE TABLE items (id integer PRIMARY KEY, note text NOT NULL DEFAULT '')");
    PoolOptions options;
    options.conninfo = url();
    options.size = 4;
    pool_ = std::make_unique<Pool>(options);
  }
  void TearDown() override {
    pool_.reset();
    DatabaseTest::TearDown();
  }

  Status Insert(int id, Clock::time_point deadline = In(10s)) {
    return RunInTransaction(*pool_, deadline, [id](Tx& tx) {
      tx.exec_params("INSERT INTO items (id) VALUES ($1)", id);
      return Status::Ok();
    });
  }
  long long Count() const { return QueryInt("SELECT count(*) FROM items"); }

  std::unique_ptr<Pool> pool_;
};

TEST_F(TransactionTest, CommitsWhenTheBodyReturnsOk) {
  Status status = RunInTransaction(*pool_, In(10s), [](Tx& tx) {
    tx.exec("INSERT INTO items (id) VALUES (1), (2)");
    return Status::Ok();
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Count(), 2);
}

TEST_F(TransactionTest, RollsBackWhenTheBodyReturnsAnError) {
  Status status = RunInTransaction(*pool_, In(10s), [](Tx& tx) {
    tx.exec("INSERT INTO items (id) VALUES (1), (2)");
    return Status::FailedPrecondition("order 7 is already paid");
  });
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "order 7 is already paid");
  EXPECT_EQ(Count(), 0);
}

TEST_F(TransactionTest, RollsBackWhenTheBodyThrows) {
  Status status = RunInTransaction(*pool_, In(10s), [](Tx& tx) -> Status {
    tx.exec("INSERT INTO items (id) VALUES (1)");
    throw std::runtime_error("bug in the handler");
  });
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(status.message(), "internal error");
  EXPECT_EQ(Count(), 0);
  // The connection went back to the pool in a usable state.
  EXPECT_TRUE(Insert(5).ok());
  EXPECT_EQ(Count(), 1);
}

TEST_F(TransactionTest, UniqueViolationIsAlreadyExists) {
  ASSERT_TRUE(Insert(1).ok());
  Status status = RunInTransaction(*pool_, In(10s), [](Tx& tx) {
    tx.exec("INSERT INTO items (id) VALUES (2)");
    tx.exec("INSERT INTO items (id) VALUES (1)");
    return Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << status.ToString();
  // The key and the constraint (which names the table), as PostgreSQL says.
  EXPECT_EQ(status.message(), "already exists: (id)=(1), unique constraint \"items_pkey\"");
  EXPECT_EQ(Count(), 1) << "row 2 of the failed transaction must be rolled back";
}

TEST_F(TransactionTest, VersionConflictIsAbortedAndRolledBack) {
  Status status = RunInTransaction(*pool_, In(10s), [](Tx& tx) -> Status {
    tx.exec("INSERT INTO items (id) VALUES (1)");
    throw VersionConflict("order 1 was modified concurrently (expected version 3)");
  });
  EXPECT_EQ(status.code(), StatusCode::kAborted);
  EXPECT_EQ(status.message(), "order 1 was modified concurrently (expected version 3)");
  EXPECT_EQ(Count(), 0);
}

TEST_F(TransactionTest, NotFoundIsNotFound) {
  Status status = RunInTransaction(*pool_, In(10s), [](Tx& tx) -> Status {
    if (tx.exec("SELECT 1 FROM items WHERE id = 9").empty()) throw NotFound("item 9 not found");
    return Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "item 9 not found");
}

TEST_F(TransactionTest, OtherSqlErrorsAreInternalWithoutDetail) {
  Status status = RunInTransaction(*pool_, In(10s), [](Tx& tx) {
    tx.exec("SELEC secret_column FROM items");
    return Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(status.message(), "internal error");
}

TEST_F(TransactionTest, RunsAtTheRequestedIsolationLevel) {
  const std::pair<Isolation, const char*> cases[] = {
      {Isolation::kReadCommitted, "read committed"},
      {Isolation::kRepeatableRead, "repeatable read"},
      {Isolation::kSerializable, "serializable"},
  };
  for (const auto& [isolation, name] : cases) {
    std::string seen;
    TxOptions options;
    options.isolation = isolation;
    Status status = RunInTransaction(
        *pool_,
        In(10s),
        [&seen](Tx& tx) {
          seen = tx.exec("SHOW transaction_isolation")[0][0].as<std::string>();
          return Status::Ok();
        },
        options);
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(seen, name);
  }
}

TEST_F(TransactionTest, StatementTimeoutIsTheTimeLeft) {
  long long timeout_ms = -1;
  Status status = RunInTransaction(*pool_, In(3s), [&timeout_ms](Tx& tx) {
    timeout_ms =
        tx.exec("SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout'")[0][0]
            .as<long long>();
    return Status::Ok();
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_GT(timeout_ms, 1000);
  EXPECT_LE(timeout_ms, 3000);
  // SET LOCAL: the next transaction on the same connection starts afresh.
  pqxx::connection plain(url());
  pqxx::nontransaction tx(plain);
  EXPECT_EQ(tx.exec("SHOW statement_timeout")[0][0].as<std::string>(), "0");
}

TEST_F(TransactionTest, SlowStatementEndsAtTheDeadline) {
  const auto start = SteadyClock::now();
  Status status = RunInTransaction(*pool_, In(400ms), [](Tx& tx) {
    tx.exec("INSERT INTO items (id) VALUES (1)");
    tx.exec("SELECT pg_sleep(10)");
    return Status::Ok();
  });
  const auto took = SteadyClock::now() - start;
  EXPECT_EQ(status.code(), StatusCode::kDeadlineExceeded) << status.ToString();
  EXPECT_LT(took, 3s);
  EXPECT_EQ(Count(), 0);
  EXPECT_TRUE(Insert(2).ok()) << "the connection must stay usable";
}

TEST_F(TransactionTest, DeadlinePassedInTheBodyRollsBack) {
  Status status = RunInTransaction(*pool_, In(200ms), [](Tx& tx) {
    tx.exec("INSERT INTO items (id) VALUES (1)");
    std::this_thread::sleep_for(400ms);
    return Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kDeadlineExceeded) << status.ToString();
  EXPECT_EQ(Count(), 0);
}

TEST_F(TransactionTest, ExpiredDeadlineNeverRunsTheBody) {
  bool ran = false;
  Status status = RunInTransaction(*pool_, Clock::now() - 1ms, [&ran](Tx&) {
    ran = true;
    return Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(ran);
}

TEST(TransactionWithoutServerTest, UnreachableDatabaseIsUnavailable) {
  PoolOptions options;
  options.conninfo = "postgresql://postgres@127.0.0.1:1/postgres";
  Pool pool(options);
  bool ran = false;
  Status status = RunInTransaction(pool, In(5s), [&ran](Tx&) {
    ran = true;
    return Status::Ok();
  });
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_FALSE(ran);
}

// Two repeatable-read transactions read the same row, then both update it:
// the second updater fails with a serialization failure once the first
// commits, and runs again on fresh data.
class ConflictTest : public TransactionTest {
 protected:
  void SetUp() override {
    TransactionTest::SetUp();
    if (HasFatalFailure()) return;
    Exec("CREATE TABLE counters (id integer PRIMARY KEY, n integer NOT NULL)");
    Exec("INSERT INTO counters VALUES (1, 0)");
  }

  // Runs two increments at once; each first attempt waits until both have
  // read, so they always collide.
  std::vector<Status> RunTwoIncrements(const TxOptions& options) {
    std::atomic<int> have_read{0};
    std::vector<Status> results(2);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        bool first_attempt = true;
        results[i] = RunInTransaction(
            *pool_,
            In(20s),
            [&](Tx& tx) {
              ++attempts_;
              const int n = tx.exec("SELECT n FROM counters WHERE id = 1")[0][0].as<int>();
              if (first_attempt) {
                first_attempt = false;
                ++have_read;
                if (!AwaitCount(have_read, 2)) return Status::Internal("the other never read");
              }
              tx.exec_params("UPDATE counters SET n = $1 WHERE id = 1", n + 1);
              return Status::Ok();
            },
            options);
      });
    }
    for (auto& t : threads) t.join();
    return results;
  }

  std::atomic<int> attempts_{0};
};

TEST_F(ConflictTest, SerializationFailureIsRetried) {
  TxOptions options;
  options.isolation = Isolation::kRepeatableRead;
  std::vector<Status> results = RunTwoIncrements(options);
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_TRUE(results[1].ok()) << results[1].ToString();
  EXPECT_EQ(QueryInt("SELECT n FROM counters WHERE id = 1"), 2) << "an increment was lost";
  EXPECT_EQ(attempts_.load(), 3) << "exactly one transaction must have run twice";
}

TEST_F(ConflictTest, SerializableConflictIsRetried) {
  TxOptions options;
  options.isolation = Isolation::kSerializable;
  std::vector<Status> results = RunTwoIncrements(options);
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_TRUE(results[1].ok()) << results[1].ToString();
  EXPECT_EQ(QueryInt("SELECT n FROM counters WHERE id = 1"), 2);
  EXPECT_EQ(attempts_.load(), 3);
}

TEST_F(ConflictTest, SerializationFailureIsAbortedWhenRetriesRunOut) {
  TxOptions options;
  options.isolation = Isolation::kRepeatableRead;
  options.max_serialization_retries = 0;
  std::vector<Status> results = RunTwoIncrements(options);
  const int ok = results[0].ok() + results[1].ok();
  EXPECT_EQ(ok, 1);
  const Status& failed = results[0].ok() ? results[1] : results[0];
  EXPECT_EQ(failed.code(), StatusCode::kAborted) << failed.ToString();
  EXPECT_EQ(QueryInt("SELECT n FROM counters WHERE id = 1"), 1);
  EXPECT_EQ(attempts_.load(), 2);
}

// Two transactions lock two rows in opposite orders; PostgreSQL breaks the
// deadlock by failing one (after deadlock_timeout, 1 s), which runs again.
// The rerun takes the rows in id order: in the first order it could take
// the freed row before the winner, and deadlock with it a second time.
TEST_F(ConflictTest, DeadlockIsRetried) {
  Exec("INSERT INTO counters VALUES (2, 0)");
  std::atomic<int> locked_first{0};
  std::vector<Status> results(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      bool first_attempt = true;
      const int a = i == 0 ? 1 : 2;
      const int b = i == 0 ? 2 : 1;
      results[i] = RunInTransaction(*pool_, In(20s), [&](Tx& tx) {
        ++attempts_;
        const bool rerun = !first_attempt;
        tx.exec_params("UPDATE counters SET n = n + 1 WHERE id = $1", rerun ? 1 : a);
        if (first_attempt) {
          first_attempt = false;
          ++locked_first;
          if (!AwaitCount(locked_first, 2)) return Status::Internal("the other never locked");
        }
        tx.exec_params("UPDATE counters SET n = n + 1 WHERE id = $1", rerun ? 2 : b);
        return Status::Ok();
      });
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_TRUE(results[1].ok()) << results[1].ToString();
  EXPECT_EQ(QueryInt("SELECT sum(n) FROM counters"), 4);
  EXPECT_EQ(attempts_.load(), 3);
}

TEST(MapExceptionTest, MapsEveryKindOfFailure) {
  struct Case {
    std::exception_ptr error;
    StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {std::make_exception_ptr(NotFound("order 1 not found")),
       StatusCode::kNotFound,
       "order 1 not found"},
      {std::make_exception_ptr(VersionConflict("stale")), StatusCode::kAborted, "stale"},
      {std::make_exception_ptr(InvalidArgument("malformed page token")),
       StatusCode::kInvalidArgument,
       "malformed page token"},
      // The pool's text may name the server's address: not for callers.
      {std::make_exception_ptr(Unavailable("cannot connect to the database: 127.0.0.1:5432")),
       StatusCode::kUnavailable,
       "the database is unavailable"},
      {std::make_exception_ptr(pqxx::unique_violation("dup", "INSERT ...", "23505")),
       StatusCode::kAlreadyExists,
       "already exists"},
      {std::make_exception_ptr(pqxx::serialization_failure("could not serialize")),
       StatusCode::kAborted,
       "the transaction conflicted with a concurrent one; try again"},
      {std::make_exception_ptr(pqxx::deadlock_detected("deadlock detected")),
       StatusCode::kAborted,
       "the transaction conflicted with a concurrent one; try again"},
      {std::make_exception_ptr(pqxx::broken_connection("server closed the connection")),
       StatusCode::kUnavailable,
       "the database is unavailable"},
      {std::make_exception_ptr(pqxx::in_doubt_error("lost during commit")),
       StatusCode::kUnavailable,
       "the database connection was lost while committing; the outcome is unknown"},
      {std::make_exception_ptr(pqxx::sql_error("canceling statement", "SELECT", "57014")),
       StatusCode::kDeadlineExceeded,
       "deadline exceeded"},
      {std::make_exception_ptr(pqxx::sql_error("terminating connection", "SELECT", "57P01")),
       StatusCode::kUnavailable,
       "the database is unavailable"},
      {std::make_exception_ptr(pqxx::sql_error("division by zero", "SELECT 1/0", "22012")),
       StatusCode::kInternal,
       "internal error"},
      {std::make_exception_ptr(std::out_of_range("vector")),
       StatusCode::kInternal,
       "internal error"},
  };
  for (const Case& c : cases) {
    try {
      std::rethrow_exception(c.error);
    } catch (const std::exception& e) {
      Status status = MapException(e);
      EXPECT_EQ(status.code(), c.code) << e.what();
      EXPECT_EQ(status.message(), c.message) << e.what();
    }
  }
}

}  // namespace
}  // namespace cppsvc::db
