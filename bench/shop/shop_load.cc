// The shop benchmark's load (bench/shop_bench.sh), on a shop started by
// scripts/shop.sh, through the generated clients:
//
//   --mode write      AddCartItem from --threads callers (a customer each),
//                     closed loop for --seconds; prints
//                     `rps=<calls/s> p50_ms=<ms> p99_ms=<ms> errors=<n>`
//   --mode checkout   open loop: at --rate orders/s for --seconds, each a
//                     customer's AddCartItem then Checkout, spread over
//                     --threads callers; the latency of an order runs from
//                     its Checkout's answer to its OrderConfirmed event seen
//                     on NATS (a plain subscription to the subject). Waits
//                     up to --drain seconds for the last ones, then prints
//                     `offered=<orders/s> confirmed=<orders/s> p50_ms=<ms>
//                     p95_ms=<ms> p99_ms=<ms> missing=<n> errors=<n>`
//
// Common flags: --env <shop.env> --tokens <file: a customer token per line,
// one per thread> --product <id>.
#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "commerce/orders/v1/orders.cppsvc.client.h"
#include "cppsvc/impl/repository.h"  // NewUuid
#include "latency_ledger.h"

namespace {

using cppsvc_bench::Clock;
using cppsvc_bench::LatencyLedger;
using cppsvc_bench::Ms;
using cppsvc_bench::Quantile;
namespace orders = commerce::orders::v1;

struct Args {
  std::string mode, env, tokens_file, product;
  int threads = 32;
  double seconds = 5, rate = 50, drain = 10;
};

Args Parse(int argc, char** argv) {
  Args a;
  std::map<std::string, std::string*> text = {{"--mode", &a.mode},
                                              {"--env", &a.env},
                                              {"--tokens", &a.tokens_file},
                                              {"--product", &a.product}};
  std::map<std::string, double*> number = {{"--seconds", &a.seconds},
                                           {"--rate", &a.rate},
                                           {"--drain", &a.drain}};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (text.count(argv[i])) *text[argv[i]] = argv[i + 1];
    if (number.count(argv[i])) *number[argv[i]] = std::atof(argv[i + 1]);
    if (std::string(argv[i]) == "--threads") a.threads = std::atoi(argv[i + 1]);
  }
  if ((a.mode != "write" && a.mode != "checkout") || a.env.empty() || a.tokens_file.empty() ||
      a.product.empty() || a.threads < 1 || a.seconds <= 0 || a.rate <= 0) {
    std::fprintf(stderr,
                 "usage: %s --mode write|checkout --env SHOP_ENV --tokens FILE --product ID "
                 "[--threads N] [--seconds S] [--rate R] [--drain S]\n",
                 argv[0]);
    std::exit(2);
  }
  return a;
}

