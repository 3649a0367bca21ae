#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cppsvc/resilience/bulkhead.h"

namespace cppsvc::resilience {
namespace {

using Clock = std::chrono::steady_clock;
// Generous: only reached when the code under test is broken (a Drain that
// never completes fails the test after this long instead of hanging it).
constexpr auto kLongWait = std::chrono::seconds(20);

// Occupies `n` workers until Release(); Occupy() returns once all of them
// are running, so the rest of the test sees a known state. The tasks share
// ownership of the gate, and destroying the Blocker releases them, so a
// failed assertion ends the test instead of hanging ~Bulkhead.
class Blocker {
 public:
  explicit Blocker(std::ptrdiff_t n) : state_(std::make_shared<State>(n)) {}
  ~Blocker() { Release(); }
  Blocker(const Blocker&) = delete;
  Blocker& operator=(const Blocker&) = delete;

  bool Occupy(Bulkhead& b, std::ptrdiff_t n) {
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      if (!b.TrySubmit([s = state_] {
            s->started.count_down();
            s->gate.wait();
          })) {
        return false;
      }
    }
    state_->started.wait();
    return true;
  }
  void Release() {
    if (!released_) {
      released_ = true;
      state_->release.set_value();
    }
  }

 private:
  struct State {
    explicit State(std::ptrdiff_t n) : started(n), gate(release.get_future().share()) {}
    std::latch started;
    std::promise<void> release;
    std::shared_future<void> gate;
  };
  std::shared_ptr<State> state_;
  bool released_ = false;
};

TEST(Bulkhead, RunsSubmittedTasks) {
  std::atomic<int> ran{0};
  Bulkhead b(2, 16);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(b.TrySubmit([&] { ran.fetch_add(1); }));
  const auto start = Clock::now();
  ASSERT_TRUE(b.Drain(start + kLongWait));
  // Drain is woken when work finishes, not by its deadline (loose bound).
  EXPECT_LT(Clock::now() - start, kLongWait / 2);
  EXPECT_EQ(ran.load(), 10);
  EXPECT_EQ(b.rejected(), 0u);
}

TEST(Bulkhead, RejectsAtOnceWhenQueueIsFull) {
  std::atomic<int> ran{0};
  Bulkhead b(/*workers=*/2, /*max_queue=*/3);
  Blocker blocker(2);
  ASSERT_TRUE(blocker.Occupy(b, 2));
  EXPECT_EQ(b.running(), 2u);
  EXPECT_EQ(b.queued(), 0u);

  for (int i = 0; i < 3; ++i) ASSERT_TRUE(b.TrySubmit([&] { ran.fetch_add(1); })) << i;
  EXPECT_EQ(b.queued(), 3u);

  bool ran_rejected = false;
  EXPECT_FALSE(b.TrySubmit([&] { ran_rejected = true; }));
  EXPECT_EQ(b.rejected(), 1u);
  EXPECT_FALSE(b.TrySubmit([&] { ran_rejected = true; }));
  EXPECT_EQ(b.rejected(), 2u);
  EXPECT_EQ(b.queued(), 3u);

  blocker.Release();
  ASSERT_TRUE(b.Drain(Clock::now() + kLongWait));
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(ran_rejected);
  EXPECT_EQ(b.running(), 0u);
  EXPECT_EQ(b.queued(), 0u);
}

TEST(Bulkhead, AcceptsAgainOnceTheQueueEmpties) {
  Bulkhead b(1, 1);
  {
    Blocker blocker(1);
    ASSERT_TRUE(blocker.Occupy(b, 1));
    std::promise<void> queued_ran;
    ASSERT_TRUE(b.TrySubmit([&] { queued_ran.set_value(); }));
    EXPECT_FALSE(b.TrySubmit([] {}));
    blocker.Release();
    queued_ran.get_future().wait();
  }
  // Worker finishing is not instantaneous after the set_value above; a
  // blocker submitted next only succeeds when capacity was given back, and
  // it must be given back eventually.
  std::promise<void> done;
  bool accepted = false;
  for (auto deadline = Clock::now() + kLongWait; !accepted && Clock::now() < deadline;) {
    accepted = b.TrySubmit([&] { done.set_value(); });
    if (!accepted) std::this_thread::yield();
  }
  ASSERT_TRUE(accepted);
  done.get_future().wait();
}

TEST(Bulkhead, InlineTaskRunsOnTheSubmittingThreadWhenASlotIsFree) {
  Bulkhead b(2, 4);
  std::thread::id ran_on;
  ASSERT_TRUE(b.TrySubmit([&] { ran_on = std::this_thread::get_id(); }, /*may_run_inline=*/true));
  // Ran before TrySubmit returned, here.
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_EQ(b.running(), 0u);
  ASSERT_TRUE(b.TrySubmit([&] { ran_on = std::this_thread::get_id(); }));
  ASSERT_TRUE(b.Drain(Clock::now() + kLongWait));
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(Bulkhead, InlineTaskWaitsForTheWorkersWhenEverySlotIsBusy) {
  Bulkhead b(2, 1);
  Blocker blocker(2);
  ASSERT_TRUE(blocker.Occupy(b, 2));
  std::promise<std::thread::id> ran_on;
  ASSERT_TRUE(b.TrySubmit([&] { ran_on.set_value(std::this_thread::get_id()); }, true));
  EXPECT_EQ(b.queued(), 1u);  // queued, not run here
  EXPECT_FALSE(b.TrySubmit([] {}, true));
  EXPECT_EQ(b.rejected(), 1u);
  blocker.Release();
  EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
  ASSERT_TRUE(b.Drain(Clock::now() + kLongWait));
}

TEST(Bulkhead, EnterInlineTakesAFreeSlotAndItsExitStartsAWaitingTask) {
  Bulkhead b(/*workers=*/2, /*max_queue=*/2);
  Blocker blocker(1);
  ASSERT_TRUE(blocker.Occupy(b, 1));
  ASSERT_TRUE(b.TryEnterInline());  // the second slot
  EXPECT_EQ(b.running(), 2u);
  EXPECT_FALSE(b.TryEnterInline());  // none left
  std::promise<void> ran;
  ASSERT_TRUE(b.TrySubmit([&] { ran.set_value(); }));
  EXPECT_EQ(b.queued(), 1u);
  b.ExitInline();  // frees the slot: the waiting task starts on a worker
  EXPECT_EQ(ran.get_future().wait_for(kLongWait), std::future_status::ready);
  blocker.Release();
  ASSERT_TRUE(b.Drain(Clock::now() + kLongWait));
  EXPECT_EQ(b.running(), 0u);
}

TEST(Bulkhead, EnterInlineRefusesOnceStopped) {
  Bulkhead b(/*workers=*/2, /*max_queue=*/2);
  ASSERT_TRUE(b.TryEnterInline());
  b.ExitInline();
  ASSERT_TRUE(b.Drain(Clock::now() + kLongWait));
  EXPECT_FALSE(b.TryEnterInline());
  EXPECT_EQ(b.running(), 0u);
}

TEST(Bulkhead, InlineAndPooledTasksShareTheSlots) {
  Bulkhead b(/*workers=*/2, /*max_queue=*/8);
  std::atomic<int> running{0}, peak{0};
  auto task = [&] {
    int now = running.fetch_add(1) + 1;
    for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    running.fetch_sub(1);
  };
  std::vector<std::thread> submitters;
  std::atomic<int> accepted{0};
  for (int t = 0; t < 4; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (b.TrySubmit(task, t % 2 == 0)) accepted.fetch_add(1);
      }
    });
  }
  for (auto& t : submitters) t.join();
  ASSERT_TRUE(b.Drain(Clock::now() + kLongWait));
  EXPECT_GT(accepted.load(), 0);
  EXPECT_LE(peak.load(), 2);
  EXPECT_EQ(static_cast<uint64_t>(accepted.load()) + b.rejected(), 100u);
}

