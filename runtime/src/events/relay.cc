// The outbox relay: claims committed pending rows, publishes them to
// JetStream and marks them sent once acked.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "../db/conninfo.h"
#include "cppsvc/events/events.h"
#include "cppsvc/observability/log.h"
#include "nats_handle.h"

namespace cppsvc::events {

namespace {

using SteadyClock = std::chrono::steady_clock;
using internal::MsgPtr;
using internal::NatsError;

// Session advisory lock of the publishing relay ("cppsvcrl").
constexpr int64_t kLeaderLockKey = 0x637070737663726c;
constexpr char kChannel[] = "cppsvc_outbox";
constexpr auto kInitialBackoff = std::chrono::milliseconds(100);
constexpr auto kRetentionEvery = std::chrono::minutes(1);
constexpr auto kWaitSlice = std::chrono::milliseconds(100);
constexpr long kRetentionBatch = 10000;
// The backlog gauge is counted at most this often while rows keep coming.
constexpr auto kBacklogEvery = std::chrono::seconds(1);

// ctid: the row's place, stable while this transaction holds its lock, so
// the closing statement finds it without an index lookup. The age is
// date_part's float8 (EXTRACT would compute it in numeric, more slowly).
// $2..$3: the seq range of the batch in flight, whose rows another
// transaction holds; passing over them in the scan costs less than failing
// to lock each. Rows committed late into that range are claimed once the
// batch is closed.
constexpr char kClaimSql[] =
    "SELECT id::text, subject, event_type, ordering_key, payload, headers::text, "
    "date_part('epoch', clock_timestamp() - created_at), ctid::text, seq "
    "FROM cppsvc_outbox WHERE status = 'pending' AND (seq < $2 OR seq > $3) "
    "ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED";

// Moves the rows of cppsvc_outbox that `where` selects to
// cppsvc_outbox_sent, sent now unless a relay of version 1 of the runtime's
// tables recorded when (it marked rows sent in place).
std::string MoveToSentSql(const std::string& where) {
  static constexpr char kColumns[] =
      "id, seq, subject, event_type, ordering_key, payload, headers, attempts, created_at";
  return std::string("WITH moved AS (DELETE FROM cppsvc_outbox WHERE ") + where + " RETURNING " +
         kColumns + ", sent_at) INSERT INTO cppsvc_outbox_sent (" + kColumns +
         ", sent_at) SELECT " + kColumns + ", coalesce(sent_at, now()) FROM moved";
}

class Listener final : public pqxx::notification_receiver {
 public:
  Listener(pqxx::connection_base& connection, std::atomic<bool>* flag)
      : pqxx::notification_receiver(connection, kChannel), flag_(flag) {}
  void operator()(const std::string&, int) override { flag_->store(true); }

 private:
  std::atomic<bool>* flag_;
};

// PostgreSQL prints a jsonb object as {"key": "value", "key2": "value2"}:
// that spacing, and a backslash before anything escaped. A flat object of
// strings printed so with no backslash at all (the trace context of almost
// every row) is split here, into `pairs`, without a JSON parser; false for
// anything else, which takes the parser's path.
bool SplitPlainJsonbObject(std::string_view text,
                           std::vector<std::pair<std::string_view, std::string_view>>& pairs) {
  pairs.clear();
  if (text.size() < 2 || text.front() != '{' || text.back() != '}' ||
      text.find('\\') != std::string_view::npos) {
    return false;
  }
  std::string_view rest = text.substr(1, text.size() - 2);
  // A string starting at rest[0]; false unless it is one.
  auto take_string = [&rest](std::string_view& out) {
    if (rest.empty() || rest.front() != '"') return false;
    const size_t end = rest.find('"', 1);
    if (end == std::string_view::npos) return false;
    out = rest.substr(1, end - 1);
    rest.remove_prefix(end + 1);
    return true;
  };
  auto take = [&rest](std::string_view literal) {
    if (rest.substr(0, literal.size()) != literal) return false;
    rest.remove_prefix(literal.size());
    return true;
  };
  while (!rest.empty()) {
    std::string_view key, value;
    if (!take_string(key) || !take(": ") || !take_string(value)) return false;
    pairs.emplace_back(key, value);
    if (!rest.empty() && !take(", ")) return false;
  }
  return true;
}

// Results of the asynchronous publishes of the batches in flight, filled by
// nats.c's ack handler (on its own thread). Outlives the JetStream context.
// A publish is known by its message: nats.c hands the message it took back
// to the ack handler, and no other message can have its address before the
// handler (or the take-back of a timed-out batch) destroys it, at which
// point its entry is gone too.
struct Acks {
  enum class State { kWaiting, kAcked, kFailed };
  struct Result {
    State state = State::kWaiting;
    bool duplicate = false;  // the stream had the id already
    std::string error;
  };
  struct Batch {
    std::vector<Result> rows;  // by position in the claim
    size_t outstanding = 0;    // unanswered publishes
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
  void Answer(const natsMsg* msg, const std::string* error, bool duplicate = false) {
    auto it = in_flight.find(msg);
    if (it == in_flight.end()) return;
    const Slot slot = it->second;
    in_flight.erase(it);
    Settle(slot, error, duplicate);
  }

