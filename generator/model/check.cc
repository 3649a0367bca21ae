#include "model/check.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <re2/re2.h>

#include "model/http_path.h"
#include "model/names.h"

namespace cppsvc::model {
namespace {

std::string Quote(const std::string& s) {
  return "'" + s + "'";
}

class Checker {
 public:
  Checker(const Model& model, diag::Diagnostics& diags) : model_(model), diags_(diags) { Index(); }

  void Run() {
    CheckRoles();
    for (const File& file : model_.files) {
      CheckCppNames(file);
      for (const std::string& name : file.messages) CheckMessage(model_.messages.at(name));
      for (const Service& service : file.services) CheckService(service);
      for (const Saga& saga : file.sagas) CheckSaga(saga);
      CheckStorage(file);
    }
    CheckGlobalUniqueness();
  }

 private:
  // --- indexes over the whole model --------------------------------------

  void Index() {
    for (const File& file : model_.files) {
      if (file.generate) generated_files_.insert(file.name);
      for (const Role& r : file.roles) role_names_.push_back(r.name);
      for (const Service& s : file.services) {
        service_names_.push_back(s.short_name);
        for (const PublishedEvent& p : s.published) publishers_[p.event].insert(s.short_name);
      }
    }
    for (const auto& [name, m] : model_.messages) {
      if (m.event) event_names_.push_back(name);
    }
  }

  bool Reported(const Span& span) const { return generated_files_.count(span.file) > 0; }

  void Error(const Span& span, std::string message) {
    if (Reported(span)) diags_.Error(span, std::move(message));
  }
  void Warning(const Span& span, std::string message) {
    if (Reported(span)) diags_.Warning(span, std::move(message));
  }

  bool Publishes(const std::string& service, const std::string& event) const {
    auto it = publishers_.find(event);
    return it != publishers_.end() && it->second.count(service) > 0;
  }

  // Checks that `event` names a declared event; reports with `what` as the
  // element that refers to it. Returns true when it does.
  bool CheckEventRef(const Span& span, const std::string& what, const std::string& event) {
    const Message* m = model_.FindMessage(event);
    if (m == nullptr) {
      Error(span, what + ": event " + Quote(event) + " is not declared" + SuggestEvent(event));
      return false;
    }
    if (!m->event) {
      Error(span,
            what + ": message " + Quote(event) +
                " is not an event (it has no (cppsvc.v1.event) option)");
      return false;
    }
    return true;
  }

  // Compares short names, so a long package does not make any event "near".
  std::string SuggestEvent(const std::string& event) const {
    std::vector<std::string> short_names;
    for (const std::string& e : event_names_) {
      // The right name in another package: suggest its full name.
      if (ShortName(e) == ShortName(event)) return " (did you mean '" + e + "'?)";
      short_names.push_back(ShortName(e));
    }
    std::string hint = diag::DidYouMean(ShortName(event), short_names);
    if (hint.empty()) return "";
    std::string near = hint.substr(hint.find('\'') + 1);
    near = near.substr(0, near.find('\''));
    // Prefer a candidate in the same package as the reference.
    std::string package =
        event.substr(0, event.rfind('.') == std::string::npos ? 0 : event.rfind('.'));
    std::string full;
    for (const std::string& e : event_names_) {
      if (ShortName(e) != near) continue;
      if (full.empty() || e.rfind(package + ".", 0) == 0) full = e;
    }
    return " (did you mean '" + full + "'?)";
  }

  void CheckRoleRef(const Span& span, const std::string& what, const std::string& role) {
    if (model_.FindRole(role) == nullptr) {
      Error(span,
            what + ": role " + Quote(role) + " is not declared" +
                diag::DidYouMean(role, role_names_));
    }
  }

