// The outbox relay: publishes committed outbox rows (outbox.h) to
// JetStream and marks them sent once acked.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "cppsvc/observability/metrics.h"

namespace cppsvc::events {

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

}  // namespace cppsvc::events
