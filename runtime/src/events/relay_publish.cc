#include "relay_publish.h"

#include <algorithm>
#include <exception>

#include <nlohmann/json.hpp>

#include "cppsvc/events/outbox.h"
#include "relay_pg_text.h"

namespace cppsvc::events::internal {

void Acks::Answer(const natsMsg* msg, const std::string* error, bool duplicate) {
  auto it = in_flight.find(msg);
  if (it == in_flight.end()) return;
  const Slot slot = it->second;
  in_flight.erase(it);
  Settle(slot, error, duplicate);
}

void Acks::Settle(Slot slot, const std::string* error, bool duplicate) {
  auto batch = batches.find(slot.batch);
  if (batch == batches.end()) return;
  PublishResult& result = batch->second.rows[slot.row];
  if (result.state != PublishResult::State::kWaiting) return;
  if (error == nullptr) {
    result.state = PublishResult::State::kAcked;
    result.duplicate = duplicate;
  } else {
    result.state = PublishResult::State::kFailed;
    result.error = *error;
  }
  if (--batch->second.outstanding == 0) cv.notify_all();
}

void Acks::OnAck(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* closure) {
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

void Publisher::Connect() {
  if (nats_ != nullptr) return;
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.PublishAsync.AckHandler = &Acks::OnAck;
  js_options.PublishAsync.AckHandlerClosure = &acks_;
  // Two batches may be in flight: no publish should stall on the limit.
  js_options.PublishAsync.MaxPending =
      std::max<int64_t>(4000, 2 * static_cast<int64_t>(options_.batch) + 64);
  nats_ = ConnectNats(options_.nats_url,
                      "cppsvc-relay-" + options_.service,
                      /*keep_trying=*/true,
                      &js_options);
  nats_view_ = nats_.get();
}

bool Publisher::connected() const {
  NatsHandle* nats = nats_view_;
  return nats != nullptr && nats->connected();
}

void Publisher::PublishBatch(const Batch& batch) {
  const pqxx::result& claimed = batch.claimed;
  if (claimed.empty()) return;
  {
    std::lock_guard acks_lock(acks_.mu);
    // Room for two batches in flight without rehashing.
    acks_.in_flight.reserve(2 * options_.batch + 64);
    Acks::Batch& results = acks_.batches[batch.serial];
    results.rows.assign(claimed.size(), PublishResult{});
    results.outstanding = claimed.size();
  }
  const bool connected = nats_->connected();
  for (size_t i = 0; i < claimed.size(); ++i) {
    const Acks::Slot slot{batch.serial, i};
    std::string error = connected ? Publish(slot, claimed[i]) : "not connected to NATS";
    if (!error.empty()) {
      std::lock_guard acks_lock(acks_.mu);
      acks_.Fail(slot, error);
    }
  }
}

std::vector<PublishResult> Publisher::AwaitAcks(const Batch& batch, const std::string& no_ack) {
  std::unique_lock acks_lock(acks_.mu);
  Acks::Batch& results = acks_.batches[batch.serial];
  const bool answered =
      acks_.cv.wait_until(acks_lock,
                          batch.claimed_at + options_.publish_timeout + std::chrono::seconds(1),
                          [&] { return results.outstanding == 0; });
  if (!answered) {
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, nats_->js()) == NATS_OK) {
      for (int i = 0; i < pending.Count; ++i) acks_.Answer(pending.Msgs[i], &no_ack);
      natsMsgList_Destroy(&pending);
    }
    // Whatever of this batch nats.c still has not answered is not awaited
    // any more.
    for (auto it = acks_.in_flight.begin(); it != acks_.in_flight.end();) {
      it = it->second.batch == batch.serial ? acks_.in_flight.erase(it) : std::next(it);
    }
  }
  std::vector<PublishResult> rows = std::move(results.rows);
  acks_.batches.erase(batch.serial);
  return rows;
}

void Publisher::Forget() {
  std::lock_guard acks_lock(acks_.mu);
  acks_.batches.clear();
  acks_.in_flight.clear();
}

std::string Publisher::Publish(Acks::Slot slot, const pqxx::row& row) {
  ByteaInto(row[kClaimPayload], payload_);
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw,
                                row[kClaimSubject].c_str(),
                                nullptr,
                                payload_.data(),
                                static_cast<int>(payload_.size()));
  if (s != NATS_OK) return NatsError("message", s);
  MsgPtr msg(raw);
  if (std::string error = SetHeaders(msg.get(), row); !error.empty()) return error;
  jsPubOptions pub;
  jsPubOptions_Init(&pub);
  pub.MsgId = row[kClaimId].c_str();  // sets Nats-Msg-Id last, over any header of the row
  pub.MaxWait = options_.publish_timeout.count();
  // Awaited before it goes: the ack may come before js_PublishMsgAsync returns.
  natsMsg* owned = msg.release();
  {
    std::lock_guard acks_lock(acks_.mu);
    acks_.in_flight[owned] = slot;
  }
  s = js_PublishMsgAsync(nats_->js(), &owned, &pub);
  if (owned != nullptr) {  // the library did not take it
    std::lock_guard acks_lock(acks_.mu);
    acks_.in_flight.erase(owned);
    natsMsg_Destroy(owned);
  }
  if (s != NATS_OK) return NatsError("publish", s);
  return "";
}

std::string Publisher::SetHeaders(natsMsg* msg, const pqxx::row& row) {
  const std::string_view headers_json(row[kClaimHeaders].c_str(), row[kClaimHeaders].size());
  natsStatus s = NATS_OK;
  // Rows hold a flat object of strings (AddToOutbox writes them), split
  // without a parser when PostgreSQL printed them with no escape; anything
  // else is parsed.
  if (SplitPlainJsonbObject(headers_json, header_pairs_)) {
    for (const auto& [key, value] : header_pairs_) {
      // nats.c cannot read a header without a value back.
      if (s == NATS_OK && !value.empty()) {
        s = SetHeader(msg, header_key_.assign(key).c_str(), value);
      }
    }
  } else {
    try {
      const nlohmann::json headers = nlohmann::json::parse(headers_json);
      for (const auto& [key, value] : headers.items()) {
        const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
        // nats.c cannot read a header without a value back.
        if (s == NATS_OK && !text.empty()) s = SetHeader(msg, key.c_str(), text);
      }
    } catch (const std::exception& e) {
      return std::string("malformed headers: ") + e.what();
    }
  }
  const std::string_view event_type(row[kClaimEventType].c_str(), row[kClaimEventType].size());
  const std::string_view ordering_key(row[kClaimOrderingKey].c_str(),
                                      row[kClaimOrderingKey].size());
  if (s == NATS_OK && !event_type.empty()) s = SetHeader(msg, kEventTypeHeader, event_type);
  if (s == NATS_OK && !ordering_key.empty()) s = SetHeader(msg, kOrderingKeyHeader, ordering_key);
  if (s != NATS_OK) return NatsError("headers", s);
  return "";
}

natsStatus Publisher::SetHeader(natsMsg* msg, const char* key, std::string_view value) {
  AssignHeaderValue(header_value_, value);
  return natsMsgHeader_Set(msg, key, header_value_.c_str());
}

}  // namespace cppsvc::events::internal
