// NATS request-reply transport, client side: one connection per client,
// requests on the method's subject, the reply's status in its headers.
#include <nats/nats.h>

#include <charconv>
#include <string>

#include "cppsvc/impl/client.h"
#include "cppsvc/observability/log.h"

namespace cppsvc::impl {

struct ClientRuntime::Nats {
  natsConnection* conn = nullptr;
  std::string error;  // why there is no connection

  Nats() = default;
  Nats(const Nats&) = delete;
  Nats& operator=(const Nats&) = delete;
  ~Nats() {
    if (conn != nullptr) {
      natsConnection_Close(conn);
      natsConnection_Destroy(conn);
    }
  }
};

namespace {

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

// The connection is made in the background when the server is not up yet.
void OnConnected(natsConnection*, void*) {}

std::string_view ConnectionState(natsConnStatus status) {
  switch (status) {
    case NATS_CONN_STATUS_DISCONNECTED:
      return "disconnected";
    case NATS_CONN_STATUS_CONNECTING:
      return "connecting";
    case NATS_CONN_STATUS_RECONNECTING:
      return "reconnecting";
    case NATS_CONN_STATUS_CLOSED:
      return "closed";
    case NATS_CONN_STATUS_DRAINING_SUBS:
    case NATS_CONN_STATUS_DRAINING_PUBS:
      return "draining";
    default:
      return "not connected";
  }
}

// The request message: payload, the call's headers and the time left.
Status RequestMessage(const std::string& subject,
                      const std::string& payload,
                      const Headers& headers,
                      std::chrono::milliseconds remaining,
                      MsgPtr& msg) {
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw,
                                subject.c_str(),
                                nullptr,
                                payload.data(),
                                static_cast<int>(payload.size()));
  if (s != NATS_OK)
    return {StatusCode::kInternal, std::string("NATS message: ") + natsStatus_GetText(s)};
  msg.reset(raw);
  for (const auto& [key, value] : headers) {
    if (s == NATS_OK) s = natsMsgHeader_Set(msg.get(), key.c_str(), value.c_str());
  }
  if (s == NATS_OK)
    s = natsMsgHeader_Set(msg.get(),
                          "cppsvc-timeout-ms",
                          std::to_string(remaining.count()).c_str());
  if (s != NATS_OK)
    return {StatusCode::kInternal, std::string("NATS headers: ") + natsStatus_GetText(s)};
  return Status::Ok();
}

// The reply's status (cppsvc-status, cppsvc-message headers) and, when OK,
// its payload parsed into `response`.
Status ReadReply(natsMsg* reply, const std::string& subject, google::protobuf::Message* response) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(reply, "cppsvc-status", &value) != NATS_OK || value == nullptr)
    return {StatusCode::kInternal, "reply on " + subject + " has no cppsvc-status"};
  std::string_view text(value);
  int code = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
  if (ec != std::errc() || end != text.data() + text.size() || code < 0 || code > 16)
    return {StatusCode::kInternal, "reply on " + subject + " has an invalid cppsvc-status"};
  if (code != 0) {
    std::string message;
    if (natsMsgHeader_Get(reply, "cppsvc-message", &value) == NATS_OK && value != nullptr)
      message = value;
    return {static_cast<StatusCode>(code), std::move(message)};
  }
  if (response != nullptr &&
      !response->ParseFromArray(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)))
    return {StatusCode::kInternal, "malformed reply payload on " + subject};
  return Status::Ok();
}

// One request and its reply, within `remaining`.
Status Request(natsConnection* conn,
               const std::string& subject,
               const std::string& payload,
               const Headers& headers,
               std::chrono::milliseconds remaining,
               google::protobuf::Message* response) {
  MsgPtr msg;
  if (Status made = RequestMessage(subject, payload, headers, remaining, msg); !made.ok())
    return made;
  natsMsg* raw_reply = nullptr;
  natsStatus s = natsConnection_RequestMsg(&raw_reply, conn, msg.get(), remaining.count());
  MsgPtr reply(raw_reply);
  switch (s) {
    case NATS_OK:
      return ReadReply(reply.get(), subject, response);
    case NATS_TIMEOUT:
      return {StatusCode::kDeadlineExceeded, "no reply on " + subject + " before the deadline"};
    case NATS_NO_RESPONDERS:
      return {StatusCode::kUnavailable, "no responders on " + subject};
    default:
      return {StatusCode::kUnavailable,
              std::string("NATS request failed: ") + natsStatus_GetText(s)};
  }
}

}  // namespace

std::shared_ptr<ClientRuntime::Nats> ClientRuntime::ConnectNats(const ClientOptions& options) {
  auto nats = std::make_shared<Nats>();
  if (options.nats_url.empty()) {
    nats->error = "no NATS URL configured";
    return nats;
  }
  natsOptions* raw = nullptr;
  natsStatus s = natsOptions_Create(&raw);
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> opts(raw, natsOptions_Destroy);
  if (s == NATS_OK) s = natsOptions_SetURL(raw, options.nats_url.c_str());
  if (s == NATS_OK) s = natsOptions_SetSendAsap(raw, true);
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(raw, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(raw, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(raw, 250);
  if (s == NATS_OK) s = natsOptions_SetTimeout(raw, 2000);
  // A server that is not up yet is retried in the background; calls fail
  // with UNAVAILABLE meanwhile.
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(raw, true, &OnConnected, nullptr);
  if (s == NATS_OK) {
    s = natsConnection_Connect(&nats->conn, raw);
    if (s == NATS_NOT_YET_CONNECTED) s = NATS_OK;
  }
  if (s != NATS_OK) {
    if (nats->conn != nullptr) {
      natsConnection_Destroy(nats->conn);
      nats->conn = nullptr;
    }
    nats->error =
        std::string("cannot connect to ") + options.nats_url + ": " + natsStatus_GetText(s);
    observability::LogJson(
        {{"level", "error"}, {"msg", "nats client connect failed"}, {"error", nats->error}});
  }
  return nats;
}

Status ClientRuntime::CallNats(const ClientMethodSpec& method,
                               const CallOptions& call,
                               const google::protobuf::Message& request,
                               google::protobuf::Message* response) {
  if (!nats_ || nats_->conn == nullptr) {
    return {StatusCode::kUnavailable,
            "NATS is not connected" +
                (nats_ && !nats_->error.empty() ? ": " + nats_->error : std::string())};
  }
  std::string payload;
  if (!request.SerializeToString(&payload))
    return {StatusCode::kInvalidArgument, "request could not be serialized"};
  const std::string subject(method.nats_subject);
  natsConnection* conn = nats_->conn;

  return Run(method,
             call,
             [&](size_t, const Headers& headers, Clock::time_point deadline) -> Status {
               natsConnStatus state = natsConnection_Status(conn);
               if (state != NATS_CONN_STATUS_CONNECTED) {
                 return {StatusCode::kUnavailable,
                         "NATS connection is " + std::string(ConnectionState(state))};
               }
               auto remaining =
                   std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
               if (remaining.count() <= 0)
                 return {StatusCode::kDeadlineExceeded, "deadline exceeded"};
               return Request(conn, subject, payload, headers, remaining, response);
             });
}

}  // namespace cppsvc::impl
