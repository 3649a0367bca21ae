// Bulkhead: a fixed number of execution slots, a pool of worker threads and a
// bounded queue. When the queue is full, TrySubmit refuses at once (the server
// answers RESOURCE_EXHAUSTED) instead of queueing without limit.
//
// A task may run inline, on the submitting thread, when a slot is free and
// nothing waits: that saves the hand-off to a worker (two thread wake-ups)
// for handlers that never block. Inline and pooled tasks share the slots, so
// at most `workers` tasks run at once either way; waiting tasks are always
// run by the pool.
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
  Bulkhead(size_t workers, size_t max_queue);
  ~Bulkhead();  // drains queued work, then joins
  Bulkhead(const Bulkhead&) = delete;
  Bulkhead& operator=(const Bulkhead&) = delete;

  // False (and `task` not run) when the queue is full or the bulkhead stops.
  // With `may_run_inline`, runs `task` before returning when a slot is free.
  bool TrySubmit(std::function<void()> task, bool may_run_inline = false);

  size_t queued() const;
  size_t running() const { return running_.load(); }
  uint64_t rejected() const { return rejected_.load(); }

  // Stops accepting work, waits until queued and running tasks finish or
  // `deadline` passes; true when everything finished.
  bool Drain(std::chrono::steady_clock::time_point deadline);

 private:
  void Work();
  void Release(std::unique_lock<std::mutex>& lock);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t slots_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;
  size_t max_queue_;
  bool stopping_ = false;
  std::atomic<size_t> running_{0};
  std::atomic<uint64_t> rejected_{0};
  std::vector<std::thread> workers_;
};

}  // namespace cppsvc::resilience
