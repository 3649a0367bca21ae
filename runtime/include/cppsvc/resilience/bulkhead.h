// Bulkhead: a fixed number of execution slots, a pool of worker threads and a
// bounded queue. When the queue is full, TrySubmit refuses at once (the server
// answers RESOURCE_EXHAUSTED) instead of queueing without limit.
//
// A task may run inline, on the submitting thread, when a slot is free and
// nothing waits: that saves the hand-off to a worker (two thread wake-ups)
// for handlers that never block. Inline and pooled tasks share the slots, so
// at most `workers` tasks run at once either way; waiting tasks are always
// run by the pool.
//
// Handing a task to a sleeping worker costs a futex wake-up and a context
// switch on each side, which on a small or virtualised machine is more CPU
// than a short handler itself. So one worker at a time, after finishing a
// task, stays awake for a short spin window (yielding the CPU to
// anything else runnable) and takes new tasks without being woken; a submit
// wakes a sleeping worker only when no worker is spinning. An idle bulkhead
// spins for at most one window and then sleeps.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cppsvc::resilience {

class Bulkhead {
 public:
  static constexpr std::chrono::microseconds kDefaultSpin{50};

  // `spin`: how long a worker stays awake for the next task (zero: never).
  Bulkhead(size_t workers, size_t max_queue, std::chrono::microseconds spin = kDefaultSpin);
  ~Bulkhead();  // drains queued work, then joins
  Bulkhead(const Bulkhead&) = delete;
  Bulkhead& operator=(const Bulkhead&) = delete;

  // False (and `task` not run) when the queue is full or the bulkhead stops.
  // With `may_run_inline`, runs `task` before returning when a slot is free.
  bool TrySubmit(std::function<void()> task, bool may_run_inline = false);

  // The inline case of TrySubmit without a task object: takes a slot when
  // one is free and nothing waits (true), for the caller to run its work
  // on its own thread and then give the slot back with ExitInline.
  bool TryEnterInline();
  void ExitInline();

  size_t queued() const;
  size_t running() const { return running_.load(); }
  uint64_t rejected() const { return rejected_.load(); }
  // Submits that had to wake a sleeping worker (no worker was spinning).
  uint64_t wakeups() const { return wakeups_.load(); }

  // Stops accepting work, waits until queued and running tasks finish or
  // `deadline` passes; true when everything finished.
  bool Drain(std::chrono::steady_clock::time_point deadline);

 private:
  void Work();
  // After a slot was given back: under mu_ (which it releases), wakes a
  // worker for a waiting task (for a slot freed inline) and a Drain once
  // the bulkhead is idle.
  void AfterSlotFreed(std::unique_lock<std::mutex>& lock, bool by_worker);
  // Takes a slot when one is free, with or without mu_.
  bool TryTakeSlot();
  // Spins until a task is queued, the bulkhead stops or the spin window
  // passes. Called without mu_, by the worker holding the spinner role.
  void SpinForWork();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t slots_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;
  size_t max_queue_;
  std::atomic<bool> stopping_{false};
  std::chrono::microseconds spin_;
  // Slots in use, by workers and inline calls. Inline calls change it
  // without mu_, so it sits on a cache line of its own.
  alignas(64) std::atomic<size_t> running_{0};
  std::atomic<size_t> queued_{0};      // queue_.size(), readable without mu_
  std::atomic<bool> spinning_{false};  // a worker spins for tasks
  std::atomic<uint64_t> wakeups_{0};
  std::atomic<uint64_t> rejected_{0};
  std::vector<std::thread> workers_;
};

}  // namespace cppsvc::resilience
