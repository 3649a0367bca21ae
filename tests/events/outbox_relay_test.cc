// The outbox and its relay against real PostgreSQL and nats-server.
#include <pqxx/pqxx>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "events_test_support.h"

namespace cppsvc::events::testing {
namespace {

using Outbox = EventsTest;

TEST_F(Outbox, RowExistsOnlyWhenTheTransactionCommits) {
  auto pool = MakePool();
  const Status failed = db::RunInTransaction(*pool, Clock::now() + 10s, [&](db::Tx& tx) {
    OutboxEvent event;
    event.subject = "t.atomic.failed";
    event.event_type = "test.v1.Happened";
    event.payload = "x";
    AddToOutbox(tx, event);
    return Status::Aborted("the handler failed after emitting");
  });
  EXPECT_EQ(failed.code(), StatusCode::kAborted);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox"), 0);

  const Status thrown = db::RunInTransaction(*pool, Clock::now() + 10s, [&](db::Tx& tx) -> Status {
    OutboxEvent event;
    event.subject = "t.atomic.thrown";
    event.event_type = "test.v1.Happened";
    AddToOutbox(tx, event);
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(thrown.code(), StatusCode::kInternal);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox"), 0);

  const std::string id =
      Emit(*pool, "t.atomic.ok", std::string("a\0b", 3), {{"traceparent", "tp"}});
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox"), 1);
  EXPECT_EQ(Query("SELECT id::text || ' ' || subject || ' ' || status || ' ' || event_type || ' ' "
                  "|| (headers->>'traceparent') || ' ' || length(payload) FROM cppsvc_outbox"),
            id + " t.atomic.ok pending test.v1.Happened tp 3");
}

TEST_F(Outbox, KeepsAGivenIdAndRejectsAMalformedOne) {
  auto pool = MakePool();
  const std::string given = "6f1c1f43-3c0c-4a8e-9d4e-0f8e3b0b7a11";
  std::string stored;
  ASSERT_TRUE(db::RunInTransaction(*pool, Clock::now() + 10s, [&](db::Tx& tx) {
                OutboxEvent event;
                event.id = given;
                event.subject = "t.id";
                stored = AddToOutbox(tx, event);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(stored, given);
  const Status bad = db::RunInTransaction(*pool, Clock::now() + 10s, [&](db::Tx& tx) {
    OutboxEvent event;
    event.id = "not-a-uuid";
    event.subject = "t.id";
    AddToOutbox(tx, event);
    return Status::Ok();
  });
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument) << bad.ToString();
}

using Relays = EventsTest;

TEST_F(Relays, PublishesWithTheEventIdAndHeadersThenMarksSent) {
  EnsureStreams(nats_->url(), {{"RELAY1", {"relay1.>"}}});
  auto pool = MakePool();
  std::string id1;
  ASSERT_TRUE(db::RunInTransaction(*pool, Clock::now() + 10s, [&](db::Tx& tx) {
                OutboxEvent event;
                event.subject = "relay1.orders.created";
                event.event_type = "commerce.orders.v1.OrderCreated";
                event.ordering_key = "order-7";
                event.payload = std::string("\x08\x07\x00z", 4);
                event.headers = {
                    {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                    {"Cppsvc-Causation-Id", "cause-1"}};
                id1 = AddToOutbox(tx, event);
                return Status::Ok();
              }).ok());
  const std::string id2 = Emit(*pool, "relay1.orders.paid", "p2");

  Relay relay(RelayOptionsFor());
  EXPECT_EQ(relay.RunOnce(), 2u);
  EXPECT_TRUE(relay.leader());
  // Sent rows move to cppsvc_outbox_sent, whole, with the time of the ack.
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox"), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox_sent WHERE sent_at > created_at AND "
                     "sent_at <= now()"),
            2);
  EXPECT_EQ(Query("SELECT subject || ' ' || event_type || ' ' || ordering_key || ' ' || "
                  "encode(payload, 'hex') || ' ' || (headers->>'Cppsvc-Causation-Id') || ' ' || "
                  "attempts FROM cppsvc_outbox_sent WHERE id = '" +
                  id1 + "'"),
            "relay1.orders.created commerce.orders.v1.OrderCreated order-7 0807007a cause-1 0");
  EXPECT_EQ(QueryInt("SELECT count(DISTINCT seq) FROM cppsvc_outbox_sent"), 2);
  EXPECT_EQ(relay.RunOnce(), 0u);  // nothing pending any more

  const std::vector<Received> got = ReadStream(nats_->url(), "RELAY1");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].subject, "relay1.orders.created");
  EXPECT_EQ(got[0].payload, std::string("\x08\x07\x00z", 4));
  EXPECT_EQ(got[0].headers.at("Nats-Msg-Id"), id1);
  EXPECT_EQ(got[0].headers.at("Cppsvc-Event-Type"), "commerce.orders.v1.OrderCreated");
  EXPECT_EQ(got[0].headers.at("Cppsvc-Ordering-Key"), "order-7");
  EXPECT_EQ(got[0].headers.at("traceparent"),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(got[0].headers.at("Cppsvc-Causation-Id"), "cause-1");
  EXPECT_EQ(got[1].headers.at("Nats-Msg-Id"), id2);
  EXPECT_EQ(got[1].payload, "p2");
  EXPECT_EQ(got[1].headers.count("Cppsvc-Ordering-Key"), 0u);
  EXPECT_EQ(relay.stats().published, 2u);

  // A row published again (e.g. its ack was lost) is a duplicate in the stream.
  Exec(
      "WITH back AS (DELETE FROM cppsvc_outbox_sent RETURNING *) "
      "INSERT INTO cppsvc_outbox (id, seq, subject, event_type, ordering_key, payload, headers) "
      "SELECT id, seq, subject, event_type, ordering_key, payload, headers FROM back");
  EXPECT_EQ(relay.RunOnce(), 2u);
  EXPECT_EQ(StreamMessages(nats_->url(), "RELAY1"), 2u);
}

// Rows written by other means than AddToOutbox: headers that are not all
// strings, and a payload read in bytea's escape format (the relay decodes
// the hex format itself).
TEST_F(Relays, HeadersOfAnyShapeAndPayloadsInEitherByteaFormatArriveIntact) {
  EnsureStreams(nats_->url(), {{"SHAPES", {"shapes.>"}}});
  Exec(
      "INSERT INTO cppsvc_outbox (id, subject, event_type, payload, headers) VALUES "
      "('00000000-0000-4000-8000-000000000001', 'shapes.hex', 'T', '\\x005cff7a', "
      "'{\"s\": \"x\", \"n\": 5, \"b\": true, \"o\": {\"k\": [1]}, \"e\": \"\"}')");
  {
    Relay relay(RelayOptionsFor());
    EXPECT_EQ(relay.RunOnce(), 1u);
  }  // gives up leadership
  Exec(
      "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET bytea_output = ''escape''', "
      "current_database()); END $$");
  Exec(
      "INSERT INTO cppsvc_outbox (id, subject, event_type, payload, headers) VALUES "
      "('00000000-0000-4000-8000-000000000002', 'shapes.escape', 'T', '\\x005cff7a', "
      "'{\"s\": \"y\"}')");
  ASSERT_EQ(Query("SELECT payload::text FROM cppsvc_outbox"), "\\000\\\\\\377z");  // escaped
  Relay escaped(RelayOptionsFor());  // its new connections read the escape format
  EXPECT_EQ(escaped.RunOnce(), 1u);

  const std::vector<Received> got = ReadStream(nats_->url(), "SHAPES");
  ASSERT_EQ(got.size(), 2u);
  const std::string bytes("\x00\x5c\xff\x7a", 4);
  EXPECT_EQ(got[0].payload, bytes);
  EXPECT_EQ(got[0].headers.at("s"), "x");
  EXPECT_EQ(got[0].headers.at("n"), "5");
  EXPECT_EQ(got[0].headers.at("b"), "true");
  EXPECT_EQ(got[0].headers.at("o"), "{\"k\":[1]}");
  EXPECT_EQ(got[0].headers.count("e"), 0u);  // nats.c cannot carry an empty value
  EXPECT_EQ(got[1].payload, bytes);
  EXPECT_EQ(got[1].headers.at("s"), "y");
}

// PostgreSQL prints a flat jsonb object of strings as {"k": "v", ...}; the
// relay splits that without a parser when it holds no backslash. Separators
// inside values, and escapes (which the parser decodes), must not confuse it.
TEST_F(Relays, HeaderValuesWithSeparatorsQuotesAndUnicodeArriveIntact) {
  EnsureStreams(nats_->url(), {{"PLAIN", {"plain.>"}}});
  Exec(
      "INSERT INTO cppsvc_outbox (id, subject, event_type, payload, headers) VALUES "
      "('00000000-0000-4000-8000-000000000011', 'plain.a', 'T', 'x', "
      "jsonb_build_object('traceparent', "
      "'00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'sep', 'a, b: c', "
      "'braces', '{}}{', 'comma', ',', 'colon', 'a: b', 'uni', 'caf\u00e9 \u2603', "
      "'key with space', 'v', 'empty', '')), "
      "('00000000-0000-4000-8000-000000000012', 'plain.b', 'T', 'y', "
      "jsonb_build_object('quote', 'a\", \"b\": \"c', 'slash', 'a\\b', 'plain', 'p')), "
      "('00000000-0000-4000-8000-000000000013', 'plain.c', 'T', 'z', '{}')");
  // As the relay reads them: the first in the plain form, the second escaped.
  ASSERT_EQ(Query("SELECT headers::text FROM cppsvc_outbox WHERE subject = 'plain.a'").find('\\'),
            std::string::npos);
  ASSERT_EQ(Query("SELECT headers::text FROM cppsvc_outbox WHERE subject = 'plain.b'"),
            R"({"plain": "p", "quote": "a\", \"b\": \"c", "slash": "a\\b"})");
  Relay relay(RelayOptionsFor());
  EXPECT_EQ(relay.RunOnce(), 3u);

  const std::vector<Received> got = ReadStream(nats_->url(), "PLAIN");
  ASSERT_EQ(got.size(), 3u);
  const auto& a = got[0].headers;
  EXPECT_EQ(a.at("traceparent"), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(a.at("sep"), "a, b: c");
  EXPECT_EQ(a.at("braces"), "{}}{");
  EXPECT_EQ(a.at("comma"), ",");
  EXPECT_EQ(a.at("colon"), "a: b");
  EXPECT_EQ(a.at("uni"), "caf\u00e9 \u2603");
  EXPECT_EQ(a.at("key with space"), "v");
  EXPECT_EQ(a.count("empty"), 0u);  // nats.c cannot carry an empty value
  EXPECT_EQ(a.at(kEventTypeHeader), "T");
  const auto& b = got[1].headers;
  EXPECT_EQ(b.at("quote"), "a\", \"b\": \"c");
  EXPECT_EQ(b.at("slash"), "a\\b");
  EXPECT_EQ(b.at("plain"), "p");
  EXPECT_EQ(got[2].payload, "z");
  EXPECT_EQ(got[2].headers.at(kEventTypeHeader), "T");
}

TEST_F(Relays, MetricsCountBacklogPublishesAndLag) {
  EnsureStreams(nats_->url(), {{"RELAYM", {"relaym.>"}}});
  auto pool = MakePool();
  for (int i = 0; i < 5; ++i) Emit(*pool, "relaym.e", "m" + std::to_string(i));
  auto metrics = std::make_shared<observability::Metrics>("test");
  RelayOptions options = RelayOptionsFor();
  options.batch = 2;
  options.metrics = metrics;
  Relay relay(options);
  EXPECT_EQ(MetricValue(*metrics, "cppsvc_relay_published_total"), 0);

  // A full batch: the backlog is counted (at most once a second).
  ASSERT_EQ(relay.RunOnce(), 2u);
  EXPECT_EQ(MetricValue(*metrics, "cppsvc_outbox_backlog"), 3);
  EXPECT_EQ(MetricValue(*metrics, "cppsvc_relay_published_total"), 2);
  EXPECT_EQ(MetricValue(*metrics, "cppsvc_relay_lag_seconds_count"), 2);
  ASSERT_EQ(relay.RunOnce(), 2u);
  // A short batch took every pending row: nothing is left.
  ASSERT_EQ(relay.RunOnce(), 1u);
  EXPECT_EQ(MetricValue(*metrics, "cppsvc_outbox_backlog"), 0);
  EXPECT_EQ(MetricValue(*metrics, "cppsvc_relay_published_total"), 5);
  EXPECT_EQ(MetricValue(*metrics, "cppsvc_relay_lag_seconds_count"), 5);
  EXPECT_EQ(MetricValue(*metrics, "cppsvc_relay_failed_publishes_total"), 0);
  // Lag is creation to ack: positive, and well under the test's length.
  const double lag_sum = MetricValue(*metrics, "cppsvc_relay_lag_seconds_sum");
  EXPECT_GT(lag_sum, 0);
  EXPECT_LT(lag_sum, 5 * 60.0);
}

// The relay's thread keeps a full batch in flight while it claims and
// publishes the next: a backlog still arrives whole, once, in seq order.
TEST_F(Relays, ABacklogDrainedWithBatchesInFlightArrivesOnceInOrder) {
  EnsureStreams(nats_->url(), {{"BACKLOG", {"backlog.>"}}});
  auto pool = MakePool();
  constexpr int kRows = 1000;
  ASSERT_TRUE(db::RunInTransaction(*pool, Clock::now() + 30s, [&](db::Tx& tx) {
                for (int i = 0; i < kRows; ++i) {
                  OutboxEvent event;
                  event.subject = "backlog.e";
                  event.ordering_key = "one-key";
                  event.payload = std::to_string(i);
                  AddToOutbox(tx, event);
                }
                return Status::Ok();
              }).ok());
  const char* const kOthers =
      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
      "AND pid <> pg_backend_pid()";
  const long long before = QueryInt(kOthers);  // the pool's
  RelayOptions options = RelayOptionsFor();
  options.batch = 16;
  Relay relay(options);
  relay.Start();
  ASSERT_TRUE(WaitFor([&] { return relay.stats().published == kRows; }, 60s))
      << relay.stats().published;
  // Two connections claimed: the relay's own and the one for batches in flight.
  EXPECT_EQ(QueryInt(kOthers) - before, 2);
  relay.Stop();
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox_sent"), kRows);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox"), 0);
  EXPECT_EQ(relay.stats().failed_publishes, 0u);
  const std::vector<Received> got = ReadStream(nats_->url(), "BACKLOG", kRows + 10);
  ASSERT_EQ(got.size(), static_cast<size_t>(kRows));
  for (int i = 0; i < kRows; ++i) ASSERT_EQ(got[i].payload, std::to_string(i)) << "at " << i;
}

TEST_F(Relays, ALateCommitIsPublishedToo) {
  EnsureStreams(nats_->url(), {{"LATE", {"late.>"}}});
  auto pool = MakePool();
  Relay relay(RelayOptionsFor());

  // A inserts first (lower seq) and commits last.
  pqxx::connection a_conn(url());
  pqxx::work a(a_conn);
  OutboxEvent early;
  early.subject = "late.a";
  early.payload = "a";
  const std::string id_a = AddToOutbox(a, early);

  const std::string id_b = Emit(*pool, "late.b", "b");
  EXPECT_EQ(relay.RunOnce(), 1u);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox_sent WHERE id = '" + id_b + "'"), 1);

  a.commit();
  EXPECT_EQ(Query("SELECT seq < (SELECT seq FROM cppsvc_outbox_sent WHERE id = '" + id_b +
                  "') FROM cppsvc_outbox WHERE id = '" + id_a + "'"),
            "t");
  EXPECT_EQ(relay.RunOnce(), 1u);

  std::set<std::string> ids;
  for (const Received& r : ReadStream(nats_->url(), "LATE"))
    ids.insert(r.headers.at("Nats-Msg-Id"));
  EXPECT_EQ(ids, (std::set<std::string>{id_a, id_b}));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox WHERE status = 'pending'"), 0);
}

// While a batch is in flight, the next claim passes over its seq range. A
// row of that range that commits late is claimed once the batch is closed.
TEST_F(Relays, ALateCommitInTheRangeOfABatchInFlightIsPublishedToo) {
  EnsureStreams(nats_->url(), {{"LATEMID", {"latemid.>"}}});
  auto pool = MakePool();
  auto backlog = [&](int from, int to) {
    ASSERT_TRUE(db::RunInTransaction(*pool, Clock::now() + 30s, [&](db::Tx& tx) {
                  for (int i = from; i < to; ++i) {
                    OutboxEvent event;
                    event.subject = "latemid.e";
                    event.payload = std::to_string(i);
                    AddToOutbox(tx, event);
                  }
                  return Status::Ok();
                }).ok());
  };
  backlog(0, 130);
  pqxx::connection late_conn(url());
  pqxx::work late(late_conn);
  OutboxEvent event;
  event.subject = "latemid.late";
  event.payload = "late";
  const std::string late_id = AddToOutbox(late, event);  // not committed
  const long long late_seq =
      late.exec1("SELECT seq FROM cppsvc_outbox WHERE id = '" + late_id + "'")[0].as<long long>();
  backlog(130, 600);

  RelayOptions options = RelayOptionsFor();
  options.batch = 16;
  Relay relay(options);
  relay.Start();
  // The batches in flight are about to reach the late row's seq: commit it now.
  ASSERT_TRUE(WaitFor([&] { return relay.stats().published >= 100; }, 60s));
  late.commit();
  ASSERT_TRUE(WaitFor([&] { return relay.stats().published == 601; }, 60s))
      << relay.stats().published;
  relay.Stop();
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox"), 0);
  EXPECT_EQ(QueryInt("SELECT seq FROM cppsvc_outbox_sent WHERE id = '" + late_id + "'"), late_seq);
  EXPECT_EQ(
      QueryInt("SELECT count(*) FROM cppsvc_outbox_sent WHERE seq < " + std::to_string(late_seq)),
      130);
  std::set<std::string> ids;
  for (const Received& r : ReadStream(nats_->url(), "LATEMID", 700))
    ids.insert(r.headers.at("Nats-Msg-Id"));
  EXPECT_EQ(ids.size(), 601u);
  EXPECT_EQ(ids.count(late_id), 1u);
}

TEST_F(Relays, NatsOutageKeepsRowsPendingAndLosesNothing) {
  EnsureStreams(nats_->url(), {{"OUTAGE", {"outage.>"}}});
  auto pool = MakePool();
  RelayOptions options = RelayOptionsFor();
  options.poll = 200ms;
  options.publish_timeout = 1s;
  options.max_backoff = 500ms;
  Relay relay(options);
  relay.Start();

  for (int i = 0; i < 5; ++i) Emit(*pool, "outage.before", std::to_string(i));
  ASSERT_TRUE(
      WaitFor([&] { return QueryInt("SELECT count(*) FROM cppsvc_outbox_sent") == 5; }, 20s));

  nats_->Stop();
  for (int i = 0; i < 20; ++i) Emit(*pool, "outage.during", std::to_string(i));
  // The relay keeps trying: attempts grow, nothing is marked sent.
  ASSERT_TRUE(WaitFor(
      [&] {
        return QueryInt(
                   "SELECT min(attempts) FROM cppsvc_outbox WHERE "
                   "status = 'pending'") >= 2;
      },
      20s));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox WHERE status = 'pending'"), 20);
  EXPECT_NE(Query("SELECT last_error FROM cppsvc_outbox WHERE status = 'pending' LIMIT 1"), "");
  EXPECT_FALSE(relay.healthy());
  EXPECT_GT(relay.stats().failed_publishes, 0u);

  nats_->Start();
  ASSERT_TRUE(WaitFor(
      [&] {
        return QueryInt(
                   "SELECT count(*) FROM cppsvc_outbox WHERE status = "
                   "'pending'") == 0;
      },
      30s))
      << Query("SELECT last_error FROM cppsvc_outbox WHERE status = 'pending' LIMIT 1");
  relay.Stop();
  // Every row exactly once: retries of a publish that did reach the stream
  // were dropped as duplicates.
  ASSERT_TRUE(WaitFor([&] { return StreamMessages(nats_->url(), "OUTAGE") == 25; }, 10s))
      << StreamMessages(nats_->url(), "OUTAGE");
  std::set<std::string> ids;
  for (const Received& r : ReadStream(nats_->url(), "OUTAGE"))
    ids.insert(r.headers.at("Nats-Msg-Id"));
  EXPECT_EQ(ids.size(), 25u);
  EXPECT_EQ(static_cast<long long>(ids.size()),
            QueryInt("SELECT count(*) FROM cppsvc_outbox_sent"));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox"), 0);
}

TEST_F(Relays, NotifyWakesTheRelayLongBeforeThePoll) {
  EnsureStreams(nats_->url(), {{"WAKE", {"wake.>"}}});
  auto pool = MakePool();
  RelayOptions options = RelayOptionsFor();
  options.poll = 30s;
  Relay relay(options);
  relay.Start();
  ASSERT_TRUE(WaitFor([&] { return relay.leader(); }, 10s));
  std::this_thread::sleep_for(300ms);  // idle, waiting for a notification

  for (int round = 0; round < 3; ++round) {
    const auto start = std::chrono::steady_clock::now();
    const std::string id = Emit(*pool, "wake.now", "w");
    ASSERT_TRUE(WaitFor(
        [&] {
          return QueryInt("SELECT count(*) FROM cppsvc_outbox_sent WHERE id = '" + id + "'") == 1;
        },
        10s));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, 5s) << "round " << round;
  }
  EXPECT_EQ(StreamMessages(nats_->url(), "WAKE"), 3u);
}

TEST_F(Relays, RetentionDeletesOldSentRowsOnly) {
  EnsureStreams(nats_->url(), {{"KEEP", {"keep.>"}}});
  auto pool = MakePool();
  const std::string old_id = Emit(*pool, "keep.old", "o");
  const std::string recent_id = Emit(*pool, "keep.recent", "r");
  {
    Relay relay(RelayOptionsFor());
    ASSERT_EQ(relay.RunOnce(), 2u);
  }
  Exec("UPDATE cppsvc_outbox_sent SET sent_at = now() - interval '8 days' WHERE id = '" + old_id +
       "'");
  const std::string pending_id = Emit(*pool, "keep.pending", "p");
  Exec("UPDATE cppsvc_outbox SET created_at = now() - interval '9 days' WHERE id = '" + pending_id +
       "'");
  // Rows a relay of version 1 of the runtime's tables marked sent in place
  // (during a rolling upgrade): moved, then deleted once expired.
  Exec(
      "INSERT INTO cppsvc_outbox (id, subject, event_type, payload, status, sent_at) VALUES "
      "('00000000-0000-4000-8000-0000000000a1', 'keep.v1', 'T', 'a', 'sent', "
      "now() - interval '1 hour'), "
      "('00000000-0000-4000-8000-0000000000a2', 'keep.v1', 'T', 'b', 'sent', "
      "now() - interval '8 days')");
  Relay relay(RelayOptionsFor());  // retention runs in its first round
  EXPECT_EQ(relay.RunOnce(), 1u);
  // The old sent row is gone; the recent one stays, and so does the row
  // whose creation is older than the retention but which was sent just now.
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox_sent WHERE id = '" + old_id + "'"), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox_sent WHERE id = '" + recent_id + "'"), 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox_sent WHERE id = '" + pending_id + "'"), 1);
  EXPECT_EQ(Query("SELECT string_agg(id::text || ' ' || encode(payload, 'escape'), ',') FROM "
                  "cppsvc_outbox_sent WHERE subject = 'keep.v1'"),
            "00000000-0000-4000-8000-0000000000a1 a");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_outbox"), 0);
}

