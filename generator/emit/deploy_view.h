// What the deployment artifacts (Dockerfile, compose, Kubernetes) know of a
// service: its names and ports, and the environment variables it reads,
// taken from the runtime's own table (cppsvc/config/service_variables.h),
// the one its configuration step reads by.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/config/gateway_variables.h"
#include "cppsvc/config/service_variables.h"
#include "emit/template.h"
#include "model/model.h"

namespace cppsvc::emit {

// On SIGTERM a replica first stops looking ready for this long (the
// Kubernetes preStop sleep is the same), then drains calls in flight for at
// most the drain timeout (the runtime's default).
inline constexpr int64_t kShutdownDelayMs = 5000;
inline constexpr int64_t kDrainTimeoutMs = config::DefaultNumber(config::vars::kDrainTimeoutMs);
static_assert(kDrainTimeoutMs > 0);
// Seconds Kubernetes and compose wait for a replica to stop before killing
// it: the delay and the drain, plus slack for closing connections.
inline constexpr int64_t kStopGraceSeconds = (kShutdownDelayMs + kDrainTimeoutMs) / 1000 + 10;

// The shape that decides which variables `s` reads, as the runtime computes
// it from the generated ServiceSpec.
config::ServiceShape ShapeOf(const model::Service& s);

// ORDERS_ for "orders": the prefix of the service's own variables.
std::string EnvPrefix(const model::Service& s);

// "orders", "shop-cart": the service's name where only lowercase letters,
// digits and '-' may appear (Kubernetes objects, compose services).
std::string DnsName(const model::Service& s);

// The service binary cppsvc_add_service() builds for `file`, by the
// convention <file name>_service (orders.proto -> orders_service).
std::string BinaryName(const model::File& file);

struct DeployVariable {
  std::string name;  // with the service's prefix
  const config::ServiceVariable* row;
  // The service whose replicas a gateway's <BACKEND>_ADDRESSES names.
  const model::Service* backend = nullptr;
};

// Every variable `s` reads, in the table's order (the revocation feed's
// included: an operator may turn it on).
std::vector<DeployVariable> VariablesOf(const model::Service& s);

// The value a deployment gives a variable: nullopt-like "" when it leaves it
// to its default. Each deployment artifact passes its own.
using ValueOf = std::function<std::string(const DeployVariable&)>;

// The values compose and Kubernetes both give: the admin address, the
// drain and shutdown delays, and NATS by its service name ("" for the
// other rows, whose values each deployment names its own way).
std::string CommonValueIn(const DeployVariable& v);

// View data of one service shared by the deployment templates: name,
// dns_name, full_name, prefix, grpc_port, admin_port, has_database,
// database, variables (name, doc, fallback), and `settings`: the variables
// the deployment sets, as name/value pairs (plain), and `secrets` likewise.
// A kSetting or kSecretFile variable `value` gives no value for is an error
// in the plugin (a new table row the deployment must handle).
Data ServiceDeployView(const model::Service& s, const ValueOf& value);

// The gateway generated for `file` (a file without services of its own
// whose public imports have HTTP routes: `backends`) as the deployment
// templates see a service, with `gateway` true: its name is the file's
// (gateway.proto: "gateway", variables GATEWAY_*), its port the HTTP port,
// and its variables the rows of cppsvc/config/gateway_variables.h and one
// <BACKEND>_ADDRESSES per backend. No database, no NATS.
Data GatewayDeployView(const model::File& file,
                       const std::vector<const model::Service*>& backends,
                       const ValueOf& value);

// `output` (a path in the output directory) as seen from the build context.
std::string InContext(std::string_view deploy_dir, const std::string& output);

// The source comment lines' data: "source" and the header's comment prefix.
Data DeployFileView(const model::File& file);

}  // namespace cppsvc::emit