// Inline calls take slots without the lock that workers take them under:
// short tasks from many threads, inline and pooled, race for the slots.
TEST(Bulkhead, ShortInlineAndPooledTasksNeverExceedTheSlots) {
  Bulkhead b(/*workers=*/2, /*max_queue=*/4);
  std::atomic<int> running{0}, peak{0}, ran{0}, accepted{0};
  std::atomic<size_t> peak_slots{0};
  auto task = [&] {
    int now = running.fetch_add(1) + 1;
    for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
    }
    // The bulkhead's own count of slots in use, seen from inside a task,
    // several times while the task runs.
    for (int k = 0; k < 20; ++k) {
      const size_t slots = b.running();
      for (size_t p = peak_slots.load();
           slots > p && !peak_slots.compare_exchange_weak(p, slots);) {
      }
    }
    ran.fetch_add(1);
    running.fetch_sub(1);
  };
  std::vector<std::thread> submitters;
  for (int t = 0; t < 4; ++t) {
    submitters.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        if (b.TrySubmit(task, /*may_run_inline=*/i % 3 != 0)) accepted.fetch_add(1);
      }
    });
  }
  for (auto& t : submitters) t.join();
  // A task stranded in the queue (a lost wake-up) would keep this false.
  ASSERT_TRUE(b.Drain(Clock::now() + kLongWait));
  EXPECT_LE(peak.load(), 2);
  EXPECT_LE(peak_slots.load(), 2u);
  EXPECT_EQ(ran.load(), accepted.load());
  EXPECT_EQ(static_cast<uint64_t>(accepted.load()) + b.rejected(), 80000u);
  EXPECT_EQ(b.running(), 0u);
}