TEST_F(Relays, OnlyOneRelayOfADatabasePublishes) {
  EnsureStreams(nats_->url(), {{"LEAD", {"lead.>"}}});
  auto pool = MakePool();
  RelayOptions options = RelayOptionsFor();
  options.poll = 200ms;
  auto first = std::make_unique<Relay>(options);
  Relay second(options);
  first->Start();
  ASSERT_TRUE(WaitFor([&] { return first->leader(); }, 10s));
  second.Start();
  for (int i = 0; i < 30; ++i) Emit(*pool, "lead.x", std::to_string(i));
  ASSERT_TRUE(
      WaitFor([&] { return QueryInt("SELECT count(*) FROM cppsvc_outbox_sent") == 30; }, 20s));
  EXPECT_EQ(first->stats().published, 30u);
  EXPECT_EQ(second.stats().published, 0u);
  EXPECT_FALSE(second.leader());

  // The leader goes away: the other one takes over.
  first.reset();
  for (int i = 0; i < 5; ++i) Emit(*pool, "lead.y", std::to_string(i));
  ASSERT_TRUE(WaitFor([&] { return second.stats().published == 5; }, 20s));
  EXPECT_TRUE(second.leader());
  EXPECT_EQ(StreamMessages(nats_->url(), "LEAD"), 35u);
}

