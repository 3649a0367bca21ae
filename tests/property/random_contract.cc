// Writes a random, valid cpp-svc contract, the same one for the same seed.
//
//   random_contract <out-dir> <seed>
//
// Writes prop/roles/v1/roles.proto and 1 to 3 domain files
// prop/d<N>/v1/d<N>.proto under <out-dir> and prints their paths, one per
// line. The annotations are drawn at random within their documented ranges:
// roles with inheritance; services with or without a database, ports,
// transports, default roles, timeouts, bulkheads, circuit breakers, retry
// policies and subscriptions to events of earlier files; rpcs with roles or
// public access, owner fields, HTTP mappings, idempotency, retries, timeouts,
// rate limits, emitted events and validation rules; tables (only in a file
// with a database) of every column kind with column options, indexes and
// versioning; events with ordering keys. Every contract must pass the
// plugin's checks, compile and migrate (tests/property/run.sh).
//
// The random numbers come from splitmix64 and are mapped to ranges by hand,
// so a seed means the same contract with any compiler or standard library.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int Int(int lo, int hi) {
    return lo + static_cast<int>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(int percent) { return Int(1, 100) <= percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Next() % v.size()];
  }
  // A random subset of `v`, in its order; at least `min` elements.
  template <typename T>
  std::vector<T> Subset(const std::vector<T>& v, size_t min = 0) {
    std::vector<T> out;
    while (out.size() < min || out.empty()) {
      out.clear();
      for (const T& x : v)
        if (Chance(50)) out.push_back(x);
      if (min == 0) break;
    }
    return out;
  }

 private:
  uint64_t state_;
};

std::string Quoted(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", \"" : "\"") + names[i] + "\"";
  return out + "]";
}

// --- roles ----------------------------------------------------------------------

std::vector<std::string> WriteRoles(Rng& rng, std::ostream& o) {
  std::vector<std::string> roles;
  int n = rng.Int(1, 4);
  o << "syntax = \"proto3\";\n\npackage prop.roles.v1;\n\nimport \"cppsvc/v1/options.proto\";\n\n";
  for (int i = 0; i < n; ++i) {
    std::string name = "r" + std::to_string(i);
    o << "option (cppsvc.v1.role) = { name: \"" << name << "\"";
    // Inheritance only from earlier roles: no cycles.
    if (i > 0 && rng.Chance(40)) o << " includes: [\"r" << rng.Int(0, i - 1) << "\"]";
    if (rng.Chance(25)) o << " bypass_ownership: true";
    if (rng.Chance(30)) o << " description: \"Role " << i << ".\"";
    o << " };\n";
    roles.push_back(name);
  }
  return roles;
}

// --- fields -----------------------------------------------------------------------

struct Field {
  std::string type;  // proto type, e.g. "int64", "repeated string"
  std::string name;
  std::string options;  // "" or " [(cppsvc.v1.field) = { ... }]"
};

std::string FieldLine(const Field& f, int number) {
  return "  " + f.type + " " + f.name + " = " + std::to_string(number) + f.options + ";\n";
}

const std::vector<std::string> kScalars = {"bool",
                                           "int32",
                                           "int64",
                                           "uint32",
                                           "uint64",
                                           "sint32",
                                           "sint64",
                                           "fixed32",
                                           "fixed64",
                                           "sfixed32",
                                           "sfixed64",
                                           "float",
                                           "double",
                                           "string",
                                           "bytes",
                                           "google.protobuf.Timestamp"};

// Column options that fit the field's type.
std::string ColumnOptions(Rng& rng, const std::string& type) {
  std::vector<std::string> parts;
  if (type == "string" && rng.Chance(20))
    parts.push_back("type: \"varchar(" + std::to_string(rng.Int(1, 500)) + ")\"");
  if (type == "int64" && rng.Chance(25))
    parts.push_back("default: \"" + std::to_string(rng.Int(-5, 5)) + "\"");
  if (type == "bool" && rng.Chance(25)) parts.push_back("default: \"false\"");
  if ((type == "Detail" || type.rfind("repeated", 0) == 0) && rng.Chance(30))
    parts.push_back("storage: STORAGE_JSONB");
  if (parts.empty()) return "";
  std::string out = " [(cppsvc.v1.field) = { column: { ";
  for (const std::string& p : parts) out += p + " ";
  return out + "} }]";
}

