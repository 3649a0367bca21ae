#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "cppsvc/db/db.h"
#include "db_test_support.h"

namespace cppsvc::db {
namespace {

using testing::DatabaseTest;
using ::testing::ElementsAre;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::vector<Migration> OrdersMigrations() {
  return {
      {"0001_infrastructure", testing::InfrastructureSql()},
      {"0002_orders", "CREATE TABLE orders (id bigint PRIMARY KEY, total bigint NOT NULL);"},
      // Needs 0002's table: only works in order.
      {"0003_order_note", "ALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT '';"},
  };
}

using MigrationsTest = DatabaseTest;

TEST(Sha256HexTest, MatchesKnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(MigrationsTest, AppliesEveryMigrationInOrderToAnEmptyDatabase) {
  const std::vector<Migration> migrations = OrdersMigrations();
  MigrationReport report = ApplyMigrations(url(), migrations);
  EXPECT_THAT(report.applied, ElementsAre("0001_infrastructure", "0002_orders", "0003_order_note"));
  EXPECT_EQ(report.already_applied, 0u);

  // Recorded with the SHA-256 of their text, in order.
  EXPECT_EQ(Query("SELECT string_agg(name || '=' || checksum, ',' ORDER BY applied_at, name) "
                  "FROM cppsvc_schema_migrations"),
            "0001_infrastructure=" + Sha256Hex(migrations[0].sql) + ",0002_orders=" +
                Sha256Hex(migrations[1].sql) + ",0003_order_note=" + Sha256Hex(migrations[2].sql));
  // The infrastructure tables and the service's own.
  for (const char* table : {"cppsvc_outbox",
                            "cppsvc_inbox",
                            "cppsvc_dead_letters",
                            "cppsvc_idempotency_keys",
                            "orders"}) {
    EXPECT_EQ(QueryInt(std::string("SELECT count(*) FROM information_schema.tables "
                                   "WHERE table_schema = 'public' AND table_name = '") +
                       table + "'"),
              1)
        << table;
  }
  Exec("INSERT INTO orders (id, total) VALUES (1, 100)");
  EXPECT_EQ(Query("SELECT note FROM orders WHERE id = 1"), "");
}

TEST_F(MigrationsTest, RunningAgainChangesNothing) {
  ApplyMigrations(url(), OrdersMigrations());
  const std::string before = Query(
      "SELECT string_agg(name || applied_at::text, ',' ORDER BY name) FROM "
      "cppsvc_schema_migrations");
  MigrationReport again = ApplyMigrations(url(), OrdersMigrations());
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(again.already_applied, 3u);
  EXPECT_EQ(Query("SELECT string_agg(name || applied_at::text, ',' ORDER BY name) "
                  "FROM cppsvc_schema_migrations"),
            before);
}

TEST_F(MigrationsTest, AppliesOnlyTheNewOnes) {
  std::vector<Migration> migrations = OrdersMigrations();
  migrations.pop_back();
  ApplyMigrations(url(), migrations);
  MigrationReport report = ApplyMigrations(url(), OrdersMigrations());
  EXPECT_THAT(report.applied, ElementsAre("0003_order_note"));
  EXPECT_EQ(report.already_applied, 2u);
}

TEST_F(MigrationsTest, RefusesAMigrationChangedAfterItWasApplied) {
  ApplyMigrations(url(), OrdersMigrations());
  std::vector<Migration> changed = OrdersMigrations();
  const std::string recorded = Sha256Hex(changed[2].sql);
  changed[2].sql = "ALTER TABLE orders ADD COLUMN note text;";
  changed.push_back({"0004_more", "CREATE TABLE more (id integer);"});
  try {
    ApplyMigrations(url(), changed);
    FAIL() << "a changed migration was accepted";
  } catch (const MigrationError& e) {
    EXPECT_EQ(std::string(e.what()),
              "migration 0003_order_note was changed after it was applied: recorded checksum " +
                  recorded + ", now " + Sha256Hex(changed[2].sql) +
                  "; restore it and add a new migration instead (if nobody edited it, it was "
                  "generated without the schema lock it was first generated with: restore "
                  "<file>.schema.lock.json beside the proto and regenerate)");
  }
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_schema_migrations"), 3);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM information_schema.tables WHERE table_name = 'more'"), 0)
      << "nothing may be applied once a change is found";
}

// Earlier runtimes recorded migrations in schema_migrations: the record is
// adopted, so nothing is applied twice; another tool's table of that name
// is left alone.
TEST_F(MigrationsTest, AdoptsTheRecordOfAnEarlierRuntime) {
  ApplyMigrations(url(), OrdersMigrations());
  Exec("ALTER TABLE cppsvc_schema_migrations RENAME TO schema_migrations");
  const MigrationReport report = ApplyMigrations(url(), OrdersMigrations());
  EXPECT_TRUE(report.applied.empty());
  EXPECT_EQ(report.already_applied, 3u);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_schema_migrations"), 3);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM information_schema.tables "
                     "WHERE table_name = 'schema_migrations'"),
            0);
}

