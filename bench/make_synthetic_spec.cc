// Writes a synthetic cpp-svc contract for the plugin benchmark.
//
//   make_synthetic_spec <out-dir> [--domains N] [--services N]
//
// Writes <out-dir>/synthetic/v1/roles.proto and, per domain NN,
// <out-dir>/synthetic/domain_NN/v1/domain_NN.proto (package
// synthetic.domain_NN.v1; a directory each, as every file with a database)
// with N services of 10 rpcs each. The defaults, 20 domains x 10 services,
// give 200 services and 2,000 rpcs. Import roots: <out-dir> and the specs/
// directory that holds cppsvc/v1/options.proto.
//
// Every file is annotated the way a real contract is: roles and default
// roles, a unique HTTP route per rpc, validation rules on request fields,
// events with unique subjects emitted by rpcs and subscriptions, one table
// and one saga per domain, ports, retry and rate limits. The output is
// deterministic (no randomness, no timestamps) and passes the plugin's
// checks with no error and no warning.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Noun {
  const char* type;    // message name of the resource, e.g. "Invoice"
  const char* plural;  // path segment and snake_case plural, e.g. "invoices"
  const char* field;   // snake_case singular, e.g. "invoice"
};

constexpr Noun kNouns[] = {
    {"Account", "accounts", "account"},
    {"Invoice", "invoices", "invoice"},
    {"Shipment", "shipments", "shipment"},
    {"Ticket", "tickets", "ticket"},
    {"Device", "devices", "device"},
    {"Report", "reports", "report"},
    {"Coupon", "coupons", "coupon"},
    {"Review", "reviews", "review"},
    {"Booking", "bookings", "booking"},
    {"Document", "documents", "document"},
};
constexpr int kMaxServices = sizeof(kNouns) / sizeof(kNouns[0]);

std::string Two(int n) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", n);
  return buf;
}

void WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) {
    std::cerr << "make_synthetic_spec: cannot write " << path << "\n";
    std::exit(1);
  }
}

std::string RolesFile() {
  return R"(// Roles of the synthetic benchmark system (written by bench/make_synthetic_spec).
syntax = "proto3";

package synthetic.roles.v1;

import "cppsvc/v1/options.proto";

option (cppsvc.v1.role) = {
  name: "viewer"
  description: "Reads the resources it owns."
};
option (cppsvc.v1.role) = {
  name: "editor"
  includes: ["viewer"]
  description: "Creates and changes the resources it owns."
};
option (cppsvc.v1.role) = {
  name: "admin"
  includes: ["editor"]
  bypass_ownership: true
  description: "Acts on any user's resources."
};
option (cppsvc.v1.role) = {
  name: "service"
  bypass_ownership: true
  description: "Another service of the system, with a service token."
};
)";
}

