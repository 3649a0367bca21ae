#include "cppsvc/resilience/bulkhead.h"

#include <algorithm>
#include <utility>

namespace cppsvc::resilience {

Bulkhead::Bulkhead(size_t workers, size_t max_queue) : max_queue_(max_queue) {
  workers = std::max<size_t>(workers, 1);
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

bool Bulkhead::TrySubmit(std::function<void()> task) {
  if (!task) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Capacity is the workers plus the waiting room: counting tasks a worker
    // has not popped yet against the workers keeps a burst arriving at idle
    // workers from being refused spuriously, and the tasks waiting beyond
    // the workers never exceed max_queue.
    if (stopping_ || queue_.size() + running_.load() >= workers_.size() + max_queue_) {
      rejected_.fetch_add(1);
      return false;
    }
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

size_t Bulkhead::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

bool Bulkhead::Drain(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  cv_.notify_all();
  return idle_cv_.wait_until(lock, deadline, [this] { return queue_.empty() && running_.load() == 0; });
}

void Bulkhead::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
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
    running_.fetch_sub(1);
    if (queue_.empty() && running_.load() == 0) idle_cv_.notify_all();
  }
}

}  // namespace cppsvc::resilience