  // Needs mu. Settles a row whose publish did not start, or was taken back.
  void Fail(Slot slot, const std::string& error) { Settle(slot, &error, false); }

  // Needs mu. A row is settled once: a later answer does not count.
  void Settle(Slot slot, const std::string* error, bool duplicate) {
    auto batch = batches.find(slot.batch);
    if (batch == batches.end()) return;
    Result& result = batch->second.rows[slot.row];
    if (result.state != State::kWaiting) return;
    if (error == nullptr) {
      result.state = State::kAcked;
      result.duplicate = duplicate;
    } else {
      result.state = State::kFailed;
      result.error = *error;
    }
    if (--batch->second.outstanding == 0) cv.notify_all();
  }

  static void OnAck(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* closure) {
    auto* self = static_cast<Acks*>(closure);
    if (ack != nullptr) {
      std::lock_guard lock(self->mu);
      self->Answer(msg, nullptr, ack->Duplicate);
    } else {
      std::string text = "publish failed";
      if (err != nullptr) {
        text = err->ErrText != nullptr && *err->ErrText != '\0' ? err->ErrText
                                                                : natsStatus_GetText(err->Err);
      }
      std::lock_guard lock(self->mu);
      self->Answer(msg, &text);
    }
    natsMsg_Destroy(msg);
  }
};

// A float8 field as PostgreSQL prints it (locale-independent); 0 if unreadable.
double Seconds(const pqxx::field& f) {
  double value = 0;
  const char* text = f.c_str();
  if (std::from_chars(text, text + f.size(), value).ec != std::errc()) return 0;
  return value;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A bytea field's bytes into `out`, whose buffer is reused: PostgreSQL's
// hex output (\x...) decoded here, any other form through libpq.
void ByteaInto(const pqxx::field& f, std::string& out) {
  const char* text = f.c_str();
  const size_t size = f.size();
  if (size >= 2 && text[0] == '\\' && text[1] == 'x' && size % 2 == 0) {
    out.resize((size - 2) / 2);
    bool ok = true;
    for (size_t i = 0; i < out.size() && ok; ++i) {
      const int hi = HexDigit(text[2 + 2 * i]);
      const int lo = HexDigit(text[3 + 2 * i]);
      ok = hi >= 0 && lo >= 0;
      out[i] = static_cast<char>(hi << 4 | lo);
    }
    if (ok) return;
  }
  const pqxx::binarystring bytes(f);
  out.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// {"(0,1)","(0,2)"}: an array literal of values without quotes or
// backslashes (tids, uuids), each quoted.
std::string ArrayLiteral(const std::vector<std::string_view>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    out += values[i];
    out += '"';
  }
  out += '}';
  return out;
}

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
    StopCloser();
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
      JoinClose(failed);
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
      JoinClose(failed);
    } catch (const std::exception&) {
      // Already logged by whoever saw the round fail.
    }
    {
      std::lock_guard acks_lock(acks.mu);
      acks.batches.clear();
      acks.in_flight.clear();
    }
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
  void EnsureNats() {
    if (nats != nullptr) return;
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.PublishAsync.AckHandler = &Acks::OnAck;
    js_options.PublishAsync.AckHandlerClosure = &acks;
    // Two batches may be in flight: no publish should stall on the limit.
    js_options.PublishAsync.MaxPending =
        std::max<int64_t>(4000, 2 * static_cast<int64_t>(options.batch) + 64);
    nats = internal::ConnectNats(options.nats_url,
                                 "cppsvc-relay-" + options.service,
                                 /*keep_trying=*/true,
                                 &js_options);
    nats_view = nats.get();
  }

