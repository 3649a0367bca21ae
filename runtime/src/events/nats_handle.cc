#include "nats_handle.h"

#include <cstdlib>
#include <stdexcept>

namespace cppsvc::events::internal {

namespace {

void OnConnected(natsConnection*, void*) {}

}  // namespace

NatsHandle::~NatsHandle() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (conn_ != nullptr) {
    natsConnection_Close(conn_);
    natsConnection_Destroy(conn_);
  }
}

bool NatsHandle::connected() const {
  return conn_ != nullptr && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

std::unique_ptr<NatsHandle> ConnectNats(const std::string& url,
                                        const std::string& name,
                                        bool keep_trying,
                                        const jsOptions* js_options) {
  if (url.empty()) throw std::runtime_error("no NATS URL configured");
  natsOptions* raw = nullptr;
  natsStatus s = natsOptions_Create(&raw);
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> opts(raw, natsOptions_Destroy);
  if (s == NATS_OK) s = natsOptions_SetURL(raw, url.c_str());
  if (s == NATS_OK) s = natsOptions_SetName(raw, name.c_str());
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(raw, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(raw, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(raw, 250);
  if (s == NATS_OK) s = natsOptions_SetTimeout(raw, 2000);
  // Only a connection handler makes nats.c keep trying in the background
  // (NATS_NOT_YET_CONNECTED) instead of failing the connect.
  if (s == NATS_OK && keep_trying) {
    s = natsOptions_SetRetryOnFailedConnect(raw, true, &OnConnected, nullptr);
  }
  if (s != NATS_OK) throw std::runtime_error(NatsError("nats options", s));

  auto handle = std::make_unique<NatsHandle>();
  s = natsConnection_Connect(&handle->conn_, raw);
  if (s == NATS_NOT_YET_CONNECTED && keep_trying) s = NATS_OK;
  if (s != NATS_OK) {
    throw std::runtime_error(NatsError("cannot connect to " + url, s));
  }
  jsOptions defaults;
  if (js_options == nullptr) {
    jsOptions_Init(&defaults);
    js_options = &defaults;
  }
  s = natsConnection_JetStream(&handle->js_, handle->conn_, const_cast<jsOptions*>(js_options));
  if (s != NATS_OK) throw std::runtime_error(NatsError("jetstream context", s));
  return handle;
}

std::string NatsError(std::string_view what, natsStatus s) {
  std::string text(what);
  text += ": ";
  text += natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && text.find(last) == std::string::npos) {
    text += ": ";
    text += last;
  }
  return text;
}

void AssignHeaderValue(std::string& out, std::string_view value) {
  out.assign(value);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
}

std::string HeaderValue(std::string_view value) {
  std::string out;
  AssignHeaderValue(out, value);
  return out;
}

std::map<std::string, std::string> Headers(natsMsg* msg) {
  std::map<std::string, std::string> headers;
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) != NATS_OK) return headers;
  for (int i = 0; i < count; ++i) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK && value != nullptr) {
      headers[keys[i]] = value;
    }
  }
  free(keys);
  return headers;
}

}  // namespace cppsvc::events::internal
