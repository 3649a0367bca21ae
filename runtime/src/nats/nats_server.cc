// NATS request-reply transport, server side: every route is a queue
// subscription on "cppsvc.<service>.<Method>" whose messages go through the
// same ServiceRuntime pipeline as gRPC calls.
#include "cppsvc/impl/nats_server.h"

#include <nats/nats.h>

#include <charconv>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "cppsvc/observability/log.h"

namespace cppsvc::impl {

namespace {

constexpr auto kDrainWait = std::chrono::seconds(5);

void Check(natsStatus s, std::string_view what) {
  if (s != NATS_OK) throw std::runtime_error(std::string(what) + ": " + natsStatus_GetText(s));
}

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

// Header values may not hold line breaks.
std::string HeaderValue(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

// The request's metadata, read from its NATS headers.
class NatsCall final : public IncomingCall {
 public:
  explicit NatsCall(natsMsg* msg) : msg_(msg) {
    std::optional<std::string_view> timeout = Metadata("cppsvc-timeout-ms");
    if (!timeout) return;
    long long ms = 0;
    const char* end = timeout->data() + timeout->size();
    auto [ptr, ec] = std::from_chars(timeout->data(), end, ms);
    if (ec == std::errc() && ptr == end && ms >= 0)
      deadline_ = Clock::now() + std::chrono::milliseconds(ms);
  }

  std::optional<std::string_view> Metadata(std::string_view key) const override {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg_, std::string(key).c_str(), &value) != NATS_OK || value == nullptr) {
      return std::nullopt;
    }
    return std::string_view(value);
  }
  std::optional<Clock::time_point> Deadline() const override { return deadline_; }
  std::string Peer() const override { return "nats"; }
  bool IdentifiesPeers() const override { return false; }
  std::string_view Transport() const override { return "nats"; }

 private:
  natsMsg* msg_;
  std::optional<Clock::time_point> deadline_;
};

}  // namespace

std::string NatsSubject(std::string_view service, std::string_view method) {
  std::string subject = "cppsvc.";
  subject += service;
  subject += '.';
  subject += method;
  return subject;
}

// Everything a subscription callback or a pending reply touches. Shared by
// the server and every call in flight, so a late reply never sees freed
// memory; the connection is destroyed with the last owner.
struct NatsServerState : std::enable_shared_from_this<NatsServerState> {
  struct Route {
    NatsServerState* state = nullptr;
    NatsRoute route;
    std::string subject;
    natsSubscription* sub = nullptr;
  };

  ServiceRuntime* runtime = nullptr;
  natsConnection* conn = nullptr;
  std::vector<std::unique_ptr<Route>> routes;

  std::mutex mu;
  std::condition_variable cv;
  size_t open_subs = 0;  // subscriptions whose callback may still run
  size_t in_flight = 0;  // dispatched calls not answered yet

  ~NatsServerState() {
    for (auto& r : routes) {
      if (r->sub != nullptr) natsSubscription_Destroy(r->sub);
    }
    if (conn != nullptr) {
      natsConnection_Close(conn);
      natsConnection_Destroy(conn);
    }
  }

  void Reply(const std::string& subject, const Status& status, const Message* response) {
    std::string payload;
    Status sent = status;
    if (sent.ok() && response != nullptr && !response->SerializeToString(&payload)) {
      payload.clear();
      sent = Status(StatusCode::kInternal, "response could not be serialized");
    }
    natsMsg* raw = nullptr;
    if (natsMsg_Create(&raw,
                       subject.c_str(),
                       nullptr,
                       payload.data(),
                       static_cast<int>(payload.size())) != NATS_OK) {
      return;
    }
    MsgPtr reply(raw);
    natsMsgHeader_Set(reply.get(),
                      "cppsvc-status",
                      std::to_string(static_cast<int>(sent.code())).c_str());
    if (!sent.message().empty()) {
      natsMsgHeader_Set(reply.get(), "cppsvc-message", HeaderValue(sent.message()).c_str());
    }
    // Fails only once the connection is closed (a reply after Stop gave up).
    natsStatus s = natsConnection_PublishMsg(conn, reply.get());
    if (s != NATS_OK && s != NATS_CONNECTION_CLOSED) {
      observability::LogJson({{"level", "warn"},
                              {"msg", "nats reply failed"},
                              {"service", runtime->options().service},
                              {"error", natsStatus_GetText(s)}});
    }
  }