  // Needs round_mu.
  bool TryLead() {
    if (leader) return true;
    pqxx::nontransaction tx(*pg);
    leader = tx.exec("SELECT pg_try_advisory_lock(" + std::to_string(kLeaderLockKey) + ")")[0][0]
                 .as<bool>();
    return leader;
  }

  // Needs round_mu and leadership.
  void MaybeDeleteExpired() {
    const auto now = SteadyClock::now();
    if (now < next_retention) return;
    next_retention = now + kRetentionEvery;
    pqxx::work tx(*pg);
    // Rows that a relay of version 1 of the runtime's tables marked sent in
    // place (still running during a rolling upgrade) move first.
    static const std::string kMoveMarkedSent = MoveToSentSql("status = 'sent'");
    tx.exec(kMoveMarkedSent);
    const pqxx::result deleted = tx.exec_params(
        "DELETE FROM cppsvc_outbox_sent WHERE ctid = ANY(ARRAY(SELECT ctid FROM cppsvc_outbox_sent "
        "WHERE sent_at < now() - make_interval(secs => $1) LIMIT $2))",
        static_cast<double>(
            std::chrono::duration_cast<std::chrono::seconds>(options.retention).count()),
        kRetentionBatch);
    tx.commit();
    // A full batch: more may be expired; the next round continues.
    if (deleted.affected_rows() >= static_cast<size_t>(kRetentionBatch)) next_retention = now;
  }

  // A view into the batch's claim result, which the batch keeps.
  struct Row {
    std::string_view ctid;
    double age_seconds = 0;
  };

  // A claimed batch whose publishes are out; its transaction holds the rows.
  struct Batch {
    uint64_t serial = 0;
    int connection = 0;
    std::unique_ptr<pqxx::work> tx;
    pqxx::result claimed;
    std::vector<Row> rows;
    SteadyClock::time_point claimed_at;
    // The seq range of the rows, which the claim returns in seq order.
    int64_t first_seq = 0;
    int64_t last_seq = -1;
  };

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
    EnsureNats();
    if (!TryLead()) return {};
    // Retention and leadership use the first connection, free only when no
    // batch is being closed.
    if (!closing) MaybeDeleteExpired();
    notified = false;

    const int connection = closing ? 1 - closing_connection : 0;
    Batch batch = closing ? Claim(connection, closing->first_seq, closing->last_seq)
                          : Claim(connection, 0, -1);
    RoundResult result;
    result.sent += JoinClose(failed);
    if (batch.rows.empty()) {
      batch.tx->commit();
      if (backlog != nullptr) backlog->Set(0);
      return result;
    }
    result.more = batch.rows.size() >= options.batch;
    if (pipeline && result.more) {
      StartClose(std::move(batch));
      return result;
    }
    result.sent += Close(batch, failed);
    return result;
  }

  // Needs round_mu. Hands `batch` to the closing thread (started on first
  // use): Close runs there while this thread claims and publishes the next.
  void StartClose(Batch batch) {
    closing_connection = batch.connection;
    std::lock_guard lock(close_mu);
    if (!closer.joinable()) closer = std::thread([this] { CloserLoop(); });
    closing = std::move(batch);
    close_done = false;
    close_cv.notify_all();
  }

  // Needs round_mu. Waits for the batch being closed, if any; returns its
  // rows marked sent, or throws what Close threw.
  size_t JoinClose(bool& failed) {
    std::unique_lock lock(close_mu);
    if (!closing) return 0;
    close_cv.wait(lock, [this] { return close_done; });
    std::exception_ptr error = std::exchange(close_error, nullptr);
    closing.reset();  // rolls back unless committed
    if (close_failed) failed = true;
    if (error) std::rethrow_exception(error);
    return close_sent;
  }