// One domain file: `services` services over the first nouns, 10 rpcs each.
std::string DomainFile(int d, int services) {
  const std::string dd = Two(d);
  const std::string pkg = "synthetic.domain_" + dd + ".v1";
  std::ostringstream o;
  o << "// Synthetic domain " << dd << " (written by bench/make_synthetic_spec; do not edit).\n"
    << "syntax = \"proto3\";\n\n"
    << "package " << pkg << ";\n\n"
    << "import \"cppsvc/v1/options.proto\";\n"
    << "import \"google/protobuf/timestamp.proto\";\n"
    << "import public \"synthetic/v1/roles.proto\";\n\n";

  // No saga: a saga's owner and participants each keep its state in their
  // own database, and a domain here is one file, so one database.

  o << "// Lifecycle of every resource of the domain.\n"
    << "enum ResourceStatus {\n"
    << "  RESOURCE_STATUS_UNSPECIFIED = 0;\n"
    << "  RESOURCE_STATUS_ACTIVE = 1;\n"
    << "  RESOURCE_STATUS_ARCHIVED = 2;\n"
    << "  RESOURCE_STATUS_APPROVED = 3;\n"
    << "  RESOURCE_STATUS_REJECTED = 4;\n"
    << "}\n\n";

  for (int s = 0; s < services; ++s) {
    const Noun& n = kNouns[s];
    const int global = d * kMaxServices + s;
    const std::string T = n.type, P = n.plural, F = n.field;
    const std::string route = "/v1/d" + dd + "/" + P;
    const bool stateful = s == 0;

    // --- service ---------------------------------------------------------
    o << "// Manages " << P << " of domain " << dd << ".\n"
      << "service " << T << "Service {\n"
      << "  option (cppsvc.v1.service) = {\n"
      << "    name: \"d" << dd << "_" << P << "\"\n";
    if (stateful) o << "    database: \"d" << dd << "_" << P << "\"\n";
    o << "    grpc_port: " << 20000 + global << "\n"
      << "    admin_port: " << 30000 + global << "\n";
    if (s % 2 == 1) o << "    transports: [TRANSPORT_NATS]\n";
    o << "    default_roles: [\"viewer\"]\n"
      << "    default_timeout_ms: 3000\n";
    if (s % 3 == 0) {
      o << "    circuit_breaker: { failure_rate_threshold: 0.5 window: 50 min_calls: 10 open_ms: "
           "10000 }\n"
        << "    default_retry: { max_attempts: 4 initial_backoff_ms: 25 retryable_codes: "
           "[\"UNAVAILABLE\"] }\n";
    }
    // Events go through the outbox in the database: only the stateful
    // service of a domain emits, the others follow its resources.
    const std::string first = kNouns[0].type;
    o << "    subscribe: [\n";
    if (stateful) {
      o << "      { event: \"" << T << "Deleted\" max_deliver: 8 emits: [\"" << T
        << "Processed\"] }";
    } else {
      o << "      { event: \"" << first << "Created\" max_deliver: 8 },\n"
        << "      { event: \"" << first << "Processed\" }";
    }
    o << "\n    ]\n";
    o << "    description: \"The " << P << " of domain " << dd << ".\"\n"
      << "  };\n\n";

    auto rpc = [&](const std::string& name,
                   const std::string& in,
                   const std::string& out,
                   const std::string& doc,
                   const std::string& options) {
      o << "  // " << doc << "\n"
        << "  rpc " << name << "(" << in << ") returns (" << out << ") {\n"
        << "    option (cppsvc.v1.method) = {\n"
        << options << "    };\n"
        << "  }\n\n";
    };
    rpc("Create" + T,
        "Create" + T + "Request",
        "Create" + T + "Response",
        "Creates a " + F + " owned by the caller." +
            (stateful ? " A repeated request_id returns the first one." : ""),
        "      roles: [\"editor\"]\n"
        "      owner_field: \"owner_id\"\n"
        "      http: { post: \"" +
            route + "\" body: \"*\" }\n" +
            // Replies are kept for a repeated key in the service's database.
            (stateful ? "      idempotency_key: \"request_id\"\n" : "      idempotent: true\n") +
            (stateful ? "      emits: [\"" + T + "Created\"]\n" : "") +
            "      timeout_ms: 2000\n"
            "      rate_limit: { requests_per_second: 50 burst: 100 }\n");
    rpc("Get" + T,
        "Get" + T + "Request",
        "Get" + T + "Response",
        "Returns one " + F + " of the caller (admins: of anyone).",
        "      owner_field: \"" + F +
            ".owner_id\"\n"
            "      http: { get: \"" +
            route +
            "/{id}\" }\n"
            "      idempotent: true\n"
            "      retry: { max_attempts: 3 initial_backoff_ms: 20 max_backoff_ms: 500 }\n");
    rpc("List" + T + "s",
        "List" + T + "sRequest",
        "List" + T + "sResponse",
        "Lists a user's " + P + ", newest first.",
        "      owner_field: \"owner_id\"\n"
        "      http: { get: \"/v1/d" +
            dd + "/users/{owner_id}/" + P +
            "\" }\n"
            "      idempotent: true\n");
    rpc("Update" + T,
        "Update" + T + "Request",
        "Update" + T + "Response",
        "Changes the name or status of a " + F + ".",
        "      roles: [\"editor\"]\n"
        "      http: { patch: \"" +
            route +
            "/{id}\" body: \"*\" }\n"
            "      idempotent: true\n");
    rpc("Delete" + T,
        "Delete" + T + "Request",
        "Delete" + T + "Response",
        "Deletes a " + F + ".",
        "      roles: [\"admin\"]\n"
        "      http: { delete: \"" +
            route + "/{id}\" }\n" + (stateful ? "      emits: [\"" + T + "Deleted\"]\n" : ""));
    rpc("Archive" + T,
        "Archive" + T + "Request",
        "Archive" + T + "Response",
        "Archives a " + F + "; archived " + P + " are read-only.",
        "      roles: [\"editor\"]\n"
        "      http: { post: \"" +
            route + "/{id}:archive\" body: \"*\" }\n");
    rpc("Restore" + T,
        "Restore" + T + "Request",
        "Restore" + T + "Response",
        "Restores an archived " + F + ".",
        "      roles: [\"admin\", \"service\"]\n"
        "      http: { post: \"" +
            route + "/{id}:restore\" body: \"*\" }\n");
    rpc("Approve" + T,
        "Approve" + T + "Request",
        "Approve" + T + "Response",
        "Approves a " + F + " with a review code.",
        "      roles: [\"admin\"]\n"
        "      http: { post: \"" +
            route +
            "/{id}:approve\" body: \"*\" }\n"
            "      timeout_ms: 1000\n");
    rpc("Reject" + T,
        "Reject" + T + "Request",
        "Reject" + T + "Response",
        "Rejects a " + F + " with a reason.",
        "      roles: [\"admin\"]\n"
        "      http: { post: \"" +
            route +
            "/{id}:reject\" body: \"*\" }\n"
            "      rate_limit: { requests_per_second: 5 key: KEY_GLOBAL }\n");
    rpc("Count" + T + "s",
        "Count" + T + "sRequest",
        "Count" + T + "sResponse",
        "Counts the " + P + " in a status. Public.",
        "      public: true\n"
        "      http: { get: \"" +
            route +
            ":count\" }\n"
            "      idempotent: true\n");
    o << "}\n\n";

    // --- the resource -------------------------------------------------------
    o << "// A " << F << ".\n"
      << "message " << T << " {\n";
    if (stateful) {
      o << "  option (cppsvc.v1.table) = {\n"
        << "    primary_key: [\"id\"]\n"
        << "    indexes: [{ fields: [\"owner_id\"] }, { fields: [\"name\"] unique: true }]\n"
        << "    versioned: true\n"
        << "  };\n"
        << "  string id = 1 [(cppsvc.v1.field) = { generated: GENERATED_UUID }];\n"
        << "  string owner_id = 2 [(cppsvc.v1.field) = { column: { type: \"uuid\" } }];\n"
        << "  string name = 3;\n"
        << "  ResourceStatus status = 4;\n"
        << "  repeated string tags = 5 [(cppsvc.v1.field) = { column: { storage: STORAGE_JSONB } "
           "}];\n"
        << "  int64 amount_cents = 6 [(cppsvc.v1.field) = { column: { default: \"0\" } }];\n"
        << "  google.protobuf.Timestamp created_at = 7 [(cppsvc.v1.field) = { generated: "
           "GENERATED_CREATED_AT }];\n"
        << "  google.protobuf.Timestamp updated_at = 8 [(cppsvc.v1.field) = { generated: "
           "GENERATED_UPDATED_AT }];\n"
        << "  int64 version = 9;\n";
    } else {
      o << "  string id = 1;\n"
        << "  string owner_id = 2;\n"
        << "  string name = 3;\n"
        << "  ResourceStatus status = 4;\n"
        << "  repeated string tags = 5;\n"
        << "  int64 amount_cents = 6;\n"
        << "  google.protobuf.Timestamp created_at = 7;\n"
        << "  google.protobuf.Timestamp updated_at = 8;\n";
    }
    o << "}\n\n";

    // --- events -------------------------------------------------------------
    const std::string subject = "synthetic.d" + dd + "." + P + ".";
    for (const char* what : {"Created", "Deleted", "Processed"}) {
      std::string lower = what;
      lower[0] = static_cast<char>(lower[0] - 'A' + 'a');
      o << "// A " << F << " was " << lower << ".\n"
        << "message " << T << what << " {\n"
        << "  option (cppsvc.v1.event) = { subject: \"" << subject << lower << "\" key: \"" << F
        << "_id\" };\n"
        << "  string " << F << "_id = 1;\n"
        << "  string owner_id = 2;\n"
        << "  google.protobuf.Timestamp occurred_at = 3;\n"
        << "}\n\n";
    }

    // --- requests and responses ----------------------------------------------
    const std::string uuid = " [(cppsvc.v1.field) = { validate: { required: true uuid: true } }]";
    o << "// Input of Create" << T << ".\n"
      << "message Create" << T << "Request {\n"
      << "  // Client-chosen id of this creation.\n"
      << "  string request_id = 1" << uuid << ";\n"
      << "  // Owner of the new " << F << ".\n"
      << "  string owner_id = 2" << uuid << ";\n"
      << "  string name = 3 [(cppsvc.v1.field) = { validate: { required: true min_len: 1 max_len: "
         "200 } }];\n"
      << "  repeated string tags = 4 [(cppsvc.v1.field) = { validate: { max_items: 20 } }];\n"
      << "  int64 amount_cents = 5 [(cppsvc.v1.field) = { validate: { gte: 0 lte: 1000000000 } "
         "}];\n"
      << "  string contact_email = 6 [(cppsvc.v1.field) = { validate: { email: true max_len: 254 } "
         "}];\n"
      << "}\n\n"
      << "// Output of Create" << T << ".\n"
      << "message Create" << T << "Response {\n"
      << "  " << T << " " << F << " = 1;\n"
      << "}\n\n";

    o << "// Input of Get" << T << ".\n"
      << "message Get" << T << "Request {\n"
      << "  string id = 1" << uuid << ";\n"
      << "}\n\n"
      << "// Output of Get" << T << ".\n"
      << "message Get" << T << "Response {\n"
      << "  " << T << " " << F << " = 1;\n"
      << "}\n\n";

    o << "// Input of List" << T << "s.\n"
      << "message List" << T << "sRequest {\n"
      << "  string owner_id = 1" << uuid << ";\n"
      << "  int32 page_size = 2 [(cppsvc.v1.field) = { validate: { gte: 0 lte: 1000 } }];\n"
      << "  string page_token = 3 [(cppsvc.v1.field) = { validate: { max_len: 512 } }];\n"
      << "  ResourceStatus status = 4;\n"
      << "}\n\n"
      << "// Output of List" << T << "s.\n"
      << "message List" << T << "sResponse {\n"
      << "  repeated " << T << " " << P << " = 1;\n"
      << "  string next_page_token = 2;\n"
      << "}\n\n";

    o << "// Input of Update" << T << ".\n"
      << "message Update" << T << "Request {\n"
      << "  string id = 1" << uuid << ";\n"
      << "  optional string name = 2 [(cppsvc.v1.field) = { validate: { min_len: 1 max_len: 200 } "
         "}];\n"
      << "  ResourceStatus status = 3 [(cppsvc.v1.field) = { validate: { enum_defined: true } }];\n"
      << "  int64 version = 4 [(cppsvc.v1.field) = { validate: { gt: 0 } }];\n"
      << "}\n\n"
      << "// Output of Update" << T << ".\n"
      << "message Update" << T << "Response {\n"
      << "  " << T << " " << F << " = 1;\n"
      << "}\n\n";

    o << "// Input of Delete" << T << ".\n"
      << "message Delete" << T << "Request {\n"
      << "  string id = 1" << uuid << ";\n"
      << "}\n\n"
      << "// Output of Delete" << T << ".\n"
      << "message Delete" << T << "Response {}\n\n";

    for (const char* verb : {"Archive", "Restore"}) {
      o << "// Input of " << verb << T << ".\n"
        << "message " << verb << T << "Request {\n"
        << "  string id = 1" << uuid << ";\n"
        << "}\n\n"
        << "// Output of " << verb << T << ".\n"
        << "message " << verb << T << "Response {\n"
        << "  " << T << " " << F << " = 1;\n"
        << "}\n\n";
    }

    o << "// Input of Approve" << T << ".\n"
      << "message Approve" << T << "Request {\n"
      << "  string id = 1" << uuid << ";\n"
      << "  // Review code, e.g. \"REV-0042\".\n"
      << "  string code = 2 [(cppsvc.v1.field) = { validate: { required: true pattern: "
         "\"[A-Z]{3}-[0-9]{4}\" } }];\n"
      << "  string comment = 3 [(cppsvc.v1.field) = { validate: { max_len: 1000 } }];\n"
      << "}\n\n"
      << "// Output of Approve" << T << ".\n"
      << "message Approve" << T << "Response {\n"
      << "  " << T << " " << F << " = 1;\n"
      << "}\n\n";

    o << "// Input of Reject" << T << ".\n"
      << "message Reject" << T << "Request {\n"
      << "  string id = 1" << uuid << ";\n"
      << "  repeated string reasons = 2 [(cppsvc.v1.field) = { validate: { min_items: 1 max_items: "
         "5 } }];\n"
      << "  double score = 3 [(cppsvc.v1.field) = { validate: { gte: 0 lt: 1 } }];\n"
      << "}\n\n"
      << "// Output of Reject" << T << ".\n"
      << "message Reject" << T << "Response {\n"
      << "  " << T << " " << F << " = 1;\n"
      << "}\n\n";

    o << "// Input of Count" << T << "s.\n"
      << "message Count" << T << "sRequest {\n"
      << "  ResourceStatus status = 1 [(cppsvc.v1.field) = { validate: { enum_defined: true } }];\n"
      << "}\n\n"
      << "// Output of Count" << T << "s.\n"
      << "message Count" << T << "sResponse {\n"
      << "  int64 count = 1;\n"
      << "}\n\n";
  }
  return o.str();
}

