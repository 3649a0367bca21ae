// The outbox relay: the loop, leadership and rounds. A round claims
// pending rows (relay_claim.h), publishes them (relay_publish.h) and closes
// the batch (relay_close.h); sent rows expire (relay_retention.h).
#include "cppsvc/events/relay.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <utility>

#include <pqxx/pqxx>

#include "../db/conninfo.h"
#include "cppsvc/observability/log.h"
#include "relay_claim.h"
#include "relay_close.h"
#include "relay_publish.h"
#include "relay_retention.h"

namespace cppsvc::events {

namespace {

using SteadyClock = std::chrono::steady_clock;
using internal::Batch;

// Session advisory lock of the publishing relay ("cppsvcrl").
constexpr int64_t kLeaderLockKey = 0x637070737663726c;
constexpr char kChannel[] = "cppsvc_outbox";
constexpr auto kInitialBackoff = std::chrono::milliseconds(100);
constexpr auto kWaitSlice = std::chrono::milliseconds(100);
// The backlog gauge is counted at most this often while rows keep coming.
constexpr auto kBacklogEvery = std::chrono::seconds(1);

class Listener final : public pqxx::notification_receiver {
 public:
  Listener(pqxx::connection_base& connection, std::atomic<bool>* flag)
      : pqxx::notification_receiver(connection, kChannel), flag_(flag) {}
  void operator()(const std::string&, int) override { flag_->store(true); }

 private:
  std::atomic<bool>* flag_;
};

const prometheus::Histogram::BucketBoundaries& LagBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets =
      {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
  return kBuckets;
}

}  // namespace

struct Relay::Impl {
  explicit Impl(RelayOptions o) : options(std::move(o)) {
    if (options.batch == 0) options.batch = 1;
    if (options.metrics) {
      auto& registry = options.metrics->registry();
      const prometheus::Labels labels{{"service", options.service}};
      backlog = &prometheus::BuildGauge()
                     .Name("cppsvc_outbox_backlog")
                     .Help("Outbox rows waiting to be published.")
                     .Labels(labels)
                     .Register(registry)
                     .Add({});
      published_total = &prometheus::BuildCounter()
                             .Name("cppsvc_relay_published_total")
                             .Help("Outbox rows published and acked by JetStream.")
                             .Labels(labels)
                             .Register(registry)
                             .Add({});
      failed_total = &prometheus::BuildCounter()
                          .Name("cppsvc_relay_failed_publishes_total")
                          .Help("Outbox rows whose publish was not acked (retried).")
                          .Labels(labels)
                          .Register(registry)
                          .Add({});
      lag = &prometheus::BuildHistogram()
                 .Name("cppsvc_relay_lag_seconds")
                 .Help("Seconds from an outbox row's creation to its JetStream ack.")
                 .Labels(labels)
                 .Register(registry)
                 .Add({}, LagBuckets());
    }
  }

  ~Impl() {
    Stop();
    {
      std::lock_guard lock(round_mu);
      DropPg();
    }
    closer.Quit();
  }

  void Start() {
    std::lock_guard lock(thread_mu);
    if (thread.joinable()) return;
    stopping = false;
    thread = std::thread([this] { Loop(); });
  }

  void Stop() {
    {
      std::lock_guard lock(thread_mu);
      if (!thread.joinable()) return;
      {
        std::lock_guard stop_lock(stop_mu);
        stopping = true;
      }
      stop_cv.notify_all();
      thread.join();
    }
    // Gives up leadership at once rather than when the relay is destroyed.
    std::lock_guard lock(round_mu);
    DropPg();
  }

  void Loop() {
    auto backoff = std::chrono::milliseconds(kInitialBackoff);
    std::mt19937 rng{std::random_device{}()};
    while (!stopping) {
      bool failed = false;
      bool more = false;
      try {
        more = Round(failed, /*pipeline=*/true).more;
      } catch (const std::exception& e) {
        failed = true;
        Log("outbox relay round failed", e.what());
        std::lock_guard lock(round_mu);
        DropPg();
      }
      last_round_ok = !failed;
      if (stopping) break;
      if (failed) {
        // Jitter keeps replicas that failed together from retrying together.
        const auto pause = std::chrono::milliseconds(
            std::uniform_int_distribution<int64_t>(backoff.count() / 2, backoff.count())(rng));
        SleepUnlessStopped(pause);
        backoff = std::min(backoff * 2, std::max(options.max_backoff, kInitialBackoff));
        continue;
      }
      backoff = kInitialBackoff;
      if (more) continue;  // a full batch: more rows are likely pending
      WaitForWork();
    }
    // A batch whose publishes are out is closed rather than rolled back.
    try {
      std::lock_guard lock(round_mu);
      bool failed = false;
      closer.Join(failed);
    } catch (const std::exception& e) {
      Log("outbox relay round failed", e.what());
      std::lock_guard lock(round_mu);
      DropPg();
    }
  }

  void SleepUnlessStopped(std::chrono::milliseconds pause) {
    std::unique_lock lock(stop_mu);
    stop_cv.wait_for(lock, pause, [this] { return stopping.load(); });
  }