TEST(Bulkhead, DrainNeverReturnsWhileAnInlineCallRuns) {
  Bulkhead b(/*workers=*/2, /*max_queue=*/4);
  std::atomic<bool> drained{false}, stop{false};
  std::atomic<int> inside{0}, entries{0}, entered_after_drain{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&] {
      while (!stop.load()) {
        if (!b.TryEnterInline()) continue;
        inside.fetch_add(1);
        entries.fetch_add(1);
        if (drained.load()) entered_after_drain.fetch_add(1);
        for (int k = 0; k < 100; ++k) std::atomic_signal_fence(std::memory_order_seq_cst);
        inside.fetch_sub(1);
        b.ExitInline();
      }
    });
  }
  while (entries.load() < 1000) std::this_thread::yield();
  const bool idle = b.Drain(Clock::now() + kLongWait);
  const int inside_at_drain = inside.load();
  drained.store(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop.store(true);
  for (auto& t : callers) t.join();
  EXPECT_TRUE(idle);
  EXPECT_EQ(inside_at_drain, 0);
  EXPECT_EQ(entered_after_drain.load(), 0);
  EXPECT_FALSE(b.TryEnterInline());
  EXPECT_EQ(b.running(), 0u);
}

TEST(Bulkhead, ZeroQueueStillUsesIdleWorkers) {
  Bulkhead b(2, 0);
  Blocker blocker(2);
  ASSERT_TRUE(blocker.Occupy(b, 2));  // both accepted: idle workers take them
  EXPECT_FALSE(b.TrySubmit([] {}));
  EXPECT_EQ(b.rejected(), 1u);
  blocker.Release();
  EXPECT_TRUE(b.Drain(Clock::now() + kLongWait));
}

TEST(Bulkhead, DrainTimesOutWhileWorkIsBlockedThenSucceeds) {
  std::atomic<int> ran{0};
  Bulkhead b(1, 4);
  Blocker blocker(1);
  ASSERT_TRUE(blocker.Occupy(b, 1));
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(b.TrySubmit([&] { ran.fetch_add(1); }));  // room for one more

  // The worker cannot finish before Release(): the deadline must pass.
  EXPECT_FALSE(b.Drain(Clock::now() + std::chrono::milliseconds(20)));
  EXPECT_EQ(ran.load(), 0);
  // Draining stops intake even though the queue has room.
  EXPECT_FALSE(b.TrySubmit([&] { ran.fetch_add(100); }));
  EXPECT_EQ(b.rejected(), 1u);
  EXPECT_EQ(b.queued(), 3u);

  blocker.Release();
  EXPECT_TRUE(b.Drain(Clock::now() + kLongWait));
  EXPECT_EQ(ran.load(), 3);
  EXPECT_TRUE(b.Drain(Clock::now()));  // already idle: true at once
}

TEST(Bulkhead, QueuedWorkRunsAfterStopEvenWhenDrainTimedOut) {
  std::atomic<int> ran{0};
  {
    Bulkhead b(1, 8);
    Blocker blocker(1);
    ASSERT_TRUE(blocker.Occupy(b, 1));
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(b.TrySubmit([&] { ran.fetch_add(1); }));
    // Stopped while the worker is still blocked and the queue is full, so
    // the workers must keep going after stopping_ is set.
    EXPECT_FALSE(b.Drain(Clock::now()));
    blocker.Release();
  }
  EXPECT_EQ(ran.load(), 8);
}

TEST(Bulkhead, DestructorRunsQueuedWork) {
  std::atomic<int> ran{0};
  {
    Bulkhead b(1, 8);
    Blocker blocker(1);
    ASSERT_TRUE(blocker.Occupy(b, 1));
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(b.TrySubmit([&] { ran.fetch_add(1); }));
    blocker.Release();
    // ~Bulkhead: the queue is most likely still full here.
  }
  EXPECT_EQ(ran.load(), 8);
}

