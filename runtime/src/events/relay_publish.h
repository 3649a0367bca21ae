// The relay's publishes: every claimed row goes out with js_PublishMsgAsync
// (Nats-Msg-Id = the row's id) and its ack is awaited when the batch is
// closed, so a batch's publishes share the round trips to the server.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "cppsvc/events/relay.h"
#include "nats_handle.h"
#include "relay_claim.h"

namespace cppsvc::events::internal {

// What became of one row's publish.
struct PublishResult {
  enum class State { kWaiting, kAcked, kFailed };
  State state = State::kWaiting;
  bool duplicate = false;  // the stream had the id already
  std::string error;
};

// Results of the asynchronous publishes of the batches in flight, filled by
// nats.c's ack handler (on its own thread). Outlives the JetStream context.
// A publish is known by its message: nats.c hands the message it took back
// to the ack handler, and no other message can have its address before the
// handler (or the take-back of a timed-out batch) destroys it, at which
// point its entry is gone too.
struct Acks {
  struct Batch {
    std::vector<PublishResult> rows;  // by position in the claim
    size_t outstanding = 0;           // unanswered publishes
  };
  struct Slot {
    uint64_t batch = 0;
    size_t row = 0;
  };

  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<uint64_t, Batch> batches;
  std::unordered_map<const natsMsg*, Slot> in_flight;  // publishes not answered yet

  // Needs mu. Answers the publish of `msg` (if it is still awaited): acked
  // when `error` is null.
  void Answer(const natsMsg* msg, const std::string* error, bool duplicate = false);
  // Needs mu. Settles a row whose publish did not start, or was taken back.
  void Fail(Slot slot, const std::string& error) { Settle(slot, &error, false); }
  // Needs mu. A row is settled once: a later answer does not count.
  void Settle(Slot slot, const std::string* error, bool duplicate);

  static void OnAck(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* closure);
};

// Called with the relay's round lock held, except connected().
class Publisher {
 public:
  explicit Publisher(const RelayOptions& options) : options_(options) {}

  // Connects on first use; nats.c keeps reconnecting in the background.
  void Connect();
  // Whether connected to NATS now (any thread).
  bool connected() const;

  // Starts the asynchronous publish of every row of `batch`; a row whose
  // publish cannot start is failed at once.
  void PublishBatch(const Batch& batch);

  // Waits for the acks of `batch` (the ack handler answers every publish:
  // acked, refused, or timed out after MaxWait; the extra second covers a
  // late timer). Publishes still unanswered then are taken back with
  // `no_ack` as their error, those of a batch claimed after this one too:
  // they fail now rather than wait. A late ack must not count for a row
  // that is pending again; it is republished under the same Nats-Msg-Id,
  // and the stream drops the duplicate. Returns the results by row and
  // forgets the batch.
  std::vector<PublishResult> AwaitAcks(const Batch& batch, const std::string& no_ack);

  // Forgets every batch in flight: their transactions rolled back, so their
  // rows are pending again.
  void Forget();

 private:
  // Starts the asynchronous publish of one claimed row; "" or why it did
  // not start.
  std::string Publish(Acks::Slot slot, const pqxx::row& row);
  // Sets the row's headers on `msg`: its own (a flat object of strings),
  // then the event type and the ordering key.
  std::string SetHeaders(natsMsg* msg, const pqxx::row& row);
  natsStatus SetHeader(natsMsg* msg, const char* key, std::string_view value);

  const RelayOptions& options_;
  // Reused by every publish.
  std::vector<std::pair<std::string_view, std::string_view>> header_pairs_;
  std::string header_key_;
  std::string header_value_;
  std::string payload_;

  Acks acks_;  // before `nats_`: destroyed after the context that calls into it
  std::unique_ptr<NatsHandle> nats_;
  std::atomic<NatsHandle*> nats_view_{nullptr};  // for connected(), without the round lock
};

}  // namespace cppsvc::events::internal