// A standby asks for the lead once per poll (or notification), not in a
// loop: its transactions over two idle seconds stay few (a standby that
// retried at once made thousands, a core's worth).
TEST_F(Relays, AStandbyRelayTriesToLeadOncePerPoll) {
  RelayOptions options = RelayOptionsFor();
  options.poll = 200ms;
  Relay first(options);
  first.Start();
  ASSERT_TRUE(WaitFor([&] { return first.leader(); }, 10s));
  Relay second(options);
  second.Start();
  std::this_thread::sleep_for(500ms);
  const std::string commits =
      "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()";
  const int64_t before = QueryInt(commits);
  std::this_thread::sleep_for(2s);
  const int64_t after = QueryInt(commits);
  EXPECT_FALSE(second.leader());
  // Both relays' polls: about 20 each, and this test's own queries.
  EXPECT_LT(after - before, 200);
}

}  // namespace
}  // namespace cppsvc::events::testing

namespace cppsvc::events::testing {

// The ordering promise: events of one ordering key, committed one after the
// other, reach the stream in commit order, whatever other keys do at the
// same time and however often the publishing relay changes (here: several
// relays started and stopped while producers commit). No order is promised
// across keys.
TEST_F(Relays, EventsOfOneKeyArriveInCommitOrder) {
  EnsureStreams(nats_->url(), {{"ORDERED", {"ordered.>"}}});
  auto pool = MakePool(8);
  constexpr int kKeys = 6;
  constexpr int kPerKey = 60;
  std::atomic<bool> producing{true};
  std::vector<std::thread> producers;
  for (int k = 0; k < kKeys; ++k) {
    producers.emplace_back([&, k] {
      for (int n = 0; n < kPerKey; ++n) {
        Status s = db::RunInTransaction(*pool, Clock::now() + 20s, [&](db::Tx& tx) {
          OutboxEvent event;
          event.subject = "ordered.k" + std::to_string(k);
          event.ordering_key = "key-" + std::to_string(k);
          event.payload = std::to_string(n);
          AddToOutbox(tx, event);
          return Status::Ok();
        });
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
    });
  }
  // Relays come and go while the producers run; a small batch makes many rounds.
  std::thread relays([&] {
    while (producing) {
      RelayOptions options = RelayOptionsFor();
      options.batch = 7;
      options.poll = 20ms;
      Relay a(options), b(options);
      a.Start();
      b.Start();
      std::this_thread::sleep_for(150ms);
      a.Stop();
      std::this_thread::sleep_for(50ms);
      b.Stop();
    }
  });
  for (auto& p : producers) p.join();
  producing = false;
  relays.join();
  Relay last(RelayOptionsFor());
  last.Start();
  ASSERT_TRUE(WaitFor(
      [&] { return QueryInt("SELECT count(*) FROM cppsvc_outbox WHERE status = 'pending'") == 0; },
      60s));
  last.Stop();

  const std::vector<Received> got = ReadStream(nats_->url(), "ORDERED", kKeys * kPerKey + 10);
  ASSERT_EQ(got.size(), static_cast<size_t>(kKeys * kPerKey));
  std::map<std::string, int> next;
  bool interleaved = false;
  std::string previous_key;
  for (const Received& r : got) {
    const std::string& key = r.headers.at("Cppsvc-Ordering-Key");
    EXPECT_EQ(std::stoi(r.payload), next[key]) << "key " << key << " out of order";
    next[key] = std::stoi(r.payload) + 1;
    if (!previous_key.empty() && key != previous_key) interleaved = true;
    previous_key = key;
  }
  EXPECT_EQ(next.size(), static_cast<size_t>(kKeys));
  for (const auto& [key, n] : next) EXPECT_EQ(n, kPerKey) << key;
  // The keys did run concurrently (otherwise the test shows nothing).
  EXPECT_TRUE(interleaved);
}

}  // namespace cppsvc::events::testing
