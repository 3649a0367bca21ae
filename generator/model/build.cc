#include "model/build.h"

#include <algorithm>
#include <functional>
#include <set>

#include <google/protobuf/compiler/cpp/names.h>
#include <google/protobuf/descriptor.pb.h>

#include "cppsvc/v1/options.pb.h"
#include "model/names.h"
#include "text/join.h"

namespace cppsvc::model {
namespace {

namespace pb = google::protobuf;

// Field numbers of descriptor.proto used to address elements in
// SourceCodeInfo paths.
constexpr int kFilePackage = 2;
constexpr int kFileMessage = 4;
constexpr int kFileService = 6;
constexpr int kFileOptions = 8;
constexpr int kMessageField = 2;
constexpr int kMessageNested = 3;
constexpr int kMessageOptions = 7;
constexpr int kFieldOptions = 8;
constexpr int kServiceMethod = 2;
constexpr int kServiceOptions = 3;
constexpr int kMethodOptions = 4;

// Source positions of one file, by SourceCodeInfo path.
class SourceIndex {
 public:
  explicit SourceIndex(const pb::FileDescriptor* file) : file_(file->name()) {
    pb::FileDescriptorProto proto;
    file->CopySourceCodeInfoTo(&proto);
    for (const auto& loc : proto.source_code_info().location()) {
      std::vector<int> path(loc.path().begin(), loc.path().end());
      if (loc.span_size() < 3) continue;
      Entry entry{{file_, loc.span(0) + 1, loc.span(1) + 1}, loc.leading_comments()};
      locations_.emplace(std::move(path), std::move(entry));  // keeps the first
    }
  }

  // The span of `path`; else of the first element below it (an option
  // written field by field); else of its nearest ancestor; else the file.
  Span At(const std::vector<int>& path) const {
    auto it = locations_.lower_bound(path);
    if (it != locations_.end() && IsPrefix(path, it->first)) return it->second.span;
    for (size_t n = path.size(); n > 0; --n) {
      auto parent = locations_.find(std::vector<int>(path.begin(), path.begin() + n - 1));
      if (parent != locations_.end() && n - 1 > 0) return parent->second.span;
    }
    return Span{file_, 0, 0};
  }

  std::string Comment(const std::vector<int>& path) const {
    auto it = locations_.find(path);
    return it == locations_.end() ? "" : it->second.comment;
  }

 private:
  struct Entry {
    Span span;
    std::string comment;
  };
  static bool IsPrefix(const std::vector<int>& prefix, const std::vector<int>& path) {
    return path.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
  }

