#include <stdexcept>

#include "emit/deploy_view.h"
#include "emit/emitters.h"

namespace cppsvc::emit {
namespace {

namespace vars = config::vars;

constexpr const char* kJwtSecret = "cppsvc-jwt";
constexpr const char* kJwtDir = "/var/run/secrets/cppsvc/jwt";

// What the base sets: plain settings in the ConfigMap, secrets as
// references ("<secret>#<key>"), secret files where the Secret is mounted.
// NATS and the token settings name a deployment's own endpoints and
// issuer: an overlay patches the ConfigMap.
// The values of the rows services and the gateway share ("" for the others).
std::string SharedValueIn(const DeployVariable& v) {
  const config::ServiceVariable* row = v.row;
  if (std::string common = CommonValueIn(v); !common.empty()) return common;
  if (row == &vars::kJwtAlgorithm) return "ES256";
  if (row == &vars::kJwtIssuer || row == &vars::kJwtAudience) return "cppsvc";
  if (row == &vars::kJwtKeyFile) return std::string(kJwtDir) + "/key";
  return "";
}

std::string ValueIn(const model::Service& s, const DeployVariable& v) {
  if (v.row == &vars::kDatabaseUrl) return DnsName(s) + "-database#url";
  return SharedValueIn(v);
}

// The gateway's: the backends' every ready replica, through their headless
// Services.
std::string GatewayValueIn(const DeployVariable& v) {
  if (v.backend == nullptr) return SharedValueIn(v);
  return "dns:///" + DnsName(*v.backend) +
         "-replicas:" + std::to_string(v.backend->effective_grpc_port);
}

void SetUnit(Data& v, const model::File& file, bool last) {
  v.set("binary", BinaryName(file));
  v.set("last", Data(last));
  v.set("grace_seconds", std::to_string(kStopGraceSeconds + kShutdownDelayMs / 1000));
  v.set("shutdown_delay_seconds", std::to_string(kShutdownDelayMs / 1000));
  v.set("jwt_secret", kJwtSecret);
  v.set("jwt_dir", kJwtDir);
}

Data ServiceView(const model::File& file, const model::Service& s, bool last) {
  Data v = ServiceDeployView(s, [&s](const DeployVariable& var) { return ValueIn(s, var); });
  SetUnit(v, file, last);
  return v;
}

}  // namespace

void EmitKubernetes(const EmitInput& in, Rendered& out) {
  static_assert(kShutdownDelayMs % 1000 == 0, "the preStop sleep is in whole seconds");
  const model::File& file = in.file;
  Data view = DeployFileView(file);
  view.set("jwt_secret", kJwtSecret);
  Data services = List();
  for (size_t i = 0; i < file.services.size(); ++i) {
    services.push_back(ServiceView(file, file.services[i], i + 1 == file.services.size()));
  }
  const std::vector<const model::Service*> backends = GatewayBackends(in.model, file);
  if (!backends.empty()) {
    Data gateway = GatewayDeployView(file, backends, GatewayValueIn);
    SetUnit(gateway, file, true);
    services.push_back(gateway);
    view.set("has_services", Data(true));
    view.set("gateway", Data(true));
  }
  view.set("services", services);
  for (const char* name : {"kustomization", "deployment", "service", "configmap", "pdb", "hpa"}) {
    out.outputs.push_back(Render(std::string("deploy/") + name + ".yaml.mustache", view));
  }
}

}  // namespace cppsvc::emit
