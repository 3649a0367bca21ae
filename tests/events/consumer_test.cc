// Consumers, the inbox and dead letters against real PostgreSQL and nats-server.
#include <atomic>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "events_test_support.h"

namespace cppsvc::events::testing {
namespace {

class Consumers : public EventsTest {
 protected:
  void SetUp() override {
    EventsTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    Exec("CREATE TABLE applied (event_id text PRIMARY KEY, payload text NOT NULL, attempt int)");
    pool_ = MakePool(8);
  }

  ConsumerOptions Options(size_t batch = 16) const {
    ConsumerOptions options;
    options.service = "test";
    options.metrics = metrics_;
    options.nats_url = nats_->url();
    options.pool = pool_;
    options.batch = batch;
    return options;
  }

  static ConsumerSpec Spec(const std::string& stream, const std::string& subject) {
    ConsumerSpec spec;
    spec.stream = stream;
    spec.durable = "worker";
    spec.subject = subject;
    spec.max_deliver = 3;
    spec.ack_wait = 30s;
    spec.backoff = {100ms};
    return spec;
  }

  // The handler's own write, in the consumer's transaction.
  static void Apply(EventContext& ctx, const std::string& payload) {
    ctx.tx().exec_params("INSERT INTO applied (event_id, payload, attempt) VALUES ($1, $2, $3)",
                         ctx.event_id(),
                         payload,
                         ctx.delivery_attempt());
  }

  std::shared_ptr<db::Pool> pool_;
  std::shared_ptr<observability::Metrics> metrics_ =
      std::make_shared<observability::Metrics>("test");
};

TEST_F(Consumers, HandlerRunsInTheInboxTransaction) {
  EnsureStreams(nats_->url(), {{"C1", {"c1.>"}}});
  std::atomic<int> calls{0};
  std::string seen_traceparent;
  Consumer consumer(Options(), Spec("C1", "c1.>"), [&](EventContext& ctx, const std::string& p) {
    ++calls;
    seen_traceparent = ctx.traceparent();
    Apply(ctx, p);
    // The first attempt fails after writing: its write must roll back.
    if (ctx.delivery_attempt() == 1) return Status::Unavailable("try again");
    return Status::Ok();
  });
  consumer.Start();

  auto pool = MakePool();
  const std::string id =
      Emit(*pool,
           "c1.x",
           "hello",
           {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}});
  Relay relay(RelayOptionsFor());
  ASSERT_EQ(relay.RunOnce(), 1u);

