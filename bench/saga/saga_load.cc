// The saga benchmark's load (bench/saga_bench.sh), through the generated
// client of either variant's owner:
//
//   --variant saga|plain   sagabench (saga `flow`) or plainbench (plain
//                          subscriptions): which Start to call, and which
//                          FlowCompleted subject to time the flows to
//   --mode throughput      --flows N started as fast as --threads callers
//                          can, --batch flows per Start call; prints
//                          `flows_per_s=<completed flows / (last completion
//                          - first call)> missing=<n> errors=<n>`
//   --mode latency         open loop: --rate flows/s for --seconds, one flow
//                          per Start call, spread over --threads callers; a
//                          flow's latency runs from sending its Start to its
//                          FlowCompleted seen on NATS (a plain subscription
//                          to the subject); prints `offered=<flows/s>
//                          completed=<flows/s> p50_ms=<ms> p99_ms=<ms>
//                          missing=<n> errors=<n>`
//
// Both wait up to --drain seconds for the last flows. Common flags:
// --address host:port --nats URL --token-file FILE.
#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cppsvc/impl/repository.h"  // NewUuid
#include "latency_ledger.h"
#include "plainbench/origin/v1/origin.cppsvc.client.h"
#include "sagabench/origin/v1/origin.cppsvc.client.h"

namespace {

using cppsvc_bench::Clock;
using cppsvc_bench::LatencyLedger;
using cppsvc_bench::Quantile;

struct Args {
  std::string variant, mode, address, nats, token_file;
  int threads = 16, flows = 2000, batch = 20;
  double rate = 200, seconds = 10, drain = 30;
};

Args Parse(int argc, char** argv) {
  Args a;
  std::map<std::string, std::string*> text = {{"--variant", &a.variant},
                                              {"--mode", &a.mode},
                                              {"--address", &a.address},
                                              {"--nats", &a.nats},
                                              {"--token-file", &a.token_file}};
  std::map<std::string, int*> whole = {{"--threads", &a.threads},
                                       {"--flows", &a.flows},
                                       {"--batch", &a.batch}};
  std::map<std::string, double*> number = {{"--rate", &a.rate},
                                           {"--seconds", &a.seconds},
                                           {"--drain", &a.drain}};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (text.count(argv[i])) *text[argv[i]] = argv[i + 1];
    if (whole.count(argv[i])) *whole[argv[i]] = std::atoi(argv[i + 1]);
    if (number.count(argv[i])) *number[argv[i]] = std::atof(argv[i + 1]);
  }
  const bool ok = (a.variant == "saga" || a.variant == "plain") &&
                  (a.mode == "throughput" || a.mode == "latency") && !a.address.empty() &&
                  !a.nats.empty() && !a.token_file.empty() && a.threads > 0 && a.flows > 0 &&
                  a.batch > 0 && a.batch <= 500 && a.rate > 0 && a.seconds > 0;
  if (!ok) {
    std::fprintf(stderr,
                 "usage: %s --variant saga|plain --mode throughput|latency --address HOST:PORT "
                 "--nats URL --token-file FILE [--threads N] [--flows N] [--batch N] [--rate R] "
                 "[--seconds S] [--drain S]\n",
                 argv[0]);
    std::exit(2);
  }
  return a;
}

// Both variants' FlowCompleted have the flow id as field 1.
void OnCompleted(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  sagabench::origin::v1::FlowCompleted event;
  if (event.ParseFromArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)))
    static_cast<LatencyLedger*>(closure)->Ended(event.flow_id());
  natsMsg_Destroy(msg);
}

// Starts `ids` through the variant's client; false when the call fails.
template <typename Client, typename Request, typename Response>
bool StartFlows(Client& client, const std::vector<std::string>& ids, const std::string& token) {
  Request request;
  for (const auto& id : ids) request.add_flow_ids(id);
  Response response;
  cppsvc::CallOptions options;
  options.bearer_token = token;
  const cppsvc::Status s = client.Start(request, &response, options);
  if (!s.ok()) {
    static std::once_flag once;
    std::call_once(once,
                   [&] { std::fprintf(stderr, "saga_load: Start: %s\n", s.ToString().c_str()); });
  }
  return s.ok();
}

