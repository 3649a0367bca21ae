#include "cppsvc/resilience/bulkhead.h"

#include <algorithm>
#include <utility>

namespace cppsvc::resilience {

Bulkhead::Bulkhead(size_t workers, size_t max_queue)
    : slots_(std::max<size_t>(workers, 1)), max_queue_(max_queue) {
  workers = slots_;
  workers_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
}

Bulkhead::~Bulkhead() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // Workers exit only once the queue is empty, so queued work still runs.
  for (auto& t : workers_) t.join();
}

bool Bulkhead::TrySubmit(std::function<void()> task, bool may_run_inline) {
  if (!task) return false;
  std::unique_lock<std::mutex> lock(mu_);
  // Capacity is the slots plus the waiting room: counting tasks a worker
  // has not popped yet against the slots keeps a burst arriving at idle
  // workers from being refused spuriously, and the tasks waiting beyond
  // the slots never exceed max_queue.
  if (stopping_ || queue_.size() + running_.load() >= slots_ + max_queue_) {
    rejected_.fetch_add(1);
    return false;
  }
  if (may_run_inline && queue_.empty() && running_.load() < slots_) {
    running_.fetch_add(1);
    lock.unlock();
    try {
      task();
    } catch (...) {
      // As on a worker: a throwing task must not take the caller down.
    }
    task = nullptr;
    lock.lock();
    Release(lock);
    return true;
  }
  queue_.push_back(std::move(task));
  lock.unlock();
  cv_.notify_one();
  return true;
}

void Bulkhead::Release(std::unique_lock<std::mutex>& lock) {
  running_.fetch_sub(1);
  const bool idle = queue_.empty() && running_.load() == 0;
  const bool waiting = !queue_.empty();
  lock.unlock();
  // A slot freed by an inline task lets a waiting task start on a worker.
  if (waiting) cv_.notify_one();
  if (idle) idle_cv_.notify_all();
}

size_t Bulkhead::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

bool Bulkhead::Drain(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  cv_.notify_all();
  return idle_cv_.wait_until(lock, deadline, [this] {
    return queue_.empty() && running_.load() == 0;
  });
}

void Bulkhead::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] {
      return (stopping_ && queue_.empty()) || (!queue_.empty() && running_.load() < slots_);
    });
    if (queue_.empty()) return;  // stopping and nothing left
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    running_.fetch_add(1);  // under mu_, so queue_.size() + running_ stays exact
    lock.unlock();
    try {
      task();
    } catch (...) {
      // A throwing task must not take the worker (and the process) down;
      // handlers report errors through Status, not exceptions.
    }
    task = nullptr;  // destroy captures outside the lock
    lock.lock();
    Release(lock);
    lock.lock();
  }
}

}  // namespace cppsvc::resilience
