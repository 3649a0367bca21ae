// Column codecs, page tokens and generated values of generated repositories
// (see cppsvc/impl/repository.h).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <system_error>

#include <google/protobuf/util/json_util.h>
#include <openssl/rand.h>
#include <nlohmann/json.hpp>
#include <pqxx/binarystring>
#include <pqxx/prepared_statement>
#include <pqxx/transaction_base>

#include "cppsvc/impl/repository.h"

namespace cppsvc::impl {
namespace {

constexpr size_t kDefaultPageSize = 100;
constexpr size_t kMaxPageSize = 1000;

[[noreturn]] void BadColumn(const pqxx::field& field, std::string_view expected) {
  throw std::runtime_error("column '" + std::string(field.name()) + "': expected " +
                           std::string(expected));
}

std::string_view Text(const pqxx::field& field) {
  return std::string_view(field.c_str(), field.size());
}

template <typename T>
T ReadInteger(const pqxx::field& field) {
  std::string_view text = Text(field);
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    BadColumn(field, "an integer in range");
  return value;
}

template <typename T>
std::string FormatFloat(T value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;  // 64 bytes always hold the shortest form
  return std::string(buf, end);
}

template <typename T>
T ReadFloating(const pqxx::field& field) {
  std::string_view text = Text(field);
  if (text == "NaN") return std::numeric_limits<T>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<T>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<T>::infinity();
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    BadColumn(field, "a floating-point number");
  return value;
}

google::protobuf::util::JsonPrintOptions PrintOptions() {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_enums_as_ints = true;
  return options;
}

google::protobuf::util::JsonParseOptions ParseOptions() {
  google::protobuf::util::JsonParseOptions options;
  // Rows written before a field was removed from the contract still read.
  options.ignore_unknown_fields = true;
  return options;
}

// The civil date of a day count since 1970-01-01 (proleptic Gregorian;
// Howard Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(std::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kBase64Url[(n >> shift) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kBase64Url[(n >> 18) & 63];
    out += kBase64Url[(n >> 12) & 63];
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kBase64Url[(n >> 18) & 63];
    out += kBase64Url[(n >> 12) & 63];
    out += kBase64Url[(n >> 6) & 63];
  }
  return out;
}

bool Base64UrlDecode(std::string_view in, std::string& out) {
  if (in.size() % 4 == 1) return false;
  uint32_t n = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::find(kBase64Url, kBase64Url + 64, c);
    if (p == kBase64Url + 64) return false;
    n = (n << 6) | static_cast<uint32_t>(p - kBase64Url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((n >> bits) & 0xff);
    }
  }
  return true;
}

}  // namespace

std::string SqlBool(bool value) {
  return value ? "true" : "false";
}
std::string SqlInt(int64_t value) {
  return std::to_string(value);
}
std::string SqlUint64(uint64_t value) {
  return std::to_string(value);
}
std::string SqlFloat(float value) {
  return FormatFloat(value);
}
std::string SqlDouble(double value) {
  return FormatFloat(value);
}

std::string SqlBytes(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + value.size() * 2);
  for (unsigned char c : value) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string SqlTimestamp(const google::protobuf::Timestamp& value) {
  // Nanos are always in [0, 1e9), also before 1970: truncating them is
  // rounding toward the past.
  int64_t seconds = value.seconds();
  int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  int64_t rest = seconds - days * 86400;
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, year, month, day);
  char buf[64];
  std::snprintf(buf,
                sizeof buf,
                "%04lld-%02u-%02u %02lld:%02lld:%02lld.%06d+00",
                static_cast<long long>(year),
                month,
                day,
                static_cast<long long>(rest / 3600),
                static_cast<long long>(rest / 60 % 60),
                static_cast<long long>(rest % 60),
                value.nanos() / 1000);
  return buf;
}

// jsonb numbers have no negative zero: protobuf's "-0" (from -0.0) becomes
// the string "-0", which protobuf's JSON parser reads back as -0.0.
std::string QuoteNegativeZeros(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '"') {
      size_t end = i + 1;
      while (end < json.size() && json[end] != '"') end += json[end] == '\\' ? 2 : 1;
      out.append(json, i, end - i + 1);
      i = end;
      continue;
    }
    if (c == '-' && i + 1 < json.size() && json[i + 1] == '0' &&
        (i + 2 == json.size() ||
         std::string_view(",]} \n").find(json[i + 2]) != std::string_view::npos)) {
      out += "\"-0\"";
      ++i;
      continue;
    }
    out += c;
  }
  return out;
}

std::string SqlJson(const google::protobuf::Message& message) {
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, PrintOptions());
  if (!status.ok())
    throw std::runtime_error("cannot write " + message.GetTypeName() +
                             " as JSON: " + status.ToString());
  return QuoteNegativeZeros(out);
}

std::string SqlJsonField(const google::protobuf::Message& holder,
                         std::string_view field,
                         std::string_view empty) {
  std::string json = SqlJson(holder);
  if (json == "{}") return std::string(empty);
  std::string prefix = "{\"" + std::string(field) + "\":";
  if (json.compare(0, prefix.size(), prefix) != 0 || json.back() != '}') {
    throw std::logic_error("JSON of " + holder.GetTypeName() + " holds more than field " +
                           std::string(field));
  }
  return json.substr(prefix.size(), json.size() - prefix.size() - 1);
}

