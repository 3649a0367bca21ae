// Server benchmark: the generated BenchServiceServer, with authentication
// (HS256 JWT), RBAC, validation, metrics and request logging on, against a
// hand-written minimal grpc++ callback server for the same contract and the
// same handler logic, driven by one load client in this process.
//
//   server_bench [--rounds N] [--seconds S] [--slice S] [--warmup S] [--inflight N]
//                [--channels N] [--rate-fraction F] [--workers N] [--worker-spin-us N]
//                [--only ours|baseline] [--keep-stderr] [--hop-baseline] [--no-open]
//                [--baseline-twice]
//                [--ours-without log|metrics|log,metrics]
//                [--handlers contract|inline|workers] [--senders N]
//                [--absl-deadlock-detection] [--nats-url URL]
//
// Phases, every one run against each server for --seconds per round, in
// slices of --slice seconds (default 0.2) that alternate between the
// servers, so that both meet the same moods of a shared machine; a phase's
// figures pool all its slices:
//   warm-up   closed loop, --warmup seconds per server, not counted;
//   closed    --inflight calls always in flight: QPS (the capacity of
//             client + server on this machine) and process CPU time per
//             call;
//   open      a fixed rate of --rate-fraction x the baseline's open-loop
//             capacity (see main): latency from each call's *scheduled*
//             send time to its completion (no coordinated omission); a
//             failed call counts as slower than any answer.
// Then, for ours, the CPU time of each pipeline step on its own
// (piece_* keys): where the difference to the baseline goes.
//
// Request logs go to stderr, which is pointed at /dev/null once the servers
// run (the logging cost is paid, the terminal is not flooded); progress goes
// to the original stderr. Results go to stdout as `key<TAB>value...` lines
// for bench/server_bench.sh. Exits non-zero when a check fails.
//
// --baseline-twice (diagnosis) puts a second hand-written server in ours'
// place: the ratios then show how far the harness alone spreads them.
//
// --hop-baseline (diagnosis) also times the baseline's handler run on a
// bulkhead worker and answered from there, as the generated server does.
//
// NATS request-reply (when --nats-url is given): the generated server's NATS
// transport (same pipeline, queue group, SendAsap) against a hand-written
// nats.c responder running the same handler logic, both called by the same
// raw nats.c requester one call at a time, rounds interleaved: p50 and p99
// latency per call.
//
// --handlers: where ours runs its handlers. `contract` (the default) does
// what the generated main() does by default, as the contract says
// (bench.proto sets inline_handlers: the handler runs on gRPC's thread when
// a bulkhead slot is free); `workers` hands every call to a bulkhead worker,
// as services whose handlers may block do; `inline` forces the former.
//
// --senders N: threads sending the open loop's calls (default 1).
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <nats/nats.h>

#include "benchsvc/v1/bench.cppsvc.server.h"
#include "benchsvc/v1/bench.cppsvc.validate.h"
#include "benchsvc/v1/bench.grpc.pb.h"
#include "cppsvc/auth/jwt.h"
#include "cppsvc/auth/rbac.h"
#include "cppsvc/impl/main.h"
#include "cppsvc/impl/nats_server.h"
#include "cppsvc/observability/log.h"
#include "cppsvc/observability/metrics.h"
#include "cppsvc/observability/trace.h"
#include "cppsvc/resilience/bulkhead.h"

namespace {

using benchsvc::v1::BenchService;
using benchsvc::v1::EchoRequest;
using benchsvc::v1::EchoResponse;
using SteadyClock = std::chrono::steady_clock;

FILE* progress = stderr;  // the original stderr, once fd 2 is /dev/null

// Failed calls during timing, by server (0 baseline, 1 ours) and gRPC code.
std::atomic<uint64_t> failures[2][17];

void CountFailure(int server, const grpc::Status& status) {
  if (server > 1) return;
  int code = static_cast<int>(status.error_code());
  failures[server][code >= 0 && code < 17 ? code : 2].fetch_add(1, std::memory_order_relaxed);
}

template <typename... Args>
void Progress(const char* fmt, Args... args) {
  std::fprintf(progress, "server_bench: ");
  std::fprintf(progress, fmt, args...);
  std::fprintf(progress, "\n");
  std::fflush(progress);
}

[[noreturn]] void Fail(const std::string& what) {
  std::printf("error\t%s\n", what.c_str());
  std::fflush(stdout);
  Progress("FAILED: %s", what.c_str());
  std::exit(1);
}

// --- the handler logic, shared by both servers ------------------------------

void EchoLogic(const EchoRequest& request, EchoResponse& response) {
  response.set_id(request.id());
  response.set_payload(request.payload());
  response.set_n(request.n());
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : request.payload()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= static_cast<uint32_t>(request.n());
  h *= 1099511628211ULL;
  response.set_checksum(h);
}

// Ours: the generated server calls this after its pipeline.
class Handlers final : public benchsvc::v1::BenchServiceBase {
 public:
  cppsvc::Status Echo(cppsvc::CallContext&,
                      const EchoRequest& request,
                      EchoResponse& response) override {
    EchoLogic(request, response);
    return cppsvc::Status::Ok();
  }
};

// The baseline: what one would write by hand with grpc++ alone.
class BaselineService final : public BenchService::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const EchoRequest* request,
                                 EchoResponse* response) override {
    EchoLogic(*request, *response);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// Diagnosis only (--hop-baseline): the baseline's handler run on a bulkhead
// worker, answering from there, as the generated server does: what the
// thread hop alone costs.
class HopBaselineService final : public BenchService::CallbackService {
 public:
  explicit HopBaselineService(size_t workers) : bulkhead_(workers, workers * 8) {}
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const EchoRequest* request,
                                 EchoResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (!bulkhead_.TrySubmit([reactor, request, response] {
          EchoLogic(*request, *response);
          reactor->Finish(grpc::Status::OK);
        })) {
      reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "server overloaded"));
    }
    return reactor;
  }

 private:
  cppsvc::resilience::Bulkhead bulkhead_;
};

std::unique_ptr<grpc::Server> Start(grpc::Service* service, int& port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) Fail("could not start a server on 127.0.0.1");
  return server;
}

// --- the load client --------------------------------------------------------

