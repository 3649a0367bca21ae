#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cppsvc/impl/client.h"
#include "cppsvc/observability/trace.h"

namespace cppsvc::impl {
namespace {

ClientOptions TwoReplicas() {
  ClientOptions o;
  o.addresses = {"127.0.0.1:1", "127.0.0.1:2"};  // channels connect lazily: never dialled here
  o.retry = resilience::RetryConfig{};
  o.retry->max_attempts = 3;
  o.retry->initial_backoff = std::chrono::milliseconds(1);
  o.retry->max_backoff = std::chrono::milliseconds(2);
  o.circuit_breaker.window = 4;
  o.circuit_breaker.min_calls = 2;
  o.circuit_breaker.failure_rate_threshold = 0.5;
  o.circuit_breaker.open_duration = std::chrono::seconds(60);
  return o;
}

ClientMethodSpec Method(bool idempotent) {
  ClientMethodSpec m;
  m.name = "Get";
  m.full_name = "test.Service/Get";
  m.idempotent = idempotent;
  m.timeout = std::chrono::seconds(5);
  return m;
}

TEST(ClientRuntime, NonIdempotentCallsAreNeverRetried) {
  ClientRuntime rt("test", TwoReplicas());
  int attempts = 0;
  Status s = rt.Run(Method(false), {}, [&](size_t, const Headers&, Clock::time_point) {
    ++attempts;
    return Status(StatusCode::kUnavailable, "down");
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(attempts, 1);
}

TEST(ClientRuntime, IdempotentCallsRetryOnAnotherReplica) {
  ClientRuntime rt("test", TwoReplicas());
  std::vector<size_t> targets;
  Status s = rt.Run(Method(true), {}, [&](size_t target, const Headers&, Clock::time_point) {
    targets.push_back(target);
    return targets.size() < 2 ? Status(StatusCode::kUnavailable, "down") : Status::Ok();
  });
  EXPECT_TRUE(s.ok());
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_NE(targets[0], targets[1]);
}

TEST(ClientRuntime, AnswersAboutTheRequestAreNotRetried) {
  ClientRuntime rt("test", TwoReplicas());
  int attempts = 0;
  Status s = rt.Run(Method(true), {}, [&](size_t, const Headers&, Clock::time_point) {
    ++attempts;
    return Status(StatusCode::kNotFound, "no such thing");
  });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(attempts, 1);
}

TEST(ClientRuntime, RoundRobinAndSkippingOpenCircuits) {
  ClientRuntime rt("test", TwoReplicas());
  std::map<size_t, int> calls;
  auto replica0_down = [&](size_t target, const Headers&, Clock::time_point) {
    ++calls[target];
    return target == 0 ? Status(StatusCode::kUnavailable, "down") : Status::Ok();
  };
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(rt.Run(Method(true), {}, replica0_down).ok());
  EXPECT_EQ(rt.circuit_state(0), resilience::CircuitState::kOpen);
  EXPECT_EQ(rt.circuit_state(1), resilience::CircuitState::kClosed);
  int before = calls[0];
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(rt.Run(Method(true), {}, replica0_down).ok());
  EXPECT_EQ(calls[0], before);  // the open replica is skipped
}

TEST(ClientRuntime, AllCircuitsOpenFailsFast) {
  ClientRuntime rt("test", TwoReplicas());
  auto down = [](size_t, const Headers&, Clock::time_point) {
    return Status(StatusCode::kUnavailable, "down");
  };
  for (int i = 0; i < 10; ++i) (void)rt.Run(Method(false), {}, down);
  int attempts = 0;
  Status s = rt.Run(Method(true), {}, [&](size_t, const Headers&, Clock::time_point) {
    ++attempts;
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("circuit open"), std::string::npos);
  EXPECT_EQ(attempts, 0);
}

TEST(ClientRuntime, HeadersCarryTokenAndTrace) {
  ClientOptions o = TwoReplicas();
  o.bearer_token = "static-token";
  ClientRuntime rt("test", o);
  CallContext parent(Caller{"u1", {"customer"}, "j"},
                     Clock::now() + std::chrono::milliseconds(300),
                     "m",
                     "t");
  parent.set_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  parent.set_bearer_token("callers-token");
  CallOptions call;
  call.parent = &parent;
  Headers seen;
  Clock::time_point deadline;
  (void)rt.Run(Method(false), call, [&](size_t, const Headers& h, Clock::time_point d) {
    seen = h;
    deadline = d;
    return Status::Ok();
  });
  std::map<std::string, std::string> headers(seen.begin(), seen.end());
  EXPECT_EQ(headers["authorization"],
            "Bearer callers-token");  // propagated from the call being served
  // The served call's trace, in a span of its own, sampled as it was.
  observability::TraceContext outgoing;
  ASSERT_TRUE(observability::ParseTraceparent(headers["traceparent"], outgoing))
      << headers["traceparent"];
  EXPECT_EQ(outgoing.trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_NE(outgoing.span_id, "b7ad6b7169203331");
  EXPECT_TRUE(outgoing.sampled);
  EXPECT_LE(deadline, parent.deadline());  // the parent's deadline caps the call's
  (void)rt.Run(Method(false), {}, [&](size_t, const Headers& h, Clock::time_point) {
    seen = h;
    return Status::Ok();
  });
  headers = std::map<std::string, std::string>(seen.begin(), seen.end());
  EXPECT_EQ(headers["authorization"], "Bearer static-token");
  // No call being served: a trace of its own.
  ASSERT_TRUE(observability::ParseTraceparent(headers["traceparent"], outgoing))
      << headers["traceparent"];
  EXPECT_NE(outgoing.trace_id, "0af7651916cd43dd8448eb211c80319c");
}

// RunAsync's end: the status `done` was given, and how often it ran.
struct Outcome {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Status> statuses;

  CallDone Done() {
    return [this](Status s) {
      std::lock_guard<std::mutex> lock(mu);
      statuses.push_back(std::move(s));
      cv.notify_all();
    };
  }
  Status Wait() {
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return !statuses.empty(); }));
    return statuses.empty() ? Status(StatusCode::kUnknown, "no answer") : statuses.front();
  }
};

// Answers each attempt from a thread of its own, as gRPC does.
AsyncAttempt AnswerLater(std::function<Status(size_t target)> answer) {
  return [answer](size_t target, const Headers&, Clock::time_point, CallDone finished) {
    std::thread([answer, target, finished] { finished(answer(target)); }).detach();
  };
}

// The backoff is full jitter (uniform between 0 and its cap), so one retry's
// wait may be near 0: over 20 calls whose first attempt fails, the waits add
// up to about 20 x 25 ms, and a sum below 200 ms (4.6 standard deviations
// under it) means the retries did not wait.
TEST(ClientRuntime, AsyncRetriesOnAnotherReplicaAfterTheBackoff) {
  ClientOptions o = TwoReplicas();
  o.retry->initial_backoff = std::chrono::milliseconds(50);
  o.retry->max_backoff = std::chrono::milliseconds(50);
  o.retry_budget_ratio = 1;
  o.circuit_breaker.min_calls = 1000;  // every first attempt fails, on the same replica
  ClientRuntime rt("test", o);
  Clock::duration waited{};
  for (int call = 0; call < 20; ++call) {
    std::mutex mu;
    std::vector<std::pair<size_t, Clock::time_point>> attempts;
    Outcome outcome;
    rt.RunAsync(Method(true),
                {},
                AnswerLater([&](size_t target) {
                  std::lock_guard<std::mutex> lock(mu);
                  attempts.emplace_back(target, Clock::now());
                  return attempts.size() < 2 ? Status(StatusCode::kUnavailable, "down")
                                             : Status::Ok();
                }),
                outcome.Done());
    ASSERT_TRUE(outcome.Wait().ok()) << "call " << call;
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(attempts.size(), 2u);
    EXPECT_NE(attempts[0].first, attempts[1].first);
    EXPECT_EQ(outcome.statuses.size(), 1u);
    waited += attempts[1].second - attempts[0].second;
  }
  EXPECT_GE(waited, std::chrono::milliseconds(200));
}

TEST(ClientRuntime, AsyncNonIdempotentCallsAreNeverRetried) {
  ClientRuntime rt("test", TwoReplicas());
  std::atomic<int> attempts{0};
  Outcome outcome;
  rt.RunAsync(Method(false),
              {},
              AnswerLater([&](size_t) {
                ++attempts;
                return Status(StatusCode::kUnavailable, "down");
              }),
              outcome.Done());
  EXPECT_EQ(outcome.Wait().code(), StatusCode::kUnavailable);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(outcome.statuses.size(), 1u);
}

TEST(ClientRuntime, AsyncCallsEndAtOnceWhenNoAttemptCanBeMade) {
  ClientRuntime rt("test", TwoReplicas());
  auto down = [](size_t, const Headers&, Clock::time_point) {
    return Status(StatusCode::kUnavailable, "down");
  };
  for (int i = 0; i < 10; ++i) (void)rt.Run(Method(false), {}, down);
  Outcome open;
  rt.RunAsync(Method(true), {}, AnswerLater([](size_t) { return Status::Ok(); }), open.Done());
  ASSERT_EQ(open.statuses.size(), 1u) << "done runs before RunAsync returns";
  EXPECT_NE(open.statuses[0].message().find("circuit open"), std::string::npos);

  ClientRuntime fresh("test", TwoReplicas());
  CallOptions late;
  late.timeout = std::chrono::milliseconds(0);
  Outcome expired;
  fresh.RunAsync(Method(true),
                 late,
                 AnswerLater([](size_t) { return Status::Ok(); }),
                 expired.Done());
  ASSERT_EQ(expired.statuses.size(), 1u);
  EXPECT_EQ(expired.statuses[0].code(), StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace cppsvc::impl