// A stored column of a table: any kind the storage layer maps.
Field RandomColumn(Rng& rng, int i) {
  Field f{"", "c" + std::to_string(i), ""};
  int kind = rng.Int(0, 9);
  if (kind <= 5) {
    f.type = rng.Pick(kScalars);
    if (f.type != "google.protobuf.Timestamp" && rng.Chance(20)) f.type = "optional " + f.type;
  } else if (kind == 6) {
    f.type = "Status";
  } else if (kind == 7) {
    f.type = "Detail";
  } else if (kind == 8) {
    f.type = rng.Chance(50) ? "repeated string" : "repeated int64";
  } else {
    f.type = "map<string, int64>";
  }
  f.options = ColumnOptions(rng, f.type);
  if (f.options.empty() && rng.Chance(5))
    f.options = " [(cppsvc.v1.field) = { column: { skip: true } }]";
  return f;
}

// --- tables -------------------------------------------------------------------------

bool Indexable(const Field& f) {
  return f.options.find("skip") == std::string::npos &&
         f.type.find("repeated") == std::string::npos && f.type.find("map<") == std::string::npos &&
         f.type != "Detail";
}

// A full-text (GIN) index over some plain string columns, sometimes.
std::string TextSearchIndex(Rng& rng, const std::vector<Field>& columns) {
  std::vector<std::string> texts;
  for (const Field& f : columns)
    if (Indexable(f) && f.type == "string" && f.options.find("type:") == std::string::npos)
      texts.push_back(f.name);
  if (texts.empty() || !rng.Chance(25)) return "";
  std::vector<std::string> fields = rng.Subset(texts, 1);
  if (fields.size() > 2) fields.resize(2);
  return " indexes: { fields: " + Quoted(fields) + " text_search: \"" +
         rng.Pick<std::string>({"english", "simple", "german"}) + "\" }";
}

std::string IndexOptions(Rng& rng, const std::vector<Field>& columns) {
  std::vector<std::string> candidates;
  for (const Field& f : columns)
    if (Indexable(f)) candidates.push_back(f.name);
  std::string out;
  int n = candidates.empty() ? 0 : rng.Int(0, 2);
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> fields = rng.Subset(candidates, 1);
    if (fields.size() > 3) fields.resize(3);
    out += " indexes: { fields: " + Quoted(fields);
    if (rng.Chance(30)) out += " unique: true";
    out += " name: \"ix" + std::to_string(i) + "_" + std::to_string(rng.Int(0, 999999)) + "\" }";
  }
  return out + TextSearchIndex(rng, columns);
}

void WriteTable(Rng& rng, std::ostream& o, const std::string& prefix, int k) {
  std::string message = "Row" + std::to_string(k);
  std::vector<Field> columns;
  bool uuid_key = rng.Chance(60);
  columns.push_back(
      {uuid_key ? "string" : "int64",
       "id",
       uuid_key && rng.Chance(70) ? " [(cppsvc.v1.field) = { generated: GENERATED_UUID }]" : ""});
  int n = rng.Int(0, 8);
  for (int i = 0; i < n; ++i) columns.push_back(RandomColumn(rng, i));
  if (rng.Chance(40))
    columns.push_back({"google.protobuf.Timestamp",
                       "created_at",
                       " [(cppsvc.v1.field) = { generated: GENERATED_CREATED_AT }]"});
  bool versioned = rng.Chance(40);
  if (versioned && rng.Chance(50)) columns.push_back({"int64", "version", ""});
  o << "// Table " << k << ".\nmessage " << message << " {\n"
    << "  option (cppsvc.v1.table) = { name: \"" << prefix << "_t" << k
    << "\" primary_key: [\"id\"]" << IndexOptions(rng, columns)
    << (versioned ? " versioned: true" : "") << " };\n";
  for (size_t i = 0; i < columns.size(); ++i) o << FieldLine(columns[i], static_cast<int>(i) + 1);
  o << "}\n\n";
}

// --- events -------------------------------------------------------------------------

