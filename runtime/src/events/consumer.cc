// Durable pull consumers: each event applied once per consumer, in the
// transaction that records it in the inbox.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "cppsvc/db/statements.h"
#include "cppsvc/db/transaction.h"
#include "cppsvc/events/consumer.h"
#include "cppsvc/observability/log.h"
#include "cppsvc/observability/trace.h"
#include "nats_handle.h"

namespace cppsvc::events {

namespace {

// Prepared on each connection, like the outbox's INSERT: every delivery
// runs it.
const std::string kInboxInsert =
    "INSERT INTO cppsvc_inbox (consumer, event_id, subject) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING";

using internal::NatsError;

constexpr int64_t kFetchWaitMs = 500;
constexpr auto kFetchErrorPause = std::chrono::milliseconds(250);
constexpr auto kDisconnectedPause = std::chrono::milliseconds(50);
constexpr int kDeadLetterTries = 3;

struct Delivery {
  std::string event_id;
  std::string subject;
  std::string payload;
  std::map<std::string, std::string> headers;
  int attempt = 1;
};

}  // namespace

struct Consumer::Impl {
  Impl(ConsumerOptions o, ConsumerSpec s, EventHandler h)
      : options(std::move(o)), spec(std::move(s)), handler(std::move(h)) {
    if (options.batch == 0) options.batch = 1;
    if (spec.max_deliver < 1) spec.max_deliver = 1;
    if (options.metrics) {
      auto& registry = options.metrics->registry();
      const prometheus::Labels labels{{"service", options.service}};
      const prometheus::Labels consumer{{"consumer", spec.durable}};
      handled_total = &prometheus::BuildCounter()
                           .Name("cppsvc_consumer_handled_total")
                           .Help("Events a consumer's handler applied (committed).")
                           .Labels(labels)
                           .Register(registry)
                           .Add(consumer);
      redeliveries_total = &prometheus::BuildCounter()
                                .Name("cppsvc_consumer_redeliveries_total")
                                .Help("Events delivered to a consumer more than once.")
                                .Labels(labels)
                                .Register(registry)
                                .Add(consumer);
      dead_letters_total = &prometheus::BuildCounter()
                                .Name("cppsvc_dead_letters_total")
                                .Help("Events a consumer gave up on after its last delivery.")
                                .Labels(labels)
                                .Register(registry)
                                .Add(consumer);
    }
  }

  ~Impl() {
    Stop();
    if (sub != nullptr) natsSubscription_Destroy(sub);
  }

  void Start() {
    std::lock_guard lock(thread_mu);
    if (thread.joinable()) return;
    if (!options.pool)
      throw std::runtime_error("consumer '" + spec.durable + "': no database pool");
    if (!handler) throw std::runtime_error("consumer '" + spec.durable + "': no handler");
    if (nats == nullptr) {
      nats = internal::ConnectNats(options.nats_url,
                                   "cppsvc-consumer-" + options.service,
                                   /*keep_trying=*/false,
                                   nullptr);
    }
    EnsureConsumer();
    if (sub == nullptr) {
      jsSubOptions sub_options;
      jsSubOptions_Init(&sub_options);
      // Binds to the consumer made above; nats.c then never deletes it.
      sub_options.Stream = spec.stream.c_str();
      sub_options.Consumer = spec.durable.c_str();
      jsErrCode code = static_cast<jsErrCode>(0);
      natsStatus s = js_PullSubscribe(&sub,
                                      nats->js(),
                                      spec.subject.c_str(),
                                      spec.durable.c_str(),
                                      nullptr,
                                      &sub_options,
                                      &code);
      if (s != NATS_OK) {
        sub = nullptr;
        throw std::runtime_error(NatsError(Name() + ": pull subscribe failed", s));
      }
    }
    stopping = false;
    thread = std::thread([this] { Loop(); });
  }

  void Stop() {
    std::lock_guard lock(thread_mu);
    if (!thread.joinable()) return;
    stopping = true;
    thread.join();
  }

  std::string Name() const {
    return "consumer '" + spec.durable + "' of stream '" + spec.stream + "'";
  }