  ASSERT_TRUE(WaitFor([&] { return consumer.stats().handled == 1; }, 20s));
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(Query("SELECT payload || ' ' || attempt FROM applied WHERE event_id = '" + id + "'"),
            "hello 2");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM applied"), 1);
  EXPECT_EQ(
      QueryInt("SELECT count(*) FROM cppsvc_inbox WHERE consumer = 'worker' AND event_id = '" + id +
               "' AND subject = 'c1.x'"),
      1);
  EXPECT_EQ(consumer.stats().redeliveries, 1u);
  // The handler's span continues the publisher's trace.
  EXPECT_EQ(seen_traceparent.substr(0, 36), "00-0af7651916cd43dd8448eb211c80319c-");
  EXPECT_NE(seen_traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
}

TEST_F(Consumers, RedeliveredEventIsAckedWithoutRunningTheHandler) {
  // A short duplicate window lets the same Nats-Msg-Id into the stream twice,
  // as a redelivery after a lost ack would deliver it.
  EnsureStreams(nats_->url(), {{"C2", {"c2.>"}, 1s}});
  std::atomic<int> calls{0};
  Consumer consumer(Options(), Spec("C2", "c2.>"), [&](EventContext& ctx, const std::string& p) {
    ++calls;
    Apply(ctx, p);
    return Status::Ok();
  });
  consumer.Start();
  const std::string id = "2b0c6c4e-5d7c-4f0e-8a51-8a1f6b7e9c01";
  ASSERT_TRUE(PublishSync(nats_->url(), "c2.x", id, "first"));
  ASSERT_TRUE(WaitFor([&] { return consumer.stats().handled == 1; }, 20s));
  ASSERT_TRUE(WaitFor([&] { return PublishSync(nats_->url(), "c2.x", id, "again"); }, 20s));
  ASSERT_EQ(StreamMessages(nats_->url(), "C2"), 2u);
  ASSERT_TRUE(WaitFor([&] { return consumer.stats().duplicates == 1; }, 20s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(consumer.stats().handled, 1u);
  EXPECT_EQ(Query("SELECT payload FROM applied"), "first");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_inbox"), 1);
}

TEST_F(Consumers, PoisonEventBecomesOneDeadLetterAndOthersKeepFlowing) {
  EnsureStreams(nats_->url(), {{"C3", {"c3.>"}}});
  std::mutex mu;
  std::map<std::string, int> calls;  // payload -> handler runs
  Consumer consumer(Options(), Spec("C3", "c3.>"), [&](EventContext& ctx, const std::string& p) {
    {
      std::lock_guard lock(mu);
      ++calls[p];
    }
    Apply(ctx, p);
    if (p == "poison") return Status::InvalidArgument("cannot apply poison");
    return Status::Ok();
  });
  consumer.Start();

  auto pool = MakePool();
  const std::string poison_id = Emit(*pool, "c3.bad", "poison", {{"Cppsvc-Causation-Id", "c-9"}});
  Emit(*pool, "c3.good", "good-1");
  Relay relay(RelayOptionsFor());
  ASSERT_EQ(relay.RunOnce(), 2u);
  ASSERT_TRUE(WaitFor([&] { return consumer.stats().dead_letters == 1; }, 30s));
  Emit(*pool, "c3.good", "good-2");
  ASSERT_EQ(relay.RunOnce(), 1u);
  ASSERT_TRUE(WaitFor([&] { return consumer.stats().handled == 2; }, 20s));
  std::this_thread::sleep_for(1s);  // no fourth delivery
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(calls["poison"], 3);
    EXPECT_EQ(calls["good-1"], 1);
    EXPECT_EQ(calls["good-2"], 1);
  }
  EXPECT_EQ(consumer.stats().dead_letters, 1u);
  EXPECT_EQ(consumer.stats().redeliveries, 2u);
  EXPECT_EQ(MetricValue(*metrics_, "cppsvc_consumer_handled_total"), 2);
  EXPECT_EQ(MetricValue(*metrics_, "cppsvc_consumer_redeliveries_total"), 2);
  EXPECT_EQ(MetricValue(*metrics_, "cppsvc_dead_letters_total"), 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM applied WHERE payload = 'poison'"), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_inbox WHERE event_id = '" + poison_id + "'"), 0);

  std::vector<DeadLetter> dead = ListDeadLetters(*pool_, "worker");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].consumer, "worker");
  EXPECT_EQ(dead[0].event_id, poison_id);
  EXPECT_EQ(dead[0].subject, "c3.bad");
  EXPECT_EQ(dead[0].payload, "poison");
  EXPECT_EQ(dead[0].attempts, 3);
  EXPECT_NE(dead[0].error.find("cannot apply poison"), std::string::npos) << dead[0].error;
  EXPECT_EQ(dead[0].headers.at("Cppsvc-Causation-Id"), "c-9");
  EXPECT_FALSE(dead[0].replayed);
  EXPECT_LT(Clock::now() - dead[0].created_at, 5min);
  EXPECT_TRUE(ListDeadLetters(*pool_, "someone-else").empty());

