// For generated repositories only: how column values travel between message
// fields and PostgreSQL, page tokens, generated values, and running a
// prepared statement. Every value is a statement parameter in PostgreSQL's
// text format; no SQL is ever built from a value.
//
// Column codecs (all exact unless noted):
//   bool -> "true"/"false"; integers -> decimal (uint64 as numeric(20,0));
//   float/double -> shortest round-trip decimal, "NaN", "Infinity",
//     "-Infinity" (-0.0 kept);
//   string -> text as is (PostgreSQL text cannot hold NUL);
//   bytes -> bytea in hex format (every byte value);
//   google.protobuf.Timestamp -> timestamptz; PostgreSQL keeps microseconds,
//     so nanos are truncated to whole microseconds on the way in;
//   messages, repeated fields and maps -> jsonb with protobuf's JSON mapping
//     (proto field names, enums as numbers, unknown fields ignored on read);
//     -0.0 is written as the string "-0", since jsonb numbers have no
//     negative zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <pqxx/pqxx>

#include "cppsvc/db/db.h"
#include "cppsvc/db/errors.h"

namespace cppsvc::impl {

// A statement parameter in text format; nullopt is SQL NULL.
using SqlParam = std::optional<std::string>;
using SqlParams = std::vector<SqlParam>;

// A page of rows from a repository's List, and the token of the next page
// ("" on the last page).
template <typename Row>
struct Page {
  std::vector<Row> rows;
  std::string next_page_token;
};

// A page token that is not one List returned for this table.
struct InvalidPageToken : db::InvalidArgument {
  using db::InvalidArgument::InvalidArgument;
};

// --- values to parameters ----------------------------------------------------
std::string SqlBool(bool value);
std::string SqlInt(int64_t value);
std::string SqlUint64(uint64_t value);
std::string SqlFloat(float value);
std::string SqlDouble(double value);
std::string SqlBytes(std::string_view value);
std::string SqlTimestamp(const google::protobuf::Timestamp& value);
// A message as a JSON object.
std::string SqlJson(const google::protobuf::Message& message);
// The JSON value of field `field` (proto name) of `holder`, a message with
// only that field set: an array for a repeated field, an object for a map;
// `empty` when the field is empty.
std::string SqlJsonField(const google::protobuf::Message& holder,
                         std::string_view field,
                         std::string_view empty);
// A PostgreSQL array literal of `elements` (for unnest in bulk inserts).
std::string SqlArray(const SqlParams& elements);
// One array parameter per column from the parameters of each row.
SqlParams SqlArrays(const std::vector<SqlParams>& rows);

// --- columns to values -------------------------------------------------------
// Each throws std::runtime_error naming the column when the text is not what
// the column type gives (a schema that does not match the contract).
bool ReadBool(const pqxx::field& field);
int32_t ReadInt32(const pqxx::field& field);
int64_t ReadInt64(const pqxx::field& field);
uint32_t ReadUint32(const pqxx::field& field);
uint64_t ReadUint64(const pqxx::field& field);
float ReadFloat(const pqxx::field& field);
double ReadDouble(const pqxx::field& field);
std::string ReadString(const pqxx::field& field);
std::string ReadBytes(const pqxx::field& field);
// From `EXTRACT(EPOCH FROM column)` (exact numeric seconds, independent of
// the session's DateStyle and TimeZone).
void ReadTimestamp(const pqxx::field& field, google::protobuf::Timestamp* value);
void ReadJson(const pqxx::field& field, google::protobuf::Message* message);
// Parses the JSON value of field `field` into `holder` (a fresh message of
// the row type); the caller moves the field out.
void ReadJsonField(const pqxx::field& field,
                   std::string_view name,
                   google::protobuf::Message* holder);

// --- generated values ----------------------------------------------------------
// A random (version 4) UUID, lowercase, from OpenSSL's RAND_bytes.
std::string NewUuid();
// Now, truncated to microseconds (what timestamptz keeps).
google::protobuf::Timestamp NowMicros();

// --- statements ----------------------------------------------------------------
// Runs the prepared statement with `params`.
pqxx::result Exec(db::Tx& tx, const db::Statement& statement, const SqlParams& params);

// Rows to fetch for a page of `page_size` (0: the default, 100; at most
// 1,000): one more, to know whether another page follows.
size_t PageFetchLimit(size_t page_size);
// An opaque token holding the key of the last row of a page.
std::string EncodePageToken(std::string_view table, const SqlParams& key);
// The key held by `token`; throws InvalidPageToken unless `token` came from
// EncodePageToken for `table` with `key_columns` values.
SqlParams DecodePageToken(std::string_view table, std::string_view token, size_t key_columns);

// The page in `result`, fetched with PageFetchLimit(): its rows (read by
// `read`), and the token of the next page when the extra row came back.
template <typename Row, typename Read, typename Key>
Page<Row> ReadPage(const pqxx::result& result,
                   size_t limit,
                   std::string_view table,
                   Read read,
                   Key key) {
  Page<Row> page;
  for (const pqxx::row& r : result) {
    if (page.rows.size() + 1 == limit) {
      page.next_page_token = EncodePageToken(table, key(page.rows.back()));
      break;
    }
    read(r, page.rows.emplace_back());
  }
  return page;
}

[[noreturn]] void ThrowNotFound(std::string_view table);
[[noreturn]] void ThrowVersionConflict(std::string_view table, int64_t expected_version);

}  // namespace cppsvc::impl
