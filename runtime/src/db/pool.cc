#include "cppsvc/db/pool.h"

#include <pqxx/pqxx>
#include <utility>

#include "conninfo.h"
#include "cppsvc/db/errors.h"
#include "cppsvc/db/statements.h"

namespace cppsvc::db {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kReadyCacheFor{500};
constexpr char kProbeStatementTimeoutMs[] = "1000";

// One line of a libpq/libpqxx message: enough to say why without a wall of text.
std::string FirstLine(const char* what) {
  std::string line(what);
  line = line.substr(0, line.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace

struct Pool::Connection {
  std::unique_ptr<pqxx::connection> pq;
  bool broken = false;
};

Pool::Pool(PoolOptions options)
    : options_(std::move(options)),
      conninfo_(internal::WithConnectTimeout(options_.conninfo, options_.connect_timeout)) {}

Pool::~Pool() = default;

std::unique_ptr<Pool::Connection> Pool::Connect(bool define_statements) const {
  auto connection = std::make_unique<Connection>();
  try {
    connection->pq = std::make_unique<pqxx::connection>(conninfo_);
  } catch (const std::exception& e) {
    throw Unavailable("cannot connect to the database: " + FirstLine(e.what()));
  }
  if (define_statements) {
    // libpqxx defines the statement on the connection now and prepares it on
    // the server at its first use: a process may hold statements of tables
    // that live in another database than this pool's.
    for (const Statement* statement : RegisteredStatements()) {
      connection->pq->prepare(statement->name, statement->sql);
    }
  }
  return connection;
}

Pool::Lease Pool::Acquire(Clock::time_point deadline) {
  deadline = std::min(deadline, Clock::now() + options_.acquire_timeout);
  std::unique_lock lock(mu_);
  while (true) {
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
    if (open_ < options_.size) {
      ++open_;  // reserves the slot while connecting without the lock
      lock.unlock();
      try {
        return Lease(this, Connect(/*define_statements=*/true));
      } catch (...) {
        lock.lock();
        --open_;
        returned_.notify_one();
        throw;
      }
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.size) {
      throw Unavailable("no database connection became free in time (all " +
                        std::to_string(options_.size) + " in use)");
    }
  }
}

void Pool::Return(std::unique_ptr<Connection> connection) {
  const bool broken = connection->broken || !connection->pq || !connection->pq->is_open();
  if (broken) {
    connection.reset();  // closes it
    std::lock_guard lock(mu_);
    --open_;
  } else {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(connection));
  }
  returned_.notify_one();
}

bool Pool::Ready() {
  std::lock_guard lock(ready_mu_);
  const auto now = SteadyClock::now();
  if (ready_checked_at_ != SteadyClock::time_point{} && now - ready_checked_at_ < kReadyCacheFor) {
    return ready_;
  }
  ready_ = false;
  // A second try with a new connection when the kept one died with a
  // restarted server.
  for (int attempt = 0; attempt < 2 && !ready_; ++attempt) {
    const bool reused = probe_ != nullptr;
    try {
      if (!probe_) {
        probe_ = Connect(/*define_statements=*/false);
        probe_->pq->set_variable("statement_timeout", kProbeStatementTimeoutMs);
      }
      pqxx::nontransaction tx(*probe_->pq);
      tx.exec("SELECT 1");
      ready_ = true;
    } catch (const std::exception&) {
      probe_.reset();
      if (!reused) break;
    }
  }
  ready_checked_at_ = SteadyClock::now();
  return ready_;
}

size_t Pool::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

size_t Pool::idle() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

Pool::Lease::Lease(Pool* pool, std::unique_ptr<Connection> connection)
    : pool_(pool), connection_(std::move(connection)) {}

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), connection_(std::move(other.connection_)) {}

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = other.pool_;
    connection_ = std::move(other.connection_);
  }
  return *this;
}

Pool::Lease::~Lease() {
  Release();
}

void Pool::Lease::Release() {
  if (connection_) pool_->Return(std::move(connection_));
}

pqxx::connection_base& Pool::Lease::connection() const {
  return *connection_->pq;
}

void Pool::Lease::MarkBroken() {
  if (connection_) connection_->broken = true;
}

}  // namespace cppsvc::db
