#include <algorithm>
#include <set>
#include <string>

#include "emit/artifacts.h"
#include "emit/deploy_view.h"
#include "emit/emitters.h"

namespace cppsvc::emit {
namespace {

namespace vars = config::vars;

// The files generated together that declare a service, by name (the set,
// and so the one file that writes compose.yaml, must not depend on the
// order protoc was given them).
std::vector<const model::File*> ServiceFiles(const model::Model& model) {
  std::vector<const model::File*> files;
  for (const model::File& f : model.files) {
    if (f.generate && !f.services.empty()) files.push_back(&f);
  }
  std::sort(files.begin(), files.end(), [](const model::File* a, const model::File* b) {
    return a->name < b->name;
  });
  return files;
}

std::string Directory(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// The longest directory holding every one of `files`: "commerce".
std::string CommonDirectory(const std::vector<const model::File*>& files) {
  std::string common = Directory(files.front()->name);
  for (const model::File* f : files) {
    while (!common.empty() && f->name.rfind(common + "/", 0) != 0) common = Directory(common);
  }
  return common;
}

int Segments(std::string_view path) {
  return path.empty() ? 0 : 1 + static_cast<int>(std::count(path.begin(), path.end(), '/'));
}

// From `dir` (in the output directory) up to the project root.
std::string ToRoot(const std::string& dir, std::string_view deploy_dir) {
  int up = Segments(dir) + Segments(deploy_dir);
  if (up == 0) return ".";
  std::string out;
  for (int i = 0; i < up; ++i) out += i == 0 ? ".." : "/..";
  return out;
}

// The values of the rows services and the gateway share ("" for the others).
std::string SharedValueIn(const DeployVariable& v) {
  const config::ServiceVariable* row = v.row;
  if (std::string common = CommonValueIn(v); !common.empty()) return common;
  if (row == &vars::kJwtAlgorithm) return "${CPPSVC_JWT_ALGORITHM:-ES256}";
  if (row == &vars::kJwtIssuer) return "${CPPSVC_JWT_ISSUER:-cppsvc}";
  if (row == &vars::kJwtAudience) return "${CPPSVC_JWT_AUDIENCE:-cppsvc}";
  if (row == &vars::kJwtKeyFile) return "/run/secrets/jwt_key";
  return "";
}

std::string ValueIn(const model::Service& s, const DeployVariable& v) {
  if (v.row == &vars::kDatabaseUrl) {
    return "postgresql://postgres:${POSTGRES_PASSWORD:-cppsvc}@postgres:5432/" + s.database;
  }
  return SharedValueIn(v);
}

// The gateway's: every replica of each backend, by its compose service name.
std::string GatewayValueIn(const DeployVariable& v) {
  if (v.backend == nullptr) return SharedValueIn(v);
  return "dns:///" + DnsName(*v.backend) + ":" + std::to_string(v.backend->effective_grpc_port);
}

Data ServiceView(const model::File& file,
                 const model::Service& s,
                 const std::string& context,
                 std::string_view deploy_dir) {
  Data v = ServiceDeployView(s, [&s](const DeployVariable& var) { return ValueIn(s, var); });
  v.set("source", file.name);
  v.set("context", context);
  v.set("dockerfile", InContext(deploy_dir, OutputPath(file, "dockerfile", 0)));
  v.set("grace_seconds", std::to_string(kStopGraceSeconds));
  return v;
}

}  // namespace

void EmitCompose(const EmitInput& in, Rendered& out) {
  const std::vector<const model::File*> files = ServiceFiles(in.model);
  if (files.empty() || files.front() != &in.file) return;
  const std::string dir = CommonDirectory(files);
  const std::string path = dir.empty() ? "compose.yaml" : dir + "/compose.yaml";
  const std::string context = ToRoot(dir, in.deploy_dir);
  Data view;
  Data sources = List(), services = List(), databases = List();
  std::set<std::string> names;
  for (const model::File* f : files) {
    sources.push_back(Data(f->name));
    for (const model::Service& s : f->services) {
      services.push_back(ServiceView(*f, s, context, in.deploy_dir));
      if (!s.database.empty()) names.insert(s.database);
    }
  }
  for (const model::File& f : in.model.files) {
    const std::vector<const model::Service*> backends = GatewayBackends(in.model, f);
    if (!f.generate || backends.empty()) continue;
    sources.push_back(Data(f.name));
    Data gateway = GatewayDeployView(f, backends, GatewayValueIn);
    gateway.set("source", f.name);
    gateway.set("context", context);
    gateway.set("dockerfile", InContext(in.deploy_dir, OutputPath(f, "dockerfile", 0)));
    gateway.set("grace_seconds", std::to_string(kStopGraceSeconds));
    services.push_back(gateway);
  }
  for (const std::string& db : names) databases.push_back(Data(db));
  view.set("sources", sources);
  view.set("services", services);
  view.set("databases", databases);
  view.set("has_databases", Data(!names.empty()));
  view.set("compose", InContext(in.deploy_dir, path));
  out.extra.push_back({path, Render("deploy/compose.yaml.mustache", view)});
}

}  // namespace cppsvc::emit
