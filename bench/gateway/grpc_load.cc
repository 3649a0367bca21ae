// The gateway benchmark's baseline load: the generated ProductsServiceClient
// calling GetProduct directly, from N threads (one call in flight each), for
// a number of seconds. Prints `rps=<calls/s> p50_ms=<ms> p99_ms=<ms>
// errors=<n>` on one line, the figures wrk reports for the gateway.
//
//   gateway_grpc_load --address HOST:PORT --product ID [--threads N] [--seconds S]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "commerce/products/v1/products.cppsvc.client.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace v1 = commerce::products::v1;

struct Args {
  std::string address;
  std::string product;
  int threads = 32;
  double seconds = 5;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--address")
      a.address = argv[i + 1];
    else if (flag == "--product")
      a.product = argv[i + 1];
    else if (flag == "--threads")
      a.threads = std::atoi(argv[i + 1]);
    else if (flag == "--seconds")
      a.seconds = std::atof(argv[i + 1]);
  }
  if (a.address.empty() || a.product.empty() || a.threads < 1 || a.seconds <= 0) {
    std::fprintf(stderr,
                 "usage: %s --address HOST:PORT --product ID [--threads N] [--seconds S]\n",
                 argv[0]);
    std::exit(2);
  }
  return a;
}

// One thread's calls until `end`: latencies in microseconds, errors counted.
void Run(v1::ProductsServiceClient& client,
         const std::string& product,
         Clock::time_point end,
         std::vector<double>& latencies,
         std::atomic<int>& errors) {
  v1::GetProductRequest request;
  request.set_product_id(product);
  while (Clock::now() < end) {
    v1::GetProductResponse response;
    const auto start = Clock::now();
    const cppsvc::Status status = client.GetProduct(request, &response);
    latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    if (!status.ok()) errors.fetch_add(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  cppsvc::ClientOptions options;
  options.addresses = {args.address};
  v1::ProductsServiceClient client(options);
  std::vector<std::vector<double>> latencies(args.threads);
  std::atomic<int> errors{0};
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(args.seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < args.threads; ++i)
    threads.emplace_back([&, i] { Run(client, args.product, end, latencies[i], errors); });
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  const auto at = [&](double q) {
    return all.empty() ? 0.0 : all[static_cast<size_t>(q * (all.size() - 1))] / 1000;
  };
  std::printf("rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d\n",
              all.size() / elapsed,
              at(0.5),
              at(0.99),
              errors.load());
  return 0;
}