struct Target {
  std::string name;
  int id = 0;                                              // 0 baseline, 1 ours
  std::vector<std::unique_ptr<BenchService::Stub>> stubs;  // one per channel (connection)
};

Target Connect(const std::string& name, int id, int port, int channels) {
  Target t{name, id, {}};
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    // A connection of its own per channel, not one shared subchannel.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("cppsvc.bench.channel", i);
    auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                             grpc::InsecureChannelCredentials(),
                                             args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5))) {
      Fail("could not connect to " + name);
    }
    t.stubs.push_back(BenchService::NewStub(channel));
  }
  return t;
}

struct LoadConfig {
  std::string bearer;  // "Bearer <jwt>"; sent to both servers
  EchoRequest request;
};

// Every timed call: the token, and a 1 s deadline, so that an overloaded
// server's backlog fails fast instead of spilling into the next phase.
void Prepare(grpc::ClientContext& ctx, const LoadConfig& cfg) {
  ctx.AddMetadata("authorization", cfg.bearer);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// What closed-loop slices of one server add up to.
struct ClosedResult {
  uint64_t calls = 0;  // answered
  uint64_t errors = 0;
  double seconds = 0;      // timed wall time
  double cpu_seconds = 0;  // the whole process: client and server
  double qps() const { return seconds > 0 ? static_cast<double>(calls) / seconds : 0; }
  double cpu_us_per_call() const {
    return calls > 0 ? cpu_seconds * 1e6 / static_cast<double>(calls) : 0;
  }
  void Add(const ClosedResult& o) {
    calls += o.calls;
    errors += o.errors;
    seconds += o.seconds;
    cpu_seconds += o.cpu_seconds;
  }
};

// `inflight` calls always outstanding for `seconds`, timed after `ramp`.
ClosedResult ClosedLoop(Target& target,
                        const LoadConfig& cfg,
                        int inflight,
                        double seconds,
                        double ramp) {
  struct Shared {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> ok{0}, errors{0};
    std::mutex mu;
    std::condition_variable cv;
    int outstanding = 0;
  } shared;
  struct Slot {
    std::unique_ptr<grpc::ClientContext> ctx;
    EchoResponse response;
    BenchService::Stub* stub = nullptr;
  };
  std::vector<Slot> slots(static_cast<size_t>(inflight));

  // Issues the next call of a slot; the completion re-issues until stop.
  std::function<void(Slot&)> issue = [&](Slot& slot) {
    slot.ctx = std::make_unique<grpc::ClientContext>();
    Prepare(*slot.ctx, cfg);
    slot.response.Clear();
    slot.stub->async()->Echo(slot.ctx.get(),
                             &cfg.request,
                             &slot.response,
                             [&](grpc::Status status) {
                               if (status.ok()) {
                                 shared.ok.fetch_add(1, std::memory_order_relaxed);
                               } else {
                                 shared.errors.fetch_add(1, std::memory_order_relaxed);
                                 CountFailure(target.id, status);
                               }
                               if (!shared.stop.load(std::memory_order_relaxed)) {
                                 issue(slot);
                                 return;
                               }
                               std::lock_guard<std::mutex> lock(shared.mu);
                               if (--shared.outstanding == 0) shared.cv.notify_all();
                             });
  };

  shared.outstanding = inflight;
  for (size_t i = 0; i < slots.size(); ++i) {
    slots[i].stub = target.stubs[i % target.stubs.size()].get();
    issue(slots[i]);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(ramp));
  const uint64_t ok0 = shared.ok.load(), err0 = shared.errors.load();
  const double cpu0 = CpuSeconds();
  const auto t0 = SteadyClock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t ok1 = shared.ok.load(), err1 = shared.errors.load();
  const double cpu1 = CpuSeconds();
  const auto t1 = SteadyClock::now();
  shared.stop = true;
  {
    std::unique_lock<std::mutex> lock(shared.mu);
    shared.cv.wait(lock, [&] { return shared.outstanding == 0; });
  }
  ClosedResult r;
  r.calls = ok1 - ok0;
  r.errors = err1 - err0;
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  r.cpu_seconds = cpu1 - cpu0;
  return r;
}

// What open-loop slices of one server add up to: every call's latency.
struct OpenSamples {
  std::vector<double> ok_us;   // latency of each answered call
  std::vector<double> lag_us;  // how late each call was sent: the harness's own share
  uint64_t errors = 0;
  double scheduled_seconds = 0;  // the schedules' lengths
  double wall_seconds = 0;       // until the last answer
  double cpu_seconds = 0;        // the whole process: client and server
  void Add(const OpenSamples& o) {
    ok_us.insert(ok_us.end(), o.ok_us.begin(), o.ok_us.end());
    lag_us.insert(lag_us.end(), o.lag_us.begin(), o.lag_us.end());
    errors += o.errors;
    scheduled_seconds += o.scheduled_seconds;
    wall_seconds += o.wall_seconds;
    cpu_seconds += o.cpu_seconds;
  }
};

struct OpenResult {
  double p50_us = 0, p99_us = 0, max_us = 0;
  double p90_us = 0, p95_us = 0, p999_us = 0;  // the shape of the tail
  double achieved = 0;                         // answered calls per second of schedule
  double lag_p99_us = 0;                       // how late the senders were, p99 and max:
  double lag_max_us = 0;                       // the harness's own share of the latency
  double cores_busy = 0;                       // process CPU time / wall time: client and server
  double cpu_us_per_call = 0;                  // process CPU time per sent call
  uint64_t errors = 0;
};

// Percentiles over all the samples. Failed calls count as slower than every
// answer (a refused call is no faster for its caller): when they reach a
// percentile it is "failed", -1.
OpenResult Summarize(OpenSamples s) {
  std::sort(s.ok_us.begin(), s.ok_us.end());
  std::sort(s.lag_us.begin(), s.lag_us.end());
  OpenResult r;
  const size_t sent = s.ok_us.size() + static_cast<size_t>(s.errors);
  auto percentile = [&](double q) {
    if (sent == 0) return 0.0;
    size_t rank =
        std::clamp<size_t>(static_cast<size_t>(std::ceil(q * static_cast<double>(sent))), 1, sent);
    return rank <= s.ok_us.size() ? s.ok_us[rank - 1] : -1.0;
  };
  r.p50_us = percentile(0.50);
  r.p99_us = percentile(0.99);
  r.p90_us = percentile(0.90);
  r.p95_us = percentile(0.95);
  r.p999_us = percentile(0.999);
  r.max_us = s.ok_us.empty() ? 0 : s.ok_us.back();
  r.achieved =
      s.scheduled_seconds > 0 ? static_cast<double>(s.ok_us.size()) / s.scheduled_seconds : 0;
  r.errors = s.errors;
  r.cores_busy = s.wall_seconds > 0 ? s.cpu_seconds / s.wall_seconds : 0;
  r.cpu_us_per_call = sent > 0 ? s.cpu_seconds * 1e6 / static_cast<double>(sent) : 0;
  if (!s.lag_us.empty()) {
    r.lag_p99_us =
        s.lag_us[std::min(s.lag_us.size() - 1,
                          static_cast<size_t>(0.99 * static_cast<double>(s.lag_us.size())))];
    r.lag_max_us = s.lag_us.back();
  }
  return r;
}

// Calls sent at a fixed `rate` for `seconds`, whatever the answers do; each
// latency runs from the call's scheduled send time. Returns once every call
// is answered. `senders` threads share the schedule (call i is sent by
// thread i % senders), so one sender that the scheduler leaves waiting holds
// back only its own share, and the calls it owes go out at once when it runs
// again.
OpenSamples OpenLoop(Target& target,
                     const LoadConfig& cfg,
                     double rate,
                     double seconds,
                     int senders) {
  const size_t total = static_cast<size_t>(rate * seconds);
  struct Call {
    grpc::ClientContext ctx;
    EchoResponse response;
    SteadyClock::time_point scheduled;
    size_t index;
  };
  std::vector<double> latency_us(total, -1);
  std::vector<double> lag_us(total, 0);
  std::atomic<uint64_t> errors{0};
  std::mutex mu;
  std::condition_variable cv;
  size_t outstanding = total;  // every call completes exactly once

  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const auto t0 = SteadyClock::now() + std::chrono::milliseconds(5);
  const double cpu0 = CpuSeconds();
  auto send = [&](int first) {
    for (size_t i = static_cast<size_t>(first); i < total; i += static_cast<size_t>(senders)) {
      const auto scheduled =
          t0 + std::chrono::duration_cast<SteadyClock::duration>(interval * static_cast<double>(i));
      if (SteadyClock::now() < scheduled) std::this_thread::sleep_until(scheduled);
      auto* call = new Call;
      call->scheduled = scheduled;
      call->index = i;
      Prepare(call->ctx, cfg);
      lag_us[i] = std::chrono::duration<double, std::micro>(SteadyClock::now() - scheduled).count();
      target.stubs[i % target.stubs.size()]->async()->Echo(
          &call->ctx,
          &cfg.request,
          &call->response,
          [&, call](grpc::Status status) {
            const auto done = SteadyClock::now();
            if (status.ok()) {
              latency_us[call->index] =
                  std::chrono::duration<double, std::micro>(done - call->scheduled).count();
            } else {
              errors.fetch_add(1, std::memory_order_relaxed);
              CountFailure(target.id, status);
            }
            delete call;
            std::lock_guard<std::mutex> lock(mu);
            if (--outstanding == 0) cv.notify_all();
          });
    }
  };
  std::vector<std::thread> threads;
  for (int k = 0; k < senders; ++k) threads.emplace_back(send, k);
  for (auto& t : threads) t.join();
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return outstanding == 0; });
  }
  OpenSamples r;
  r.wall_seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  r.cpu_seconds = CpuSeconds() - cpu0;
  r.scheduled_seconds = seconds;
  r.errors = errors.load();
  r.ok_us.reserve(total);
  for (double v : latency_us) {
    if (v >= 0) r.ok_us.push_back(v);
  }
  r.lag_us = std::move(lag_us);
  return r;
}

