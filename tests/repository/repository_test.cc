// Generated repositories (repotest.cppsvc.repo.h) against a real PostgreSQL:
// every column codec round-trips exactly, optimistic locking, keyset
// pagination, bulk inserts and the status each failure becomes.
#include <gmock/gmock.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cppsvc/db/db.h"
#include "db_test_support.h"
#include "repotest/v1/repotest.cppsvc.migrations.h"
#include "repotest/v1/repotest.cppsvc.repo.h"

namespace repotest::v1 {
namespace {

using ::cppsvc::Status;
using ::cppsvc::StatusCode;
using ::cppsvc::db::Tx;
using ::cppsvc::db::testing::In;
using ::google::protobuf::util::MessageDifferencer;
using namespace std::chrono_literals;

class RepositoryTest : public ::cppsvc::db::testing::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    ::cppsvc::db::ApplyMigrations(url(), RepotestMigrations());
    ::cppsvc::db::PoolOptions options;
    options.conninfo = url();
    options.size = 2;
    pool_ = std::make_unique<::cppsvc::db::Pool>(options);
  }
  void TearDown() override {
    pool_.reset();
    DatabaseTest::TearDown();
  }

  Status Run(const std::function<Status(Tx&)>& body) {
    return ::cppsvc::db::RunInTransaction(*pool_, In(30s), body);
  }

