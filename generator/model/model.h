// The plain model of a contract: what model::Build reads out of descriptors
// and custom options, and all that emitters and templates ever see. Every
// derived name (C++ class, handler method, short service name) and every
// value a default stands in for is computed once, here: by the builder, or
// by model::Resolve for the fields marked "resolved".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cppsvc/defaults.h"
#include "diag/diagnostics.h"

namespace cppsvc::model {

using diag::Span;

enum class FieldKind {
  kDouble,
  kFloat,
  kInt32,
  kInt64,
  kUint32,
  kUint64,
  kSint32,
  kSint64,
  kFixed32,
  kFixed64,
  kSfixed32,
  kSfixed64,
  kBool,
  kString,
  kBytes,
  kEnum,
  kMessage,
};

bool IsNumeric(FieldKind kind);
bool IsInteger(FieldKind kind);
// "string", "int64", ... as written in a .proto file.
const char* KindName(FieldKind kind);

struct ValidationRules {
  bool required = false;
  std::optional<uint32_t> min_len, max_len;
  std::optional<double> gte, lte, gt, lt;
  std::string pattern;
  bool email = false;
  bool uuid = false;
  bool enum_defined = false;
  std::optional<uint32_t> min_items, max_items;
  std::string example;

  bool Any() const;
};

enum class GeneratedValue { kNone, kUuid, kCreatedAt, kUpdatedAt };
enum class Storage { kDefault, kJsonb, kChildTable };

struct ColumnOptions {
  std::string name;  // override; empty = field name
  std::string type;  // SQL type override
  Storage storage = Storage::kDefault;
  bool skip = false;
  std::string default_value;
  bool allow_type_change = false;
  bool Any() const;
};

struct Field {
  std::string name;
  std::string cpp_name;   // accessor name as protoc's C++ generator spells it
  std::string json_name;  // its name in protobuf's JSON mapping (lowerCamelCase or json_name)
  int number = 0;
  FieldKind kind = FieldKind::kString;
  std::string type_name;  // full name of the message or enum type; "" for scalars
  bool repeated = false;
  bool map = false;
  bool has_presence = false;  // proto3 `optional`, or a message field
  bool proto3_optional = false;
  std::string comment;
  ValidationRules validate;
  ColumnOptions column;
  GeneratedValue generated = GeneratedValue::kNone;
  bool has_options = false;
  Span span;
  Span option_span;
};

// How a column's value travels between a message field and PostgreSQL.
// kJson: protobuf's JSON mapping of the field (messages, repeated, maps).
enum class ColumnCodec {
  kBool,
  kInt32,
  kInt64,
  kUint32,
  kUint64,
  kFloat,
  kDouble,
  kString,
  kBytes,
  kEnum,
  kTimestamp,
  kJson,
};
const char* CodecName(ColumnCodec codec);

// A stored field of a table message.
struct Column {
  std::string name;         // SQL name: column.name, else the field name
  std::string sql_type;     // derived from the field (see SqlTypeOf), or column.type verbatim
  bool nullable = false;    // proto3 `optional` and singular message fields, except key,
                            // version and generated timestamp columns
  std::string default_sql;  // column.default verbatim; else "now()" for generated
                            // timestamps, "1" for the version column; "" = none
  ColumnCodec codec = ColumnCodec::kString;
  size_t field_index = 0;  // the mapped field: Message::fields[field_index]
  std::string field;       // its name
  int field_number = 0;
  bool primary_key = false;
  bool version = false;  // the optimistic-locking version of a versioned table
  GeneratedValue generated = GeneratedValue::kNone;
  Span span;  // the field's (cppsvc.v1.field) option, else the field
};

struct Index {
  std::vector<std::string> fields;
  bool unique = false;
  std::string name;  // SQL name: as given, else <table>_<columns>_idx (_key when unique)
  std::vector<std::string> columns;  // SQL names of `fields`
  bool name_given = false;
  std::string text_search;  // text search configuration of a GIN full-text index; "" otherwise
};

struct Table {
  std::string name;
  bool name_given = false;  // set in the option, not derived from the message name
  std::vector<std::string> primary_key;
  std::vector<std::string> primary_key_columns;  // SQL names of `primary_key`
  std::vector<Index> indexes;
  bool versioned = false;
  std::string description;
  std::vector<std::string> drop_columns;  // schema evolution: columns to drop with their data
  Span span;

  // One per stored field (skip: true excluded), in field declaration order.
  std::vector<Column> columns;
  // Versioned tables have a `version bigint NOT NULL DEFAULT 1` column. A
  // field named `version` maps it (its Column has version = true); without
  // one, the column exists in SQL only and is not in `columns`.
  bool has_version_column = false;
  bool version_mapped = false;
  std::string repository_class;  // e.g. OrderRepository
  std::string database;          // the database of the file's service ("" when it has none)

