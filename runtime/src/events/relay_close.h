// Closing a claimed batch: its acked rows move to cppsvc_outbox_sent, the
// others stay pending with attempts + 1 and last_error, and the claim's
// transaction commits. A full batch may be closed on a thread of its own
// while the next one is claimed and published (BatchCloser).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "relay_claim.h"
#include "relay_publish.h"

namespace cppsvc::events::internal {

// The statement moving the rows of cppsvc_outbox that `where` selects to
// cppsvc_outbox_sent, sent now unless a relay of version 1 of the runtime's
// tables recorded when (it marked rows sent in place).
// A DELETE and an append cost PostgreSQL less than version 1's UPDATE
// ... SET status = 'sent' in place: bench/README.md's "marking 1024 claimed
// rows sent" row compares the two (4.29 ms against 8.94 ms, 0.48x).
std::string MoveToSentSql(const std::string& where);

// What closing a batch did.
struct CloseReport {
  size_t sent = 0;              // rows moved to cppsvc_outbox_sent
  size_t failures = 0;          // rows left pending
  size_t duplicates = 0;        // sent rows whose ack said the stream had them already
  std::vector<double> lags;     // seconds from each sent row's creation to its ack
  std::string first_error;      // of the failures, for the log
  std::optional<long> pending;  // rows pending after the batch, when counted
};

// Marks the rows of `batch` by their publish results (a row still waiting
// failed with `no_ack`), counts the pending rows when `count_pending`, and
// commits the batch's transaction. `since_claim`: seconds from the claim to
// now, added to each row's age for its lag. Throws on database errors.
CloseReport MarkBatch(Batch& batch,
                      const std::vector<PublishResult>& results,
                      const std::string& no_ack,
                      double since_claim,
                      bool count_pending);

// Closes one batch at a time on a thread of its own (started on first use),
// so the relay's thread claims and publishes the next batch meanwhile, on
// the other connection, instead of waiting for the acks and the commit.
// bench/README.md's relay drain rows measure the relay with this overlap;
// the README records no figure for the relay without it.
class BatchCloser {
 public:
  // Closes a batch; returns its rows marked sent, sets `failed` when a
  // publish went without an ack.
  using Close = std::function<size_t(Batch& batch, bool& failed)>;
  explicit BatchCloser(Close close) : close_(std::move(close)) {}
  ~BatchCloser() { Quit(); }

  // The batch being closed, if any. Only the thread that hands batches over
  // may ask (the closing thread never changes which batch it is).
  const Batch* closing() const { return closing_ ? &*closing_ : nullptr; }

  // Hands `batch` over; the previous one must have been joined.
  void Start(Batch batch);
  // Waits for the batch being closed, if any; returns its rows marked
  // sent, or throws what closing it threw. Its transaction rolls back
  // unless it committed.
  size_t Join(bool& failed);
  // Ends the closing thread; after the last Join.
  void Quit();

 private:
  void Loop();

  Close close_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Batch> closing_;
  bool done_ = true;
  size_t sent_ = 0;
  bool failed_ = false;
  std::exception_ptr error_;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace cppsvc::events::internal