TEST_F(MigrationsTest, LeavesAnotherToolsSchemaMigrationsAlone) {
  Exec("CREATE TABLE schema_migrations (version text PRIMARY KEY)");
  Exec("INSERT INTO schema_migrations VALUES ('20240101000000')");
  const MigrationReport report = ApplyMigrations(url(), OrdersMigrations());
  EXPECT_EQ(report.applied.size(), 3u);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM schema_migrations"), 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_schema_migrations"), 3);
}

TEST_F(MigrationsTest, FailedMigrationLeavesNothingBehind) {
  std::vector<Migration> migrations = OrdersMigrations();
  migrations.push_back(
      {"0004_broken", "CREATE TABLE half (id integer); INSERT INTO missing VALUES (1);"});
  try {
    ApplyMigrations(url(), migrations);
    FAIL() << "a failing migration was reported as applied";
  } catch (const MigrationError& e) {
    EXPECT_EQ(
        std::string(e.what()).rfind("migration 0004_broken failed, nothing of it was applied: "
                                    "ERROR:  relation \"missing\" does not exist",
                                    0),
        0u)
        << e.what();
  }
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_schema_migrations"), 3);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM information_schema.tables WHERE table_name = 'half'"),
            0);
}

TEST_F(MigrationsTest, RefusesAGapBeforeAnAppliedMigration) {
  std::vector<Migration> migrations = OrdersMigrations();
  ApplyMigrations(url(), {migrations[0], migrations[1]});
  std::vector<Migration> inserted = {migrations[0],
                                     {"0001b_late", "CREATE TABLE late (id integer);"},
                                     migrations[1]};
  EXPECT_THROW(ApplyMigrations(url(), inserted), MigrationError);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM information_schema.tables WHERE table_name = 'late'"),
            0);
}

TEST_F(MigrationsTest, RefusesDuplicateNames) {
  EXPECT_THROW(ApplyMigrations(url(), {{"0001_a", "SELECT 1"}, {"0001_a", "SELECT 2"}}),
               MigrationError);
}

TEST(MigrationsWithoutServerTest, UnreachableDatabaseIsAMigrationError) {
  try {
    ApplyMigrations("postgresql://postgres@127.0.0.1:1/postgres", {{"0001_a", "SELECT 1"}});
    FAIL() << "migrations ran without a server";
  } catch (const MigrationError& e) {
    EXPECT_EQ(
        std::string(e.what()).rfind("cannot connect to the database to apply migrations: ", 0),
        0u)
        << e.what();
  }
}

// Replicas of a service start together: each runs the migrations on its own
// connection, and the slow one makes them overlap. Every migration runs once.
TEST_F(MigrationsTest, ConcurrentRunnersApplyEachMigrationOnce) {
  const std::vector<Migration> migrations = {
      {"0001_log",
       "CREATE TABLE log (step integer NOT NULL, at timestamptz DEFAULT clock_timestamp())"},
      {"0002_slow", "SELECT pg_sleep(0.7); INSERT INTO log (step) VALUES (2);"},
      {"0003_after", "INSERT INTO log (step) VALUES (3);"},
  };
  constexpr int kRunners = 3;
  std::atomic<int> ready{0};
  std::vector<MigrationReport> reports(kRunners);
  std::vector<std::string> errors(kRunners);
  std::vector<SteadyClock::duration> took(kRunners);
  std::vector<std::thread> runners;
  for (int i = 0; i < kRunners; ++i) {
    runners.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kRunners) std::this_thread::yield();
      const auto start = SteadyClock::now();
      try {
        reports[i] = ApplyMigrations(url(), migrations);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
      took[i] = SteadyClock::now() - start;
    });
  }
  for (auto& t : runners) t.join();

  std::multiset<std::string> applied;
  for (int i = 0; i < kRunners; ++i) {
    EXPECT_EQ(errors[i], "") << "runner " << i;
    applied.insert(reports[i].applied.begin(), reports[i].applied.end());
    // A runner either applied all three or waited and found them applied.
    EXPECT_TRUE(reports[i].applied.size() == 3 || reports[i].already_applied == 3)
        << "runner " << i << " applied " << reports[i].applied.size();
    // Every runner waited for the slow migration, so they overlapped.
    EXPECT_GE(took[i], 600ms) << "runner " << i;
  }
  EXPECT_EQ(applied, (std::multiset<std::string>{"0001_log", "0002_slow", "0003_after"}));
  EXPECT_EQ(Query("SELECT string_agg(step::text, ',' ORDER BY at) FROM log"), "2,3");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_schema_migrations"), 3);
}

}  // namespace
}  // namespace cppsvc::db