std::vector<std::string> WriteEvents(Rng& rng, std::ostream& o, const std::string& prefix, int n) {
  std::vector<std::string> events;
  for (int k = 0; k < n; ++k) {
    // Unique across files: a service's handlers are named after the events.
    std::string name = "D" + prefix.substr(1) + "Event" + std::to_string(k);
    o << "// Event " << k << ".\nmessage " << name << " {\n"
      << "  option (cppsvc.v1.event) = { subject: \"prop." << prefix << ".e" << k << "\"";
    if (rng.Chance(70)) o << " key: \"key\"";
    o << " };\n  string key = 1;\n  int64 amount = 2;\n";
    if (rng.Chance(50)) o << "  google.protobuf.Timestamp at = 3;\n";
    o << "}\n\n";
    events.push_back(name);
  }
  return events;
}

// --- rpcs ---------------------------------------------------------------------------

struct ServiceContext {
  std::string prefix;  // e.g. d1s0
  bool database = false;
  bool default_roles = false;
  std::vector<std::string> roles;
  std::vector<std::string> events;  // declared in this file
};

std::string Validation(Rng& rng, const std::string& type) {
  std::vector<std::string> rules;
  if (type == "string") {
    if (rng.Chance(30)) rules.push_back("required: true");
    int min = rng.Int(0, 10);
    if (rng.Chance(30)) rules.push_back("min_len: " + std::to_string(min));
    if (rng.Chance(30)) rules.push_back("max_len: " + std::to_string(min + rng.Int(1, 200)));
  } else if (type == "int64") {
    int lo = rng.Int(-1000, 1000);
    if (rng.Chance(30)) rules.push_back("gte: " + std::to_string(lo));
    if (rng.Chance(30)) rules.push_back("lte: " + std::to_string(lo + rng.Int(0, 5000)));
  } else if (type == "repeated string") {
    int min = rng.Int(0, 3);
    if (rng.Chance(30)) rules.push_back("min_items: " + std::to_string(min));
    if (rng.Chance(30)) rules.push_back("max_items: " + std::to_string(min + rng.Int(1, 20)));
  }
  if (rules.empty()) return "";
  std::string out = " [(cppsvc.v1.field) = { validate: { ";
  for (const std::string& r : rules) out += r + " ";
  return out + "} }]";
}

std::string RequestMessage(Rng& rng, const std::string& name) {
  std::ostringstream o;
  o << "message " << name << " {\n"
    << "  string id = 1"
    << (rng.Chance(20) ? " [(cppsvc.v1.field) = { validate: { uuid: true } }]" : "") << ";\n"
    << "  string owner = 2;\n  string request_id = 3;\n"
    << "  int64 amount = 4" << Validation(rng, "int64") << ";\n"
    << "  string name = 5" << Validation(rng, "string") << ";\n"
    << "  repeated string tags = 6" << Validation(rng, "repeated string") << ";\n";
  if (rng.Chance(30))
    o << "  string email = 7 [(cppsvc.v1.field) = { validate: { email: true } }];\n";
  if (rng.Chance(30))
    o << "  string code = 8 [(cppsvc.v1.field) = { validate: { pattern: \"^[A-Z]{2}[0-9]{1,4}$\" "
         "example: \"AB12\" } }];\n";
  if (rng.Chance(30))
    o << "  Status status = 9 [(cppsvc.v1.field) = { validate: { enum_defined: true } }];\n";
  o << "}\n\n";
  return o.str();
}

