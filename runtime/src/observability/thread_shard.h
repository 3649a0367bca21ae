// Internal: per-call counters spread over cache lines by thread, so that
// threads on different cores do not pass a line between them.
#pragma once

#include <atomic>

namespace cppsvc::observability::internal {

// How many shards per-thread counters are spread over.
inline constexpr unsigned kThreadShards = 16;

// The calling thread's shard, 0 .. kThreadShards - 1: threads take them in
// turn as they first ask, and keep theirs.
inline unsigned ThreadShard() {
  static std::atomic<unsigned> next{0};
  thread_local const unsigned shard = next.fetch_add(1, std::memory_order_relaxed) % kThreadShards;
  return shard;
}

}  // namespace cppsvc::observability::internal
