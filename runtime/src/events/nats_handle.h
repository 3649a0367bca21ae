// NATS connections and JetStream contexts of the events runtime, owned by
// RAII handles.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace cppsvc::events::internal {

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

// A connection and its JetStream context; destroys both.
class NatsHandle {
 public:
  NatsHandle() = default;
  ~NatsHandle();
  NatsHandle(const NatsHandle&) = delete;
  NatsHandle& operator=(const NatsHandle&) = delete;

  natsConnection* conn() const { return conn_; }
  jsCtx* js() const { return js_; }
  bool connected() const;

 private:
  friend std::unique_ptr<NatsHandle> ConnectNats(const std::string&,
                                                 const std::string&,
                                                 bool,
                                                 const jsOptions*);
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
};

// Connects to `url` (reconnecting forever once connected). With
// `keep_trying`, a server that is down now is retried in the background and
// the handle is returned at once; otherwise the connect failure throws
// std::runtime_error. `js_options` may be null.
std::unique_ptr<NatsHandle> ConnectNats(const std::string& url,
                                        const std::string& name,
                                        bool keep_trying,
                                        const jsOptions* js_options);

// "what: <status text>[: <last error>]" for a failed nats.c call.
std::string NatsError(std::string_view what, natsStatus s);

// Header values may not hold line breaks: `value` with each one made a space.
std::string HeaderValue(std::string_view value);
// The same into `out`, reusing its buffer (for a header per message).
void AssignHeaderValue(std::string& out, std::string_view value);

// Every header of `msg` (the first value of each key).
std::map<std::string, std::string> Headers(natsMsg* msg);

// Milliseconds as the nanoseconds JetStream configurations count in.
inline int64_t Nanos(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

}  // namespace cppsvc::events::internal
