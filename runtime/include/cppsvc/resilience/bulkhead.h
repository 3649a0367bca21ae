// Bulkhead: a fixed pool of worker threads and a bounded queue. When the
// queue is full, TrySubmit refuses at once (the server answers
// RESOURCE_EXHAUSTED) instead of queueing without limit.
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
  bool TrySubmit(std::function<void()> task);

  size_t queued() const;
  size_t running() const { return running_.load(); }
  uint64_t rejected() const { return rejected_.load(); }

  // Stops accepting work, waits until queued and running tasks finish or
  // `deadline` passes; true when everything finished.
  bool Drain(std::chrono::steady_clock::time_point deadline);

 private:
  void Work();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;
  size_t max_queue_;
  bool stopping_ = false;
  std::atomic<size_t> running_{0};
  std::atomic<uint64_t> rejected_{0};
  std::vector<std::thread> workers_;
};

}  // namespace cppsvc::resilience
