// The gateway's own JSON steps against protobuf's JSON utilities, on the
// GetProduct route the gateway benchmark drives (Google Benchmark;
// bench/gateway_bench.sh prints the ratios):
//   Response/protobuf   MessageToJsonString with default values printed
//   Response/gateway    ResponseJson (cppsvc/gateway/json_writer.h)
//   PathVariable/protobuf  the variable as JSON, JsonStringToMessage, merged
//   PathVariable/gateway   BindRequest, which sets a text field directly
#include <string>

#include <benchmark/benchmark.h>
#include <google/protobuf/util/json_util.h>

#include "commerce/products/v1/products.pb.h"
#include "cppsvc/gateway/binding.h"

namespace {

namespace pb = google::protobuf;
namespace v1 = commerce::products::v1;

constexpr char kId[] = "5f0c3a52-3d1e-4f8e-9a37-2b6f1e0d9c11";

v1::GetProductResponse Response() {
  v1::GetProductResponse r;
  v1::Product& p = *r.mutable_product();
  p.set_id(kId);
  p.set_sku("BENCH-1");
  p.set_name("Bench mug");
  p.set_description("A mug for the benchmark, 350 ml, dishwasher safe.");
  p.set_category_id("0b7e2d4c-9f61-4a8e-8c3b-5d2e7f1a6b90");
  p.set_price_cents(1299);
  p.set_stock(100);
  p.set_version(3);
  p.mutable_created_at()->set_seconds(1765000000);
  p.mutable_created_at()->set_nanos(123456000);
  p.mutable_updated_at()->set_seconds(1765003600);
  return r;
}

cppsvc::gateway::RouteSpec GetProductRoute() {
  cppsvc::gateway::RouteSpec spec;
  spec.verb = "GET";
  spec.path = "/v1/products/{product_id}";
  return spec;
}

void ResponseProtobuf(benchmark::State& state) {
  const v1::GetProductResponse response = Response();
  pb::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string out;
  for (auto _ : state) {
    out.clear();
    if (!pb::util::MessageToJsonString(response, &out, options).ok()) state.SkipWithError("json");
    benchmark::DoNotOptimize(out);
  }
}

void ResponseGateway(benchmark::State& state) {
  const v1::GetProductResponse response = Response();
  const cppsvc::gateway::RouteSpec spec = GetProductRoute();
  std::string out;
  for (auto _ : state) {
    if (!cppsvc::gateway::ResponseJson(spec, response, out)) state.SkipWithError("json");
    benchmark::DoNotOptimize(out);
  }
}

void PathVariableProtobuf(benchmark::State& state) {
  for (auto _ : state) {
    v1::GetProductRequest request;
    v1::GetProductRequest holder;
    const std::string json = std::string("{\"product_id\":\"") + kId + "\"}";
    if (!pb::util::JsonStringToMessage(json, &holder).ok()) state.SkipWithError("json");
    request.MergeFrom(holder);
    benchmark::DoNotOptimize(request);
  }
}

void PathVariableGateway(benchmark::State& state) {
  const cppsvc::gateway::RouteSpec spec = GetProductRoute();
  const std::vector<std::pair<std::string, std::string>> path = {{"product_id", kId}};
  for (auto _ : state) {
    v1::GetProductRequest request;
    if (cppsvc::gateway::BindRequest(spec, path, "", "", {}, request)) state.SkipWithError("bind");
    benchmark::DoNotOptimize(request);
  }
}

BENCHMARK(ResponseProtobuf)->Name("Response/protobuf");
BENCHMARK(ResponseGateway)->Name("Response/gateway");
BENCHMARK(PathVariableProtobuf)->Name("PathVariable/protobuf");
BENCHMARK(PathVariableGateway)->Name("PathVariable/gateway");

}  // namespace

BENCHMARK_MAIN();