std::string SqlArray(const SqlParams& elements) {
  std::string out = "{";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ',';
    if (!elements[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *elements[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

SqlParams SqlArrays(const std::vector<SqlParams>& rows) {
  SqlParams arrays;
  if (rows.empty()) return arrays;
  std::vector<SqlParams> columns(rows[0].size());
  for (const SqlParams& row : rows) {
    for (size_t i = 0; i < columns.size() && i < row.size(); ++i) columns[i].push_back(row[i]);
  }
  for (const SqlParams& column : columns) arrays.emplace_back(SqlArray(column));
  return arrays;
}

bool ReadBool(const pqxx::field& field) {
  std::string_view text = Text(field);
  if (text == "t") return true;
  if (text == "f") return false;
  BadColumn(field, "a boolean");
}

int32_t ReadInt32(const pqxx::field& field) {
  return ReadInteger<int32_t>(field);
}
int64_t ReadInt64(const pqxx::field& field) {
  return ReadInteger<int64_t>(field);
}
uint32_t ReadUint32(const pqxx::field& field) {
  return ReadInteger<uint32_t>(field);
}
uint64_t ReadUint64(const pqxx::field& field) {
  return ReadInteger<uint64_t>(field);
}
float ReadFloat(const pqxx::field& field) {
  return ReadFloating<float>(field);
}
double ReadDouble(const pqxx::field& field) {
  return ReadFloating<double>(field);
}
std::string ReadString(const pqxx::field& field) {
  return std::string(Text(field));
}

std::string ReadBytes(const pqxx::field& field) {
  std::string_view text = Text(field);
  if (text.substr(0, 2) != "\\x") {
    // bytea_output = escape
    pqxx::binarystring bytes(field);
    return bytes.str();
  }
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    BadColumn(field, "bytea in hex format");
  };
  if (text.size() % 2 != 0) BadColumn(field, "bytea in hex format");
  std::string out;
  out.reserve(text.size() / 2 - 1);
  for (size_t i = 2; i < text.size(); i += 2)
    out += static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1]));
  return out;
}

void ReadTimestamp(const pqxx::field& field, google::protobuf::Timestamp* value) {
  // "1700000000.123456", "-62135596800.000000"
  std::string_view text = Text(field);
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc() || end != whole.data() + whole.size() || fraction.size() > 9) {
    BadColumn(field, "epoch seconds of a finite timestamptz");
  }
  int32_t nanos = 0;
  for (size_t i = 0; i < 9; ++i) {
    char c = i < fraction.size() ? fraction[i] : '0';
    if (c < '0' || c > '9') BadColumn(field, "epoch seconds of a finite timestamptz");
    nanos = nanos * 10 + (c - '0');
  }
  if (negative) {
    seconds = -seconds;
    if (nanos > 0) {
      seconds -= 1;
      nanos = 1000000000 - nanos;
    }
  }
  value->set_seconds(seconds);
  value->set_nanos(nanos);
}

void ReadJson(const pqxx::field& field, google::protobuf::Message* message) {
  auto status = google::protobuf::util::JsonStringToMessage(std::string(Text(field)),
                                                            message,
                                                            ParseOptions());
  if (!status.ok())
    BadColumn(field, "JSON of " + message->GetTypeName() + " (" + status.ToString() + ")");
}

void ReadJsonField(const pqxx::field& field,
                   std::string_view name,
                   google::protobuf::Message* holder) {
  std::string json = "{\"" + std::string(name) + "\":" + std::string(Text(field)) + "}";
  auto status = google::protobuf::util::JsonStringToMessage(json, holder, ParseOptions());
  if (!status.ok())
    BadColumn(field, "JSON of field " + std::string(name) + " (" + status.ToString() + ")");
}

std::string NewUuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

google::protobuf::Timestamp NowMicros() {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  google::protobuf::Timestamp now;
  now.set_seconds(micros / 1000000);
  now.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return now;
}

pqxx::result Exec(db::Tx& tx, const db::Statement& statement, const SqlParams& params) {
  // const char* parameters: nullptr is NULL, anything else is text.
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const SqlParam& p : params) values.push_back(p ? p->c_str() : nullptr);
  return tx.exec_prepared(statement.name, pqxx::prepare::make_dynamic_params(values));
}

size_t PageFetchLimit(size_t page_size) {
  if (page_size == 0) page_size = kDefaultPageSize;
  return std::min(page_size, kMaxPageSize) + 1;
}

std::string EncodePageToken(std::string_view table, const SqlParams& key) {
  nlohmann::json doc = nlohmann::json::array();
  doc.push_back(table);
  for (const SqlParam& value : key)
    doc.push_back(value ? nlohmann::json(*value) : nlohmann::json());
  return Base64UrlEncode(doc.dump());
}

SqlParams DecodePageToken(std::string_view table, std::string_view token, size_t key_columns) {
  std::string json;
  if (!Base64UrlDecode(token, json)) throw InvalidPageToken("malformed page token");
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array() || doc.size() != key_columns + 1 || doc[0] != table) {
    throw InvalidPageToken("page token of another listing");
  }
  SqlParams key;
  for (size_t i = 1; i < doc.size(); ++i) {
    if (doc[i].is_null()) {
      key.emplace_back();
    } else if (doc[i].is_string()) {
      key.emplace_back(doc[i].get<std::string>());
    } else {
      throw InvalidPageToken("malformed page token");
    }
  }
  return key;
}

void ThrowNotFound(std::string_view table) {
  throw db::NotFound(std::string(table) + ": no row with this key");
}

void ThrowVersionConflict(std::string_view table, int64_t expected_version) {
  throw db::VersionConflict(std::string(table) + ": the row changed since version " +
                            std::to_string(expected_version) + " was read");
}

}  // namespace cppsvc::impl