// --- checks -----------------------------------------------------------------

grpc::Status CallOnce(Target& target,
                      const std::string& bearer,
                      const EchoRequest& request,
                      EchoResponse& response) {
  grpc::ClientContext ctx;
  if (!bearer.empty()) ctx.AddMetadata("authorization", bearer);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return target.stubs[0]->Echo(&ctx, request, &response);
}

void Expect(Target& target,
            const std::string& what,
            const std::string& bearer,
            const EchoRequest& request,
            grpc::StatusCode want) {
  EchoResponse response;
  grpc::Status got = CallOnce(target, bearer, request, response);
  if (got.error_code() != want) {
    Fail(target.name + ": " + what + ": expected status " + std::to_string(want) + ", got " +
         std::to_string(got.error_code()) + " (" + got.error_message() + ")");
  }
}

// --- the pipeline's pieces, one at a time -----------------------------------

double ThreadCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// CPU time of this thread per call of `f`, in microseconds (not disturbed by
// other load on the machine, unlike wall time).
template <typename F>
double PerCallUs(int n, F&& f) {
  for (int i = 0; i < n / 10 + 1; ++i) f();  // warm
  const double t0 = ThreadCpuUs();
  for (int i = 0; i < n; ++i) f();
  return (ThreadCpuUs() - t0) / n;
}

// A call as the generated server's pipeline sees it, without gRPC: the
// token in its metadata, no deadline of its own.
class PipelineCall final : public cppsvc::impl::IncomingCall {
 public:
  explicit PipelineCall(std::string_view authorization) : authorization_(authorization) {}
  std::optional<std::string_view> Metadata(std::string_view key) const override {
    if (key == "authorization") return authorization_;
    return std::nullopt;
  }
  std::optional<cppsvc::Clock::time_point> Deadline() const override { return std::nullopt; }
  std::string Peer() const override { return "ipv4:127.0.0.1:1"; }
  std::string_view Transport() const override { return "grpc"; }
  bool MayRunInline() const override { return true; }

 private:
  std::string_view authorization_;
};