  // Creates the durable consumer, or updates it when the spec changed.
  void EnsureConsumer() {
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = spec.durable.c_str();
    config.AckPolicy = js_AckExplicit;
    config.DeliverPolicy = js_DeliverAll;
    config.AckWait = internal::Nanos(spec.ack_wait);
    config.MaxDeliver = spec.max_deliver;
    config.FilterSubject = spec.subject.c_str();
    // No server-side BackOff: it would replace AckWait as the redelivery
    // timer of a handler still running. Failed attempts are nak'ed with the
    // spec's delay instead.

    jsConsumerInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_GetConsumerInfo(&info,
                                      nats->js(),
                                      spec.stream.c_str(),
                                      spec.durable.c_str(),
                                      nullptr,
                                      &code);
    if (s == NATS_NOT_FOUND) {
      s = js_AddConsumer(nullptr, nats->js(), spec.stream.c_str(), &config, nullptr, &code);
      if (s != NATS_OK) throw std::runtime_error(NatsError(Name() + ": create failed", s));
      return;
    }
    if (s != NATS_OK) throw std::runtime_error(NatsError(Name() + ": lookup failed", s));
    std::unique_ptr<jsConsumerInfo, void (*)(jsConsumerInfo*)> owned(info, jsConsumerInfo_Destroy);
    const jsConsumerConfig* current = info->Config;
    const bool same = current != nullptr && current->AckWait == config.AckWait &&
                      current->MaxDeliver == config.MaxDeliver &&
                      current->FilterSubject != nullptr && spec.subject == current->FilterSubject;
    if (same) return;
    s = js_UpdateConsumer(nullptr, nats->js(), spec.stream.c_str(), &config, nullptr, &code);
    if (s != NATS_OK) throw std::runtime_error(NatsError(Name() + ": update failed", s));
  }

  void Loop() {
    bool reported = false;  // one log line per outage, not one per fetch
    while (!stopping) {
      // No pull requests while nats.c reconnects: they would only queue in
      // its reconnect buffer and fail; the durable consumer keeps the events.
      if (!nats->connected()) {
        if (!reported) Log("warning", "event fetch paused", "not connected to NATS");
        reported = true;
        std::this_thread::sleep_for(kDisconnectedPause);
        continue;
      }
      natsMsgList list{};
      jsErrCode code = static_cast<jsErrCode>(0);
      natsStatus s =
          natsSubscription_Fetch(&list, sub, static_cast<int>(options.batch), kFetchWaitMs, &code);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) {
        if (!reported) Log("warning", "event fetch failed", NatsError("fetch", s));
        reported = true;
        std::this_thread::sleep_for(kFetchErrorPause);
        continue;
      }
      reported = false;
      for (int i = 0; i < list.Count; ++i) {
        if (stopping) {
          // Back to the stream for the other replicas, without waiting for AckWait.
          natsMsg_Nak(list.Msgs[i], nullptr);
          continue;
        }
        Handle(list.Msgs[i]);
      }
      natsMsgList_Destroy(&list);
    }
  }