  // Until a NOTIFY arrives, the poll interval passes or Stop.
  void WaitForWork() {
    const auto deadline = SteadyClock::now() + options.poll;
    while (!stopping && !notified) {
      const auto left = deadline - SteadyClock::now();
      if (left <= SteadyClock::duration::zero()) return;
      const auto slice = std::chrono::duration_cast<std::chrono::microseconds>(
          std::min<SteadyClock::duration>(left, kWaitSlice));
      std::unique_lock lock(round_mu);
      if (pg == nullptr) {
        lock.unlock();
        SleepUnlessStopped(std::chrono::duration_cast<std::chrono::milliseconds>(slice));
        continue;
      }
      try {
        pg->await_notification(0, static_cast<long>(slice.count()));
        if (!pg->is_open()) DropPg();
      } catch (const std::exception& e) {
        Log("outbox relay lost its database connection", e.what());
        DropPg();
      }
    }
  }

  // Needs round_mu.
  void DropPg() {
    leader = false;
    pg_ok = false;
    // A batch being closed ends first; if its close failed, its transaction
    // rolled back: the rows are pending again (and whatever of them was
    // published comes back as a duplicate the stream drops).
    try {
      bool failed = false;
      closer.Join(failed);
    } catch (const std::exception&) {
      // Already logged by whoever saw the round fail.
    }
    publisher.Forget();
    try {
      listener.reset();
    } catch (const std::exception&) {
      // UNLISTEN on a dead connection; the connection goes anyway.
    }
    pg.reset();
    pg2.reset();
  }

  // Needs round_mu. Throws when PostgreSQL cannot be reached.
  void EnsurePg() {
    if (pg != nullptr && pg->is_open()) return;
    DropPg();
    pg = std::make_unique<pqxx::connection>(
        db::internal::WithConnectTimeout(options.database_url, std::chrono::seconds(2)));
    listener = std::make_unique<Listener>(*pg, &notified);
    // Rows committed while no one listened.
    notified = true;
    pg_ok = true;
  }

  // Needs round_mu.
  bool TryLead() {
    if (leader) return true;
    pqxx::nontransaction tx(*pg);
    leader = tx.exec("SELECT pg_try_advisory_lock(" + std::to_string(kLeaderLockKey) + ")")[0][0]
                 .as<bool>();
    return leader;
  }

  // What a round did: rows marked sent, and whether its claim came full.
  struct RoundResult {
    size_t sent = 0;
    bool more = false;
  };

  // One round: claims a batch and publishes it; then closes the batch before
  // it (with `pipeline`) or this one. A full batch is left in flight with
  // `pipeline`, its transaction open on the other connection, so the next
  // round's claim and publishes overlap with waiting for its acks and
  // marking it: claims take turns between two connections, and SKIP LOCKED
  // passes over the rows of the batch in flight. Publishes still go out in
  // claim (seq) order. `failed` tells whether any publish went without an
  // ack. Throws on database errors.
  RoundResult Round(bool& failed, bool pipeline) {
    failed = false;
    std::lock_guard lock(round_mu);
    EnsurePg();
    publisher.Connect();
    // A standby tries again at its next poll or notification, not at once.
    if (!TryLead()) {
      notified = false;
      return {};
    }
    // Retention and leadership use the first connection, free only when no
    // batch is being closed.
    const Batch* in_flight = closer.closing();
    if (in_flight == nullptr) retention.RunIfDue(*pg);
    notified = false;

    Batch batch = in_flight != nullptr
                      ? Claim(1 - in_flight->connection, in_flight->first_seq, in_flight->last_seq)
                      : Claim(0, 0, -1);
    RoundResult result;
    result.sent += closer.Join(failed);
    if (batch.rows.empty()) {
      batch.tx->commit();
      if (backlog != nullptr) backlog->Set(0);
      return result;
    }
    result.more = batch.rows.size() >= options.batch;
    if (pipeline && result.more) {
      closer.Start(std::move(batch));
      return result;
    }
    result.sent += Close(batch, failed);
    return result;
  }

  // Needs round_mu. Connection 0 leads; 1 is opened on first use.
  pqxx::connection& Connection(int index) {
    if (index == 0) return *pg;
    if (pg2 == nullptr || !pg2->is_open()) {
      pg2.reset();
      pg2 = std::make_unique<pqxx::connection>(
          db::internal::WithConnectTimeout(options.database_url, std::chrono::seconds(2)));
    }
    return *pg2;
  }

  // Needs round_mu. Claims pending rows on `connection`, passing over seq
  // `skip_first` to `skip_last` (the batch in flight), and starts their
  // publishes.
  Batch Claim(int connection, int64_t skip_first, int64_t skip_last) {
    Batch batch =
        internal::ClaimBatch(Connection(connection), options.batch, skip_first, skip_last);
    batch.serial = ++batch_serial;
    batch.connection = connection;
    publisher.PublishBatch(batch);
    return batch;
  }