  // The handler is "fixed": the replay applies the event once.
  int replays = 0;
  const EventHandler fixed = [&](EventContext& ctx, const std::string& p) {
    ++replays;
    EXPECT_EQ(ctx.event_id(), poison_id);
    EXPECT_EQ(ctx.delivery_attempt(), 4);
    Apply(ctx, p);
    return Status::Ok();
  };
  const Status first = ReplayDeadLetter(*pool_, dead[0].id, fixed);
  EXPECT_TRUE(first.ok()) << first.ToString();
  const Status second = ReplayDeadLetter(*pool_, dead[0].id, fixed);
  EXPECT_EQ(second.code(), StatusCode::kFailedPrecondition) << second.ToString();
  EXPECT_EQ(replays, 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM applied WHERE payload = 'poison'"), 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_inbox WHERE event_id = '" + poison_id + "'"), 1);
  EXPECT_TRUE(ListDeadLetters(*pool_).empty());
  ASSERT_EQ(ListDeadLetters(*pool_, "", /*include_replayed=*/true).size(), 1u);
  EXPECT_TRUE(ListDeadLetters(*pool_, "", true)[0].replayed);
  EXPECT_EQ(ReplayDeadLetter(*pool_, dead[0].id + 1000, fixed).code(), StatusCode::kNotFound);
}

TEST_F(Consumers, AFailingReplayChangesNothing) {
  Exec(
      "INSERT INTO cppsvc_dead_letters (consumer, event_id, subject, payload, error, attempts) "
      "VALUES ('worker', 'e-1', 's', 'p', 'boom', 5)");
  const int64_t id = QueryInt("SELECT id FROM cppsvc_dead_letters");
  const Status failed = ReplayDeadLetter(*pool_, id, [](EventContext& ctx, const std::string& p) {
    Apply(ctx, p);
    return Status::Aborted("still broken");
  });
  EXPECT_EQ(failed.code(), StatusCode::kAborted);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM applied"), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM cppsvc_inbox"), 0);
  EXPECT_EQ(Query("SELECT replayed_at IS NULL FROM cppsvc_dead_letters"), "t");
}

TEST_F(Consumers, ReplicasSplitTheStreamAndHandleEachEventOnce) {
  EnsureStreams(nats_->url(), {{"C4", {"c4.>"}}});
  constexpr int kEvents = 200;
  std::mutex mu;
  std::map<std::string, int> runs;
  std::atomic<int> by_first{0}, by_second{0};
  const auto handler = [&](std::atomic<int>& mine) {
    return [&](EventContext& ctx, const std::string& p) {
      {
        std::lock_guard lock(mu);
        ++runs[ctx.event_id()];
      }
      ++mine;
      Apply(ctx, p);
      std::this_thread::sleep_for(2ms);
      return Status::Ok();
    };
  };
  Consumer first(Options(4), Spec("C4", "c4.>"), handler(by_first));
  Consumer second(Options(4), Spec("C4", "c4.>"), handler(by_second));
  first.Start();
  second.Start();

  auto pool = MakePool();
  for (int i = 0; i < kEvents; ++i) Emit(*pool, "c4.e", std::to_string(i));
  Relay relay(RelayOptionsFor());
  ASSERT_EQ(relay.RunOnce(), static_cast<size_t>(kEvents));
  ASSERT_TRUE(WaitFor([&] { return QueryInt("SELECT count(*) FROM applied") == kEvents; }, 60s))
      << QueryInt("SELECT count(*) FROM applied");
  std::this_thread::sleep_for(500ms);
  first.Stop();
  second.Stop();
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(runs.size(), static_cast<size_t>(kEvents));
    for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
  }
  EXPECT_EQ(by_first + by_second, kEvents);
  EXPECT_GT(by_first.load(), 0);
  EXPECT_GT(by_second.load(), 0);
  EXPECT_EQ(first.stats().handled + second.stats().handled, static_cast<uint64_t>(kEvents));
  EXPECT_EQ(first.stats().duplicates + second.stats().duplicates, 0u);
}

TEST_F(Consumers, StartFailsWithoutTheStream) {
  Consumer consumer(Options(), Spec("NOPE", "nope.>"), [](EventContext&, const std::string&) {
    return Status::Ok();
  });
  EXPECT_THROW(consumer.Start(), std::runtime_error);
}

}  // namespace
}  // namespace cppsvc::events::testing