  // protoc and grpc_cpp_plugin emit these names into C++ unchanged, so a
  // keyword among them gives code that cannot compile.
  void CheckCppNames(const File& file) {
    size_t start = 0;
    while (start < file.package.size()) {
      size_t dot = file.package.find('.', start);
      std::string part =
          file.package.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (IsCppKeyword(part)) {
        Error(file.package_span,
              "package " + Quote(file.package) + ": " + Quote(part) +
                  " is a C++ keyword, which protoc's C++ output cannot use as a namespace");
      }
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    for (const Service& s : file.services) {
      if (IsCppKeyword(s.name)) {
        Error(s.span,
              "service " + Quote(s.name) +
                  ": the name is a C++ keyword, which grpc's C++ output cannot use");
      }
      for (const Method& m : s.methods) {
        std::string what = "rpc " + Quote(s.name + "." + m.name);
        if (IsCppKeyword(m.name))
          Error(m.span, what + ": the name is a C++ keyword, which grpc's C++ output cannot use");
        for (const std::string* type : {&m.input, &m.output}) {
          const Message* msg = model_.FindMessage(*type);
          if (msg == nullptr) continue;
          std::string relative = msg->package.empty()
                                     ? msg->full_name
                                     : msg->full_name.substr(msg->package.size() + 1);
          std::string outer = relative.substr(0, relative.find('.'));
          if (IsCppKeyword(outer)) {
            Error(m.span,
                  what + ": message type " + Quote(msg->full_name) +
                      " is named with the C++ keyword " + Quote(outer) +
                      ", which grpc's C++ output cannot spell");
          }
        }
      }
    }
  }

  // --- roles ---------------------------------------------------------------

  void CheckRoles() {
    std::map<std::string, const Role*> seen;
    for (const File& file : model_.files) {
      for (const Role& role : file.roles) {
        if (role.name.empty()) {
          Error(role.span, "role has no name");
          continue;
        }
        auto [it, inserted] = seen.emplace(role.name, &role);
        if (!inserted) {
          Error(role.span,
                "role " + Quote(role.name) + " is already declared at " + it->second->span.file +
                    ":" + std::to_string(it->second->span.line));
        }
        for (const std::string& inc : role.includes) {
          CheckRoleRef(role.span, "role " + Quote(role.name) + " includes", inc);
          if (inc == role.name) Error(role.span, "role " + Quote(role.name) + " includes itself");
        }
      }
    }
    for (const auto& [name, role] : seen) {
      if (InCycle(*role)) {
        Error(role->span, "role " + Quote(name) + " includes itself through a cycle of includes");
      }
    }
  }

  // Whether another role that `role` includes grants it back (including
  // itself directly is reported on its own).
  bool InCycle(const Role& role) const {
    return std::any_of(role.includes.begin(), role.includes.end(), [&](const std::string& inc) {
      const Role* r = inc == role.name ? nullptr : model_.FindRole(inc);
      return r != nullptr && std::binary_search(r->grants.begin(), r->grants.end(), role.name);
    });
  }

  // --- messages: tables, events, field options ------------------------------

  void CheckMessage(const Message& m) {
    if (m.table && m.event) {
      Error(m.event->span,
            "message " + Quote(m.name) + " is both a table and an event: use separate messages");
    }
    if (m.table) CheckTable(m);
    if (m.event) CheckEvent(m);
    for (const Field& f : m.fields) {
      if (f.has_options) CheckFieldOptions(m, f);
    }
  }

  void CheckTable(const Message& m) {
    const Table& t = *m.table;
    std::string what = "table " + Quote(t.name) + " (message " + Quote(m.name) + ")";
    std::vector<std::string> field_names;
    for (const Field& f : m.fields) field_names.push_back(f.name);
    CheckSqlName(t.span, what, "table name", t.name, "name");
    if (t.name.rfind("cppsvc_", 0) == 0) {
      Error(t.span, what + ": names starting with 'cppsvc_' are reserved for the runtime's tables");
    }
    if (t.primary_key.empty()) {
      Error(t.span, what + " has no primary key: set primary_key");
    }
    // A key or index field must exist and be stored.
    auto stored = [&](const std::string& kind, const std::string& k) -> const Field* {
      const Field* f = m.FindField(k);
      if (f == nullptr) {
        Error(t.span,
              what + ": " + kind + " field " + Quote(k) + " does not exist" +
                  diag::DidYouMean(k, field_names));
      } else if (f->column.skip) {
        Error(t.span,
              what + ": " + kind + " field " + Quote(k) +
                  " is not stored (its column has skip: true)");
        return nullptr;
      }
      return f;
    };
    for (const std::string& k : t.primary_key) {
      const Field* f = stored("primary key", k);
      if (f != nullptr && (f->repeated || f->kind == FieldKind::kMessage)) {
        Error(t.span,
              what + ": primary key field " + Quote(k) + " must be a singular scalar, found " +
                  (f->repeated ? "repeated " : "") + KindName(f->kind));
      }
    }
    for (size_t i = 0; i < t.indexes.size(); ++i) {
      const model::Index& idx = t.indexes[i];
      if (idx.fields.empty())
        Error(t.span, what + ": index " + std::to_string(i + 1) + " has no fields");
      std::set<std::string> seen;
      for (const std::string& k : idx.fields) {
        stored("index", k);
        if (!seen.insert(k).second) {
          Error(t.span,
                what + ": index " + Quote(idx.name) + " lists field " + Quote(k) + " twice");
        }
      }
      if (!idx.fields.empty()) {
        CheckSqlName(t.span,
                     what,
                     "index name",
                     idx.name,
                     idx.name_given ? "a shorter name" : "name");
      }
    }
    if (t.versioned && m.FindField("version") != nullptr) {
      const Field* v = m.FindField("version");
      if (!IsInteger(v->kind) || v->repeated) {
        Error(v->span,
              what + " is versioned, so field 'version' must be an integer, found " +
                  KindName(v->kind));
      }
    }

    for (const std::string& d : t.drop_columns) {
      if (const Column* c = t.FindColumn(d); c != nullptr) {
        Error(t.span,
              what + ": drop_columns names column " + Quote(d) + ", which field " +
                  Quote(m.name + "." + c->field) +
                  " still maps: remove the field first (its column is kept until dropped)");
      }
    }
    std::map<std::string, const Column*> by_name;
    for (const Column& c : t.columns) {
      const Field& f = m.fields[c.field_index];
      std::string cw = "field " + Quote(m.name + "." + f.name);
      CheckSqlName(c.span, cw, "column name", c.name, "column: { name: ... }");
      if (auto [it, ok] = by_name.emplace(c.name, &c); !ok) {
        Error(c.span,
              cw + ": column " + Quote(c.name) + " is already the column of field " +
                  Quote(m.name + "." + it->second->field) + ": set another column name");
      }
      if (t.versioned && !t.version_mapped && c.name == "version" && f.name != "version") {
        Error(c.span,
              cw + ": column 'version' is the version column of versioned table " + Quote(t.name) +
                  ": name the field 'version' to map it, or set another column name");
      }
      CheckColumnOptions(f, c, cw);
    }
  }

  // Identifiers are not quoted in the generated SQL.
  void CheckSqlName(const Span& span,
                    const std::string& what,
                    const std::string& kind,
                    const std::string& name,
                    const std::string& fix) {
    if (name.size() > 63) {
      Error(span,
            what + ": " + kind + " " + Quote(name) + " is longer than PostgreSQL's 63 bytes: set " +
                fix);
    } else if (!IsPlainSqlIdentifier(name)) {
      Error(span,
            what + ": " + kind + " " + Quote(name) +
                " must be lowercase letters, digits and '_', starting with a letter or '_'");
    } else if (IsSqlReservedWord(name)) {
      Error(
          span,
          what + ": " + kind + " " + Quote(name) + " is a reserved word in PostgreSQL: set " + fix);
    }
  }

  void CheckColumnOptions(const Field& f, const Column& c, const std::string& what) {
    const ColumnOptions& o = f.column;
    bool json = c.codec == ColumnCodec::kJson;
    if (o.storage == Storage::kJsonb && !f.repeated && !f.map && f.kind != FieldKind::kMessage) {
      Error(c.span,
            what + ": STORAGE_JSONB needs a message, repeated or map field, found " +
                KindName(f.kind));
    }
    if (!o.type.empty()) {
      // A type name, optionally with a modifier and array brackets:
      // varchar(254), numeric(12,2), double precision, citext, text[].
      static const re2::RE2 kType(
          R"([A-Za-z_][A-Za-z0-9_]*( [A-Za-z_][A-Za-z0-9_]*)*( ?\( *[0-9]+ *(, *[0-9]+ *)?\))?(\[\])?)");
      std::string lower;
      for (char ch : o.type)
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (!re2::RE2::FullMatch(o.type, kType)) {
        Error(c.span,
              what + ": column type " + Quote(o.type) +
                  " is not a SQL type name (expected e.g. 'varchar(64)', 'numeric(12,2)' or "
                  "'citext')");
      } else if (json && lower != "jsonb" && lower != "json") {
        Error(
            c.span,
            what +
                ": the field is stored as JSON, so its column type must be jsonb or json, found " +
                Quote(o.type));
      } else if (c.codec == ColumnCodec::kTimestamp && lower.rfind("timestamp", 0) != 0) {
        Error(c.span,
              what + ": a google.protobuf.Timestamp column must have a timestamp type, found " +
                  Quote(o.type));
      }
    }
    if (!o.default_value.empty() && !BalancedSql(o.default_value)) {
      Error(c.span,
            what + ": column default " + Quote(o.default_value) +
                " must be one SQL expression (balanced quotes and parentheses, no ';')");
    }
  }

  // A default expression that cannot end the statement it is pasted into.
  static bool BalancedSql(const std::string& sql) {
    int depth = 0;
    bool quoted = false;
    for (char ch : sql) {
      if (ch == '\'') quoted = !quoted;
      if (quoted) continue;
      if (ch == ';') return false;
      if (ch == '(') ++depth;
      if (ch == ')' && --depth < 0) return false;
    }
    return !quoted && depth == 0 && sql.find("--") == std::string::npos;
  }

  // A file's tables, sagas and infrastructure tables live in one database:
  // the one of the file's service(s).
  void CheckStorage(const File& file) {
    const Message* first_table = nullptr;
    std::map<std::string, std::string> index_names;  // index -> table
    for (const std::string& name : file.messages) {
      const Message& m = model_.messages.at(name);
      if (!m.table) continue;
      if (first_table == nullptr) first_table = &m;
      for (const model::Index& idx : m.table->indexes) {
        if (idx.fields.empty()) continue;
        if (auto [it, ok] = index_names.emplace(idx.name, m.table->name); !ok) {
          Error(m.table->span,
                "table " + Quote(m.table->name) + " (message " + Quote(m.name) + "): index name " +
                    Quote(idx.name) + " is already used by table " + Quote(it->second) +
                    " (index names are unique in a database): set name");
        }
      }
    }
    for (const std::string& d : file.drop_tables) {
      for (const std::string& name : file.messages) {
        const Message& m = model_.messages.at(name);
        if (m.table && m.table->name == d) {
          Error(file.schema_span,
                "schema drop_tables names table " + Quote(d) + ", which message " + Quote(m.name) +
                    " still declares: remove the table message first");
        }
      }
    }
    const Service* owner = nullptr;
    for (const Service& s : file.services) {
      if (s.database.empty()) continue;
      if (owner == nullptr) {
        owner = &s;
      } else if (s.database != owner->database) {
        Error(
            s.has_options ? s.option_span : s.span,
            "service " + Quote(s.name) + ": database " + Quote(s.database) +
                " differs from database " + Quote(owner->database) + " of service " +
                Quote(owner->name) + " in the same file (a file's " +
                "tables and migrations belong to one database): move the service to its own file");
      }
    }
    if (first_table != nullptr && owner == nullptr) {
      Error(first_table->table->span,
            "table " + Quote(first_table->table->name) + " (message " + Quote(first_table->name) +
                "): no service in " + file.name +
                " owns a database to hold it: set database in the (cppsvc.v1.service) option of "
                "the " +
                "file's service");
    }
    if (owner != nullptr) {
      auto [it, ok] = migration_dirs_.emplace(file.migrations_dir, &file);
      if (!ok) {
        Error(owner->has_options ? owner->option_span : owner->span,
              "service " + Quote(owner->name) + ": its migrations would go to " +
                  file.migrations_dir + "/, which already holds those of " + it->second->name +
                  ": keep services with a database in separate directories");
      }
    }
  }

  void CheckEvent(const Message& m) {
    const Event& e = *m.event;
    if (e.subject.empty()) {
      Error(e.span, "event " + Quote(m.full_name) + " has no subject: set subject");
    } else {
      static const re2::RE2 kSubject("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
      if (!re2::RE2::FullMatch(e.subject, kSubject)) {
        Error(e.span,
              "event " + Quote(m.full_name) + ": subject " + Quote(e.subject) +
                  " must be dot-separated tokens of letters, digits, '_' and '-' (no wildcards)");
      }
    }
    if (!e.key.empty()) {
      const Field* f = m.FindField(e.key);
      std::vector<std::string> names;
      for (const Field& field : m.fields) names.push_back(field.name);
      if (f == nullptr) {
        Error(e.span,
              "event " + Quote(m.full_name) + ": ordering key field " + Quote(e.key) +
                  " does not exist" + diag::DidYouMean(e.key, names));
      } else if (f->repeated || f->kind == FieldKind::kMessage) {
        Error(e.span,
              "event " + Quote(m.full_name) + ": ordering key field " + Quote(e.key) +
                  " must be a singular scalar");
      }
    }
  }

  void CheckFieldOptions(const Message& m, const Field& f) {
    std::string what = "field " + Quote(m.name + "." + f.name);
    const Span& span = f.option_span;
    if (!m.table) {
      if (f.column.Any())
        Error(span, what + ": column options mean nothing outside a table message");
      if (f.generated != GeneratedValue::kNone)
        Error(span, what + ": generated means nothing outside a table message");
    } else {
      if (f.generated == GeneratedValue::kUuid && (f.kind != FieldKind::kString || f.repeated)) {
        Error(span, what + ": GENERATED_UUID needs a string field, found " + KindName(f.kind));
      }
      if ((f.generated == GeneratedValue::kCreatedAt ||
           f.generated == GeneratedValue::kUpdatedAt) &&
          (f.type_name != "google.protobuf.Timestamp" || f.repeated)) {
        Error(span,
              what + ": generated timestamps need a google.protobuf.Timestamp field, found " +
                  (f.type_name.empty() ? KindName(f.kind) : f.type_name));
      }
      if (f.column.storage == Storage::kChildTable &&
          !(f.repeated && f.kind == FieldKind::kMessage && !f.map)) {
        Error(span, what + ": STORAGE_CHILD_TABLE needs a repeated message field");
      } else if (f.column.storage == Storage::kChildTable) {
        Error(span,
              what +
                  ": STORAGE_CHILD_TABLE is not supported yet: store the field as JSON "
                  "(STORAGE_JSONB, the " +
                  "default for repeated messages) or in a table message of its own");
      }
    }

    const ValidationRules& v = f.validate;
    bool text = f.kind == FieldKind::kString || f.kind == FieldKind::kBytes;
    auto misplaced = [&](const char* rule, const char* needs) {
      std::string type = std::string(f.repeated ? "repeated " : "") + KindName(f.kind);
      const char* article = std::string("aeiou").find(type[0]) != std::string::npos ? "an " : "a ";
      Error(span,
            what + ": " + rule + " means nothing on " + article + type + " field (it needs " +
                needs + ")");
    };
    if ((v.min_len || v.max_len) && !text) misplaced("min_len/max_len", "a string or bytes field");
    if ((v.gte || v.lte || v.gt || v.lt) && !IsNumeric(f.kind))
      misplaced("gte/lte/gt/lt", "a numeric field");
    if (!v.pattern.empty() && f.kind != FieldKind::kString) misplaced("pattern", "a string field");
    if (v.email && f.kind != FieldKind::kString) misplaced("email", "a string field");
    if (v.uuid && f.kind != FieldKind::kString) misplaced("uuid", "a string field");
    if (v.enum_defined && f.kind != FieldKind::kEnum) misplaced("enum_defined", "an enum field");
    if ((v.min_items || v.max_items) && !f.repeated)
      misplaced("min_items/max_items", "a repeated field");
    if (v.min_len && v.max_len && *v.min_len > *v.max_len) {
      Error(span,
            what + ": min_len " + std::to_string(*v.min_len) + " is greater than max_len " +
                std::to_string(*v.max_len));
    }
    if (v.min_items && v.max_items && *v.min_items > *v.max_items) {
      Error(span,
            what + ": min_items " + std::to_string(*v.min_items) + " is greater than max_items " +
                std::to_string(*v.max_items));
    }
    auto lower = v.gte ? v.gte : v.gt;
    auto upper = v.lte ? v.lte : v.lt;
    if (v.gte && v.gt) Error(span, what + ": gte and gt both set: keep one lower bound");
    if (v.lte && v.lt) Error(span, what + ": lte and lt both set: keep one upper bound");
    if (lower && upper && (*lower > *upper || (*lower == *upper && (v.gt || v.lt)))) {
      Error(span, what + ": the lower bound is above the upper bound, no value can pass");
    }
    if (!v.example.empty() && f.kind != FieldKind::kString) misplaced("example", "a string field");
    if (!v.pattern.empty()) CheckPattern(span, what, v);
  }

  // Patterns are matched with RE2 at run time (linear, no recursion), so
  // they are checked with RE2's own syntax here.
  void CheckPattern(const Span& span, const std::string& what, const ValidationRules& v) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    const re2::RE2 re(v.pattern, options);
    if (!re.ok()) {
      Error(span,
            what + ": pattern " + Quote(v.pattern) +
                " is not a valid RE2 regular expression: " + re.error());
    } else if (!v.example.empty() && !re2::RE2::FullMatch(v.example, re)) {
      Error(span,
            what + ": example " + Quote(v.example) + " does not match pattern " + Quote(v.pattern));
    }
  }

  // --- services and methods --------------------------------------------------

  // Resolves a dotted path of singular fields; sets `why` on failure.
  const Field* FieldPath(const Message& root, const std::string& path, std::string& why) const {
    const Message* m = &root;
    size_t start = 0;
    for (;;) {
      size_t dot = path.find('.', start);
      std::string part =
          path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      const Field* f = m->FindField(part);
      if (f == nullptr) {
        std::vector<std::string> names;
        for (const Field& field : m->fields) names.push_back(field.name);
        why = Quote(part) + " is not a field of " + Quote(m->name) + diag::DidYouMean(part, names);
        return nullptr;
      }
      if (dot == std::string::npos) return f;
      if (f->kind != FieldKind::kMessage || f->repeated) {
        why = Quote(part) + " is not a singular message field, so " + Quote(path) +
              " cannot reach into it";
        return nullptr;
      }
      m = model_.FindMessage(f->type_name);
      if (m == nullptr) {
        why = "type " + Quote(f->type_name) + " is unknown";
        return nullptr;
      }
      start = dot + 1;
    }
  }

  static bool SingularString(const Field& f) { return f.kind == FieldKind::kString && !f.repeated; }

  void CheckService(const Service& s) {
    const Span& sspan = s.has_options ? s.option_span : s.span;
    std::string what = "service " + Quote(s.name);
    for (const std::string& r : s.default_roles) CheckRoleRef(sspan, what + " default_roles", r);

    std::set<std::string> subscribed;
    for (const Subscription& sub : s.subscriptions) {
      std::string sw = what + " subscription";
      if (!subscribed.insert(sub.event).second) {
        Error(sspan, sw + ": event " + Quote(sub.event) + " is subscribed twice");
      }
      if (CheckEventRef(sspan, sw, sub.event) && publishers_.count(sub.event) == 0) {
        Warning(sspan,
                sw + ": no service publishes event " + Quote(sub.event) +
                    " (add it to some rpc's emits or a service's publishes)");
      }
      for (const std::string& e : sub.emits)
        CheckEventRef(sspan, sw + " to " + Quote(ShortName(sub.event)) + " emits", e);
    }
    for (const std::string& e : s.publishes) CheckEventRef(sspan, what + " publishes", e);
    if (s.inline_handlers && !s.database.empty()) {
      Error(sspan,
            what +
                ": inline_handlers is for handlers that never block, and the handlers of a "
                "service with a database wait for it; remove one of the two");
    }

    std::set<std::string> handler_names;
    for (const Method& m : s.methods) {
      handler_names.insert(m.cpp_name);
      if (m.cpp_name == s.base_class) {
        Error(m.span,
              "rpc " + Quote(s.name + "." + m.name) + " has the name of the generated class " +
                  Quote(s.base_class) + ": rename the rpc");
      }
    }
    std::set<std::string> seen_events;
    for (const Subscription& sub : s.subscriptions) {
      if (!seen_events.insert(sub.event).second) continue;  // reported as subscribed twice
      if (!handler_names.insert(sub.handler).second) {
        Error(sspan,
              what + ": handler " + Quote(sub.handler) + " for event " + Quote(sub.event) +
                  " clashes with another rpc or subscription of the same name");
      }
    }

    for (const Method& m : s.methods) CheckMethod(s, m);
  }

  void CheckMethod(const Service& s, const Method& m) {
    std::string what = "rpc " + Quote(s.name + "." + m.name);
    const Span& span = m.has_options ? m.option_span : m.span;
    const Message* req = model_.FindMessage(m.input);
    const Message* resp = model_.FindMessage(m.output);

    if (m.client_streaming || m.server_streaming) {
      const char* kind = m.client_streaming && m.server_streaming ? "bidirectional"
                         : m.client_streaming                     ? "client"
                                                                  : "server";
      Error(m.span,
            what + " is " + kind +
                "-streaming: streaming rpcs are not supported, use unary rpcs or events");
    }

    // Access rules: deny by default.
    if (m.is_public && !m.roles.empty()) {
      Error(span, what + " is public and also lists roles: keep one of the two");
    }
    if (!m.is_public && m.roles.empty() && s.default_roles.empty()) {
      Error(m.has_options ? span : m.span,
            what +
                " has no access rule: add roles, public: true, or default_roles on the service "
                "(access is denied "
                "by default)");
    }
    for (const std::string& r : m.roles) CheckRoleRef(span, what, r);

    if (!m.owner_field.empty()) {
      if (m.is_public) {
        Error(
            span,
            what +
                ": owner_field means nothing on a public rpc (there is no caller to own anything)");
      } else if (req != nullptr && resp != nullptr) {
        std::string why_req, why_resp;
        const Field* f = FieldPath(*req, m.owner_field, why_req);
        if (f == nullptr) f = FieldPath(*resp, m.owner_field, why_resp);
        if (f == nullptr) {
          // Explain along the message the path starts in.
          std::string first = m.owner_field.substr(0, m.owner_field.find('.'));
          bool in_resp = req->FindField(first) == nullptr && resp->FindField(first) != nullptr;
          Error(span,
                what + ": owner_field " + Quote(m.owner_field) + " is not a field of request " +
                    Quote(req->name) + " or response " + Quote(resp->name) + ": " +
                    (in_resp ? why_resp : why_req));
        } else if (!SingularString(*f)) {
          Error(span,
                what + ": owner_field " + Quote(m.owner_field) +
                    " must be a singular string, found " + (f->repeated ? "repeated " : "") +
                    KindName(f->kind));
        }
      }
    }

    if (!m.idempotency_key.empty() && req != nullptr) {
      std::string why;
      const Field* f = FieldPath(*req, m.idempotency_key, why);
      if (f == nullptr) {
        Error(span,
              what + ": idempotency_key " + Quote(m.idempotency_key) +
                  " must be a request field: " + why);
      } else if (!SingularString(*f)) {
        Error(span,
              what + ": idempotency_key " + Quote(m.idempotency_key) +
                  " must be a singular string, found " + (f->repeated ? "repeated " : "") +
                  KindName(f->kind));
      }
    }

    for (const std::string& e : m.emits) CheckEventRef(span, what + " emits", e);

    if (m.retry) {
      if (!m.idempotent) {
        Error(
            span,
            what +
                ": retry means nothing on an rpc that is not idempotent (set idempotent: true, or "
                "remove retry)");
      }
      CheckRetryCodes(span, what, *m.retry);
    }
    if (m.rate_limit && m.rate_limit->requests_per_second <= 0) {
      Error(span, what + ": rate_limit.requests_per_second must be > 0");
    }

    if (m.http && req != nullptr && resp != nullptr) CheckHttp(s, m, *req, *resp, span, what);
  }

  void CheckRetryCodes(const Span& span, const std::string& what, const RetryPolicy& retry) {
    static const std::vector<std::string> kCodes = {"CANCELLED",
                                                    "UNKNOWN",
                                                    "INVALID_ARGUMENT",
                                                    "DEADLINE_EXCEEDED",
                                                    "NOT_FOUND",
                                                    "ALREADY_EXISTS",
                                                    "PERMISSION_DENIED",
                                                    "RESOURCE_EXHAUSTED",
                                                    "FAILED_PRECONDITION",
                                                    "ABORTED",
                                                    "OUT_OF_RANGE",
                                                    "UNIMPLEMENTED",
                                                    "INTERNAL",
                                                    "UNAVAILABLE",
                                                    "DATA_LOSS",
                                                    "UNAUTHENTICATED"};
    for (const std::string& code : retry.retryable_codes) {
      if (std::find(kCodes.begin(), kCodes.end(), code) == kCodes.end()) {
        Error(span,
              what + ": retry code " + Quote(code) + " is not a grpc status code" +
                  diag::DidYouMean(code, kCodes));
      }
    }
  }

  void CheckHttp(const Service& s,
                 const Method& m,
                 const Message& req,
                 const Message& resp,
                 const Span& span,
                 const std::string& what) {
    const HttpRoute& h = *m.http;
    if (h.verb.empty()) {
      Error(span, what + ": http mapping has no method: set one of get, put, post, delete, patch");
      return;
    }
    PathTemplate tmpl;
    std::string error;
    if (!ParsePathTemplate(h.path, tmpl, error)) {
      Error(span, what + ": " + error);
    } else {
      for (const std::string& var : tmpl.variables) {
        std::string why;
        const Field* f = FieldPath(req, var, why);
        if (f == nullptr) {
          Error(span, what + ": path variable {" + var + "} is not a request field: " + why);
        } else if (f->repeated || f->kind == FieldKind::kMessage) {
          Error(span, what + ": path variable {" + var + "} must be a singular scalar field");
        }
      }
      std::string key = h.verb + " " + tmpl.key;
      auto [it, inserted] = routes_.emplace(key, s.name + "." + m.name);
      if (!inserted) {
        Error(span,
              what + ": route " + h.verb + " " + h.path + " is already served by rpc " +
                  Quote(it->second));
      }
    }
    if (!h.body.empty()) {
      if (h.verb == "GET" || h.verb == "DELETE") {
        Error(
            span,
            what + ": body means nothing on " + h.verb + " (" + h.verb + " requests have no body)");
      } else if (h.body != "*") {
        std::string why;
        if (FieldPath(req, h.body, why) == nullptr)
          Error(span, what + ": body " + Quote(h.body) + ": " + why);
      }
    }
    if (!h.response_body.empty()) {
      std::string why;
      if (FieldPath(resp, h.response_body, why) == nullptr) {
        Error(span, what + ": response_body " + Quote(h.response_body) + ": " + why);
      }
    }
  }

  // --- sagas -----------------------------------------------------------------

  bool CheckServiceRef(const Span& span, const std::string& what, const std::string& name) {
    if (model_.FindService(name) != nullptr) return true;
    Error(span,
          what + ": service " + Quote(name) + " is not declared" +
              diag::DidYouMean(name, service_names_));
    return false;
  }

  void CheckPublishedBy(const Span& span,
                        const std::string& what,
                        const std::string& event,
                        const std::string& service) {
    if (CheckEventRef(span, what, event) && !Publishes(service, event)) {
      Error(span,
            what + ": event " + Quote(event) + " is not published by service " + Quote(service) +
                " (add it to an rpc's or subscription's emits, or to the service's publishes)");
    }
  }

  static bool Subscribes(const Service& s, const std::string& event) {
    return std::any_of(s.subscriptions.begin(),
                       s.subscriptions.end(),
                       [&](const Subscription& sub) { return sub.event == event; });
  }

  void CheckSaga(const Saga& saga) {
    std::string what = "saga " + Quote(saga.name);
    const Span& span = saga.span;
    if (saga.name.empty()) Error(span, "saga has no name");
    bool owner_ok = !saga.owner.empty() && CheckServiceRef(span, what + " owner", saga.owner);
    if (saga.owner.empty())
      Error(span, what + " has no owner: set owner to the service that keeps its state");
    if (saga.trigger.empty()) {
      Error(span, what + " has no trigger event");
    } else if (owner_ok) {
      CheckPublishedBy(span, what + " trigger", saga.trigger, saga.owner);
    }
    if (owner_ok && !saga.completed_event.empty()) {
      CheckPublishedBy(span, what + " completed_event", saga.completed_event, saga.owner);
    }
    if (owner_ok && !saga.aborted_event.empty()) {
      CheckPublishedBy(span, what + " aborted_event", saga.aborted_event, saga.owner);
    }
    if (saga.steps.empty()) {
      Error(span, what + " has no steps");
      return;
    }

    std::set<std::string> step_names;
    for (size_t i = 0; i < saga.steps.size(); ++i) {
      const SagaStep& step = saga.steps[i];
      std::string sw = what + " step " + Quote(step.name);
      if (step.name.empty()) Error(span, what + " step " + std::to_string(i + 1) + " has no name");
      if (!step_names.insert(step.name).second) Error(span, sw + " is declared twice");
      if (step.success_event.empty()) Error(span, sw + " has no success_event");
      if (step.on_explicit) CheckEventRef(span, sw + " on", step.on);
      if (step.has_compensation && step.compensation_done_event.empty()) {
        Error(span, sw + ": compensation has no done_event");
      }
      if (!CheckServiceRef(span, sw + " participant", step.participant)) continue;
      if (!step.success_event.empty())
        CheckPublishedBy(span, sw, step.success_event, step.participant);
      if (!step.failure_event.empty())
        CheckPublishedBy(span, sw, step.failure_event, step.participant);
      if (!step.compensation_done_event.empty()) {
        CheckPublishedBy(span,
                         sw + " compensation",
                         step.compensation_done_event,
                         step.participant);
      }
      const Service* participant = model_.FindService(step.participant);
      if (!step.on.empty() && model_.FindEvent(step.on) != nullptr &&
          !Subscribes(*participant, step.on)) {
        Error(span,
              sw + ": participant " + Quote(step.participant) + " does not subscribe to " +
                  Quote(step.on) + ", the event that starts the step");
      }
      if (owner_ok) {
        const Service* owner = model_.FindService(saga.owner);
        for (const std::string* e :
             {&step.success_event, &step.failure_event, &step.compensation_done_event}) {
          if (!e->empty() && model_.FindEvent(*e) != nullptr && !Publishes(saga.owner, *e) &&
              !Subscribes(*owner, *e)) {
            Error(span,
                  sw + ": owner " + Quote(saga.owner) + " does not subscribe to " + Quote(*e) +
                      ", so it cannot track the saga");
          }
        }
      }
    }

    // Compensation: when step k fails, every earlier step must be undone.
    for (size_t k = 0; k < saga.steps.size(); ++k) {
      if (saga.steps[k].failure_event.empty()) continue;
      for (size_t j = 0; j < k; ++j) {
        if (!saga.steps[j].has_compensation) {
          Error(span,
                what + " step " + Quote(saga.steps[j].name) + " has no compensation, but step " +
                    Quote(saga.steps[k].name) + " can fail after it and must undo it");
        }
      }
    }

    CheckSagaGraph(saga);
  }

  // Steps form a graph: a step follows every step whose success event starts
  // it. Every step must be reachable from the trigger, with no cycle.
  void CheckSagaGraph(const Saga& saga) {
    std::string what = "saga " + Quote(saga.name);
    const auto& steps = saga.steps;
    std::vector<std::vector<size_t>> next(steps.size());
    std::vector<size_t> starts;
    for (size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].on == saga.trigger) starts.push_back(i);
      for (size_t j = 0; j < steps.size(); ++j) {
        if (!steps[i].success_event.empty() && steps[j].on == steps[i].success_event)
          next[i].push_back(j);
      }
      if (!steps[i].success_event.empty() && steps[i].success_event == saga.trigger) {
        Error(saga.span,
              what + " step " + Quote(steps[i].name) + ": success event " +
                  Quote(steps[i].success_event) + " is the saga's trigger, which makes a cycle");
      }
    }
    std::vector<int> state(steps.size(), 0);  // 0 unvisited, 1 on stack, 2 done
    std::set<std::pair<size_t, size_t>> reported;
    std::function<void(size_t)> visit = [&](size_t i) {
      state[i] = 1;
      for (size_t j : next[i]) {
        bool via_trigger = steps[i].success_event == saga.trigger;  // reported above
        if (state[j] == 1 && !via_trigger && reported.emplace(i, j).second) {
          Error(saga.span,
                what + " has a cycle: step " + Quote(steps[i].name) + " leads back to step " +
                    Quote(steps[j].name));
        } else if (state[j] == 0) {
          visit(j);
        }
      }
      state[i] = 2;
    };
    for (size_t s : starts) {
      if (state[s] == 0) visit(s);
    }
    std::vector<int> reachable = state;
    // Cycles among steps the trigger never reaches.
    for (size_t i = 0; i < steps.size(); ++i) {
      if (state[i] == 0) visit(i);
    }
    std::set<size_t> in_cycle;
    for (const auto& [from, to] : reported) {
      in_cycle.insert(from);
      in_cycle.insert(to);
    }
    for (size_t i = 0; i < steps.size(); ++i) {
      if (reachable[i] == 0 && in_cycle.count(i) == 0) {
        Error(saga.span,
              what + " step " + Quote(steps[i].name) + " is unreachable: nothing leads to " +
                  Quote(steps[i].on) + ", the event that starts it");
      }
    }
  }