  const Column* FindColumn(const std::string& column_name) const;
  const Column* ColumnOfField(const std::string& field_name) const;
};

struct Event {
  std::string subject;
  std::string key;
  std::string description;
  Span span;
};

struct Message {
  std::string full_name;
  std::string name;
  std::string file;
  std::string package;
  std::string cpp_type;  // fully qualified C++ class, e.g. ::commerce::orders::v1::Order
  std::string comment;
  bool map_entry = false;
  std::vector<Field> fields;
  std::optional<Table> table;
  std::optional<Event> event;
  Span span;

  const Field* FindField(const std::string& field_name) const;
};

struct EnumType {
  std::string full_name;
  std::string cpp_type;  // e.g. ::commerce::orders::v1::OrderStatus
  std::vector<std::pair<std::string, int>> values;
};

struct HttpRoute {
  std::string verb;  // GET, PUT, POST, DELETE, PATCH
  std::string path;
  std::string body;
  std::string response_body;

  // Resolved (empty when the template does not parse; the checks say why).
  std::vector<std::string> variables;  // the request field paths the path binds, in order
  std::string named_path;              // path with each {var=pattern} written {var}
};

struct RetryPolicy {
  uint32_t max_attempts = 0;
  uint32_t initial_backoff_ms = 0;
  uint32_t max_backoff_ms = 0;
  double backoff_multiplier = 0;
  std::vector<std::string> retryable_codes;
};

struct RateLimit {
  double requests_per_second = 0;
  uint32_t burst = 0;
  std::string key;  // caller, global, peer
};

struct CircuitBreaker {
  double failure_rate_threshold = 0;
  uint32_t window = 0;
  uint32_t min_calls = 0;
  uint32_t open_ms = 0;
  uint32_t half_open_calls = 0;
};

struct Method {
  std::string name;
  std::string cpp_name;
  std::string full_name;
  std::string input;   // full name of the request message
  std::string output;  // full name of the response message
  bool client_streaming = false;
  bool server_streaming = false;
  std::string comment;

  bool has_options = false;
  std::vector<std::string> roles;
  bool is_public = false;
  std::string owner_field;
  std::optional<HttpRoute> http;
  uint32_t timeout_ms = 0;
  bool idempotent = false;
  std::string idempotency_key;
  uint32_t version_conflict_retries = 0;
  std::vector<std::string> emits;  // resolved to full names
  std::optional<RetryPolicy> retry;
  std::optional<RateLimit> rate_limit;
  std::string description;

  // Resolved.
  std::vector<std::string> effective_roles;  // roles, else the service's default_roles
  uint32_t effective_timeout_ms = 0;         // timeout_ms, else the service's, else the default
  bool effective_idempotent = false;         // idempotent, or has an idempotency_key
  // retry, else the service's default_retry, with defaults for unset fields.
  std::optional<RetryPolicy> effective_retry;
  std::string nats_subject;  // cppsvc.<service short name>.<rpc>

  Span span;
  Span option_span;
};

struct Subscription {
  std::string event;  // resolved full name
  std::string queue_group;
  uint32_t max_deliver = 0;
  uint32_t ack_wait_ms = 0;
  std::vector<std::string> emits;  // resolved full names

  // Resolved.
  std::string handler;                // On<Event>
  std::string effective_queue_group;  // queue_group, else the service's short name
  std::string durable;                // <effective_queue_group>-<handler>
  std::string stream;                 // of the service publishing the event; "" when none does
  uint32_t effective_max_deliver = 0;
  uint32_t effective_ack_wait_ms = 0;
};

// An event a service publishes, with every place of the contract that says
// so, in declaration order (methods, subscriptions, the service's publishes).
// A saga event a service consumes. The owner advances an instance on each
// step's success, failure and undo-done event (an instance starts at the
// owner's Emit of the trigger, which the owner therefore does not consume);
// a participant runs its step on the step's `on` event and its compensation
// on the owner's undo command.
struct SagaRoute {
  enum class Kind { kSucceeded, kFailed, kUndone, kStep, kUndo };
  Kind kind = Kind::kSucceeded;
  std::string saga;
  size_t step = 0;
  std::string event;    // full name; "" for kUndo
  std::string subject;  // the event's subject, or the step's undo subject
  std::string stream;   // the stream it is published on
  std::string durable;  // <service>-saga-<saga>-<event or step>
};

struct PublishedEvent {
  enum class Source { kRpc, kSubscription, kService };
  struct Origin {
    Source source = Source::kService;
    std::string name;  // the rpc, or the subscribed event's full name; "" for kService
  };
  std::string event;  // full name
  std::vector<Origin> origins;
};

struct Service {
  std::string name;  // proto name, e.g. OrdersService
  std::string full_name;
  std::string short_name;  // e.g. orders
  std::string file;
  std::string package;
  std::string comment;

  bool has_options = false;
  std::string database;
  uint32_t grpc_port = 0;
  uint32_t admin_port = 0;
  bool nats = false;
  std::vector<std::string> default_roles;
  std::vector<Subscription> subscriptions;
  std::vector<std::string> publishes;  // resolved full names
  uint32_t default_timeout_ms = 0;
  uint32_t max_concurrency = 0;
  uint32_t max_queue = 0;
  bool inline_handlers = false;
  std::optional<ForeignResources> foreign_resources;  // unset: the default
  std::optional<CircuitBreaker> circuit_breaker;
  std::optional<RetryPolicy> default_retry;
  std::string stream;  // resolved when not given: the short name in upper case
  std::string description;