  void Answered() {
    std::lock_guard<std::mutex> lock(mu);
    if (--in_flight == 0) cv.notify_all();
  }

  static void OnComplete(void* closure) {
    auto* state = static_cast<NatsServerState*>(closure);
    std::lock_guard<std::mutex> lock(state->mu);
    if (--state->open_subs == 0) state->cv.notify_all();
  }

  static void OnMessage(natsConnection*, natsSubscription*, natsMsg* raw, void* closure) {
    MsgPtr msg(raw);
    auto* route = static_cast<Route*>(closure);
    try {
      route->state->Handle(*route, msg.get());
    } catch (const std::exception& e) {
      observability::LogJson({{"level", "error"},
                              {"msg", "nats request failed"},
                              {"subject", route->subject},
                              {"error", e.what()}});
    } catch (...) {
      observability::LogJson(
          {{"level", "error"}, {"msg", "nats request failed"}, {"subject", route->subject}});
    }
  }

  void Handle(Route& route, natsMsg* msg) {
    const char* reply_to = natsMsg_GetReply(msg);
    if (reply_to == nullptr || *reply_to == '\0') return;  // not a request
    std::string reply_subject(reply_to);

    std::shared_ptr<Message> request(route.route.new_request());
    std::shared_ptr<Message> response(route.route.new_response());
    if (!request->ParseFromArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg))) {
      // Counted and logged like any call.
      runtime->Refuse(NatsCall(msg),
                      *route.route.method,
                      InvalidRequest(request->GetDescriptor()->full_name()),
                      [&](const Status& status) { Reply(reply_subject, status, nullptr); });
      return;
    }

    {
      std::lock_guard<std::mutex> lock(mu);
      ++in_flight;
    }
    std::shared_ptr<NatsServerState> self = shared_from_this();
    NatsCall call(msg);
    runtime->Dispatch(
        call,
        *route.route.method,
        *request,
        *response,
        // The reply callback below keeps the state, request and response
        // alive until after the handler: plain pointers do here, and keep
        // the handler in place (see Handler).
        [&route, request = request.get(), response = response.get()](CallContext& ctx) {
          return route.route.invoke(ctx, *request, *response);
        },
        [self, reply_subject = std::move(reply_subject), request, response](const Status& status) {
          self->Reply(reply_subject, status, response.get());
          self->Answered();
        });
  }
};

struct NatsServer::Impl {
  ServiceRuntime& runtime;
  std::string url;
  std::vector<NatsRoute> routes;
  mutable std::mutex mu;
  std::shared_ptr<NatsServerState> state;
};

NatsServer::NatsServer(ServiceRuntime& runtime, std::string url, std::vector<NatsRoute> routes)
    : impl_(new Impl{runtime, std::move(url), std::move(routes), {}, nullptr}) {}

NatsServer::~NatsServer() {
  Stop();
}