  // Inserts `row` in a transaction of its own; returns it as inserted.
  Everything Insert(Everything row) {
    Status s = Run([&](Tx& tx) {
      EverythingRepository(tx).Insert(row);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return row;
  }

  Everything Get(const std::string& id, int64_t* version = nullptr) {
    Everything out;
    Status s = Run([&](Tx& tx) {
      out = EverythingRepository(tx).Get(id, version);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  std::unique_ptr<::cppsvc::db::Pool> pool_;
};

// Field-by-field differences ("" when equal), NaN equal to NaN.
std::string Diff(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  std::string report;
  differencer.ReportDifferencesToString(&report);
  if (differencer.Compare(a, b)) return "";
  return report.empty() ? "differ" : report;
}

// Equal field by field, and byte for byte once serialized deterministically.
void ExpectSame(const Everything& expected, const Everything& actual) {
  EXPECT_EQ(Diff(expected, actual), "");
  auto bytes = [](const Everything& m) {
    std::string out;
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
    coded.Trim();
    return out;
  };
  EXPECT_EQ(bytes(expected), bytes(actual));
}

std::string AllBytes(int from) {
  std::string s;
  for (int i = from; i < 256; ++i) s += static_cast<char>(i);
  return s;
}

Point MakePoint(double x, const std::string& label) {
  Point p;
  p.set_x(x);
  p.set_y(-x / 3);
  p.set_label(label);
  p.set_color(COLOR_GREEN);
  p.set_weight(std::numeric_limits<int64_t>::max());
  return p;
}

Everything Full(const std::string& code) {
  Everything e;
  e.set_name("full");
  e.set_flag(true);
  e.set_i32(-123456);
  e.set_i64(-9876543210123);
  e.set_u32(4000000000u);
  e.set_u64(18000000000000000000ull);
  e.set_s32(-7);
  e.set_s64(-70000000000);
  e.set_f32(3000000000u);
  e.set_f64(17000000000000000000ull);
  e.set_sf32(-2000000000);
  e.set_sf64(-8000000000000000000);
  e.set_fl(0.1f);
  e.set_db(0.1);
  e.set_data(AllBytes(0));
  e.set_color(COLOR_RED);
  e.mutable_happened_at()->set_seconds(1700000000);
  e.mutable_happened_at()->set_nanos(123456000);
  e.set_maybe_i32(0);
  e.set_maybe_text("");
  e.set_maybe_data("");
  e.set_maybe_db(-0.0);
  e.set_maybe_u64(std::numeric_limits<uint64_t>::max());
  e.set_maybe_flag(false);
  for (int64_t v :
       {std::numeric_limits<int64_t>::min(), int64_t{0}, std::numeric_limits<int64_t>::max()}) {
    e.add_many_i64(v);
  }
  for (const char* s : {"", "plain", "quote \" and \\ backslash", "日本語 🎉 עברית"})
    e.add_many_text(s);
  for (double d : {0.1,
                   1e300,
                   5e-324,
                   -2.5,
                   std::numeric_limits<double>::quiet_NaN(),
                   std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()}) {
    e.add_many_db(d);
  }
  e.add_many_data(AllBytes(0));
  e.add_many_data("");
  e.add_many_colors(COLOR_GREEN);
  e.add_many_colors(COLOR_RED);
  e.add_many_colors(static_cast<Color>(42));  // unknown values survive (open enum)
  *e.add_points() = MakePoint(1.5, "a");
  *e.add_points() = MakePoint(-0.25, "'; DROP TABLE everything; --");
  *e.mutable_origin() = MakePoint(0, "origin");
  (*e.mutable_counters())["one"] = 1;
  (*e.mutable_counters())["min"] = std::numeric_limits<int64_t>::min();
  (*e.mutable_counters())["ключ \"quoted\""] = 3;
  (*e.mutable_named_points())[-5] = MakePoint(2, "neg");
  (*e.mutable_named_points())[7] = MakePoint(3, "seven");
  e.set_code(code);
  return e;
}

TEST_F(RepositoryTest, EveryFieldTypeRoundTrips) {
  Everything inserted = Insert(Full("full"));
  EXPECT_EQ(inserted.id().size(), 36u);
  EXPECT_EQ(inserted.id()[14], '4');  // UUID version 4
  EXPECT_GT(inserted.created_at().seconds(), 1600000000);
  EXPECT_EQ(inserted.created_at().nanos() % 1000, 0);
  EXPECT_TRUE(MessageDifferencer::Equals(inserted.created_at(), inserted.updated_at()));
  int64_t version = 0;
  Everything read = Get(inserted.id(), &version);
  EXPECT_EQ(version, 1);
  ExpectSame(inserted, read);
  EXPECT_TRUE(std::signbit(read.maybe_db()));
  EXPECT_TRUE(read.has_maybe_i32() && read.has_maybe_text() && read.has_maybe_data() &&
              read.has_maybe_flag());
  EXPECT_EQ(read.data(), AllBytes(0));
  // The skipped field is not stored.
  Everything with_ignored = Full("ignored");
  with_ignored.set_ignored("not stored");
  EXPECT_EQ(Get(Insert(with_ignored).id()).ignored(), "");
}

TEST_F(RepositoryTest, TimestampsKeepMicrosecondsAndTruncateNanos) {
  Everything e = Full("ts");
  e.mutable_happened_at()->set_seconds(-62135596800);  // 0001-01-01T00:00:00Z
  e.mutable_happened_at()->set_nanos(999999999);
  Everything read = Get(Insert(e).id());
  EXPECT_EQ(read.happened_at().seconds(), -62135596800);
  EXPECT_EQ(read.happened_at().nanos(), 999999000);
  e.mutable_happened_at()->set_seconds(253402300799);  // 9999-12-31T23:59:59Z
  e.mutable_happened_at()->set_nanos(1999);
  e.set_code("ts2");
  read = Get(Insert(e).id());
  EXPECT_EQ(read.happened_at().seconds(), 253402300799);
  EXPECT_EQ(read.happened_at().nanos(), 1000);
  e.mutable_happened_at()->set_seconds(-1);  // just before the epoch
  e.mutable_happened_at()->set_nanos(500000);
  e.set_code("ts3");
  read = Get(Insert(e).id());
  EXPECT_EQ(read.happened_at().seconds(), -1);
  EXPECT_EQ(read.happened_at().nanos(), 500000);
}

TEST_F(RepositoryTest, IntegerLimitsRoundTrip) {
  Everything lo = Full("lo");
  lo.set_i32(std::numeric_limits<int32_t>::min());
  lo.set_i64(std::numeric_limits<int64_t>::min());
  lo.set_u32(0);
  lo.set_u64(0);
  lo.set_s32(std::numeric_limits<int32_t>::min());
  lo.set_s64(std::numeric_limits<int64_t>::min());
  lo.set_f32(0);
  lo.set_f64(0);
  lo.set_sf32(std::numeric_limits<int32_t>::min());
  lo.set_sf64(std::numeric_limits<int64_t>::min());
  lo.set_maybe_i32(std::numeric_limits<int32_t>::min());
  lo.set_maybe_u64(0);
  Everything hi = Full("hi");
  hi.set_i32(std::numeric_limits<int32_t>::max());
  hi.set_i64(std::numeric_limits<int64_t>::max());
  hi.set_u32(std::numeric_limits<uint32_t>::max());
  hi.set_u64(std::numeric_limits<uint64_t>::max());
  hi.set_s32(std::numeric_limits<int32_t>::max());
  hi.set_s64(std::numeric_limits<int64_t>::max());
  hi.set_f32(std::numeric_limits<uint32_t>::max());
  hi.set_f64(std::numeric_limits<uint64_t>::max());
  hi.set_sf32(std::numeric_limits<int32_t>::max());
  hi.set_sf64(std::numeric_limits<int64_t>::max());
  hi.set_maybe_i32(std::numeric_limits<int32_t>::max());
  hi.set_maybe_u64(std::numeric_limits<uint64_t>::max());
  for (const Everything& e : {lo, hi}) {
    Everything inserted = Insert(e);
    ExpectSame(inserted, Get(inserted.id()));
  }
}

TEST_F(RepositoryTest, FloatingPointValuesRoundTripBitForBit) {
  const std::vector<double> doubles = {0.0,
                                       -0.0,
                                       0.1,
                                       1.0 / 3,
                                       std::numeric_limits<double>::max(),
                                       std::numeric_limits<double>::lowest(),
                                       std::numeric_limits<double>::min(),
                                       std::numeric_limits<double>::denorm_min(),
                                       std::numeric_limits<double>::epsilon(),
                                       std::numeric_limits<double>::infinity(),
                                       -std::numeric_limits<double>::infinity(),
                                       std::numeric_limits<double>::quiet_NaN()};
  int n = 0;
  for (double d : doubles) {
    const float f = static_cast<float>(d);
    Everything e = Full("fp" + std::to_string(n++));
    e.set_db(d);
    e.set_fl(d == std::numeric_limits<double>::min() ? std::numeric_limits<float>::denorm_min()
                                                     : f);
    e.set_maybe_db(d);
    Everything read = Get(Insert(e).id());
    auto bits = [](auto v) {
      uint64_t out = 0;
      std::memcpy(&out, &v, sizeof v);
      return out;
    };
    if (std::isnan(d)) {
      EXPECT_TRUE(std::isnan(read.db()) && std::isnan(read.fl()) && std::isnan(read.maybe_db()));
    } else {
      EXPECT_EQ(bits(read.db()), bits(e.db())) << d;
      EXPECT_EQ(bits(read.fl()), bits(e.fl())) << e.fl();
      EXPECT_EQ(bits(read.maybe_db()), bits(e.maybe_db())) << d;
    }
  }
  // Floats that need all nine digits.
  Everything e = Full("float9");
  e.set_fl(16777217.0f);
  e.set_fl(std::nextafter(0.1f, 1.0f));
  EXPECT_EQ(Get(Insert(e).id()).fl(), e.fl());
}

TEST_F(RepositoryTest, UnsetOptionalAndMessageFieldsAreNull) {
  Everything e;
  e.set_code("nulls");
  Everything inserted = Insert(e);
  Everything read = Get(inserted.id());
  ExpectSame(inserted, read);
  EXPECT_FALSE(read.has_happened_at() || read.has_origin() || read.has_maybe_i32() ||
               read.has_maybe_text() || read.has_maybe_data() || read.has_maybe_db() ||
               read.has_maybe_u64() || read.has_maybe_flag());
  EXPECT_EQ(
      QueryInt(
          "SELECT count(*) FROM everything WHERE happened_at IS NULL AND origin IS NULL AND "
          "maybe_i32 IS NULL AND maybe_text IS NULL AND maybe_data IS NULL AND maybe_db IS NULL "
          "AND maybe_u64 IS NULL AND maybe_flag IS NULL"),
      1);
  EXPECT_EQ(Query("SELECT many_i64::text || points::text || counters::text FROM everything"),
            "[][]{}");
}

TEST_F(RepositoryTest, HostileAndUnicodeStringsAndAllBytesRoundTrip) {
  const std::vector<std::string> strings = {
      "'; DROP TABLE everything; --",
      "Robert'); DROP TABLE entries;--",
      "\"double\" 'single' `back`",
      "back\\slash \\x00 \\\\",
      "$1 $2 $$ $tag$ ::text",
      "100% _wild_ %s %d",
      "multi-byte: ü ß ø 中文 日本語",
      "emoji: 🎉👍🏽👨‍👩‍👧",
      "rtl: שלום עולם مرحبا",
      "newline\nand\ttab\rcarriage",
      "{\"json\": [1, 2]}",
      "{a,b} NULL \"NULL\"",
  };
  int n = 0;
  for (const std::string& s : strings) {
    Everything e = Full("s" + std::to_string(n++));
    e.set_name(s);
    e.set_maybe_text(s);
    e.add_many_text(s);
    (*e.mutable_counters())[s] = n;
    e.mutable_origin()->set_label(s);
    e.set_data(AllBytes(1));
    e.set_maybe_data(s);
    Everything inserted = Insert(e);
    ExpectSame(inserted, Get(inserted.id()));
  }
  EXPECT_EQ(QueryInt("SELECT count(*) FROM everything"), static_cast<long long>(strings.size()));
  // Filters take hostile values as parameters too.
  Status s = Run([&](Tx& tx) {
    for (const std::string& str : strings) {
      EverythingFilter filter;
      filter.name = str;
      auto page = EverythingRepository(tx).List(filter);
      EXPECT_EQ(page.rows.size(), 1u) << str;
    }
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  // Bulk inserts pass values in array literals: the same strings survive.
  std::vector<Everything> rows;
  for (size_t i = 0; i < strings.size(); ++i) {
    Everything e = Full("bulk" + std::to_string(i));
    e.set_name(strings[i]);
    e.set_maybe_text(strings[i]);
    e.set_data(AllBytes(0));
    rows.push_back(e);
  }
  s = Run([&](Tx& tx) {
    EverythingRepository(tx).BulkInsert(rows);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (const Everything& row : rows) ExpectSame(row, Get(row.id()));
}

TEST_F(RepositoryTest, UpdateChecksTheVersion) {
  Everything e = Insert(Full("v"));
  e.set_name("renamed");
  const auto created = e.created_at();
  int64_t version = 0;
  Status s = Run([&](Tx& tx) {
    version = EverythingRepository(tx).Update(e, 1);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(version, 2);
  int64_t read_version = 0;
  Everything read = Get(e.id(), &read_version);
  EXPECT_EQ(read_version, 2);
  EXPECT_EQ(read.name(), "renamed");
  EXPECT_TRUE(MessageDifferencer::Equals(read.created_at(), created));
  ExpectSame(e, read);

  // A stale version: VersionConflict, ABORTED through RunInTransaction.
  e.set_name("stale");
  s = Run([&](Tx& tx) {
    EXPECT_THROW(EverythingRepository(tx).Update(e, 1), ::cppsvc::db::VersionConflict);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  s = Run([&](Tx& tx) {
    EverythingRepository(tx).Update(e, 1);
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  EXPECT_EQ(Get(e.id()).name(), "renamed");

  // No such row: NotFound, NOT_FOUND.
  Everything missing = Full("missing");
  missing.set_id("00000000-0000-4000-8000-000000000000");
  s = Run([&](Tx& tx) {
    EverythingRepository(tx).Update(missing, 1);
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
}

TEST_F(RepositoryTest, MappedVersionFieldFollowsTheColumn) {
  Entry entry;
  entry.set_tenant("t");
  entry.set_seq(1);
  entry.set_kind("k");
  entry.set_slug("s");
  entry.set_version(77);
  Status s = Run([&](Tx& tx) {
    EntryRepository repo(tx);
    repo.Insert(entry);
    EXPECT_EQ(entry.version(), 1);
    entry.set_amount(5);
    EXPECT_EQ(repo.Update(entry, 1), 2);
    EXPECT_EQ(entry.version(), 2);
    Entry read = repo.Get("t", 1);
    EXPECT_EQ(Diff(read, entry), "");
    EXPECT_THROW(repo.Update(entry, 1), ::cppsvc::db::VersionConflict);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(RepositoryTest, GetFindAndDeleteByKey) {
  Status s = Run([&](Tx& tx) {
    EverythingRepository repo(tx);
    EXPECT_FALSE(repo.Find("00000000-0000-4000-8000-000000000000").has_value());
    EXPECT_THROW(repo.Get("00000000-0000-4000-8000-000000000000"), ::cppsvc::db::NotFound);
    Everything e = Full("d");
    repo.Insert(e);
    EXPECT_TRUE(repo.Find(e.id()).has_value());
    EXPECT_TRUE(repo.Delete(e.id()));
    EXPECT_FALSE(repo.Delete(e.id()));
    EXPECT_FALSE(repo.Find(e.id()).has_value());

    EntryRepository entries(tx);
    Entry entry;
    entry.set_tenant("a");
    entry.set_seq(std::numeric_limits<int64_t>::min());
    entry.set_slug("x");
    entries.Insert(entry);
    EXPECT_EQ(entries.Get("a", std::numeric_limits<int64_t>::min()).slug(), "x");
    EXPECT_FALSE(entries.Find("a", 0).has_value());
    EXPECT_FALSE(entries.Delete("b", std::numeric_limits<int64_t>::min()));
    EXPECT_TRUE(entries.Delete("a", std::numeric_limits<int64_t>::min()));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  s = Run([&](Tx& tx) {
    EverythingRepository(tx).Get("00000000-0000-4000-8000-000000000000");
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
}

TEST_F(RepositoryTest, UniqueIndexViolationIsAlreadyExists) {
  Insert(Full("dup"));
  Status s = Run([&](Tx& tx) {
    Everything again = Full("dup");
    EverythingRepository(tx).Insert(again);
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  // The same primary key.
  Everything first = Insert(Full("pk1"));
  s = Run([&](Tx& tx) {
    Everything again = Full("pk2");
    again.set_id(first.id());
    EverythingRepository(tx).Insert(again);
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  // A composite unique index.
  s = Run([&](Tx& tx) {
    Entry a, b;
    a.set_tenant("t");
    a.set_seq(1);
    a.set_slug("same");
    b = a;
    b.set_seq(2);
    EntryRepository(tx).Insert(a);
    EntryRepository(tx).Insert(b);
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
}

TEST_F(RepositoryTest, KeysetPaginationReturnsEveryRowOnceInOrder) {
  // 3 tenants x 100 sequence numbers (some negative), kinds a/b/c.
  std::vector<Entry> entries;
  for (const char* tenant : {"t1", "t0", "t2"}) {
    for (int i = 0; i < 100; ++i) {
      Entry e;
      e.set_tenant(tenant);
      e.set_seq((i * 37) % 100 - 50);
      e.set_kind(std::string(1, static_cast<char>('a' + i % 3)));
      e.set_slug(std::to_string(i));
      entries.push_back(e);
    }
  }
  Status s = Run([&](Tx& tx) {
    EntryRepository(tx).BulkInsert(entries);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();

  struct Case {
    EntryFilter filter;
    size_t page_size;
  };
  std::vector<Case> cases(4);
  cases[0].page_size = 7;
  cases[1].filter.kind = "b";
  cases[1].page_size = 9;
  cases[2].filter.kind = "a";
  cases[2].filter.tenant = "t2";
  cases[2].page_size = 4;
  cases[3].filter.slug = "5";
  cases[3].page_size = 1;
  for (const Case& c : cases) {
    std::vector<std::pair<std::string, int64_t>> expected;
    for (const Entry& e : entries) {
      if ((c.filter.kind && e.kind() != *c.filter.kind) ||
          (c.filter.tenant && e.tenant() != *c.filter.tenant) ||
          (c.filter.slug && e.slug() != *c.filter.slug)) {
        continue;
      }
      expected.emplace_back(e.tenant(), e.seq());
    }
    std::sort(expected.begin(), expected.end());
    std::vector<std::pair<std::string, int64_t>> seen;
    std::string token;
    int pages = 0;
    s = Run([&](Tx& tx) {
      EntryRepository repo(tx);
      do {
        auto page = repo.List(c.filter, c.page_size, token);
        EXPECT_LE(page.rows.size(), c.page_size);
        for (const Entry& e : page.rows) seen.emplace_back(e.tenant(), e.seq());
        token = page.next_page_token;
        ++pages;
      } while (!token.empty() && pages < 1000);
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(seen, expected);
    EXPECT_GT(pages, 2);
  }

  // A token of another table, or garbage, is refused.
  s = Run([&](Tx& tx) {
    auto page = EntryRepository(tx).List({}, 1);
    EXPECT_THROW(EverythingRepository(tx).List({}, 1, page.next_page_token),
                 ::cppsvc::impl::InvalidPageToken);
    EXPECT_THROW(EntryRepository(tx).List({}, 1, "!!not a token"),
                 ::cppsvc::impl::InvalidPageToken);
    EXPECT_THROW(EntryRepository(tx).List({}, 1, "W10"), ::cppsvc::impl::InvalidPageToken);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(RepositoryTest, FiltersOnEnumsAndBooleans) {
  Everything red = Full("red");
  red.set_flag(false);
  Everything green = Full("green");
  green.set_color(COLOR_GREEN);
  Insert(red);
  Insert(green);
  Status s = Run([&](Tx& tx) {
    EverythingFilter filter;
    filter.color = COLOR_GREEN;
    auto page = EverythingRepository(tx).List(filter);
    EXPECT_EQ(page.rows.size(), 1u);
    filter = {};
    filter.flag = false;
    page = EverythingRepository(tx).List(filter);
    EXPECT_EQ(page.rows.size(), 1u);
    EXPECT_EQ(page.rows.at(0).code(), "red");
    filter = {};
    filter.code = "green";
    EXPECT_EQ(EverythingRepository(tx).List(filter).rows.size(), 1u);
    EXPECT_EQ(EverythingRepository(tx).List().rows.size(), 2u);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(RepositoryTest, BulkInsertOfAThousandRows) {
  std::vector<Everything> rows;
  for (int i = 0; i < 1000; ++i) {
    Everything e = Full("bulk" + std::to_string(i));
    e.set_i64(i);
    if (i % 2 == 0) e.clear_maybe_text();
    if (i % 3 == 0) e.clear_origin();
    rows.push_back(e);
  }
  Status s = Run([&](Tx& tx) {
    EverythingRepository(tx).BulkInsert(rows);
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(QueryInt("SELECT count(*) FROM everything"), 1000);
  EXPECT_EQ(QueryInt("SELECT count(DISTINCT id) FROM everything"), 1000);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM everything WHERE version = 1"), 1000);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM everything WHERE maybe_text IS NULL"), 500);
  std::set<std::string> ids;
  for (const Everything& row : rows) ids.insert(row.id());
  EXPECT_EQ(ids.size(), 1000u);
  for (int i : {0, 1, 2, 3, 499, 999}) ExpectSame(rows[i], Get(rows[i].id()));
  // Every row once through the pages.
  size_t listed = 0;
  s = Run([&](Tx& tx) {
    std::string token;
    do {
      auto page = EverythingRepository(tx).List({}, 300, token);
      listed += page.rows.size();
      token = page.next_page_token;
    } while (!token.empty());
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(listed, 1000u);
}

}  // namespace
}  // namespace repotest::v1