  // Waits for the batch's acks, marks the acked rows sent and the others
  // failed, commits. Returns the rows marked sent. On the relay's thread or
  // the closer's.
  size_t Close(Batch& batch, bool& failed) {
    const std::string no_ack =
        "no ack within " + std::to_string(options.publish_timeout.count()) + " ms";
    const std::vector<internal::PublishResult> results = publisher.AwaitAcks(batch, no_ack);
    const double since_claim =
        std::chrono::duration<double>(SteadyClock::now() - batch.claimed_at).count();
    // Counting pending rows scans them; with a full batch (more are
    // probably waiting) it is done at most once per kBacklogEvery. A short
    // batch took every pending row: what is left is what failed.
    const bool full = batch.rows.size() >= options.batch;
    bool count_pending = false;
    if (backlog != nullptr && full) {
      const auto now = SteadyClock::now();
      if (now >= next_backlog_count) {
        next_backlog_count = now + kBacklogEvery;
        count_pending = true;
      }
    }
    internal::CloseReport report =
        internal::MarkBatch(batch, results, no_ack, since_claim, count_pending);
    if (backlog != nullptr && !full) report.pending = static_cast<long>(report.failures);
    Account(batch, report);
    if (report.failures > 0) failed = true;
    return report.sent;
  }

  // The stats, metrics and log lines of a closed batch.
  void Account(const Batch& batch, const internal::CloseReport& report) {
    published += report.sent;
    failed_publishes += report.failures;
    duplicates += report.duplicates;
    ++rounds;
    // Rows a previous relay published but did not mark sent (it died in
    // between) come back as duplicates: JetStream stored them once, and the
    // round says so.
    if (report.duplicates > 0) {
      observability::LogJson({{"level", "info"},
                              {"msg", "outbox relay round"},
                              {"service", options.service},
                              {"claimed", batch.rows.size()},
                              {"published", report.sent},
                              {"duplicates", report.duplicates},
                              {"failed", report.failures}});
    }
    if (backlog != nullptr && report.pending) backlog->Set(static_cast<double>(*report.pending));
    if (published_total != nullptr) published_total->Increment(static_cast<double>(report.sent));
    if (failed_total != nullptr && report.failures > 0)
      failed_total->Increment(static_cast<double>(report.failures));
    if (lag != nullptr) {
      for (double seconds : report.lags) lag->Observe(seconds);
    }
    if (report.failures > 0) {
      Log("outbox relay could not publish " + std::to_string(report.failures) + " of " +
              std::to_string(batch.rows.size()) + " events; they stay pending",
          report.first_error);
    }
  }

  void Log(const std::string& msg, const std::string& error) const {
    observability::LogJson(
        {{"level", "warning"}, {"msg", msg}, {"service", options.service}, {"error", error}});
  }

  RelayOptions options;

  prometheus::Gauge* backlog = nullptr;
  prometheus::Counter* published_total = nullptr;
  prometheus::Counter* failed_total = nullptr;
  prometheus::Histogram* lag = nullptr;

  std::atomic<uint64_t> published{0};
  std::atomic<uint64_t> failed_publishes{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> rounds{0};
  std::atomic<bool> pg_ok{false};
  std::atomic<bool> leader{false};
  std::atomic<bool> notified{false};

  // One round (or wait for a notification) at a time; guards what follows.
  std::mutex round_mu;
  internal::Publisher publisher{options};
  std::unique_ptr<pqxx::connection> pg;   // leadership, LISTEN, retention, claims
  std::unique_ptr<pqxx::connection> pg2;  // claims of every other batch in flight
  std::unique_ptr<Listener> listener;     // after `pg`: destroyed before it
  // After the connections: the transaction of the batch it closes ends
  // first.
  internal::BatchCloser closer{[this](Batch& batch, bool& failed) { return Close(batch, failed); }};
  internal::Retention retention{options.retention};
  uint64_t batch_serial = 0;
  SteadyClock::time_point next_backlog_count{};

  std::mutex thread_mu;
  std::thread thread;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  std::atomic<bool> stopping{false};
  std::atomic<bool> last_round_ok{true};
};

Relay::Relay(RelayOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Relay::~Relay() = default;

void Relay::Start() {
  impl_->Start();
}

void Relay::Stop() {
  impl_->Stop();
}

size_t Relay::RunOnce() {
  bool failed = false;
  try {
    const size_t sent = impl_->Round(failed, /*pipeline=*/false).sent;
    impl_->last_round_ok = !failed;
    return sent;
  } catch (const std::exception& e) {
    impl_->last_round_ok = false;
    impl_->Log("outbox relay round failed", e.what());
    std::lock_guard lock(impl_->round_mu);
    impl_->DropPg();
    return 0;
  }
}

Relay::Stats Relay::stats() const {
  return {impl_->published.load(),
          impl_->failed_publishes.load(),
          impl_->rounds.load(),
          impl_->duplicates.load()};
}

bool Relay::healthy() const {
  if (!impl_->pg_ok || !impl_->last_round_ok) return false;
  return impl_->publisher.connected();
}

bool Relay::leader() const {
  return impl_->leader;
}

}  // namespace cppsvc::events
