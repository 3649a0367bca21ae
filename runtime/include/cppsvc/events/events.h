// Events: the transactional outbox, its relay to NATS JetStream, durable
// consumers with inbox deduplication, and dead letters.
//
// Delivery is at least once with exactly-once effects: a handler's events
// commit with its writes (AddToOutbox), the relay marks a row sent only after
// JetStream acked it (Nats-Msg-Id = event id, so a republished row is
// dropped as a duplicate inside the stream's duplicate window), and a
// consumer applies an event in the same transaction that inserts its inbox
// row, so a redelivery finds the row and is acked without running the
// handler again. nats-server 2.9 acks before its file store syncs to disk:
// sent rows are kept for `retention` so a lost stream can be republished.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cppsvc/context.h"
#include "cppsvc/db/pool.h"
#include "cppsvc/db/transaction.h"
#include "cppsvc/defaults.h"
#include "cppsvc/observability/metrics.h"
#include "cppsvc/status.h"

namespace cppsvc::events {

// Headers every published event carries, besides Nats-Msg-Id (the event id)
// and the entries of the outbox row's `headers`.
inline constexpr char kEventTypeHeader[] = "Cppsvc-Event-Type";
inline constexpr char kOrderingKeyHeader[] = "Cppsvc-Ordering-Key";

struct OutboxEvent {
  std::string id;                              // uuid; generated when empty
  std::string subject;                         // JetStream subject
  std::string event_type;                      // full proto name
  std::string ordering_key;                    // "" = none
  std::string payload;                         // serialized protobuf
  std::map<std::string, std::string> headers;  // traceparent, causation id, ...
};

// INSERTs the event into cppsvc_outbox inside `tx` (the handler's
// transaction): it is published only if that transaction commits. Returns
// the event id. Throws db::InvalidArgument for an id that is not a uuid.
std::string AddToOutbox(db::Tx& tx, const OutboxEvent& event);

// One stream per bounded context (service).
struct StreamSpec {
  std::string name;                   // e.g. "ORDERS"
  std::vector<std::string> subjects;  // e.g. {"commerce.orders.>"} or exact subjects
  std::chrono::seconds duplicate_window{120};
};

// Connects, then creates each stream (file storage) or updates its subjects
// and duplicate window when they differ; other settings of an existing
// stream are kept. Throws std::runtime_error naming the stream on failure.
void EnsureStreams(const std::string& nats_url, const std::vector<StreamSpec>& streams);

struct RelayOptions {
  std::string service;       // for logs and metrics
  std::string database_url;  // its own connections: LISTEN, leadership, claims
  std::string nats_url;
  size_t batch = 1024;                   // rows per claim; two batches may be in flight
  std::chrono::milliseconds poll{1000};  // fallback when no NOTIFY arrives
  std::chrono::milliseconds publish_timeout{5000};
  std::chrono::milliseconds max_backoff{5000};      // NATS or PostgreSQL down: retry up to this
  std::chrono::hours retention{24 * 7};             // sent rows kept this long, then deleted
  std::shared_ptr<observability::Metrics> metrics;  // may be null
};

// Publishes committed outbox rows. A round claims pending rows by status
// (never by "seq greater than the last seen", which would skip a late
// commit):
//   SELECT ... WHERE status = 'pending' ORDER BY seq LIMIT batch
//   FOR UPDATE SKIP LOCKED
// publishes them with js_PublishMsgAsync (Nats-Msg-Id = id), waits for the
// acks up to publish_timeout, then in the same transaction moves the acked
// rows to cppsvc_outbox_sent (sent_at = now()), a DELETE and an append
// that cost PostgreSQL less than updating them in place; rows without an
// ack stay pending with
// attempts + 1 and last_error. On its thread (Start), while batches come
// full, the relay hands a full batch to a second thread that waits for its
// acks, marks it and commits, while the first claims and publishes the next
// batch on a second connection (that claim passes over the seq range of the
// batch in flight; a row of that range committing late is claimed once the
// batch is closed); publishes still go out in seq order.
// Woken by LISTEN cppsvc_outbox, polling as a fallback; after a failed round
// it retries with doubling backoff up to max_backoff. Rows of
// cppsvc_outbox_sent older than retention are deleted now and then. Only
// the holder of a session advisory lock on the relay's connection
// publishes, so at most one relay per database does: the others wait and
// take over when its connection ends.
// That keeps rows of one ordering key published in seq order, as long as
// every publish is acked.
class Relay {
 public:
  explicit Relay(RelayOptions options);
  ~Relay();  // Stop()
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Runs rounds on a background thread until Stop.
  void Start();
  void Stop();
  // One claim-publish-mark round on the calling thread (tests, the standalone
  // command): returns the rows marked sent, 0 when this relay is not the
  // leader or PostgreSQL or NATS cannot be reached. Deletes expired sent
  // rows first when that is due.
  size_t RunOnce();

