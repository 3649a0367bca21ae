// Durable consumers of JetStream streams, applying each event once with an
// inbox row in the handler's transaction.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cppsvc/context.h"
#include "cppsvc/db/pool.h"
#include "cppsvc/defaults.h"
#include "cppsvc/observability/metrics.h"
#include "cppsvc/status.h"

namespace cppsvc::events {

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
  // Asks the fetch loop to end after its current fetch (up to 0.5 s) and
  // returns at once: stopping many consumers asks all before waiting for any.
  void RequestStop();
  // RequestStop, then waits for the loop to end.
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

}  // namespace cppsvc::events