std::string Retry(Rng& rng) {
  int initial = rng.Int(1, 500);
  std::ostringstream o;
  o << " retry: { max_attempts: " << rng.Int(1, 6) << " initial_backoff_ms: " << initial
    << " max_backoff_ms: " << initial + rng.Int(0, 5000);
  if (rng.Chance(50)) o << " backoff_multiplier: " << rng.Int(10, 40) / 10.0;
  if (rng.Chance(50))
    o << " retryable_codes: "
      << Quoted(rng.Subset<std::string>(
             {"UNAVAILABLE", "ABORTED", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"},
             1));
  return o.str() + " }";
}

std::string Http(Rng& rng, const std::string& route) {
  static const std::vector<std::string> kVerbs = {"get", "put", "post", "delete", "patch"};
  std::string verb = rng.Pick(kVerbs);
  std::string path = route + (rng.Chance(50) ? "/{id}" : "") + (rng.Chance(20) ? ":do" : "");
  std::string body;
  if (verb != "get" && verb != "delete") body = rng.Chance(80) ? " body: \"*\"" : "";
  return " http: { " + verb + ": \"" + path + "\"" + body + " }";
}

std::string Access(Rng& rng, const ServiceContext& s, bool& is_public) {
  is_public = false;
  int choice = rng.Int(0, 9);
  if (choice == 0) {
    is_public = true;
    return " public: true";
  }
  if (choice <= 4 || !s.default_roles) return " roles: " + Quoted(rng.Subset(s.roles, 1));
  return "";
}

std::string MethodOptions(Rng& rng, const ServiceContext& s, int k) {
  bool is_public = false;
  std::string o = Access(rng, s, is_public);
  if (!is_public && rng.Chance(30)) o += " owner_field: \"owner\"";
  if (rng.Chance(70)) o += Http(rng, "/v1/" + s.prefix + "/r" + std::to_string(k));
  bool idempotent = rng.Chance(30);
  // An idempotency key keeps responses in the service's database.
  bool keyed = !idempotent && s.database && rng.Chance(35);
  if (idempotent) o += " idempotent: true";
  if (keyed) o += " idempotency_key: \"request_id\"";
  if ((idempotent || keyed) && rng.Chance(40)) o += Retry(rng);
  if (s.database && rng.Chance(15))
    o += " version_conflict_retries: " + std::to_string(rng.Int(1, 20));
  if (rng.Chance(40)) o += " timeout_ms: " + std::to_string(rng.Int(1, 60000));
  if (rng.Chance(25))
    o += " rate_limit: { requests_per_second: " + std::to_string(rng.Int(1, 10000) / 10.0) +
         " burst: " + std::to_string(rng.Int(1, 100)) +
         " key: " + rng.Pick<std::string>({"KEY_CALLER", "KEY_GLOBAL", "KEY_PEER"}) + " }";
  // An emitted event goes through the outbox in the service's database.
  if (s.database && !s.events.empty() && rng.Chance(40))
    o += " emits: " + Quoted(rng.Subset(s.events, 1));
  if (rng.Chance(20)) o += " description: \"Rpc " + std::to_string(k) + ".\"";
  return o;
}

// --- services -----------------------------------------------------------------------

std::string Subscriptions(Rng& rng, const std::vector<std::string>& foreign_events) {
  std::vector<std::string> events = rng.Subset(foreign_events);
  if (events.empty()) return "";
  std::string out = " subscribe: [";
  for (size_t i = 0; i < events.size(); ++i) {
    out += std::string(i ? ", " : "") + "{ event: \"" + events[i] + "\"";
    if (rng.Chance(40)) out += " max_deliver: " + std::to_string(rng.Int(1, 20));
    if (rng.Chance(30)) out += " ack_wait_ms: " + std::to_string(rng.Int(1000, 60000));
    if (rng.Chance(20)) out += " queue_group: \"q" + std::to_string(i) + "\"";
    out += " }";
  }
  return out + "]";
}

std::string ServiceOptions(Rng& rng,
                           const ServiceContext& s,
                           int port,
                           const std::vector<std::string>& foreign_events) {
  std::ostringstream o;
  o << "name: \"" << s.prefix << "\"";
  if (s.database) o << " database: \"" << s.prefix << "\"";
  o << " grpc_port: " << port << " admin_port: " << port + 1000;
  if (rng.Chance(30))
    o << " transports: "
      << rng.Pick<std::string>(
             {"[TRANSPORT_GRPC]", "[TRANSPORT_NATS]", "[TRANSPORT_GRPC, TRANSPORT_NATS]"});
  if (s.default_roles) o << " default_roles: " << Quoted(rng.Subset(s.roles, 1));
  if (rng.Chance(30)) o << " default_timeout_ms: " << rng.Int(1, 60000);
  if (rng.Chance(20))
    o << " max_concurrency: " << rng.Int(1, 256) << " max_queue: " << rng.Int(0, 1000);
  if (rng.Chance(20))
    o << " circuit_breaker: { failure_rate_threshold: " << rng.Int(1, 10) / 10.0
      << " window: " << rng.Int(10, 100) << " min_calls: " << rng.Int(1, 10)
      << " open_ms: " << rng.Int(100, 60000) << " }";
  if (rng.Chance(20))
    o << " foreign_resources: "
      << rng.Pick<std::string>({"FOREIGN_NOT_FOUND", "FOREIGN_PERMISSION_DENIED"});
  if (s.database) o << Subscriptions(rng, foreign_events);
  return o.str();
}

void WriteService(Rng& rng,
                  std::ostream& o,
                  const ServiceContext& s,
                  int port,
                  const std::vector<std::string>& foreign_events) {
  int rpcs = rng.Int(1, 4);
  std::string messages;
  o << "// Service " << s.prefix << ".\nservice " << char(std::toupper(s.prefix[0]))
    << s.prefix.substr(1) << "Service {\n  option (cppsvc.v1.service) = { "
    << ServiceOptions(rng, s, port, foreign_events) << " };\n";
  for (int k = 0; k < rpcs; ++k) {
    std::string rpc = "Call" + std::to_string(k);
    std::string type = char(std::toupper(s.prefix[0])) + s.prefix.substr(1) + rpc;
    o << "  rpc " << rpc << "(" << type << "Request) returns (" << type << "Response) {\n"
      << "    option (cppsvc.v1.method) = {" << MethodOptions(rng, s, k) << " };\n  }\n";
    messages += RequestMessage(rng, type + "Request");
    messages += "message " + type + "Response {\n  string id = 1;\n  string owner = 2;\n}\n\n";
  }
  o << "}\n\n" << messages;
}

// --- files --------------------------------------------------------------------------

struct Domain {
  std::string path;
  std::vector<std::string> events;  // full names
};

std::string WriteDomain(Rng& rng,
                        int d,
                        const std::vector<std::string>& roles,
                        std::vector<Domain>& done) {
  std::ostringstream o;
  std::string prefix = "d" + std::to_string(d);
  o << "syntax = \"proto3\";\n\npackage prop." << prefix << ".v1;\n\n"
    << "import \"cppsvc/v1/options.proto\";\nimport \"google/protobuf/timestamp.proto\";\n"
    << "import public \"prop/roles/v1/roles.proto\";\n";
  std::vector<std::string> foreign;
  for (const Domain& other : done) {
    o << "import public \"" << other.path << "\";\n";
    foreign.insert(foreign.end(), other.events.begin(), other.events.end());
  }
  o << "\nenum Status {\n  STATUS_UNSPECIFIED = 0;\n  STATUS_ON = 1;\n  STATUS_OFF = 2;\n}\n\n"
    << "message Detail {\n  string note = 1;\n  repeated int32 values = 2;\n"
    << "  google.protobuf.Timestamp at = 3;\n}\n\n";
  bool database = rng.Chance(70);
  std::vector<std::string> events = WriteEvents(rng, o, prefix, rng.Int(0, 3));
  int tables = database ? rng.Int(0, 3) : 0;
  for (int k = 0; k < tables; ++k) WriteTable(rng, o, prefix, k);
  int services = rng.Int(1, 2);
  for (int k = 0; k < services; ++k) {
    ServiceContext s{prefix + "s" + std::to_string(k),
                     database && k == 0,
                     rng.Chance(60),
                     roles,
                     events};
    WriteService(rng, o, s, 20000 + d * 100 + k * 10, foreign);
  }
  Domain domain{"prop/" + prefix + "/v1/" + prefix + ".proto", {}};
  for (const std::string& e : events) domain.events.push_back("prop." + prefix + ".v1." + e);
  done.push_back(domain);
  return o.str();
}

void Write(const std::filesystem::path& root, const std::string& path, const std::string& text) {
  std::filesystem::create_directories((root / path).parent_path());
  std::ofstream out(root / path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) {
    std::cerr << "random_contract: cannot write " << (root / path) << "\n";
    std::exit(1);
  }
  std::cout << path << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: random_contract <out-dir> <seed>\n";
    return 2;
  }
  std::filesystem::path root = argv[1];
  Rng rng(std::strtoull(argv[2], nullptr, 10));
  std::ostringstream roles_file;
  std::vector<std::string> roles = WriteRoles(rng, roles_file);
  Write(root, "prop/roles/v1/roles.proto", roles_file.str());
  std::vector<Domain> done;
  int domains = rng.Int(1, 3);
  for (int d = 0; d < domains; ++d) {
    std::string text = WriteDomain(rng, d, roles, done);
    Write(root, done.back().path, text);
  }
  return 0;
}