  std::string file_;
  std::map<std::vector<int>, Entry> locations_;
};

std::vector<int> Append(std::vector<int> path, std::initializer_list<int> more) {
  path.insert(path.end(), more);
  return path;
}

// Comments become one line of documentation: whitespace folded, trimmed.
std::string OneLine(const std::string& comment) {
  std::string out;
  bool space = false;
  for (char c : comment) {
    if (c == '\n' || c == ' ' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Options of descriptors built from a dynamic pool keep custom options as
// unknown fields; a round trip through the generated class makes the
// extensions typed in both the plugin and in-process builds.
template <typename Options>
Options Reparse(const Options& options) {
  Options typed;
  typed.ParseFromString(options.SerializeAsString());
  return typed;
}

FieldKind KindOf(const pb::FieldDescriptor* field) {
  switch (field->type()) {
    case pb::FieldDescriptor::TYPE_DOUBLE:
      return FieldKind::kDouble;
    case pb::FieldDescriptor::TYPE_FLOAT:
      return FieldKind::kFloat;
    case pb::FieldDescriptor::TYPE_INT32:
      return FieldKind::kInt32;
    case pb::FieldDescriptor::TYPE_INT64:
      return FieldKind::kInt64;
    case pb::FieldDescriptor::TYPE_UINT32:
      return FieldKind::kUint32;
    case pb::FieldDescriptor::TYPE_UINT64:
      return FieldKind::kUint64;
    case pb::FieldDescriptor::TYPE_SINT32:
      return FieldKind::kSint32;
    case pb::FieldDescriptor::TYPE_SINT64:
      return FieldKind::kSint64;
    case pb::FieldDescriptor::TYPE_FIXED32:
      return FieldKind::kFixed32;
    case pb::FieldDescriptor::TYPE_FIXED64:
      return FieldKind::kFixed64;
    case pb::FieldDescriptor::TYPE_SFIXED32:
      return FieldKind::kSfixed32;
    case pb::FieldDescriptor::TYPE_SFIXED64:
      return FieldKind::kSfixed64;
    case pb::FieldDescriptor::TYPE_BOOL:
      return FieldKind::kBool;
    case pb::FieldDescriptor::TYPE_STRING:
      return FieldKind::kString;
    case pb::FieldDescriptor::TYPE_BYTES:
      return FieldKind::kBytes;
    case pb::FieldDescriptor::TYPE_ENUM:
      return FieldKind::kEnum;
    case pb::FieldDescriptor::TYPE_MESSAGE:
    case pb::FieldDescriptor::TYPE_GROUP:
      return FieldKind::kMessage;
  }
  return FieldKind::kMessage;
}

ValidationRules ToRules(const v1::Validate& v) {
  ValidationRules r;
  r.required = v.required();
  if (v.has_min_len()) r.min_len = v.min_len();
  if (v.has_max_len()) r.max_len = v.max_len();
  if (v.has_gte()) r.gte = v.gte();
  if (v.has_lte()) r.lte = v.lte();
  if (v.has_gt()) r.gt = v.gt();
  if (v.has_lt()) r.lt = v.lt();
  r.pattern = v.pattern();
  r.email = v.email();
  r.uuid = v.uuid();
  r.enum_defined = v.enum_defined();
  if (v.has_min_items()) r.min_items = v.min_items();
  if (v.has_max_items()) r.max_items = v.max_items();
  r.example = v.example();
  return r;
}

RetryPolicy ToRetry(const v1::RetryPolicy& p) {
  return {p.max_attempts(),
          p.initial_backoff_ms(),
          p.max_backoff_ms(),
          p.backoff_multiplier(),
          {p.retryable_codes().begin(), p.retryable_codes().end()}};
}

CircuitBreaker ToBreaker(const v1::CircuitBreaker& b) {
  return {b.failure_rate_threshold(), b.window(), b.min_calls(), b.open_ms(), b.half_open_calls()};
}

std::vector<std::string> Strings(const pb::RepeatedPtrField<std::string>& in) {
  return {in.begin(), in.end()};
}

// Resolves an event reference the way protobuf resolves type names: a
// leading '.' means fully qualified; otherwise the innermost enclosing scope
// of `package` that declares the name wins. An unknown name keeps its
// spelling (qualified by the package when bare) for the error message.
std::string ResolveRef(const Model& model, const std::string& name, const std::string& package) {
  if (name.empty()) return name;
  if (name[0] == '.') return name.substr(1);
  std::string scope = package;
  for (;;) {
    std::string candidate = scope.empty() ? name : scope + "." + name;
    if (model.messages.count(candidate) > 0) return candidate;
    if (scope.empty()) break;
    size_t dot = scope.rfind('.');
    scope = dot == std::string::npos ? "" : scope.substr(0, dot);
  }
  return ResolveName(name, package);
}

void ResolveAll(Model& model, std::vector<std::string>& names, const std::string& package) {
  for (std::string& n : names) n = ResolveRef(model, n, package);
}

void ResolveReferences(Model& model) {
  for (File& file : model.files) {
    const std::string& package = file.package;
    auto one = [&](std::string& n) { n = ResolveRef(model, n, package); };
    for (Service& s : file.services) {
      for (Subscription& sub : s.subscriptions) {
        one(sub.event);
        ResolveAll(model, sub.emits, package);
      }
      ResolveAll(model, s.publishes, package);
      for (Method& m : s.methods) ResolveAll(model, m.emits, package);
    }
    for (Saga& saga : file.sagas) {
      one(saga.trigger);
      one(saga.completed_event);
      one(saga.aborted_event);
      std::string previous = saga.trigger;
      for (SagaStep& st : saga.steps) {
        if (st.on_explicit)
          one(st.on);
        else
          st.on = previous;
        one(st.success_event);
        one(st.failure_event);
        one(st.compensation_done_event);
        previous = st.success_event;
      }
    }
  }
}

// Columns of a table message; names referring to fields (primary key,
// indexes) become SQL names here. Fields the checks refuse (unknown, skipped)
// keep their spelling, so later checks and errors still see them.
void BuildColumns(Message& m) {
  Table& t = *m.table;
  std::string relative = m.package.empty() ? m.full_name : m.full_name.substr(m.package.size() + 1);
  t.repository_class = PascalCase(relative) + "Repository";
  t.has_version_column = t.versioned;
  for (size_t i = 0; i < m.fields.size(); ++i) {
    const Field& f = m.fields[i];
    if (f.column.skip) continue;
    Column c;
    c.name = f.column.name.empty() ? f.name : f.column.name;
    c.codec = CodecOf(f);
    c.sql_type = f.column.type.empty() ? SqlTypeOf(f) : f.column.type;
    c.nullable = f.has_presence && !f.repeated;
    c.default_sql = f.column.default_value;
    c.field_index = i;
    c.field = f.name;
    c.field_number = f.number;
    c.generated = f.generated;
    c.span = f.has_options ? f.option_span : f.span;
    c.primary_key =
        std::find(t.primary_key.begin(), t.primary_key.end(), f.name) != t.primary_key.end();
    if (c.primary_key) c.nullable = false;
    if (f.generated == GeneratedValue::kCreatedAt || f.generated == GeneratedValue::kUpdatedAt) {
      // Filled on every insert, so never NULL; the default also lets a
      // generated timestamp be added to a table that already has rows.
      c.nullable = false;
      if (c.default_sql.empty()) c.default_sql = "now()";
    }
    if (t.versioned && f.name == "version" && IsInteger(f.kind) && !f.repeated) {
      c.version = true;
      c.nullable = false;
      if (f.column.type.empty()) c.sql_type = "bigint";
      if (c.default_sql.empty()) c.default_sql = "1";
      t.version_mapped = true;
    }
    t.columns.push_back(std::move(c));
  }
  auto column_of = [&](const std::string& field) {
    const Column* c = t.ColumnOfField(field);
    return c == nullptr ? field : c->name;
  };
  for (const std::string& k : t.primary_key) t.primary_key_columns.push_back(column_of(k));
  for (Index& idx : t.indexes) {
    for (const std::string& f : idx.fields) idx.columns.push_back(column_of(f));
    idx.name_given = !idx.name.empty();
    const char* suffix = !idx.text_search.empty() ? "_search_idx" : idx.unique ? "_key" : "_idx";
    if (!idx.name_given) idx.name = t.name + "_" + text::Join(idx.columns, "_") + suffix;
  }
}

// Storage facts of files: their database, where their migrations go, and
// the columns of their tables.
void ResolveStorage(Model& model) {
  std::set<std::string> saga_owners;
  std::set<std::string> saga_participants;
  for (const File& file : model.files) {
    for (const Saga& saga : file.sagas) {
      saga_owners.insert(saga.owner);
      for (const SagaStep& step : saga.steps) saga_participants.insert(step.participant);
    }
  }
  for (File& file : model.files) {
    for (const Service& s : file.services) {
      if (file.database.empty()) file.database = s.database;
      if (saga_owners.count(s.short_name) > 0) file.owns_sagas = true;
      if (saga_participants.count(s.short_name) > 0) file.takes_saga_steps = true;
    }
    size_t slash = file.base.rfind('/');
    std::string dir = slash == std::string::npos ? "" : file.base.substr(0, slash + 1);
    file.migrations_dir = dir + "migrations";
    file.migrations_function =
        PascalCase(file.base.substr(slash == std::string::npos ? 0 : slash + 1)) + "Migrations";
    file.schema_lock = file.base + ".schema.lock.json";
    for (const std::string& name : file.messages) {
      Message& m = model.messages.at(name);
      if (!m.table) continue;
      m.table->database = file.database;
      BuildColumns(m);
    }
  }
}

class Builder {
 public:
  explicit Builder(Model& model) : model_(model) {}

  void AddFile(const pb::FileDescriptor* file, bool generate) {
    SourceIndex source(file);
    File out;
    out.name = file->name();
    out.base = out.name.size() > 6 && out.name.compare(out.name.size() - 6, 6, ".proto") == 0
                   ? out.name.substr(0, out.name.size() - 6)
                   : out.name;
    out.package = file->package();
    out.package_span = source.At({kFilePackage});
    out.cpp_namespace = CppNamespace(out.package);
    out.pb_header = out.base + ".pb.h";
    out.generate = generate;
    for (int i = 0; i < file->dependency_count(); ++i)
      out.dependencies.push_back(file->dependency(i)->name());
    for (int i = 0; i < file->public_dependency_count(); ++i)
      out.public_dependencies.push_back(file->public_dependency(i)->name());

    for (int i = 0; i < file->message_type_count(); ++i) {
      AddMessage(file->message_type(i), {kFileMessage, i}, source, out);
    }
    for (int i = 0; i < file->enum_type_count(); ++i) AddEnum(file->enum_type(i));
    for (int i = 0; i < file->service_count(); ++i) {
      out.services.push_back(BuildService(file->service(i), {kFileService, i}, source));
    }

    const auto options = Reparse(file->options());
    for (int i = 0; i < options.ExtensionSize(v1::role); ++i) {
      const v1::Role& r = options.GetExtension(v1::role, i);
      Role role;
      role.name = r.name();
      role.includes = Strings(r.includes());
      role.description = r.description();
      role.bypass_ownership = r.bypass_ownership();
      role.file = out.name;
      role.span = source.At({kFileOptions, v1::kRoleFieldNumber, i});
      out.roles.push_back(std::move(role));
    }
    out.schema_span = out.package_span;
    if (options.HasExtension(v1::schema)) {
      out.drop_tables = Strings(options.GetExtension(v1::schema).drop_tables());
      out.schema_span = source.At({kFileOptions, v1::kSchemaFieldNumber});
    }
    for (int i = 0; i < options.ExtensionSize(v1::saga); ++i) {
      out.sagas.push_back(BuildSaga(options.GetExtension(v1::saga, i),
                                    out,
                                    source.At({kFileOptions, v1::kSagaFieldNumber, i})));
    }
    model_.files.push_back(std::move(out));
  }

 private:
  void AddEnum(const pb::EnumDescriptor* e) {
    EnumType out{e->full_name(), google::protobuf::compiler::cpp::QualifiedClassName(e), {}};
    for (int i = 0; i < e->value_count(); ++i)
      out.values.emplace_back(e->value(i)->name(), e->value(i)->number());
    model_.enums.emplace(out.full_name, std::move(out));
  }

  void AddMessage(const pb::Descriptor* d,
                  const std::vector<int>& path,
                  const SourceIndex& source,
                  File& file) {
    Message m;
    m.full_name = d->full_name();
    m.name = d->name();
    m.file = file.name;
    m.package = file.package;
    m.cpp_type = google::protobuf::compiler::cpp::QualifiedClassName(d);
    m.comment = OneLine(source.Comment(path));
    m.map_entry = d->options().map_entry();
    m.span = source.At(path);

    const auto options = Reparse(d->options());
    if (options.HasExtension(v1::table)) {
      const v1::TableOptions& t = options.GetExtension(v1::table);
      Table table;
      table.name = t.name().empty() ? SnakeCase(d->name()) + "s" : t.name();
      table.name_given = !t.name().empty();
      table.primary_key = Strings(t.primary_key());
      for (const v1::Index& idx : t.indexes()) {
        Index index;
        index.fields = Strings(idx.fields());
        index.unique = idx.unique();
        index.name = idx.name();
        index.text_search = idx.text_search();
        table.indexes.push_back(std::move(index));
      }
      table.versioned = t.versioned();
      table.description = t.description();
      table.drop_columns = Strings(t.drop_columns());
      table.span = source.At(Append(path, {kMessageOptions, v1::kTableFieldNumber}));
      m.table = std::move(table);
    }
    if (options.HasExtension(v1::event)) {
      const v1::EventOptions& e = options.GetExtension(v1::event);
      m.event = Event{e.subject(),
                      e.key(),
                      e.description(),
                      source.At(Append(path, {kMessageOptions, v1::kEventFieldNumber}))};
    }

    for (int i = 0; i < d->field_count(); ++i) {
      m.fields.push_back(BuildField(d->field(i), Append(path, {kMessageField, i}), source));
    }
    file.messages.push_back(m.full_name);
    model_.messages.emplace(m.full_name, std::move(m));

    for (int i = 0; i < d->nested_type_count(); ++i) {
      AddMessage(d->nested_type(i), Append(path, {kMessageNested, i}), source, file);
    }
    for (int i = 0; i < d->enum_type_count(); ++i) AddEnum(d->enum_type(i));
  }

  static Field BuildField(const pb::FieldDescriptor* f,
                          const std::vector<int>& path,
                          const SourceIndex& source) {
    Field out;
    out.name = f->name();
    out.cpp_name = google::protobuf::compiler::cpp::FieldName(f);
    out.json_name = f->json_name();
    out.number = f->number();
    out.kind = KindOf(f);
    if (f->message_type() != nullptr) out.type_name = f->message_type()->full_name();
    if (f->enum_type() != nullptr) out.type_name = f->enum_type()->full_name();
    out.repeated = f->is_repeated();
    out.map = f->is_map();
    out.has_presence = f->has_presence();
    out.proto3_optional =
        f->has_optional_keyword() && f->file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO3;
    out.span = source.At(path);
    out.comment = OneLine(source.Comment(path));

    const auto options = Reparse(f->options());
    if (options.HasExtension(v1::field)) {
      const v1::FieldOptions& o = options.GetExtension(v1::field);
      out.has_options = true;
      out.option_span = source.At(Append(path, {kFieldOptions, v1::kFieldFieldNumber}));
      out.validate = ToRules(o.validate());
      const v1::Column& c = o.column();
      out.column.name = c.name();
      out.column.type = c.type();
      out.column.storage = c.storage() == v1::Column::STORAGE_JSONB         ? Storage::kJsonb
                           : c.storage() == v1::Column::STORAGE_CHILD_TABLE ? Storage::kChildTable
                                                                            : Storage::kDefault;
      out.column.skip = c.skip();
      out.column.default_value = c.default_();
      out.column.allow_type_change = c.allow_type_change();
      switch (o.generated()) {
        case v1::GENERATED_UUID:
          out.generated = GeneratedValue::kUuid;
          break;
        case v1::GENERATED_CREATED_AT:
          out.generated = GeneratedValue::kCreatedAt;
          break;
        case v1::GENERATED_UPDATED_AT:
          out.generated = GeneratedValue::kUpdatedAt;
          break;
        default:
          break;
      }
    }
    return out;
  }

  static Service BuildService(const pb::ServiceDescriptor* s,
                              const std::vector<int>& path,
                              const SourceIndex& source) {
    Service out;
    const std::string& package = s->file()->package();
    out.name = s->name();
    out.full_name = s->full_name();
    out.file = s->file()->name();
    out.package = package;
    out.comment = OneLine(source.Comment(path));
    out.span = source.At(path);
    out.short_name = DefaultShortName(s->name());

    const auto options = Reparse(s->options());
    if (options.HasExtension(v1::service)) {
      const v1::ServiceOptions& o = options.GetExtension(v1::service);
      out.has_options = true;
      out.option_span = source.At(Append(path, {kServiceOptions, v1::kServiceFieldNumber}));
      if (!o.name().empty()) out.short_name = o.name();
      out.database = o.database();
      out.grpc_port = o.grpc_port();
      out.admin_port = o.admin_port();
      for (int t : o.transports()) out.nats = out.nats || t == v1::TRANSPORT_NATS;
      out.default_roles = Strings(o.default_roles());
      for (const v1::Subscription& sub : o.subscribe()) {
        Subscription in;
        in.event = sub.event();
        in.queue_group = sub.queue_group();
        in.max_deliver = sub.max_deliver();
        in.ack_wait_ms = sub.ack_wait_ms();
        in.emits = Strings(sub.emits());
        out.subscriptions.push_back(std::move(in));
      }
      out.publishes = Strings(o.publishes());
      out.default_timeout_ms = o.default_timeout_ms();
      out.max_concurrency = o.max_concurrency();
      out.max_queue = o.max_queue();
      out.inline_handlers = o.inline_handlers();
      if (o.foreign_resources() == v1::FOREIGN_NOT_FOUND)
        out.foreign_resources = ForeignResources::kNotFound;
      if (o.foreign_resources() == v1::FOREIGN_PERMISSION_DENIED) {
        out.foreign_resources = ForeignResources::kPermissionDenied;
      }
      if (o.has_circuit_breaker()) out.circuit_breaker = ToBreaker(o.circuit_breaker());
      if (o.has_default_retry()) out.default_retry = ToRetry(o.default_retry());
      out.stream = o.stream();
      out.description = o.description();
    }

    for (int i = 0; i < s->method_count(); ++i) {
      out.methods.push_back(BuildMethod(s->method(i), Append(path, {kServiceMethod, i}), source));
    }
    return out;
  }

  static Method BuildMethod(const pb::MethodDescriptor* m,
                            const std::vector<int>& path,
                            const SourceIndex& source) {
    Method out;
    out.name = m->name();
    out.cpp_name = m->name();
    out.full_name = m->full_name();
    out.input = m->input_type()->full_name();
    out.output = m->output_type()->full_name();
    out.client_streaming = m->client_streaming();
    out.server_streaming = m->server_streaming();
    out.comment = OneLine(source.Comment(path));
    out.span = source.At(path);

    const auto options = Reparse(m->options());
    if (!options.HasExtension(v1::method)) return out;
    const v1::MethodOptions& o = options.GetExtension(v1::method);
    out.has_options = true;
    out.option_span = source.At(Append(path, {kMethodOptions, v1::kMethodFieldNumber}));
    out.roles = Strings(o.roles());
    out.is_public = o.public_();
    out.owner_field = o.owner_field();
    if (o.has_http()) {
      const v1::HttpRule& h = o.http();
      HttpRoute route;
      switch (h.pattern_case()) {
        case v1::HttpRule::kGet:
          route.verb = "GET", route.path = h.get();
          break;
        case v1::HttpRule::kPut:
          route.verb = "PUT", route.path = h.put();
          break;
        case v1::HttpRule::kPost:
          route.verb = "POST", route.path = h.post();
          break;
        case v1::HttpRule::kDelete:
          route.verb = "DELETE", route.path = h.delete_();
          break;
        case v1::HttpRule::kPatch:
          route.verb = "PATCH", route.path = h.patch();
          break;
        case v1::HttpRule::PATTERN_NOT_SET:
          break;
      }
      route.body = h.body();
      route.response_body = h.response_body();
      out.http = route;
    }
    out.timeout_ms = o.timeout_ms();
    out.idempotent = o.idempotent();
    out.idempotency_key = o.idempotency_key();
    out.version_conflict_retries = o.version_conflict_retries();
    out.emits = Strings(o.emits());
    if (o.has_retry()) out.retry = ToRetry(o.retry());
    if (o.has_rate_limit()) {
      const v1::RateLimit& r = o.rate_limit();
      const char* key = r.key() == v1::RateLimit::KEY_GLOBAL ? "global"
                        : r.key() == v1::RateLimit::KEY_PEER ? "peer"
                                                             : "caller";
      out.rate_limit = RateLimit{r.requests_per_second(), r.burst(), key};
    }
    out.description = o.description();
    return out;
  }

  static Saga BuildSaga(const v1::Saga& s, const File& file, const Span& span) {
    Saga out;
    out.name = s.name();
    out.owner = s.owner();
    out.trigger = s.trigger();
    out.timeout_ms = s.timeout_ms();
    out.completed_event = s.completed_event();
    out.aborted_event = s.aborted_event();
    out.description = s.description();
    out.file = file.name;
    out.span = span;
    for (const v1::SagaStep& step : s.steps()) {
      SagaStep st;
      st.name = step.name();
      st.participant = step.participant();
      st.on_explicit = !step.on().empty();
      st.on = step.on();
      st.success_event = step.success_event();
      st.failure_event = step.failure_event();
      st.has_compensation = step.has_compensation();
      st.compensation_done_event = step.compensation().done_event();
      st.compensation_description = step.compensation().description();
      st.description = step.description();
      out.steps.push_back(std::move(st));
    }
    return out;
  }

  Model& model_;
};

}  // namespace

Model Build(const std::vector<const pb::FileDescriptor*>& files_to_generate) {
  // Every file reachable through imports, so cross-file references resolve.
  std::map<std::string, const pb::FileDescriptor*> all;
  std::set<std::string> requested;
  std::function<void(const pb::FileDescriptor*)> visit = [&](const pb::FileDescriptor* f) {
    if (!all.emplace(f->name(), f).second) return;
    for (int i = 0; i < f->dependency_count(); ++i) visit(f->dependency(i));
  };
  for (const pb::FileDescriptor* f : files_to_generate) {
    requested.insert(f->name());
    visit(f);
  }

  Model model;
  Builder builder(model);
  for (const auto& [name, file] : all) builder.AddFile(file, requested.count(name) > 0);
  ResolveReferences(model);
  ResolveStorage(model);
  return model;
}

}  // namespace cppsvc::model