// What ours costs around the handler, and each step of it on its own,
// single-threaded: where the difference to the baseline goes. Printed as
// piece_<name><TAB>µs.
void Breakdown(const cppsvc::auth::JwtVerifier& verifier,
               const cppsvc::auth::RoleGraph& roles,
               cppsvc::observability::Metrics& metrics,
               const cppsvc::impl::ServiceOptions& options,
               const LoadConfig& cfg) {
  constexpr int kN = 20000;
  const std::string_view token = std::string_view(cfg.bearer).substr(7);
  size_t sink = 0;
  auto print = [](const char* name, double us) { std::printf("piece_%s\t%.2f\n", name, us); };

  {
    // The whole pipeline of ours around the handler, inline, as one call:
    // what a call costs on top of gRPC and the handler.
    cppsvc::impl::ServiceOptions inline_options = options;
    inline_options.inline_handlers = true;
    const auto& methods = benchsvc::v1::BenchServiceServer::Methods();
    cppsvc::impl::ServiceRuntime runtime(inline_options, methods);
    Handlers handlers;
    PipelineCall call(cfg.bearer);
    EchoResponse response;
    print("pipeline", PerCallUs(kN / 4, [&] {
            response.Clear();
            runtime.Dispatch(
                call,
                *methods.front(),
                cfg.request,
                response,
                [&](cppsvc::CallContext& ctx) { return handlers.Echo(ctx, cfg.request, response); },
                [&](const cppsvc::Status& status) { sink += status.ok(); });
          }));
  }
  print("handler", PerCallUs(kN, [&] {
          EchoResponse r;
          EchoLogic(cfg.request, r);
          sink += r.checksum();
        }));
  print("jwt_verify", PerCallUs(kN / 4, [&] { sink += verifier.Verify(token).ok; }));
  cppsvc::Caller caller = verifier.Verify(token).caller;
  const std::vector<std::string> allowed = {"user"};
  print("rbac", PerCallUs(kN, [&] { sink += roles.Allows(caller, allowed); }));
  print("validate", PerCallUs(kN, [&] {
          cppsvc::impl::Violations v;
          benchsvc::v1::CppsvcValidate(cfg.request, v);
          sink += v.empty();
        }));
  // As the server starts a call's span (the load client sends no traceparent).
  print("trace", PerCallUs(kN, [&] {
          std::array<char, cppsvc::observability::kTraceparentLength> traceparent;
          cppsvc::observability::ContinueOrStart(std::nullopt, traceparent);
          sink += static_cast<size_t>(traceparent[40]);
        }));
  // As the server records a call: the method's series, looked up once.
  cppsvc::observability::MethodMetrics method_metrics(metrics, "Echo");
  print("metrics", PerCallUs(kN, [&] {
          metrics.InFlight(+1);
          method_metrics.Record(0, "OK", "grpc", 0.0002);
          metrics.InFlight(-1);
        }));
  print("request_log", PerCallUs(kN, [&] {
          cppsvc::observability::RequestLog log;
          log.service = "bench";
          log.method = "benchsvc.v1.BenchService/Echo";
          log.code = "OK";
          log.duration = std::chrono::microseconds(180);
          log.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
          log.caller = "bench-user";
          cppsvc::observability::LogRequest(log);
        }));
  {
    // One task handed to a bulkhead worker and waited for: the CPU time of
    // both threads (the worker's read at the start of each task).
    cppsvc::resilience::Bulkhead bulkhead(1, 8);
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    double worker_cpu = 0;
    auto hop = [&] {
      {
        std::lock_guard<std::mutex> lock(mu);
        done = false;
      }
      bulkhead.TrySubmit([&] {
        const double cpu = ThreadCpuUs();
        std::lock_guard<std::mutex> lock(mu);
        worker_cpu = cpu;
        done = true;
        cv.notify_one();
      });
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return done; });
    };
    for (int i = 0; i < 1000; ++i) hop();
    const int n = kN / 4;
    const double worker0 = worker_cpu, caller0 = ThreadCpuUs();
    for (int i = 0; i < n; ++i) hop();
    print("bulkhead_hop", ((worker_cpu - worker0) + (ThreadCpuUs() - caller0)) / n);
  }
  if (sink == 0) std::printf("sink\t0\n");
}

// -1 ("failed") sorts above every value and stays -1 when it is the median.
double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  for (double& x : v) {
    if (x < 0) x = std::numeric_limits<double>::infinity();
  }
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  double m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return std::isinf(m) ? -1 : m;
}

double ArgDouble(int& i, int argc, char** argv) {
  if (i + 1 >= argc) Fail(std::string(argv[i]) + " needs a value");
  char* end = nullptr;
  double v = std::strtod(argv[++i], &end);
  if (end == argv[i] || *end != '\0' || !(v > 0))
    Fail(std::string(argv[i - 1]) + ": not a positive number");
  return v;
}

// --- NATS request-reply ------------------------------------------------------

natsConnection* NatsConnect(const std::string& url) {
  natsOptions* opts = nullptr;
  natsConnection* conn = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
  if (s == NATS_OK) s = natsOptions_SetSendAsap(opts, true);
  if (s == NATS_OK) s = natsConnection_Connect(&conn, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) Fail("nats: cannot connect to " + url + ": " + natsStatus_GetText(s));
  return conn;
}

// The baseline: a minimal hand-written nats.c responder with the same logic.
class BareResponder {
 public:
  BareResponder(const std::string& url, const std::string& subject) : conn_(NatsConnect(url)) {
    natsStatus s =
        natsConnection_QueueSubscribe(&sub_, conn_, subject.c_str(), "bare", &OnMessage, this);
    if (s == NATS_OK) s = natsConnection_Flush(conn_);
    if (s != NATS_OK) Fail(std::string("nats: bare responder: ") + natsStatus_GetText(s));
  }
  ~BareResponder() {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
    natsConnection_Destroy(conn_);
  }

 private:
  static void OnMessage(natsConnection* conn, natsSubscription*, natsMsg* msg, void*) {
    EchoRequest request;
    EchoResponse response;
    std::string out;
    if (request.ParseFromArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg))) {
      EchoLogic(request, response);
      response.SerializeToString(&out);
    }
    natsConnection_Publish(conn, natsMsg_GetReply(msg), out.data(), static_cast<int>(out.size()));
    natsMsg_Destroy(msg);
  }

  natsConnection* conn_ = nullptr;
  natsSubscription* sub_ = nullptr;
};

