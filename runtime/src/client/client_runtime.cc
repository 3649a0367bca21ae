#include <thread>

#include <grpcpp/alarm.h>

#include "cppsvc/impl/client.h"
#include "cppsvc/limits.h"
#include "cppsvc/observability/trace.h"

namespace cppsvc::impl {
namespace {

// How long an attempt waits for a replica's connection before giving up on it.
constexpr std::chrono::milliseconds kConnectWait{250};

// A token every server would refuse is not sent: the call fails here, and a
// channel shared with other callers (a gateway's, say) never carries it.
Status RefuseOversizedToken(const Headers& headers) {
  constexpr size_t kScheme = std::string_view("Bearer ").size();
  for (const auto& [name, value] : headers) {
    if (name != "authorization" || value.size() <= kScheme + limits::kMaxTokenBytes) continue;
    return {StatusCode::kUnauthenticated,
            "token too large: " + std::to_string(value.size() - kScheme) + " bytes, the limit is " +
                std::to_string(limits::kMaxTokenBytes) + " (not sent)"};
  }
  return Status::Ok();
}

}  // namespace

struct ClientRuntime::Target {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<resilience::CircuitBreaker> breaker;
};

bool CountsAsFailure(StatusCode code) {
  switch (code) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kInternal:
    case StatusCode::kUnknown:
    case StatusCode::kResourceExhausted:
    case StatusCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

namespace {

// A target that names several replicas itself (dns:///name whose records are
// the replicas, re-resolved as they come and go; ipv4:a:p,b:p) is balanced
// round robin by gRPC within its one channel; gRPC's default would send
// every call to one of its addresses.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address, grpc::ChannelArguments args) {
  for (const char* scheme : {"dns:", "ipv4:", "ipv6:"}) {
    if (address.rfind(scheme, 0) == 0) args.SetLoadBalancingPolicyName("round_robin");
  }
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

ClientRuntime::ClientRuntime(std::string service, ClientOptions options)
    : service_(std::move(service)),
      options_(std::move(options)),
      budget_(options_.retry_budget_ratio) {
  grpc::ChannelArguments args;
  // Retries are ours (idempotent RPCs only, with a budget); reconnect fast
  // so a replica that comes back is used again soon.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Responses' metadata, bounded like the servers' (cppsvc/limits.h).
  args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, limits::kMaxMetadataBytes);
  for (const std::string& address : options_.addresses) {
    auto target = std::make_unique<Target>();
    target->address = address;
    if (options_.transport == Transport::kGrpc) target->channel = NewChannel(address, args);
    target->breaker = std::make_unique<resilience::CircuitBreaker>(options_.circuit_breaker);
    targets_.push_back(std::move(target));
  }
  if (options_.transport == Transport::kNats) nats_ = ConnectNats(options_);
  if (options_.transport == Transport::kNats && targets_.empty()) {
    // Over NATS the queue group spreads calls; one breaker guards the subject.
    auto target = std::make_unique<Target>();
    target->address = options_.nats_url;
    target->breaker = std::make_unique<resilience::CircuitBreaker>(options_.circuit_breaker);
    targets_.push_back(std::move(target));
  }
}

ClientRuntime::~ClientRuntime() = default;

const std::shared_ptr<grpc::Channel>& ClientRuntime::channel(size_t target) const {
  return targets_.at(target)->channel;
}

Status ClientRuntime::Connect(size_t target, Clock::time_point deadline) {
  const auto& channel = targets_[target]->channel;
  if (channel->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) return Status::Ok();
  // Waiting drives the reconnect: blocking calls that fail fast do not, and a
  // replica that came back would otherwise be noticed only by gRPC's
  // occasional background poll.
  if (channel->WaitForConnected(std::min(deadline, Clock::now() + kConnectWait)))
    return Status::Ok();
  return {StatusCode::kUnavailable, "replica " + targets_[target]->address + " is not reachable"};
}

Status ClientRuntime::Connectable(size_t target) {
  const auto state = targets_[target]->channel->GetState(/*try_to_connect=*/true);
  if (state != GRPC_CHANNEL_TRANSIENT_FAILURE && state != GRPC_CHANNEL_SHUTDOWN)
    return Status::Ok();
  return {StatusCode::kUnavailable, "replica " + targets_[target]->address + " is not reachable"};
}

resilience::CircuitState ClientRuntime::circuit_state(size_t target) const {
  return targets_.at(target)->breaker->state();
}

void ClientRuntime::Publish(size_t target) const {
  if (options_.metrics) {
    options_.metrics->SetCircuitState(service_ + "@" + targets_[target]->address,
                                      static_cast<int>(targets_[target]->breaker->state()));
  }
}

size_t ClientRuntime::Pick(std::vector<bool>& tried) {
  const size_t n = targets_.size();
  const size_t start = next_.fetch_add(1);
  // Untried replicas first (a retry goes elsewhere), then any that allows.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t k = 0; k < n; ++k) {
      size_t i = (start + k) % n;
      if (pass == 0 && tried[i]) continue;
      if (targets_[i]->breaker->Allow()) {
        tried[i] = true;
        return i;
      }
    }
  }
  return n;
}

