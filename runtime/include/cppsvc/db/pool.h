// A bounded pool of PostgreSQL connections. Connections open lazily, on the
// first Acquire that finds no idle one; each defines every registered
// Statement when it opens. A connection that broke while leased is dropped
// when returned, so the pool recovers from a database restart by itself.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cppsvc/context.h"

namespace pqxx {
class connection_base;
}

namespace cppsvc::db {

struct PoolOptions {
  std::string conninfo;  // libpq URL (postgresql://...) or key=value string
  size_t size = 8;       // at most this many connections open at once
  // Acquire waits at most this long (or until its deadline, if sooner).
  std::chrono::milliseconds acquire_timeout{2000};
  // Added to conninfo as libpq's connect_timeout (whole seconds, at least 2).
  std::chrono::milliseconds connect_timeout{2000};
};

class Pool {
  struct Connection;

 public:
  // Does not connect.
  explicit Pool(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A leased connection; returns it to the pool when destroyed (or drops it
  // if it is broken). Must not outlive the pool.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();

    pqxx::connection_base& connection() const;
    // Closes the connection instead of returning it (e.g. its state is unknown).
    void MarkBroken();

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Connection> connection);
    void Release();

    Pool* pool_;
    std::unique_ptr<Connection> connection_;
  };

  // An idle connection, or a new one while fewer than `size` are open, else
  // waits for one to come back. Throws Unavailable when none is free by
  // `deadline` (capped by acquire_timeout) or the database cannot be reached.
  Lease Acquire(Clock::time_point deadline);

  // Whether PostgreSQL answers now (SELECT 1 on a connection of its own, so a
  // busy pool still reads as ready). The answer is cached for 500 ms.
  bool Ready();

  size_t size() const { return options_.size; }
  // Connections open (leased, idle or being opened).
  size_t open() const;
  size_t idle() const;

 private:
  std::unique_ptr<Connection> Connect(bool define_statements) const;
  void Return(std::unique_ptr<Connection> connection);

  const PoolOptions options_;
  const std::string conninfo_;  // with connect_timeout

  mutable std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;

  std::mutex ready_mu_;
  std::unique_ptr<Connection> probe_;
  std::chrono::steady_clock::time_point ready_checked_at_{};
  bool ready_ = false;
};

}  // namespace cppsvc::db