using StartFn = std::function<bool(const std::vector<std::string>&)>;

// Thread t sends flow i at start + i / rate for every i = t mod threads.
int DriveLatency(const Args& args, const StartFn& start_flows, LatencyLedger& ledger) {
  const int total = static_cast<int>(args.rate * args.seconds);
  std::atomic<int> errors{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < args.threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < total; i += args.threads) {
        std::this_thread::sleep_until(
            start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(i) / args.rate)));
        const std::string id = cppsvc::impl::NewUuid();
        ledger.Started(id, Clock::now());
        if (!start_flows({id})) errors.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  return errors.load();
}

// Every thread starts batches until --flows are taken.
int DriveThroughput(const Args& args, const StartFn& start_flows, LatencyLedger& ledger) {
  std::atomic<int> taken{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < args.threads; ++t) {
    threads.emplace_back([&] {
      while (taken.fetch_add(args.batch) < args.flows) {
        std::vector<std::string> ids;
        for (int i = 0; i < args.batch; ++i) ids.push_back(cppsvc::impl::NewUuid());
        const auto now = Clock::now();
        for (const auto& id : ids) ledger.Started(id, now);
        if (!start_flows(ids)) errors.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  return errors.load();
}

// Waits up to --drain seconds for the flows still missing.
void Drain(const Args& args, LatencyLedger& ledger) {
  int missing = 0;
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(args.drain));
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ledger.Latencies(missing);
  } while (missing > 0 && Clock::now() < end);
}

int Run(const Args& args, const StartFn& start_flows, const std::string& subject) {
  LatencyLedger ledger;
  natsConnection* nc = nullptr;
  natsSubscription* sub = nullptr;
  if (natsConnection_ConnectTo(&nc, args.nats.c_str()) != NATS_OK ||
      natsConnection_Subscribe(&sub, nc, subject.c_str(), OnCompleted, &ledger) != NATS_OK) {
    std::fprintf(stderr,
                 "saga_load: cannot subscribe to %s on %s\n",
                 subject.c_str(),
                 args.nats.c_str());
    return 1;
  }
  const bool latency = args.mode == "latency";
  const int errors = latency ? DriveLatency(args, start_flows, ledger)
                             : DriveThroughput(args, start_flows, ledger);
  Drain(args, ledger);
  int missing = 0;
  std::vector<double> lat = ledger.Latencies(missing);
  if (latency) {
    std::printf("offered=%.1f completed=%.1f p50_ms=%.2f p99_ms=%.2f missing=%d errors=%d\n",
                args.rate,
                static_cast<double>(lat.size()) / args.seconds,
                Quantile(lat, 0.5),
                Quantile(lat, 0.99),
                missing,
                errors);
  } else {
    const auto [first, last] = ledger.Span();
    const double span = std::chrono::duration<double>(last - first).count();
    std::printf("flows_per_s=%.1f missing=%d errors=%d\n",
                span > 0 ? static_cast<double>(lat.size()) / span : 0.0,
                missing,
                errors);
  }
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  return 0;
}

std::string ReadToken(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  return token;
}

// Runs the load through the owner's client of one variant.
template <typename Client, typename Request, typename Response>
int RunVariant(const Args& args, const std::string& token, const std::string& subject) {
  cppsvc::ClientOptions options;
  options.addresses = {args.address};
  Client client(options);
  return Run(
      args,
      [&](const std::vector<std::string>& ids) {
        return StartFlows<Client, Request, Response>(client, ids, token);
      },
      subject);
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  const std::string token = ReadToken(args.token_file);
  if (args.variant == "saga") {
    namespace v1 = sagabench::origin::v1;
    return RunVariant<v1::OriginServiceClient, v1::StartRequest, v1::StartResponse>(
        args,
        token,
        "sagabench.origin.flow_completed");
  }
  namespace v1 = plainbench::origin::v1;
  return RunVariant<v1::OriginServiceClient, v1::StartRequest, v1::StartResponse>(
      args,
      token,
      "plainbench.origin.flow_completed");
}