struct NatsLatency {
  double p50_us = 0, p99_us = 0;
  uint64_t calls = 0, errors = 0;
};

// One call at a time for `seconds`: the latency of each request-reply.
NatsLatency NatsSequential(natsConnection* conn,
                           const std::string& subject,
                           const std::string& bearer,
                           const std::string& payload,
                           double seconds,
                           bool check_status) {
  std::vector<double> us;
  NatsLatency r;
  const auto end = SteadyClock::now() + std::chrono::duration<double>(seconds);
  while (SteadyClock::now() < end) {
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg,
                                  subject.c_str(),
                                  nullptr,
                                  payload.data(),
                                  static_cast<int>(payload.size()));
    if (s == NATS_OK && !bearer.empty())
      s = natsMsgHeader_Set(msg, "authorization", bearer.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, "cppsvc-timeout-ms", "2000");
    const auto start = SteadyClock::now();
    natsMsg* reply = nullptr;
    if (s == NATS_OK) s = natsConnection_RequestMsg(&reply, conn, msg, 2000);
    const auto stop = SteadyClock::now();
    bool ok = s == NATS_OK;
    if (ok && check_status) {
      const char* code = nullptr;
      ok = natsMsgHeader_Get(reply, "cppsvc-status", &code) == NATS_OK &&
           std::strcmp(code, "0") == 0;
    }
    EchoResponse response;
    if (ok)
      ok = response.ParseFromArray(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)) &&
           response.checksum() != 0;
    natsMsg_Destroy(reply);
    natsMsg_Destroy(msg);
    ++r.calls;
    if (!ok) {
      ++r.errors;
      continue;
    }
    us.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  std::sort(us.begin(), us.end());
  if (!us.empty()) {
    r.p50_us = us[us.size() / 2];
    r.p99_us =
        us[std::min(us.size() - 1, static_cast<size_t>(static_cast<double>(us.size()) * 0.99))];
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  // As a generated main() does (see cppsvc/impl/main.h); process-wide, so
  // the baseline server in this process gains from it as much as ours.
  // --absl-deadlock-detection (diagnosis) leaves it on: what it costs.
  bool absl_detection = false;
  for (int i = 1; i < argc; ++i)
    absl_detection |= std::string(argv[i]) == "--absl-deadlock-detection";
  if (!absl_detection) cppsvc::impl::DisableMutexDeadlockDetection();
  int rounds = 5, inflight = 32, channels = 2;
  double seconds = 2, warmup = 1, rate_fraction = 0.5, slice = 0.2;
  int senders = 1;
  size_t workers = std::max(1u, std::thread::hardware_concurrency()) * 2;
  auto worker_spin = cppsvc::resilience::Bulkhead::kDefaultSpin;
  std::string only;
  bool keep_stderr = false, hop_baseline = false, no_open = false, baseline_twice = false;
  std::string without;  // diagnosis: pipeline steps of ours to turn off
  std::string nats_url;
  std::string handlers_mode = "contract";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rounds")
      rounds = static_cast<int>(ArgDouble(i, argc, argv));
    else if (a == "--seconds")
      seconds = ArgDouble(i, argc, argv);
    else if (a == "--warmup")
      warmup = ArgDouble(i, argc, argv);
    else if (a == "--slice")
      slice = ArgDouble(i, argc, argv);
    else if (a == "--inflight")
      inflight = static_cast<int>(ArgDouble(i, argc, argv));
    else if (a == "--channels")
      channels = static_cast<int>(ArgDouble(i, argc, argv));
    else if (a == "--senders")
      senders = static_cast<int>(ArgDouble(i, argc, argv));
    else if (a == "--rate-fraction")
      rate_fraction = ArgDouble(i, argc, argv);
    else if (a == "--workers")
      workers = static_cast<size_t>(ArgDouble(i, argc, argv));
    else if (a == "--worker-spin-us" && i + 1 < argc) {
      char* end = nullptr;
      const long long us = std::strtoll(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0' || us < 0) Fail("--worker-spin-us: not a number >= 0");
      worker_spin = std::chrono::microseconds(us);
    } else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (a == "--keep-stderr")
      keep_stderr = true;
    else if (a == "--hop-baseline")
      hop_baseline = true;
    else if (a == "--no-open")
      no_open = true;
    else if (a == "--baseline-twice")
      baseline_twice = true;
    else if (a == "--absl-deadlock-detection")
      continue;  // read above
    else if (a == "--handlers" && i + 1 < argc)
      handlers_mode = argv[++i];
    else if (a == "--nats-url" && i + 1 < argc)
      nats_url = argv[++i];
    else if (a == "--ours-without" && i + 1 < argc)
      without = argv[++i];
    else if (a == "-h" || a == "--help") {
      std::printf(
          "usage: %s [--rounds N] [--seconds S] [--slice S] [--warmup S] [--inflight N] "
          "[--channels N]\n"
          "       [--rate-fraction F] [--workers N] [--worker-spin-us N] [--only ours|baseline] "
          "[--keep-stderr]\n"
          "       [--hop-baseline]  (diagnosis: also time the baseline answering from a bulkhead)\n"
          "       [--no-open]       (closed loop only, no open loop or breakdown: to profile)\n"
          "       [--baseline-twice] (diagnosis: \"ours\" is a second baseline server, so the\n"
          "                         ratios show the harness's own spread)\n"
          "       [--ours-without log|metrics|log,metrics]  (diagnosis: turn steps of ours off)\n"
          "       [--handlers contract|inline|workers]  (where ours runs handlers; default: as\n"
          "                         the contract says, inline_handlers in bench.proto)\n"
          "       [--senders N]     (threads sending the open loop's calls; default 1)\n"
          "       [--absl-deadlock-detection]  (diagnosis: leave Abseil's on, as without a\n"
          "                         generated main())\n"
          "       [--nats-url URL]  (also compare NATS request-reply latency)\n",
          argv[0]);
      return 0;
    } else {
      Fail("unknown argument " + a);
    }
  }
  if (rounds < 1 || inflight < 1 || channels < 1 || workers < 1 || senders < 1)
    Fail("counts must be at least 1");
  if (!(seconds > 0) || !(slice > 0) || !(warmup > 0)) Fail("times must be above 0");
  if (!only.empty() && only != "ours" && only != "baseline") Fail("--only takes ours or baseline");
  if (handlers_mode != "contract" && handlers_mode != "inline" && handlers_mode != "workers")
    Fail("--handlers takes contract, inline or workers");

  // Request logs are written to fd 2: keep the real stderr for progress and
  // send fd 2 to /dev/null, so logging costs what it costs but prints nothing.
  if (!keep_stderr) {
    int saved = dup(2);
    int devnull = open("/dev/null", O_WRONLY);
    if (saved < 0 || devnull < 0 || dup2(devnull, 2) < 0)
      Fail("could not redirect stderr to /dev/null");
    close(devnull);
    progress = fdopen(saved, "w");
    if (progress == nullptr) Fail("fdopen");
  }

  // --- ours: the generated server with the whole pipeline on ----------------
  cppsvc::auth::JwtConfig jwt;
  jwt.algorithm = cppsvc::auth::Algorithm::kHS256;
  jwt.key = "cppsvc-server-bench-secret-0123456789abcdef";
  jwt.issuer = "cppsvc-bench";
  jwt.audience = "benchsvc";
  auto metrics = std::make_shared<cppsvc::observability::Metrics>("bench");
  cppsvc::impl::ServiceOptions options;
  options.service = "bench";
  options.verifier = std::make_shared<const cppsvc::auth::JwtVerifier>(jwt);
  options.roles =
      std::make_shared<const cppsvc::auth::RoleGraph>(benchsvc::v1::BenchServiceServer::Roles());
  options.metrics = metrics;
  options.workers = workers;
  options.max_queue = workers * 8;  // the contract default (max_concurrency x 8)
  options.worker_spin = worker_spin;
  options.inline_handlers =
      handlers_mode == "inline" ||
      (handlers_mode == "contract" && benchsvc::v1::BenchServiceServer::kSpec.inline_handlers);
  options.log_requests = without.find("log") == std::string::npos;
  if (without.find("metrics") != std::string::npos) options.metrics = nullptr;
  Handlers handlers;
  benchsvc::v1::BenchServiceServer ours_service(handlers, options);
  int ours_port = 0;
  std::unique_ptr<grpc::Server> ours_server = Start(&ours_service, ours_port);

  // --- the baseline: hand-written grpc++ ------------------------------------
  BaselineService baseline_service;
  int baseline_port = 0;
  std::unique_ptr<grpc::Server> baseline_server = Start(&baseline_service, baseline_port);
  // --baseline-twice: a second one, measured in ours' place.
  BaselineService twin_service;
  int twin_port = 0;
  std::unique_ptr<grpc::Server> twin_server;
  if (baseline_twice) twin_server = Start(&twin_service, twin_port);

  // --- the client -----------------------------------------------------------
  cppsvc::auth::JwtSigner signer(jwt);
  cppsvc::auth::TokenClaims claims;
  claims.subject = "bench-user";
  claims.roles = {"user"};
  claims.ttl = std::chrono::seconds(3600);
  LoadConfig cfg;
  cfg.bearer = "Bearer " + signer.Sign(claims);
  cfg.request.set_id("6f1c2b9e-3d4a-4e8b-9c7d-2a1b0c9d8e7f");
  cfg.request.set_payload(std::string(64, 'x'));
  cfg.request.set_n(12345);

  Target ours = Connect("ours", 1, baseline_twice ? twin_port : ours_port, channels);
  Target baseline = Connect("baseline", 0, baseline_port, channels);

  // Both answer the same; ours enforces the contract.
  {
    EchoResponse a, b;
    grpc::Status sa = CallOnce(ours, cfg.bearer, cfg.request, a);
    grpc::Status sb = CallOnce(baseline, cfg.bearer, cfg.request, b);
    if (!sa.ok()) Fail("ours: valid call failed: " + sa.error_message());
    if (!sb.ok()) Fail("baseline: valid call failed: " + sb.error_message());
    if (a.SerializeAsString() != b.SerializeAsString() || a.checksum() == 0)
      Fail("the servers answer differently");
    if (!baseline_twice) {
      Expect(ours, "no token", "", cfg.request, grpc::StatusCode::UNAUTHENTICATED);
      Expect(ours, "bad token", "Bearer x.y.z", cfg.request, grpc::StatusCode::UNAUTHENTICATED);
      cppsvc::auth::TokenClaims other = claims;
      other.roles = {"nobody"};
      Expect(ours,
             "role not allowed",
             "Bearer " + signer.Sign(other),
             cfg.request,
             grpc::StatusCode::PERMISSION_DENIED);
      EchoRequest bad = cfg.request;
      bad.set_id("not-a-uuid");
      Expect(ours, "invalid id", cfg.bearer, bad, grpc::StatusCode::INVALID_ARGUMENT);
      bad = cfg.request;
      bad.set_n(-1);
      Expect(ours, "n below 0", cfg.bearer, bad, grpc::StatusCode::INVALID_ARGUMENT);
      Expect(baseline, "invalid id (ignored)", cfg.bearer, bad, grpc::StatusCode::OK);
    }
  }

  const unsigned cores = std::thread::hardware_concurrency();
  if (!without.empty()) std::printf("ours_without\t%s\n", without.c_str());
  if (baseline_twice) std::printf("baseline_twice\t1\n");
  std::printf("inline\t%d\n", options.inline_handlers ? 1 : 0);
  std::printf("senders\t%d\n", senders);
  std::printf("cores\t%u\nworkers\t%zu\nrounds\t%d\nseconds\t%g\ninflight\t%d\nchannels\t%d\n",
              cores,
              workers,
              rounds,
              seconds,
              inflight,
              channels);
  std::fflush(stdout);

  std::vector<Target*> order = {&baseline, &ours};
  if (only == "ours") order = {&ours};
  if (only == "baseline") order = {&baseline};
  auto rotated = [&](int round) {
    std::vector<Target*> o = order;
    std::rotate(o.begin(), o.begin() + (round % static_cast<int>(o.size())), o.end());
    return o;
  };

  // Each round gives each server --seconds per phase, in slices of --slice
  // seconds that alternate between the servers (the order rotated per
  // slice): the machine is shared and its speed changes from one second to
  // the next, so short alternating slices let both servers meet the same
  // conditions. A phase's figures pool all of its slices: QPS is every
  // answered call over all the timed time, p99 is over every call sent.
  const int slices = std::max(1, static_cast<int>(std::lround(seconds / slice)));
  const double slice_seconds = seconds / slices;
  std::printf("slices\t%d\nslice_seconds\t%g\n", slices, slice_seconds);
  std::fflush(stdout);

  // A whole closed-loop phase (warm-up, --hop-baseline) ramps for 300 ms.
  constexpr double kPhaseRamp = 0.3;
  Progress("warm-up: %g s closed loop per server", warmup);
  for (Target* t : order) ClosedLoop(*t, cfg, inflight, warmup, kPhaseRamp);

  // --- closed loop: QPS -----------------------------------------------------
  // A slice ramps for 20 ms (32 calls in flight are reached within the
  // first millisecond) and is timed for the rest.
  constexpr double kSliceRamp = 0.02;
  auto idx = [&](const Target* t) { return t == &ours ? 1 : 0; };
  ClosedResult closed[2];
  for (int r = 0; r < rounds; ++r) {
    ClosedResult round[2];
    for (int k = 0; k < slices; ++k) {
      for (Target* t : rotated(r + k)) {
        round[idx(t)].Add(ClosedLoop(*t, cfg, inflight, slice_seconds, kSliceRamp));
      }
    }
    for (Target* t : rotated(r)) {
      const ClosedResult& c = round[idx(t)];
      closed[idx(t)].Add(c);
      std::printf("closed_round\t%d\t%s\t%.1f\t%.1f\t%llu\n",
                  r + 1,
                  t->name.c_str(),
                  c.qps(),
                  c.cpu_us_per_call(),
                  static_cast<unsigned long long>(c.errors));
      std::fflush(stdout);
      Progress("closed round %d/%d %-8s %8.0f calls/s  %6.1f us CPU/call  %llu errors",
               r + 1,
               rounds,
               t->name.c_str(),
               c.qps(),
               c.cpu_us_per_call(),
               static_cast<unsigned long long>(c.errors));
    }
  }
  for (Target* t : order) {
    const ClosedResult& c = closed[idx(t)];
    const char* name = t->id == 1 ? "ours" : "baseline";
    std::printf("closed_qps_%s\t%.1f\ncpu_us_%s\t%.2f\nclosed_errors_%s\t%llu\n",
                name,
                c.qps(),
                name,
                c.cpu_us_per_call(),
                name,
                static_cast<unsigned long long>(c.errors));
  }
  std::fflush(stdout);

  if (hop_baseline) {
    HopBaselineService hop_service(workers);
    int hop_port = 0;
    std::unique_ptr<grpc::Server> hop_server = Start(&hop_service, hop_port);
    Target hop = Connect("baseline+hop", 2, hop_port, channels);
    ClosedLoop(hop, cfg, inflight, warmup, kPhaseRamp);
    ClosedResult all;
    for (int r = 0; r < rounds; ++r) {
      ClosedResult c = ClosedLoop(hop, cfg, inflight, seconds, kPhaseRamp);
      all.Add(c);
      Progress("closed round %d/%d %-8s %8.0f calls/s  %6.1f us CPU/call  %llu errors",
               r + 1,
               rounds,
               hop.name.c_str(),
               c.qps(),
               c.cpu_us_per_call(),
               static_cast<unsigned long long>(c.errors));
    }
    std::printf("closed_qps_hop\t%.1f\ncpu_us_hop\t%.2f\n", all.qps(), all.cpu_us_per_call());
    hop_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }

  // --- open loop: latency at a fixed share of the baseline's capacity --------
  // Capacity for calls sent one by one at a fixed rate is lower than for
  // 32 calls kept in flight: each call then wakes threads on both sides and
  // gets no batching, so it costs the process about twice the CPU. Half the
  // closed loop's QPS would keep the cores ~85% busy, at the knee of the
  // latency curve, where any difference in CPU shows up multiplied. So the
  // capacity is also measured in the open pattern: an untimed open loop on
  // the baseline at half its closed-loop QPS gives its CPU time per call,
  // and the cores / that is its open-loop capacity. The rate is
  // --rate-fraction x the lower of the two.
  const double closed_capacity = closed[only == "ours" ? 1 : 0].qps();
  double capacity = closed_capacity;
  Target* probe_target = only == "ours" ? &ours : &baseline;
  if (!no_open) {
    Progress("warm-up: %g s open loop per server", warmup);
    OpenResult probe = Summarize(
        OpenLoop(*probe_target, cfg, std::max(1.0, 0.5 * closed_capacity), warmup, senders));
    if (probe.cpu_us_per_call > 0) {
      capacity = std::min(closed_capacity, cores * 1e6 / probe.cpu_us_per_call);
    }
    Progress("open-loop capacity of %s: %.0f calls/s (%.1f us CPU/call at %.0f/s, %.2f cores busy)",
             probe_target->name.c_str(),
             capacity,
             probe.cpu_us_per_call,
             0.5 * closed_capacity,
             probe.cores_busy);
    std::printf("open_probe_cpu_us\t%.2f\nopen_probe_cores_busy\t%.2f\n",
                probe.cpu_us_per_call,
                probe.cores_busy);
  }
  const double rate = std::max(1.0, rate_fraction * capacity);
  std::printf("closed_capacity\t%.1f\ncapacity\t%.1f\nrate\t%.1f\n",
              closed_capacity,
              capacity,
              rate);
  std::fflush(stdout);
  if (!no_open) {
    // The first open loop after the closed ones runs slower than the rest
    // on both servers (gRPC's threads and buffers settle to the new
    // pattern): an untimed one per server at the rate first.
    for (Target* t : order) {
      OpenResult o = Summarize(OpenLoop(*t, cfg, rate, warmup, senders));
      Progress("warm-up open %-8s at %.0f/s: p50 %7.0f us  p99 %7.0f us  send lag max %.0f us",
               t->name.c_str(),
               rate,
               o.p50_us,
               o.p99_us,
               o.lag_max_us);
    }
  }
  OpenSamples open[2];
  for (int r = 0; r < rounds && !no_open; ++r) {
    OpenSamples round[2];
    for (int k = 0; k < slices; ++k) {
      for (Target* t : rotated(r + k))
        round[idx(t)].Add(OpenLoop(*t, cfg, rate, slice_seconds, senders));
    }
    for (Target* t : rotated(r)) {
      const OpenResult o = Summarize(round[idx(t)]);
      open[idx(t)].Add(round[idx(t)]);
      std::printf("open_round\t%d\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%llu\t%.1f\t%.1f\n",
                  r + 1,
                  t->name.c_str(),
                  o.p50_us,
                  o.p99_us,
                  o.max_us,
                  o.achieved,
                  static_cast<unsigned long long>(o.errors),
                  o.lag_p99_us,
                  o.lag_max_us);
      std::fflush(stdout);
      Progress(
          "open round %d/%d   %-8s at %.0f/s: p50 %7.0f us  p99 %7.0f us  max %7.0f us  %llu "
          "errors  send lag p99 %.0f us max %.0f us  %.2f cores busy",
          r + 1,
          rounds,
          t->name.c_str(),
          rate,
          o.p50_us,
          o.p99_us,
          o.max_us,
          static_cast<unsigned long long>(o.errors),
          o.lag_p99_us,
          o.lag_max_us,
          o.cores_busy);
    }
  }
  for (Target* t : order) {
    if (no_open) break;
    const OpenResult o = Summarize(std::move(open[idx(t)]));
    const char* name = t->id == 1 ? "ours" : "baseline";
    std::printf("open_lag_p99_us_%s\t%.1f\n", name, o.lag_p99_us);
    std::printf("open_cores_busy_%s\t%.2f\n", name, o.cores_busy);
    std::printf("open_p90_us_%s\t%.1f\nopen_p95_us_%s\t%.1f\nopen_p999_us_%s\t%.1f\n",
                name,
                o.p90_us,
                name,
                o.p95_us,
                name,
                o.p999_us);
    std::printf("open_p50_us_%s\t%.1f\nopen_p99_us_%s\t%.1f\nopen_errors_%s\t%llu\n",
                name,
                o.p50_us,
                name,
                o.p99_us,
                name,
                static_cast<unsigned long long>(o.errors));
  }

  // --- NATS request-reply latency -------------------------------------------
  if (!nats_url.empty() && !baseline_twice) {
    cppsvc::impl::NatsServer ours_nats(ours_service.runtime(), nats_url, ours_service.NatsRoutes());
    try {
      ours_nats.Start();
    } catch (const std::exception& e) {
      Fail(std::string("nats: generated server: ") + e.what());
    }
    const std::string bare_subject = "bench.bare.Echo";
    const std::string ours_subject = cppsvc::impl::NatsSubject("bench", "Echo");
    BareResponder bare(nats_url, bare_subject);
    natsConnection* requester = NatsConnect(nats_url);
    const std::string payload = cfg.request.SerializeAsString();
    const std::string bearer = cfg.bearer;
    // Both answer; ours enforces the contract over NATS too.
    if (NatsSequential(requester, ours_subject, bearer, payload, 0.2, true).errors != 0) {
      Fail("nats: ours: valid call failed");
    }
    if (NatsSequential(requester, ours_subject, "", payload, 0.05, true).p50_us != 0) {
      Fail("nats: ours answered a call without a token");
    }
    if (NatsSequential(requester, bare_subject, "", payload, 0.2, false).errors != 0)
      Fail("nats: bare call failed");
    std::vector<double> np50[2], np99[2];
    uint64_t nerrors[2] = {0, 0};
    for (int r = 0; r < rounds; ++r) {
      for (int k = 0; k < 2; ++k) {
        const int which = (r + k) % 2;  // 0 bare, 1 ours
        NatsLatency l =
            which == 1 ? NatsSequential(requester, ours_subject, bearer, payload, seconds, true)
                       : NatsSequential(requester, bare_subject, "", payload, seconds, false);
        np50[which].push_back(l.p50_us);
        np99[which].push_back(l.p99_us);
        nerrors[which] += l.errors;
        Progress("nats round %d/%d   %-8s p50 %7.0f us  p99 %7.0f us  %llu calls  %llu errors",
                 r + 1,
                 rounds,
                 which ? "ours" : "bare",
                 l.p50_us,
                 l.p99_us,
                 static_cast<unsigned long long>(l.calls),
                 static_cast<unsigned long long>(l.errors));
      }
    }
    for (int i : {0, 1}) {
      const char* name = i ? "ours" : "baseline";
      std::printf("nats_p50_us_%s\t%.1f\nnats_p99_us_%s\t%.1f\nnats_errors_%s\t%llu\n",
                  name,
                  Median(np50[i]),
                  name,
                  Median(np99[i]),
                  name,
                  static_cast<unsigned long long>(nerrors[i]));
    }
    std::fflush(stdout);
    natsConnection_Destroy(requester);
    ours_nats.Stop();
  }

  // The pipeline really ran: every timed call of ours is in the metrics.
  const std::string exposition = metrics->Serialize();
  if (only == "baseline" || !options.metrics) {
    // nothing to check
  } else if (exposition.find("cppsvc_requests_total{") == std::string::npos) {
    Fail("ours recorded no cppsvc_requests_total");
  }
  std::printf("metrics_bytes\t%zu\n", exposition.size());
  if (only != "baseline" && !no_open)
    Breakdown(*options.verifier, *options.roles, *metrics, options, cfg);
  for (int i : {0, 1}) {
    std::string codes;
    for (int c = 0; c < 17; ++c) {
      if (uint64_t n = failures[i][c].load()) {
        codes += (codes.empty() ? "" : ", ") + std::to_string(n) + " x " +
                 std::string(cppsvc::StatusCodeName(static_cast<cppsvc::StatusCode>(c)));
      }
    }
    if (!codes.empty()) std::printf("failures_%s\t%s\n", i ? "ours" : "baseline", codes.c_str());
  }
  std::printf("done\t1\n");
  std::fflush(stdout);

  ours_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  baseline_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (twin_server)
    twin_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
