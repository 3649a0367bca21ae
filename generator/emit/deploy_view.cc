#include "emit/deploy_view.h"

#include <cctype>
#include <map>
#include <stdexcept>

namespace cppsvc::emit {
namespace {

bool IsEventConsumer(const model::Service& s) {
  return !s.subscriptions.empty() || !s.saga_routes.empty();
}

// A secret the deployment mounts as a file: CPPSVC_JWT_KEY has a
// CPPSVC_JWT_KEY_FILE row.
bool HasFileForm(const config::ServiceVariable& v) {
  for (const config::ServiceVariable* other : config::kServiceVariables) {
    if (other->deploy == config::Deploy::kSecretFile &&
        other->name == std::string(v.name) + "_FILE") {
      return true;
    }
  }
  return false;
}

// name, value, and for a value "<secret>#<key>" (a reference to a key of a
// secret) its parts.
Data Pair(const std::string& name, const std::string& value) {
  Data d;
  d.set("name", name);
  d.set("value", value);
  size_t hash = value.find('#');
  d.set("secret", value.substr(0, hash));
  d.set("key", hash == std::string::npos ? "" : value.substr(hash + 1));
  return d;
}

Data VariableRow(const DeployVariable& v) {
  Data d;
  d.set("name", v.name);
  d.set("doc",
        v.backend == nullptr ? std::string(v.row->doc)
                             : v.backend->full_name + ": " + std::string(v.row->doc));
  d.set("required", Data(v.row->required));
  d.set("fallback", std::string(v.row->fallback));
  d.set("has_fallback", Data(!v.row->fallback.empty()));
  return d;
}

// Which list of the view a variable the deployment sets belongs to, or
// nullptr when it is left to its default.
const char* ListOf(const config::ServiceVariable& v) {
  if (v.needed == config::Needed::kRevocation) return nullptr;  // the feed is off by default
  switch (v.deploy) {
    case config::Deploy::kDefault:
      return nullptr;
    case config::Deploy::kSetting:
      return "settings";
    case config::Deploy::kSecret:
      return HasFileForm(v) ? nullptr : "secrets";
    case config::Deploy::kSecretFile:
      return "secret_files";
  }
  return nullptr;
}

// The variables' rows, and the settings, secrets and secret files the
// deployment gives values (see ServiceDeployView).
void SetVariables(Data& v, const std::vector<DeployVariable>& all, const ValueOf& value) {
  Data variables = List();
  std::map<std::string, Data> lists = {{"settings", List()},
                                       {"secrets", List()},
                                       {"secret_files", List()}};
  for (const DeployVariable& var : all) {
    variables.push_back(VariableRow(var));
    const char* list = ListOf(*var.row);
    if (list == nullptr) continue;
    std::string given = value(var);
    if (given.empty()) {
      throw std::logic_error("the deployment gives no value for " + var.name);
    }
    lists[list].push_back(Pair(var.name, given));
  }
  v.set("variables", variables);
  for (auto& [name, list] : lists) v.set(name, list);
}

std::string Upper(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Lowercase letters, digits and '-' only.
std::string DnsLabel(std::string_view name) {
  std::string out;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
  }
  return out;
}

}  // namespace

config::ServiceShape ShapeOf(const model::Service& s) {
  return {.database = !s.database.empty(),
          .nats = s.nats,
          .publishes = !s.published.empty(),
          .consumes = IsEventConsumer(s)};
}

std::string EnvPrefix(const model::Service& s) {
  std::string out;
  for (char c : s.short_name)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out + "_";
}

std::string DnsName(const model::Service& s) {
  return DnsLabel(s.short_name);
}

std::string BinaryName(const model::File& file) {
  size_t slash = file.base.rfind('/');
  return file.base.substr(slash == std::string::npos ? 0 : slash + 1) + "_service";
}

std::vector<DeployVariable> VariablesOf(const model::Service& s) {
  const config::ServiceShape shape = ShapeOf(s);
  const std::string prefix = EnvPrefix(s);
  std::vector<DeployVariable> out;
  for (const config::ServiceVariable* v : config::kServiceVariables) {
    if (!config::Reads(*v, shape, /*revocation=*/true)) continue;
    out.push_back({v->prefixed ? prefix + std::string(v->name) : std::string(v->name), v});
  }
  return out;
}

Data ServiceDeployView(const model::Service& s, const ValueOf& value) {
  Data v;
  v.set("name", s.short_name);
  v.set("dns_name", DnsName(s));
  v.set("full_name", s.full_name);
  v.set("prefix", EnvPrefix(s));
  v.set("grpc_port", std::to_string(s.effective_grpc_port));
  v.set("port_name", "grpc");
  v.set("admin_port", std::to_string(s.effective_admin_port));
  v.set("has_database", Data(!s.database.empty()));
  v.set("database", s.database);
  v.set("gateway", Data(false));
  SetVariables(v, VariablesOf(s), value);
  return v;
}

Data GatewayDeployView(const model::File& file,
                       const std::vector<const model::Service*>& backends,
                       const ValueOf& value) {
  namespace gw = config::gateway_vars;
  const std::string name = file.base.substr(file.base.rfind('/') + 1);
  const std::string prefix = Upper(name) + "_";
  std::vector<DeployVariable> variables;
  for (const config::ServiceVariable* row : config::kGatewayVariables) {
    variables.push_back(
        {row->prefixed ? prefix + std::string(row->name) : std::string(row->name), row});
  }
  for (const model::Service* b : backends) {
    variables.push_back(
        {prefix + Upper(b->short_name) + "_" + std::string(gw::kBackendAddresses.name),
         &gw::kBackendAddresses,
         b});
  }
  Data v;
  v.set("name", name);
  v.set("dns_name", DnsLabel(name));
  v.set("full_name", (file.package.empty() ? file.name : file.package) + " HTTP/JSON gateway");
  v.set("prefix", prefix);
  v.set("grpc_port", std::to_string(config::DefaultNumber(gw::kHttpPort)));
  v.set("port_name", "http");
  v.set("admin_port", std::to_string(config::DefaultNumber(gw::kAdminPort)));
  v.set("has_database", Data(false));
  v.set("database", "");
  v.set("gateway", Data(true));
  Data names = List();
  for (const model::Service* b : backends) names.push_back(Data(DnsName(*b)));
  v.set("backends", names);
  SetVariables(v, variables, value);
  return v;
}

std::string InContext(std::string_view deploy_dir, const std::string& output) {
  return deploy_dir.empty() ? output : std::string(deploy_dir) + "/" + output;
}

Data DeployFileView(const model::File& file) {
  Data v;
  v.set("source", file.name);
  v.set("has_services", Data(!file.services.empty()));
  return v;
}

std::string CommonValueIn(const DeployVariable& v) {
  namespace vars = config::vars;
  if (v.row == &vars::kAdminAddress) return "0.0.0.0";
  if (v.row == &vars::kDrainTimeoutMs) return std::to_string(kDrainTimeoutMs);
  if (v.row == &vars::kShutdownDelayMs) return std::to_string(kShutdownDelayMs);
  if (v.row == &vars::kNatsUrl) return "nats://nats:4222";
  return "";
}

}  // namespace cppsvc::emit