TEST(Bulkhead, ThrowingTaskDoesNotKillWorker) {
  std::atomic<int> ran{0};
  Bulkhead b(1, 4);
  ASSERT_TRUE(b.TrySubmit([] { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(b.TrySubmit([&] { ran.fetch_add(1); }));
  ASSERT_TRUE(b.Drain(Clock::now() + kLongWait));
  EXPECT_EQ(ran.load(), 1);
}

TEST(Bulkhead, EmptyTaskIsRefused) {
  Bulkhead b(1, 4);
  EXPECT_FALSE(b.TrySubmit(nullptr));
}

TEST(Bulkhead, ConcurrentSubmittersAccountForEveryTask) {
  std::atomic<int> ran{0};
  std::atomic<int> accepted{0};
  std::atomic<int> refused{0};
  Bulkhead b(2, 8);
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (b.TrySubmit([&] { ran.fetch_add(1); })) {
          accepted.fetch_add(1);
        } else {
          refused.fetch_add(1);
        }
        EXPECT_LE(b.queued(), 2u + 8u);  // never unbounded
      }
    });
  }
  for (auto& p : producers) p.join();
  ASSERT_TRUE(b.Drain(Clock::now() + kLongWait));
  EXPECT_EQ(accepted.load() + refused.load(), 8000);
  EXPECT_EQ(ran.load(), accepted.load());
  EXPECT_EQ(b.rejected(), static_cast<uint64_t>(refused.load()));
}

// Submits `n` tasks `gap` apart (each has long finished by the next submit),
// waits for all of them, and returns how many submits had to wake a sleeping
// worker.
uint64_t WakeupsForTasksSpacedBy(Bulkhead& b, int n, std::chrono::microseconds gap) {
  std::atomic<int> done{0};
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(b.TrySubmit([&] { done.fetch_add(1); }));
    std::this_thread::sleep_for(gap);
  }
  const auto give_up = Clock::now() + kLongWait;
  while (done.load() < n && Clock::now() < give_up) std::this_thread::yield();
  EXPECT_EQ(done.load(), n);
  return b.wakeups();
}

TEST(Bulkhead, ASpinningWorkerTakesTasksWithoutBeingWoken) {
  constexpr int kTasks = 100;
  constexpr auto kGap = std::chrono::microseconds(300);
  // A window far longer than the gap: after the first task, a worker is
  // spinning whenever a task comes.
  Bulkhead spinning(2, 16, std::chrono::milliseconds(50));
  EXPECT_LT(WakeupsForTasksSpacedBy(spinning, kTasks, kGap), kTasks / 4u);

  // Without spinning, every task is handed over by a wake-up.
  Bulkhead sleeping(2, 16, std::chrono::microseconds(0));
  EXPECT_EQ(WakeupsForTasksSpacedBy(sleeping, kTasks, kGap), static_cast<uint64_t>(kTasks));
}

TEST(Bulkhead, AnIdleSpinnerGoesToSleepAndIsWokenForTheNextTask) {
  Bulkhead b(1, 4, std::chrono::microseconds(200));
  // A new worker sleeps: the first task wakes it. Long past the window
  // after that task the worker sleeps again, so the next submit wakes it
  // (and the task still runs).
  EXPECT_EQ(WakeupsForTasksSpacedBy(b, 1, std::chrono::milliseconds(50)), 1u);
  EXPECT_EQ(WakeupsForTasksSpacedBy(b, 1, std::chrono::milliseconds(0)), 2u);
}

// Submitters pausing around the spin window's length, so submits land while
// a worker spins, just as it gives up, and while every worker sleeps: each
// task must run soon after its submit, not when some later submit happens to
// wake a worker (a lost wake-up) or at Drain.
TEST(Bulkhead, NoTaskIsStrandedAroundTheEndOfASpin) {
  constexpr int kSubmitters = 4;
  constexpr int kTasksEach = 1500;
  Bulkhead b(3, 64, std::chrono::microseconds(50));
  std::atomic<int> stranded{0};
  std::atomic<int> ran{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < kSubmitters; ++t) {
    submitters.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1u);
      std::uniform_int_distribution<int> pause_us(0, 120);
      for (int i = 0; i < kTasksEach; ++i) {
        auto done = std::make_shared<std::promise<void>>();
        std::future<void> ran_once = done->get_future();
        if (!b.TrySubmit([&ran, done] {
              ran.fetch_add(1);
              done->set_value();
            })) {
          ADD_FAILURE() << "refused with a queue of 64 and 4 submitters";
          return;
        }
        if (ran_once.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
          stranded.fetch_add(1);
          return;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(pause_us(rng)));
      }
    });
  }
  for (auto& s : submitters) s.join();
  EXPECT_EQ(stranded.load(), 0);
  EXPECT_EQ(ran.load(), kSubmitters * kTasksEach);
  EXPECT_TRUE(b.Drain(Clock::now() + kLongWait));
}

}  // namespace
}  // namespace cppsvc::resilience