  struct Stats {
    uint64_t published;         // rows marked sent
    uint64_t failed_publishes;  // publishes without an ack
    uint64_t rounds;            // rounds that claimed at least one row
    // Rows marked sent whose ack said the stream had the id already: a
    // previous relay published them and died before marking them sent.
    uint64_t duplicates;
  };
  Stats stats() const;
  // Connected to PostgreSQL and NATS, and the last round did not fail.
  bool healthy() const;
  // Whether this relay holds the leadership lock now.
  bool leader() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct ConsumerSpec {
  std::string stream;   // stream holding the subject
  std::string durable;  // durable consumer name, shared by all replicas (a queue)
  std::string subject;  // filter subject
  int max_deliver = defaults::kMaxDeliver;
  std::chrono::milliseconds ack_wait = defaults::kAckWait;
  // Redelivery delays after a failed attempt n (1-based): backoff[n - 1],
  // the last one repeated; empty = redeliver at once.
  std::vector<std::chrono::milliseconds> backoff;
};

// The handler of one subscription: runs inside the consumer's transaction
// (ctx.tx()); anything but OK (or an exception) rolls it back.
using EventHandler = std::function<Status(EventContext& ctx, const std::string& payload)>;

struct ConsumerOptions {
  std::string service;
  std::string nats_url;
  std::shared_ptr<db::Pool> pool;
  size_t batch = 64;                                 // messages per fetch
  std::chrono::milliseconds handler_timeout{10000};  // the transaction's deadline
  std::shared_ptr<observability::Metrics> metrics;   // may be null
};

// A durable pull consumer (created or updated with MaxDeliver, AckWait and
// explicit acks). Per message, in one transaction: INSERT INTO cppsvc_inbox
// (consumer = durable, event_id = Nats-Msg-Id) ON CONFLICT DO NOTHING; when
// the row existed the message is acked without running the handler, else
// the handler runs with ctx.tx(), the transaction commits, and the message is
// acked. On an error the transaction rolls back and the message is nak'ed
// with the spec's backoff; on its last delivery (max_deliver) a dead letter
// is inserted in a transaction of its own and the message is terminated, so
// later events keep flowing. Messages are handled one at a time per
// consumer; replicas sharing the durable split the stream.
class Consumer {
 public:
  Consumer(ConsumerOptions options, ConsumerSpec spec, EventHandler handler);
  ~Consumer();  // Stop()
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Creates or updates the JetStream consumer and starts fetching on a
  // background thread; throws std::runtime_error when that fails (NATS
  // down, no such stream).
  void Start();
  void Stop();

  struct Stats {
    uint64_t handled;       // handler committed
    uint64_t duplicates;    // acked without running the handler (inbox hit)
    uint64_t redeliveries;  // messages delivered more than once
    uint64_t dead_letters;  // dead letters written
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct DeadLetter {
  int64_t id = 0;
  std::string consumer, event_id, subject, error;
  int attempts = 0;
  std::string payload;
  std::map<std::string, std::string> headers;
  Clock::time_point created_at;
  bool replayed = false;
};

// Dead letters of `consumer` (all consumers when empty), oldest first.
// Throws std::runtime_error when the database fails.
std::vector<DeadLetter> ListDeadLetters(db::Pool& pool,
                                        const std::string& consumer = "",
                                        bool include_replayed = false,
                                        size_t limit = 100);

// Runs the dead letter's event through `handler` once more, in one
// transaction that also inserts the inbox row and sets replayed_at. Returns
// NOT_FOUND (no such dead letter), FAILED_PRECONDITION (already replayed, or
// the consumer applied the event since), or the handler's error.
Status ReplayDeadLetter(db::Pool& pool, int64_t id, const EventHandler& handler);

}  // namespace cppsvc::events