  std::vector<Method> methods;

  // Resolved.
  std::string base_class;           // OrdersServiceBase: the handlers to implement
  std::string server_class;         // OrdersServiceServer
  std::string client_class;         // OrdersServiceClient
  std::string contract_test_class;  // OrdersServiceContract: the contract tests' fixture
  uint32_t effective_grpc_port = 0;
  uint32_t effective_admin_port = 0;
  ForeignResources effective_foreign_resources = defaults::kForeignResources;
  // Methods' and subscriptions' emits, then publishes, each event once.
  std::vector<PublishedEvent> published;
  // The events the sagas of the system send this service (as their owner
  // or as a participant), in saga and step order.
  std::vector<SagaRoute> saga_routes;

  Span span;
  Span option_span;
};

struct Role {
  std::string name;
  std::vector<std::string> includes;
  std::string description;
  bool bypass_ownership = false;
  std::string file;
  Span span;
};

struct SagaStep {
  std::string name;
  std::string participant;
  std::string on;  // resolved: explicit, previous success event or the trigger
  bool on_explicit = false;
  std::string success_event;
  std::string failure_event;
  bool has_compensation = false;
  std::string compensation_done_event;
  std::string compensation_description;
  std::string description;

  // Resolved.
  std::string cpp_name;      // ReserveStock
  std::string undo_subject;  // cppsvc.sagas.<saga>.<step>.undo ("" without compensation)
};

struct Saga {
  std::string name;
  std::string owner;
  std::string trigger;
  std::vector<SagaStep> steps;
  uint32_t timeout_ms = 0;
  std::string completed_event;
  std::string aborted_event;
  std::string description;
  std::string file;
  Span span;

  // Resolved.
  std::string cpp_name;  // Checkout
};

struct File {
  std::string name;  // proto path as given to protoc, e.g. commerce/orders/v1/orders.proto
  std::string base;  // name without ".proto"
  std::string package;
  Span package_span;
  std::string cpp_namespace;  // e.g. commerce::orders::v1 ("" without package)
  std::string pb_header;      // e.g. commerce/orders/v1/orders.pb.h
  bool generate = false;      // listed in the request, not only imported
  std::vector<std::string> dependencies;
  std::vector<std::string> public_dependencies;  // `import public`, in import order
  std::vector<std::string> messages;  // full names, declaration order, nested after parent
  std::vector<Service> services;
  std::vector<Role> roles;
  std::vector<Saga> sagas;

  // Storage. A file's tables live in the database of its service(s); the
  // checks require exactly one database when the file has tables.
  std::string database;                  // "" = the file keeps no state
  bool owns_sagas = false;               // a saga's owner is a service of this file
  bool takes_saga_steps = false;         // a saga's participant is a service of this file
  std::string migrations_dir;            // e.g. commerce/orders/v1/migrations
  std::string migrations_function;       // e.g. OrdersMigrations
  std::string schema_lock;               // e.g. commerce/orders/v1/orders.schema.lock.json
  std::vector<std::string> drop_tables;  // (cppsvc.v1.schema): tables to drop with their data
  Span schema_span;                      // that option, else the package statement

  // Resolved.
  // The package's version: its last component when that is one (v1,
  // v2beta1), else "".
  std::string version;
  // This file, then the files it imports publicly, transitively (depth
  // first, in import order), each once: whose services an HTTP gateway or
  // OpenAPI document of this file covers.
  std::vector<std::string> files_in_view;
};

// Column mapping of a field, ignoring column.type and version overrides:
// bool -> boolean, 32-bit signed integers and enums -> integer, uint32,
// fixed32 and 64-bit signed integers -> bigint, uint64/fixed64 ->
// numeric(20,0), float -> real, double -> double precision, string -> text,
// bytes -> bytea, google.protobuf.Timestamp -> timestamptz, other messages,
// repeated fields and maps -> jsonb.
std::string SqlTypeOf(const Field& field);
ColumnCodec CodecOf(const Field& field);

struct Model {
  std::vector<File> files;  // sorted by name
  std::map<std::string, Message> messages;
  std::map<std::string, EnumType> enums;
  // The text of .proto files, by name, where the plugin could read it: the
  // checks then point at a key inside a multi-line option.
  std::map<std::string, std::string> sources;

  const Message* FindMessage(const std::string& full_name) const;
  const Message* FindEvent(const std::string& full_name) const;
  const Service* FindService(const std::string& short_name) const;
  const Role* FindRole(const std::string& name) const;
  const File* FindFile(const std::string& name) const;
  // The services of the files in `file`'s view (files_in_view): what a
  // gateway generated for the file serves.
  std::vector<const Service*> ServicesInView(const File& file) const;
};

}  // namespace cppsvc::model