  void CloserLoop() {
    std::unique_lock lock(close_mu);
    while (true) {
      close_cv.wait(lock, [this] { return closer_quit || (closing && !close_done); });
      if (closer_quit) return;
      lock.unlock();
      size_t sent = 0;
      bool failed = false;
      std::exception_ptr error;
      try {
        sent = Close(*closing, failed);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      close_sent = sent;
      close_failed = failed;
      close_error = error;
      close_done = true;
      close_cv.notify_all();
    }
  }

  // After the relay's thread ended (and with it any close it waited for).
  void StopCloser() {
    {
      std::lock_guard lock(close_mu);
      closer_quit = true;
    }
    close_cv.notify_all();
    if (closer.joinable()) closer.join();
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

  // Needs round_mu. Claims pending rows, passing over seq `skip_first` to
  // `skip_last` (the batch in flight), and starts their publishes.
  Batch Claim(int connection, int64_t skip_first, int64_t skip_last) {
    Batch batch;
    batch.serial = ++batch_serial;
    batch.connection = connection;
    batch.tx = std::make_unique<pqxx::work>(Connection(connection));
    batch.claimed =
        batch.tx->exec_params(kClaimSql, static_cast<long>(options.batch), skip_first, skip_last);
    const pqxx::result& claimed = batch.claimed;
    if (claimed.empty()) return batch;
    batch.first_seq = claimed.front()[8].as<int64_t>();
    batch.last_seq = claimed.back()[8].as<int64_t>();
    batch.claimed_at = SteadyClock::now();
    batch.rows.reserve(claimed.size());
    for (const auto& r : claimed) {
      batch.rows.push_back({std::string_view(r[7].c_str(), r[7].size()), Seconds(r[6])});
    }
    {
      std::lock_guard acks_lock(acks.mu);
      // Room for two batches in flight without rehashing.
      acks.in_flight.reserve(2 * options.batch + 64);
      Acks::Batch& results = acks.batches[batch.serial];
      results.rows.assign(claimed.size(), Acks::Result{});
      results.outstanding = claimed.size();
    }
    const bool connected = nats->connected();
    for (size_t i = 0; i < claimed.size(); ++i) {
      const auto& r = claimed[i];
      const Acks::Slot slot{batch.serial, i};
      std::string error = connected ? Publish(slot,
                                              r[0].c_str(),
                                              r[1].c_str(),
                                              std::string_view(r[2].c_str(), r[2].size()),
                                              std::string_view(r[3].c_str(), r[3].size()),
                                              r[4],
                                              std::string_view(r[5].c_str(), r[5].size()))
                                    : "not connected to NATS";
      if (!error.empty()) {
        std::lock_guard acks_lock(acks.mu);
        acks.Fail(slot, error);
      }
    }
    return batch;
  }

  // Needs round_mu. Waits for the batch's acks (the ack handler answers
  // every publish: acked, refused, or timed out after MaxWait; the extra
  // second covers a late timer), marks the acked rows sent and the others
  // failed, commits. Returns the rows marked sent.
  size_t Close(Batch& batch, bool& failed) {
    std::vector<std::string_view> sent_ctids;
    std::unordered_map<std::string, std::vector<std::string_view>> failed_by_error;
    std::vector<double> lags;
    size_t round_duplicates = 0;
    {
      std::unique_lock acks_lock(acks.mu);
      Acks::Batch& results = acks.batches[batch.serial];
      const bool answered =
          acks.cv.wait_until(acks_lock,
                             batch.claimed_at + options.publish_timeout + std::chrono::seconds(1),
                             [&] { return results.outstanding == 0; });
      const std::string no_ack =
          "no ack within " + std::to_string(options.publish_timeout.count()) + " ms";
      if (!answered) {
        // Publishes still unanswered are taken back (those of a batch
        // claimed after this one too: they fail now rather than wait). A
        // late ack must not count for a row that is pending again; it is
        // republished under the same Nats-Msg-Id, and the stream drops the
        // duplicate.
        natsMsgList pending{};
        if (js_PublishAsyncGetPendingList(&pending, nats->js()) == NATS_OK) {
          for (int i = 0; i < pending.Count; ++i) acks.Answer(pending.Msgs[i], &no_ack);
          natsMsgList_Destroy(&pending);
        }
        // Whatever of this batch nats.c still has not answered is not
        // awaited any more.
        for (auto it = acks.in_flight.begin(); it != acks.in_flight.end();) {
          it = it->second.batch == batch.serial ? acks.in_flight.erase(it) : std::next(it);
        }
      }
      const double since_claim =
          std::chrono::duration<double>(SteadyClock::now() - batch.claimed_at).count();
      for (size_t i = 0; i < batch.rows.size(); ++i) {
        const Row& row = batch.rows[i];
        const Acks::Result& result = results.rows[i];
        if (result.state == Acks::State::kAcked) {
          sent_ctids.push_back(row.ctid);
          if (result.duplicate) ++round_duplicates;
          lags.push_back(row.age_seconds + since_claim);
        } else {
          failed_by_error[result.state == Acks::State::kWaiting ? no_ack : result.error].push_back(
              row.ctid);
        }
      }
      acks.batches.erase(batch.serial);
    }

    pqxx::work& tx = *batch.tx;
    if (!sent_ctids.empty()) {
      static const std::string kMoveAcked = MoveToSentSql("ctid = ANY($1::tid[])");
      tx.exec_params(kMoveAcked, ArrayLiteral(sent_ctids));
    }
    size_t failures = 0;
    for (const auto& [error, ctids] : failed_by_error) {
      failures += ctids.size();
      tx.exec_params(
          "UPDATE cppsvc_outbox SET attempts = attempts + 1, last_error = $2 "
          "WHERE ctid = ANY($1::tid[])",
          ArrayLiteral(ctids),
          error);
    }
    // Counting pending rows scans them; with a full batch (more are
    // probably waiting) it is done at most once per kBacklogEvery. A short
    // batch took every pending row: what is left is what failed.
    std::optional<long> pending_rows;
    if (backlog != nullptr) {
      const auto now = SteadyClock::now();
      if (batch.rows.size() < options.batch) {
        pending_rows = static_cast<long>(failures);
      } else if (now >= next_backlog_count) {
        next_backlog_count = now + kBacklogEvery;
        pending_rows =
            tx.exec("SELECT count(*) FROM cppsvc_outbox WHERE status = 'pending'")[0][0].as<long>();
      }
    }
    tx.commit();

    const size_t sent = sent_ctids.size();
    published += sent;
    failed_publishes += failures;
    duplicates += round_duplicates;
    ++rounds;
    // Rows a previous relay published but did not mark sent (it died in
    // between) come back as duplicates: JetStream stored them once, and the
    // round says so.
    if (round_duplicates > 0) {
      observability::LogJson({{"level", "info"},
                              {"msg", "outbox relay round"},
                              {"service", options.service},
                              {"claimed", batch.rows.size()},
                              {"published", sent},
                              {"duplicates", round_duplicates},
                              {"failed", failures}});
    }
    if (backlog != nullptr && pending_rows) backlog->Set(static_cast<double>(*pending_rows));
    if (published_total != nullptr) published_total->Increment(static_cast<double>(sent));
    if (failed_total != nullptr && failures > 0)
      failed_total->Increment(static_cast<double>(failures));
    if (lag != nullptr) {
      for (double seconds : lags) lag->Observe(seconds);
    }
    if (failures > 0) {
      failed = true;
      Log("outbox relay could not publish " + std::to_string(failures) + " of " +
              std::to_string(batch.rows.size()) + " events; they stay pending",
          failed_by_error.begin()->first);
    }
    return sent;
  }

  // Starts the asynchronous publish of one row; "" or why it did not start.
  std::string Publish(Acks::Slot slot,
                      const char* id,
                      const char* subject,
                      std::string_view event_type,
                      std::string_view ordering_key,
                      const pqxx::field& payload_field,
                      std::string_view headers_json) {
    ByteaInto(payload_field, payload);
    natsMsg* raw = nullptr;
    natsStatus s =
        natsMsg_Create(&raw, subject, nullptr, payload.data(), static_cast<int>(payload.size()));
    if (s != NATS_OK) return NatsError("message", s);
    MsgPtr msg(raw);
    // Rows hold a flat object of strings (AddToOutbox writes them), split
    // without a parser when PostgreSQL printed them with no escape;
    // anything else is parsed.
    if (SplitPlainJsonbObject(headers_json, header_pairs)) {
      for (const auto& [key, value] : header_pairs) {
        // nats.c cannot read a header without a value back.
        if (s == NATS_OK && !value.empty()) {
          s = SetHeader(msg.get(), header_key.assign(key).c_str(), value);
        }
      }
    } else {
      try {
        const nlohmann::json headers = nlohmann::json::parse(headers_json);
        for (const auto& [key, value] : headers.items()) {
          const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
          // nats.c cannot read a header without a value back.
          if (s == NATS_OK && !text.empty()) s = SetHeader(msg.get(), key.c_str(), text);
        }
      } catch (const std::exception& e) {
        return std::string("malformed headers: ") + e.what();
      }
    }
    if (s == NATS_OK && !event_type.empty()) s = SetHeader(msg.get(), kEventTypeHeader, event_type);
    if (s == NATS_OK && !ordering_key.empty()) {
      s = SetHeader(msg.get(), kOrderingKeyHeader, ordering_key);
    }
    if (s != NATS_OK) return NatsError("headers", s);
    jsPubOptions pub;
    jsPubOptions_Init(&pub);
    pub.MsgId = id;  // sets Nats-Msg-Id last, over any header of the row
    pub.MaxWait = options.publish_timeout.count();
    // Awaited before it goes: the ack may come before js_PublishMsgAsync returns.
    natsMsg* owned = msg.release();
    {
      std::lock_guard acks_lock(acks.mu);
      acks.in_flight[owned] = slot;
    }
    s = js_PublishMsgAsync(nats->js(), &owned, &pub);
    if (owned != nullptr) {  // the library did not take it
      std::lock_guard acks_lock(acks.mu);
      acks.in_flight.erase(owned);
      natsMsg_Destroy(owned);
    }
    if (s != NATS_OK) return NatsError("publish", s);
    return "";
  }

  natsStatus SetHeader(natsMsg* msg, const char* key, std::string_view value) {
    internal::AssignHeaderValue(header_value, value);
    return natsMsgHeader_Set(msg, key, header_value.c_str());
  }

  void Log(const std::string& msg, const std::string& error) const {
    observability::LogJson(
        {{"level", "warning"}, {"msg", msg}, {"service", options.service}, {"error", error}});
  }

  RelayOptions options;
  // Reused by Publish (called with round_mu held).
  std::vector<std::pair<std::string_view, std::string_view>> header_pairs;
  std::string header_key;
  std::string header_value;
  std::string payload;

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
  Acks acks;  // before `nats`: destroyed after the context that calls into it
  std::unique_ptr<internal::NatsHandle> nats;
  std::atomic<internal::NatsHandle*> nats_view{nullptr};  // for healthy(), without round_mu
  std::unique_ptr<pqxx::connection> pg;                   // leadership, LISTEN, retention, claims
  std::unique_ptr<pqxx::connection> pg2;                  // claims of every other batch in flight
  std::unique_ptr<Listener> listener;                     // after `pg`: destroyed before it
  // The batch the closing thread is closing (its transaction open on the
  // connection not used for the next claim), and what came of it.
  std::mutex close_mu;
  std::condition_variable close_cv;
  std::optional<Batch> closing;  // after the connections: its transaction goes first
  int closing_connection = 0;
  bool close_done = true;
  size_t close_sent = 0;
  bool close_failed = false;
  std::exception_ptr close_error;
  bool closer_quit = false;
  std::thread closer;
  uint64_t batch_serial = 0;
  SteadyClock::time_point next_retention{};
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
  internal::NatsHandle* nats = impl_->nats_view;
  return nats != nullptr && nats->connected();
}

bool Relay::leader() const {
  return impl_->leader;
}

}  // namespace cppsvc::events