  // --- system-wide uniqueness ----------------------------------------------

  void CheckGlobalUniqueness() {
    std::map<std::string, const Service*> names, databases;
    std::map<uint32_t, const Service*> ports;
    std::map<std::string, const Message*> subjects, tables;
    std::map<std::string, const Saga*> sagas;
    auto at = [](const Span& s) { return s.file + ":" + std::to_string(s.line); };
    for (const File& file : model_.files) {
      for (const Service& s : file.services) {
        const Span& span = s.has_options ? s.option_span : s.span;
        std::string what = "service " + Quote(s.name);
        if (auto [it, ok] = names.emplace(s.short_name, &s); !ok) {
          Error(span,
                what + ": name " + Quote(s.short_name) + " is already used by service " +
                    Quote(it->second->full_name));
        }
        if (!s.database.empty()) {
          if (auto [it, ok] = databases.emplace(s.database, &s); !ok) {
            Error(span,
                  what + ": database " + Quote(s.database) + " is already owned by service " +
                      Quote(it->second->full_name));
          }
        }
        uint32_t grpc = s.effective_grpc_port;
        uint32_t admin = s.effective_admin_port;
        if (grpc == admin) {
          Error(span,
                what + ": grpc_port and admin_port are both " + std::to_string(grpc) +
                    (s.grpc_port && s.admin_port ? "" : " (counting the defaults)"));
        }
        // Across services only ports set explicitly count: defaults are for
        // one service per host or container.
        for (uint32_t port : {s.grpc_port, s.admin_port}) {
          if (port == 0) continue;
          if (auto [it, ok] = ports.emplace(port, &s); !ok && it->second != &s) {
            Error(span,
                  what + ": port " + std::to_string(port) + " is already used by service " +
                      Quote(it->second->full_name));
          }
        }
      }
      for (const std::string& name : file.messages) {
        const Message& m = model_.messages.at(name);
        if (m.event && !m.event->subject.empty()) {
          if (auto [it, ok] = subjects.emplace(m.event->subject, &m); !ok) {
            Error(m.event->span,
                  "event " + Quote(m.full_name) + ": subject " + Quote(m.event->subject) +
                      " is already used by event " + Quote(it->second->full_name) + " at " +
                      at(it->second->event->span));
          }
        }
        if (m.table) {
          // Tables share a database with the package's services.
          if (auto [it, ok] = tables.emplace(m.package + "/" + m.table->name, &m); !ok) {
            Error(m.table->span,
                  "table " + Quote(m.table->name) + " (message " + Quote(m.name) +
                      ") is already declared by message " + Quote(it->second->full_name) + " at " +
                      at(it->second->table->span));
          }
        }
      }
      for (const Saga& saga : file.sagas) {
        if (auto [it, ok] = sagas.emplace(saga.name, &saga); !ok && !saga.name.empty()) {
          Error(saga.span,
                "saga " + Quote(saga.name) + " is already declared at " + at(it->second->span));
        }
      }
    }
  }

  const Model& model_;
  diag::Diagnostics& diags_;
  std::set<std::string> generated_files_;
  std::vector<std::string> role_names_, service_names_, event_names_;
  std::map<std::string, std::set<std::string>> publishers_;  // event -> services
  std::map<std::string, std::string> routes_;                // "VERB key" -> rpc
  std::map<std::string, const File*> migration_dirs_;
};

}  // namespace

void Check(const Model& model, diag::Diagnostics& diags) {
  Checker(model, diags).Run();
}

}  // namespace cppsvc::model