Headers ClientRuntime::MakeHeaders(const CallOptions& call) const {
  Headers headers;
  std::string token = call.bearer_token;
  if (token.empty() && options_.propagate_token && call.parent != nullptr)
    token = call.parent->bearer_token();
  if (token.empty()) token = options_.bearer_token;
  if (!token.empty()) headers.emplace_back("authorization", "Bearer " + token);
  // The served call's trace continues in a span of its own, or a trace starts.
  std::string trace_id, traceparent;
  observability::ContinueOrStart(call.parent != nullptr
                                     ? std::optional<std::string_view>(call.parent->traceparent())
                                     : std::nullopt,
                                 trace_id,
                                 traceparent);
  headers.emplace_back("traceparent", std::move(traceparent));
  if (!call.forwarded_for.empty()) headers.emplace_back("x-forwarded-for", call.forwarded_for);
  return headers;
}

struct ClientRuntime::Plan {
  bool idempotent =
      false;  // the method's (copied: an asynchronous call outlives its caller's spec)
  Clock::time_point deadline;
  Headers headers;
  resilience::RetryConfig retry;
  std::vector<bool> tried;
  Status last{StatusCode::kUnavailable, "no attempt made"};
  int number = 0;  // attempts made
};

Status ClientRuntime::Begin(const ClientMethodSpec& method, const CallOptions& call, Plan& plan) {
  if (targets_.empty()) return {StatusCode::kUnavailable, "no replicas configured for " + service_};
  budget_.OnCall();
  plan.idempotent = method.idempotent;
  plan.deadline = Clock::now() + (call.timeout ? *call.timeout : method.timeout);
  if (call.parent != nullptr && call.parent->deadline() < plan.deadline)
    plan.deadline = call.parent->deadline();
  plan.headers = MakeHeaders(call);
  plan.retry = options_.retry ? *options_.retry : method.retry;
  plan.tried.assign(targets_.size(), false);
  return RefuseOversizedToken(plan.headers);
}

bool ClientRuntime::Next(Plan& plan, size_t& target, Clock::time_point& attempt_deadline) {
  if (Clock::now() >= plan.deadline) {
    if (plan.number == 0)
      plan.last = {StatusCode::kDeadlineExceeded, "deadline exceeded before the call"};
    return false;
  }
  target = Pick(plan.tried);
  if (target == targets_.size()) {
    plan.last = {StatusCode::kUnavailable, "circuit open for every replica of " + service_};
    return false;
  }
  const int number = ++plan.number;
  attempt_deadline = plan.deadline;
  if (options_.transport == Transport::kNats && plan.idempotent &&
      number < plan.retry.max_attempts) {
    // A request taken by a replica that then dies is lost without a word:
    // give each attempt a share of the time so a retry still fits.
    attempt_deadline =
        Clock::now() + (plan.deadline - Clock::now()) / (plan.retry.max_attempts - number + 1);
  }
  return true;
}

std::optional<Clock::duration> ClientRuntime::After(Plan& plan, size_t target, Status status) {
  plan.last = std::move(status);
  targets_[target]->breaker->Record(!CountsAsFailure(plan.last.code()));
  Publish(target);
  if (plan.last.ok()) return std::nullopt;
  if (!resilience::ShouldRetry(plan.retry, plan.idempotent, plan.last.code(), plan.number) ||
      !budget_.TryRetry())
    return std::nullopt;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto wait = resilience::Backoff(plan.retry, plan.number, rng);
  if (Clock::now() + wait >= plan.deadline) return std::nullopt;
  return wait;
}

Status ClientRuntime::Run(const ClientMethodSpec& method,
                          const CallOptions& call,
                          const Attempt& attempt) {
  Plan plan;
  if (Status refused = Begin(method, call, plan); !refused.ok()) return refused;
  size_t target = 0;
  Clock::time_point attempt_deadline;
  while (Next(plan, target, attempt_deadline)) {
    const auto wait = After(plan, target, attempt(target, plan.headers, attempt_deadline));
    if (!wait) break;
    std::this_thread::sleep_for(*wait);
  }
  return plan.last;
}

struct ClientRuntime::AsyncCall {
  ClientRuntime* runtime = nullptr;
  Plan plan;
  AsyncAttempt attempt;
  CallDone done;
  std::unique_ptr<grpc::Alarm> backoff;  // the wait before the next attempt
};

void ClientRuntime::Step(std::shared_ptr<AsyncCall> call) {
  size_t target = 0;
  Clock::time_point attempt_deadline;
  if (!call->runtime->Next(call->plan, target, attempt_deadline))
    return call->done(std::move(call->plan.last));
  AsyncAttempt& attempt = call->attempt;
  const Headers& headers = call->plan.headers;
  attempt(target,
          headers,
          attempt_deadline,
          [call = std::move(call), target](Status status) mutable {
            // Moved out: the callback then holds no reference to the call, which
            // owns the alarm that may hold this callback.
            std::shared_ptr<AsyncCall> self = std::move(call);
            const auto wait = self->runtime->After(self->plan, target, std::move(status));
            if (!wait) return self->done(std::move(self->plan.last));
            self->backoff = std::make_unique<grpc::Alarm>();
            grpc::Alarm& alarm = *self->backoff;
            alarm.Set(Clock::now() + *wait,
                      [self = std::move(self)](bool) mutable { Step(std::move(self)); });
          });
}

void ClientRuntime::RunAsync(const ClientMethodSpec& method,
                             const CallOptions& call,
                             AsyncAttempt attempt,
                             CallDone done) {
  auto async = std::make_shared<AsyncCall>();
  async->runtime = this;
  if (Status refused = Begin(method, call, async->plan); !refused.ok())
    return done(std::move(refused));
  async->attempt = std::move(attempt);
  async->done = std::move(done);
  Step(std::move(async));
}

}  // namespace cppsvc::impl