  void Handle(natsMsg* msg) {
    Delivery d;
    jsMsgMetaData* meta = nullptr;
    uint64_t stream_seq = 0;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      d.attempt = static_cast<int>(meta->NumDelivered);
      stream_seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
    d.headers = internal::Headers(msg);
    if (auto it = d.headers.find("Nats-Msg-Id"); it != d.headers.end() && !it->second.empty()) {
      d.event_id = it->second;
    } else {
      // Published without an id (not by a relay): the stream position is stable.
      d.event_id = spec.stream + ":" + std::to_string(stream_seq);
    }
    d.subject = natsMsg_GetSubject(msg);
    d.payload.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    if (d.attempt > 1) {
      ++redeliveries;
      if (redeliveries_total != nullptr) redeliveries_total->Increment();
    }

    bool duplicate = false;
    std::string detail;
    const Status status = Apply(d, duplicate, detail);
    if (status.ok()) {
      natsMsg_Ack(msg, nullptr);
      if (duplicate) {
        ++duplicates;
      } else {
        ++handled;
        if (handled_total != nullptr) handled_total->Increment();
      }
      return;
    }
    std::string error = status.ToString();
    if (!detail.empty()) error += " (" + detail + ")";
    if (d.attempt < spec.max_deliver) {
      Log("warning",
          "event handler failed; the event will be redelivered",
          error,
          {{"event_id", d.event_id}, {"attempt", d.attempt}});
      const auto delay = RedeliveryDelay(d.attempt);
      if (delay.count() > 0) {
        natsMsg_NakWithDelay(msg, delay.count(), nullptr);
      } else {
        natsMsg_Nak(msg, nullptr);
      }
      return;
    }
    // The server delivers it no more: keep it as a dead letter, then let
    // the consumer move on.
    for (int tries = 1;; ++tries) {
      const Status stored = StoreDeadLetter(d, error);
      if (stored.ok()) break;
      if (tries == kDeadLetterTries || stopping) {
        Log("error",
            "event handler failed on the last delivery and the dead letter could not be stored",
            stored.ToString(),
            {{"event_id", d.event_id}, {"attempt", d.attempt}, {"handler_error", error}});
        return;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    natsMsg_Term(msg, nullptr);
    ++dead_letters;
    if (dead_letters_total != nullptr) dead_letters_total->Increment();
    Log("error",
        "event handler failed on the last delivery; stored as a dead letter",
        error,
        {{"event_id", d.event_id}, {"attempt", d.attempt}});
  }

  std::chrono::milliseconds RedeliveryDelay(int attempt) const {
    if (spec.backoff.empty()) return std::chrono::milliseconds(0);
    const size_t i =
        std::min(static_cast<size_t>(std::max(attempt, 1) - 1), spec.backoff.size() - 1);
    return spec.backoff[i];
  }

  Status Apply(const Delivery& d, bool& duplicate, std::string& detail) {
    observability::TraceContext trace;
    if (auto it = d.headers.find("traceparent");
        it != d.headers.end() && observability::ParseTraceparent(it->second, trace)) {
      trace = observability::ChildOf(trace);
    } else {
      trace = observability::NewTrace();
    }
    EventContext ctx(d.event_id, d.subject, d.attempt, trace.trace_id);
    ctx.set_traceparent(observability::FormatTraceparent(trace));
    return db::RunInTransaction(*options.pool,
                                Clock::now() + options.handler_timeout,
                                [&](db::Tx& tx) -> Status {
                                  duplicate = false;
                                  detail.clear();
                                  const pqxx::result inserted =
                                      db::ExecPrepared(tx,
                                                       "cppsvc_inbox_insert",
                                                       kInboxInsert,
                                                       spec.durable,
                                                       d.event_id,
                                                       d.subject);
                                  if (inserted.affected_rows() == 0) {
                                    duplicate = true;
                                    return Status::Ok();
                                  }
                                  ctx.set_tx(&tx);
                                  try {
                                    Status result = handler(ctx, d.payload);
                                    ctx.set_tx(nullptr);
                                    return result;
                                  } catch (const std::exception& e) {
                                    ctx.set_tx(nullptr);
                                    detail = e.what();
                                    throw;
                                  }
                                });
  }

  Status StoreDeadLetter(const Delivery& d, const std::string& error) {
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [key, value] : d.headers) headers[key] = value;
    return db::RunInTransaction(
        *options.pool,
        Clock::now() + options.handler_timeout,
        [&](db::Tx& tx) -> Status {
          tx.exec_params(
              "INSERT INTO cppsvc_dead_letters "
              "(consumer, event_id, subject, payload, headers, error, attempts) "
              "VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
              spec.durable,
              d.event_id,
              d.subject,
              pqxx::binarystring(d.payload.data(), d.payload.size()),
              headers.dump(),
              error,
              d.attempt);
          return Status::Ok();
        });
  }

  void Log(const char* level,
           const std::string& msg,
           const std::string& error,
           nlohmann::json extra = nlohmann::json::object()) const {
    extra["level"] = level;
    extra["msg"] = msg;
    extra["service"] = options.service;
    extra["consumer"] = spec.durable;
    extra["error"] = error;
    observability::LogJson(std::move(extra));
  }

  ConsumerOptions options;
  ConsumerSpec spec;
  EventHandler handler;

  prometheus::Counter* handled_total = nullptr;
  prometheus::Counter* redeliveries_total = nullptr;
  prometheus::Counter* dead_letters_total = nullptr;

  std::atomic<uint64_t> handled{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> redeliveries{0};
  std::atomic<uint64_t> dead_letters{0};

  std::unique_ptr<internal::NatsHandle> nats;
  natsSubscription* sub = nullptr;  // destroyed before `nats`

  std::mutex thread_mu;
  std::thread thread;
  std::atomic<bool> stopping{false};
};

Consumer::Consumer(ConsumerOptions options, ConsumerSpec spec, EventHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(spec), std::move(handler))) {}

Consumer::~Consumer() = default;

void Consumer::Start() {
  impl_->Start();
}

void Consumer::RequestStop() {
  impl_->stopping = true;
}

void Consumer::Stop() {
  impl_->Stop();
}

Consumer::Stats Consumer::stats() const {
  return {impl_->handled.load(),
          impl_->duplicates.load(),
          impl_->redeliveries.load(),
          impl_->dead_letters.load()};
}

}  // namespace cppsvc::events
