#include "emit/artifacts.h"
#include "emit/deploy_view.h"
#include "emit/emitters.h"

namespace cppsvc::emit {
namespace {

// The Dockerfile sets no value: each deployment (compose, Kubernetes) does,
// and ADMIN_ADDRESS is set in the template for every one.
std::string NoValue(const DeployVariable& v) {
  return v.row == &config::vars::kAdminAddress ? "0.0.0.0" : "set by the deployment";
}

// The gateway's: its name, HTTP and admin ports.
void SetGateway(Data& view, const Data& gateway) {
  Data unit = gateway;
  unit.set("last", Data(true));
  unit.set("admin_port_ref",
           "${" + unit.get("prefix")->string_value() + "ADMIN_PORT:-" +
               unit.get("admin_port")->string_value() + "}");
  view.set("has_services", Data(true));
  view.set("first", unit);
  view.set("image", unit.get("dns_name")->string_value());
  Data services = List();
  services.push_back(unit);
  view.set("services", services);
}

}  // namespace

void EmitDockerfile(const EmitInput& in, Rendered& out) {
  const model::File& file = in.file;
  Data view = DeployFileView(file);
  view.set("binary", BinaryName(file));
  view.set("dockerfile", InContext(in.deploy_dir, OutputPath(file, "dockerfile", 0)));
  const std::vector<const model::Service*> backends = GatewayBackends(in.model, file);
  if (!backends.empty()) {
    SetGateway(view, GatewayDeployView(file, backends, NoValue));
    out.outputs.push_back(Render("deploy/Dockerfile.mustache", view));
    out.outputs.push_back(Render("deploy/dockerignore.mustache", view));
    return;
  }
  Data services = List();
  for (size_t i = 0; i < file.services.size(); ++i) {
    const model::Service& s = file.services[i];
    Data sv = ServiceDeployView(s, NoValue);
    sv.set("last", Data(i + 1 == file.services.size()));
    sv.set("admin_port_ref",
           "${" + EnvPrefix(s) + "ADMIN_PORT:-" + std::to_string(s.effective_admin_port) + "}");
    if (i == 0) {
      view.set("first", sv);
      view.set("image", DnsName(s));
    }
    services.push_back(sv);
  }
  view.set("services", services);
  out.outputs.push_back(Render("deploy/Dockerfile.mustache", view));
  out.outputs.push_back(Render("deploy/dockerignore.mustache", view));
}

}  // namespace cppsvc::emit