namespace {

// Stops delivery, waits (bounded) for callbacks and pending replies, then
// closes the connection.
void Shutdown(const std::shared_ptr<NatsServerState>& state, const std::string& service) {
  const auto deadline = std::chrono::steady_clock::now() + kDrainWait;
  // No new requests; the ones already delivered are still dispatched.
  for (auto& r : state->routes) {
    if (r->sub != nullptr && natsSubscription_Drain(r->sub) != NATS_OK)
      natsSubscription_Unsubscribe(r->sub);
  }
  {
    std::unique_lock<std::mutex> lock(state->mu);
    state->cv.wait_until(lock, deadline, [&] { return state->open_subs == 0; });
    state->cv.wait_until(lock, deadline, [&] { return state->in_flight == 0; });
  }
  // Closing ends every subscription that is left; late replies (past the
  // wait) find the connection closed and are dropped.
  if (natsConnection_Status(state->conn) == NATS_CONN_STATUS_CONNECTED) {
    natsConnection_FlushTimeout(state->conn, 1000);
  }
  natsConnection_Close(state->conn);
  bool callbacks_done;
  {
    std::unique_lock<std::mutex> lock(state->mu);
    callbacks_done =
        state->cv.wait_for(lock, std::chrono::seconds(1), [&] { return state->open_subs == 0; });
  }
  if (!callbacks_done) {
    // A callback may still be running on a NATS thread: keep what it uses.
    observability::LogJson({{"level", "warn"},
                            {"msg", "nats subscriptions did not close in time"},
                            {"service", service}});
    static_cast<void>(new std::shared_ptr<NatsServerState>(state));  // deliberately leaked
  }
}

// A connection named after `service` that reconnects for ever.
natsConnection* Connect(const std::string& url, const std::string& service) {
  natsOptions* raw_opts = nullptr;
  Check(natsOptions_Create(&raw_opts), "nats options");
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> opts(raw_opts, natsOptions_Destroy);
  Check(natsOptions_SetURL(opts.get(), url.c_str()), "nats url " + url);
  Check(natsOptions_SetName(opts.get(), ("cppsvc-" + service).c_str()), "nats name");
  Check(natsOptions_SetSendAsap(opts.get(), true), "nats send-asap");
  Check(natsOptions_SetAllowReconnect(opts.get(), true), "nats reconnect");
  Check(natsOptions_SetMaxReconnect(opts.get(), -1), "nats max reconnect");
  Check(natsOptions_SetReconnectWait(opts.get(), 250), "nats reconnect wait");
  Check(natsOptions_SetTimeout(opts.get(), 2000), "nats connect timeout");
  natsConnection* conn = nullptr;
  natsStatus s = natsConnection_Connect(&conn, opts.get());
  if (s != NATS_OK)
    throw std::runtime_error("nats connect to " + url + ": " + natsStatus_GetText(s));
  return conn;
}

// Subscribes `r` in the service's queue group; the subscription is counted
// open until its completion callback.
void Subscribe(const std::shared_ptr<NatsServerState>& state,
               const NatsRoute& r,
               const std::string& service) {
  if (r.method == nullptr || !r.new_request || !r.new_response || !r.invoke)
    throw std::runtime_error("nats: incomplete route");
  auto route = std::make_unique<NatsServerState::Route>();
  route->state = state.get();
  route->route = r;
  route->subject = NatsSubject(service, r.method->name);
  NatsServerState::Route* closure = route.get();
  state->routes.push_back(std::move(route));
  natsStatus s = natsConnection_QueueSubscribe(&closure->sub,
                                               state->conn,
                                               closure->subject.c_str(),
                                               service.c_str(),
                                               &NatsServerState::OnMessage,
                                               closure);
  if (s != NATS_OK) {
    closure->sub = nullptr;
    throw std::runtime_error("nats subscribe " + closure->subject + ": " + natsStatus_GetText(s));
  }
  {
    std::lock_guard<std::mutex> state_lock(state->mu);
    ++state->open_subs;
  }
  s = natsSubscription_SetOnCompleteCB(closure->sub, &NatsServerState::OnComplete, state.get());
  if (s != NATS_OK) {
    // Closed already (the connection went away): nothing will call back.
    {
      std::lock_guard<std::mutex> state_lock(state->mu);
      --state->open_subs;
    }
    throw std::runtime_error("nats subscribe " + closure->subject + ": " + natsStatus_GetText(s));
  }
}

}  // namespace

void NatsServer::Start() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->state) return;
  const std::string& service = impl_->runtime.options().service;
  if (service.empty()) throw std::runtime_error("nats: the service name (queue group) is empty");
  auto state = std::make_shared<NatsServerState>();
  state->runtime = &impl_->runtime;
  state->conn = Connect(impl_->url, service);
  try {
    for (const NatsRoute& r : impl_->routes) Subscribe(state, r, service);
    // The subscriptions reach the server before Start returns.
    Check(natsConnection_FlushTimeout(state->conn, 5000), "nats flush");
  } catch (...) {
    Shutdown(state, service);
    throw;
  }
  impl_->state = std::move(state);
}

void NatsServer::Stop() {
  std::shared_ptr<NatsServerState> state;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    state = std::move(impl_->state);
  }
  if (state) Shutdown(state, impl_->runtime.options().service);
}

bool NatsServer::connected() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->state && natsConnection_Status(impl_->state->conn) == NATS_CONN_STATUS_CONNECTED;
}

}  // namespace cppsvc::impl
