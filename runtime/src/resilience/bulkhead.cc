#include "cppsvc/resilience/bulkhead.h"

#include <sched.h>

#include <algorithm>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPPSVC_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPPSVC_CPU_RELAX() asm volatile("yield")
#else
#define CPPSVC_CPU_RELAX() ((void)0)
#endif

namespace cppsvc::resilience {

Bulkhead::Bulkhead(size_t workers, size_t max_queue, std::chrono::microseconds spin)
    : slots_(std::max<size_t>(workers, 1)), max_queue_(max_queue), spin_(spin) {
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
  if (may_run_inline && TryEnterInline()) {
    try {
      task();
    } catch (...) {
      // As on a worker: a throwing task must not take the caller down.
    }
    task = nullptr;
    ExitInline();
    return true;
  }
  std::unique_lock<std::mutex> lock(mu_);
  // Capacity is the slots plus the waiting room: counting tasks a worker
  // has not popped yet against the slots keeps a burst arriving at idle
  // workers from being refused spuriously, and the tasks waiting beyond
  // the slots never exceed max_queue.
  if (stopping_ || queue_.size() + running_.load() >= slots_ + max_queue_) {
    rejected_.fetch_add(1);
    return false;
  }
  queue_.push_back(std::move(task));
  queued_.store(queue_.size());
  // A spinning worker takes it without a wake-up. The spinner clears the
  // flag under mu_ before it sleeps, so a task pushed while the flag was
  // set is seen by its last check.
  const bool wake = !spinning_.load();
  lock.unlock();
  if (wake) {
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    cv_.notify_one();
  }
  return true;
}

// The inline path takes no lock: a call that runs inline only moves the
// slot count, with sequentially consistent operations. Against Drain, each
// side writes before it reads (a slot taken, then `stopping_` looked at;
// `stopping_` raised, then the slots looked at), so a Drain never finds the
// bulkhead idle while an inline task it did not see runs.
bool Bulkhead::TryEnterInline() {
  // Waiting tasks go first: a call does not overtake them inline.
  if (stopping_.load() || queued_.load() != 0) return false;
  if (!TryTakeSlot()) return false;
  if (stopping_.load()) {
    ExitInline();
    return false;
  }
  return true;
}

void Bulkhead::ExitInline() {
  running_.fetch_sub(1);
  // The freed slot may be what a waiting task or a Drain waits for. Both
  // wait under mu_ for conditions on the slot count, so notifying under
  // mu_ after the count fell loses no wake-up.
  if (queued_.load() == 0 && !stopping_.load()) return;
  std::unique_lock<std::mutex> lock(mu_);
  AfterSlotFreed(lock, /*by_worker=*/false);
}

bool Bulkhead::TryTakeSlot() {
  size_t in_use = running_.load();
  do {
    if (in_use >= slots_) return false;
  } while (!running_.compare_exchange_weak(in_use, in_use + 1));
  return true;
}

void Bulkhead::AfterSlotFreed(std::unique_lock<std::mutex>& lock, bool by_worker) {
  const bool idle = queue_.empty() && running_.load() == 0;
  // A slot freed inline lets a waiting task start on a worker; a worker
  // that freed one takes the next waiting task itself.
  const bool waiting = !by_worker && !queue_.empty();
  lock.unlock();
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

void Bulkhead::SpinForWork() {
  const auto until = std::chrono::steady_clock::now() + spin_;
  for (unsigned i = 1;; ++i) {
    if (stopping_.load() || queued_.load() > 0) return;
    if (std::chrono::steady_clock::now() >= until) return;
    for (int k = 0; k < 16; ++k) CPPSVC_CPU_RELAX();
    // Lets a thread waiting for this CPU (the one that will submit the next
    // task, often) run instead of the spinner.
    if (i % 4 == 0) sched_yield();
  }
}

void Bulkhead::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto ready = [this] {
    return (stopping_ && queue_.empty()) || (!queue_.empty() && running_.load() < slots_);
  };
  // Whether this worker holds the one spinner role. It is taken as soon as
  // a task returns, before the slot is released, so a submit that the
  // task's own result provokes finds it; it is given up under mu_ right
  // before ready() is checked for the last time, so a task pushed while it
  // was held (without a wake-up) is seen.
  bool spinner = false;  // a new worker sleeps until there is work
  for (;;) {
    if (spinner && !ready() && !stopping_) {
      lock.unlock();
      SpinForWork();
      lock.lock();
    }
    if (spinner) {
      spinning_.store(false);
      spinner = false;
    }
    cv_.wait(lock, ready);
    if (queue_.empty()) return;  // stopping and nothing left
    // Inline calls take slots without mu_: one may have taken the last
    // free slot since ready() saw it. Its ExitInline wakes a worker then.
    if (!TryTakeSlot()) continue;
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    queued_.store(queue_.size());
    // Tasks that came while a worker spun were not announced: pass the next
    // one to a sleeping worker.
    const bool more = !queue_.empty() && running_.load() < slots_;
    lock.unlock();
    if (more) cv_.notify_one();
    try {
      task();
    } catch (...) {
      // A throwing task must not take the worker (and the process) down;
      // handlers report errors through Status, not exceptions.
    }
    spinner = spin_.count() > 0 && !spinning_.exchange(true);
    task = nullptr;  // destroy captures outside the lock
    lock.lock();
    running_.fetch_sub(1);
    AfterSlotFreed(lock, /*by_worker=*/true);
    lock.lock();
  }
}

}  // namespace cppsvc::resilience