std::map<std::string, std::string> ReadEnv(const std::string& path) {
  std::map<std::string, std::string> env;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (auto eq = line.find('='); eq != std::string::npos)
      env[line.substr(0, eq)] = line.substr(eq + 1);
  return env;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

cppsvc::CallOptions As(const std::string& token) {
  cppsvc::CallOptions o;
  o.bearer_token = token;
  return o;
}

// --- write: AddCartItem, closed loop ---------------------------------------

int RunWrite(const Args& args,
             orders::OrdersServiceClient& client,
             const std::vector<std::string>& tokens) {
  std::vector<std::vector<double>> latencies(args.threads);
  std::atomic<int> errors{0};
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(args.seconds));
  std::vector<std::thread> threads;
  for (int t = 0; t < args.threads; ++t) {
    threads.emplace_back([&, t] {
      orders::AddCartItemRequest request;
      request.set_product_id(args.product);
      for (int n = 0; Clock::now() < end; ++n) {
        request.set_quantity(1 + n % 5);  // replaces the line: the cart stays one line
        orders::AddCartItemResponse response;
        const auto sent = Clock::now();
        const cppsvc::Status s = client.AddCartItem(request, &response, As(tokens[t]));
        latencies[t].push_back(Ms(Clock::now() - sent));
        if (!s.ok()) errors.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double rps = static_cast<double>(all.size()) / elapsed;
  const double p50 = Quantile(all, 0.5), p99 = Quantile(all, 0.99);
  std::printf("rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d\n", rps, p50, p99, errors.load());
  return 0;
}

// --- checkout: open loop, latency to OrderConfirmed ---------------------------

void OnConfirmed(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  orders::OrderConfirmed event;
  if (event.ParseFromArray(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)))
    static_cast<LatencyLedger*>(closure)->Ended(event.order_id());
  natsMsg_Destroy(msg);
}

// One customer's order: a cart line, then the checkout.
bool PlaceOrder(orders::OrdersServiceClient& client,
                const std::string& token,
                const std::string& product,
                LatencyLedger& ledger) {
  orders::AddCartItemRequest add;
  add.set_product_id(product);
  add.set_quantity(1);
  orders::AddCartItemResponse added;
  if (!client.AddCartItem(add, &added, As(token)).ok()) return false;
  orders::CheckoutRequest checkout;
  checkout.set_request_id(cppsvc::impl::NewUuid());
  orders::CheckoutResponse response;
  if (const cppsvc::Status s = client.Checkout(checkout, &response, As(token)); !s.ok()) {
    static std::once_flag once;
    std::call_once(once, [&] {
      std::fprintf(stderr, "shop_load: Checkout: %s\n", s.ToString().c_str());
    });
    return false;
  }
  ledger.Started(response.order().id(), Clock::now());
  return true;
}

// Order i is due at start + i / rate; thread t takes every threads-th order.
// Checkout allows a customer one order a second (burst 3): the tokens file
// holds enough customers for the rate, a multiple of the threads.
int DriveOrders(const Args& args,
                orders::OrdersServiceClient& client,
                const std::vector<std::string>& tokens,
                LatencyLedger& ledger) {
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
        // Customer i % customers, always on the same thread: its orders never
        // overlap (one cart), and each stays within Checkout's rate limit.
        if (!PlaceOrder(client, tokens[i % tokens.size()], args.product, ledger))
          errors.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  return errors.load();
}

int RunCheckout(const Args& args,
                orders::OrdersServiceClient& client,
                const std::vector<std::string>& tokens,
                const std::string& nats_url) {
  LatencyLedger ledger;
  natsConnection* nc = nullptr;
  natsSubscription* sub = nullptr;
  if (natsConnection_ConnectTo(&nc, nats_url.c_str()) != NATS_OK ||
      natsConnection_Subscribe(&sub, nc, "commerce.orders.order_confirmed", OnConfirmed, &ledger) !=
          NATS_OK) {
    std::fprintf(stderr, "shop_load: cannot subscribe on %s\n", nats_url.c_str());
    return 1;
  }
  const auto start = Clock::now();
  const int errors = DriveOrders(args, client, tokens, ledger);
  const double driven = std::chrono::duration<double>(Clock::now() - start).count();
  int missing = 0;
  const auto drain_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(args.drain));
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ledger.Latencies(missing);
  } while (missing > 0 && Clock::now() < drain_end);
  std::vector<double> lat = ledger.Latencies(missing);
  const double confirmed_rate = static_cast<double>(lat.size()) / driven;
  const double p50 = Quantile(lat, 0.5), p95 = Quantile(lat, 0.95), p99 = Quantile(lat, 0.99);
  std::printf(
      "offered=%.1f confirmed=%.1f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f missing=%d errors=%d\n",
      args.rate,
      confirmed_rate,
      p50,
      p95,
      p99,
      missing,
      errors);
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  const std::map<std::string, std::string> env = ReadEnv(args.env);
  const std::vector<std::string> tokens = ReadLines(args.tokens_file);
  if (tokens.empty() || tokens.size() % static_cast<size_t>(args.threads) != 0 ||
      !env.count("ORDERS_ADDRESS")) {
    std::fprintf(stderr,
                 "shop_load: need a multiple of %d tokens and ORDERS_ADDRESS\n",
                 args.threads);
    return 2;
  }
  cppsvc::ClientOptions options;
  options.addresses = {env.at("ORDERS_ADDRESS")};
  orders::OrdersServiceClient client(options);
  if (args.mode == "write") return RunWrite(args, client, tokens);
  return RunCheckout(args, client, tokens, env.count("NATS_URL") ? env.at("NATS_URL") : "");
}