int ParseCount(const char* flag, const char* value, int max) {
  char* end = nullptr;
  long n = value == nullptr ? 0 : std::strtol(value, &end, 10);
  if (value == nullptr || *end != '\0' || n < 1 || n > max) {
    std::cerr << "make_synthetic_spec: " << flag << " expects a number from 1 to " << max << "\n";
    std::exit(2);
  }
  return static_cast<int>(n);
}

}  // namespace

int main(int argc, char* argv[]) {
  std::string out_dir;
  int domains = 20;
  int services = kMaxServices;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--domains") {
      domains = ParseCount("--domains", i + 1 < argc ? argv[++i] : nullptr, 99);
    } else if (arg == "--services") {
      services = ParseCount("--services", i + 1 < argc ? argv[++i] : nullptr, kMaxServices);
    } else if (arg == "-h" || arg == "--help") {
      std::cout << "usage: make_synthetic_spec <out-dir> [--domains N (20)] [--services N per "
                   "domain (10, max "
                << kMaxServices << ")]\n";
      return 0;
    } else if (out_dir.empty() && !arg.empty() && arg[0] != '-') {
      out_dir = arg;
    } else {
      std::cerr << "make_synthetic_spec: unexpected argument '" << arg << "' (see --help)\n";
      return 2;
    }
  }
  if (out_dir.empty()) {
    std::cerr << "usage: make_synthetic_spec <out-dir> [--domains N] [--services N]\n";
    return 2;
  }

  const std::filesystem::path root = std::filesystem::path(out_dir) / "synthetic";
  // Files of an earlier, larger run would otherwise be picked up by globs.
  std::filesystem::remove_all(root);
  WriteFile(root / "v1" / "roles.proto", RolesFile());
  for (int d = 0; d < domains; ++d) {
    const std::string name = "domain_" + Two(d);
    WriteFile(root / name / "v1" / (name + ".proto"), DomainFile(d, services));
  }
  std::cout << "wrote " << domains + 1 << " files, " << domains * services << " services, "
            << domains * services * 10 << " rpcs under " << root.string() << "\n";
  return 0;
}
