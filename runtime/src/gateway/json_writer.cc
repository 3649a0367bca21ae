#include "cppsvc/gateway/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

namespace cppsvc::gateway {
namespace {

namespace pb = google::protobuf;
using FieldDescriptor = pb::FieldDescriptor;

// JSON's Timestamp range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

// Code points that protobuf's JSON writer escapes although they are valid
// UTF-8 (C1 controls, format and separator characters); found by running it
// over every code point, which the test does again.
constexpr std::pair<char32_t, char32_t> kEscapedRanges[] = {
    {0x80, 0x9f},
    {0xad, 0xad},
    {0x600, 0x603},
    {0x6dd, 0x6dd},
    {0x70f, 0x70f},
    {0x17b4, 0x17b5},
    {0x200b, 0x200f},
    {0x2028, 0x202e},
    {0x2060, 0x2064},
    {0x206a, 0x206f},
    {0xfeff, 0xfeff},
    {0xfff9, 0xfffb},
    {0x1d173, 0x1d17a},
    {0xe0001, 0xe0001},
    {0xe0020, 0xe007f},
};

bool IsTimestamp(const pb::Descriptor& type) {
  return type.full_name() == pb::Timestamp::descriptor()->full_name();
}

bool ScalarShape(const FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
    case FieldDescriptor::CPPTYPE_BOOL:
    case FieldDescriptor::CPPTYPE_ENUM:
      return true;
    case FieldDescriptor::CPPTYPE_STRING:
      return field.type() == FieldDescriptor::TYPE_STRING;
    default:
      return false;
  }
}

// Whether every type reachable from `type` has a supported shape. A type
// already being visited counts as supported: its own fields decide.
bool ShapeOf(const pb::Descriptor& type, std::unordered_set<const pb::Descriptor*>& visiting) {
  if (!visiting.insert(&type).second || IsTimestamp(type)) return true;
  if (type.file()->syntax() != pb::FileDescriptor::SYNTAX_PROTO3 || type.oneof_decl_count() > 0 ||
      type.full_name().rfind("google.protobuf.", 0) == 0)
    return false;
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& field = *type.field(i);
    if (field.is_map()) return false;
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!ShapeOf(*field.message_type(), visiting)) return false;
    } else if (!ScalarShape(field)) {
      return false;
    }
  }
  return true;
}

void AppendHex4(std::string& out, uint32_t unit) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kDigits[(unit >> shift) & 0xf];
}

void AppendEscapedCodePoint(std::string& out, char32_t c) {
  if (c < 0x10000) return AppendHex4(out, c);
  c -= 0x10000;
  AppendHex4(out, 0xd800 + (c >> 10));
  AppendHex4(out, 0xdc00 + (c & 0x3ff));
}

bool Escaped(char32_t c) {
  for (const auto& [first, last] : kEscapedRanges)
    if (c >= first && c <= last) return true;
  return false;
}

// Decodes the code point starting at s[i] (not ASCII) into `c` and its
// length into `n`; false for invalid UTF-8 (overlong forms, surrogates,
// above U+10FFFF, truncated).
bool DecodeUtf8(std::string_view s, size_t i, char32_t& c, size_t& n) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4, c = lead & 0x07;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3, c = lead & 0x0f;
  } else if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2, c = lead & 0x1f;
  } else {
    return false;
  }
  if (i + n > s.size()) return false;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return false;
    c = (c << 6) | (byte(i + k) & 0x3f);
  }
  const char32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  return c >= min && c <= 0x10ffff && !(c >= 0xd800 && c <= 0xdfff);
}

void AppendEscapedAscii(std::string& out, char ch) {
  switch (ch) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      AppendHex4(out, static_cast<unsigned char>(ch));
  }
}

bool PlainAscii(char ch) {
  return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' && ch != '<' && ch != '>';
}

bool AppendString(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const char ch = s[i];
    if (PlainAscii(ch)) {
      out += ch, ++i;
    } else if (static_cast<unsigned char>(ch) < 0x80) {
      AppendEscapedAscii(out, ch), ++i;
    } else {
      char32_t c = 0;
      size_t n = 0;
      if (!DecodeUtf8(s, i, c, n)) return false;
      if (Escaped(c)) {
        AppendEscapedCodePoint(out, c);
      } else {
        out.append(s.substr(i, n));
      }
      i += n;
    }
  }
  out += '"';
  return true;
}

template <typename Int>
void AppendInt(std::string& out, Int value, bool quoted) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  if (quoted) out += '"';
  out.append(buffer, end);
  if (quoted) out += '"';
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  bool Message(const pb::Message& message) {
    const pb::Descriptor& type = *message.GetDescriptor();
    if (IsTimestamp(type)) return Timestamp(message);
    const pb::Reflection& reflection = *message.GetReflection();
    out_ += '{';
    bool first = true;
    // protobuf writes a set Timestamp after the other fields (its value
    // replaces the placeholder of an object), in field number order.
    std::vector<const FieldDescriptor*> last;
    for (int i = 0; i < type.field_count(); ++i) {
      const FieldDescriptor& field = *type.field(i);
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field.is_repeated()) {
        if (!reflection.HasField(message, &field)) continue;
        if (IsTimestamp(*field.message_type())) {
          last.push_back(&field);
          continue;
        }
      }
      if (!Member(message, field, first)) return false;
    }
    std::sort(last.begin(), last.end(), [](const auto* a, const auto* b) {
      return a->number() < b->number();
    });
    for (const FieldDescriptor* field : last)
      if (!Member(message, *field, first)) return false;
    out_ += '}';
    return true;
  }

 private:
  // `"name":value`, after a comma unless it is the first.
  bool Member(const pb::Message& message, const FieldDescriptor& field, bool& first) {
    if (!first) out_ += ',';
    first = false;
    out_ += '"';
    out_ += field.json_name();
    out_ += "\":";
    return Field(message, field);
  }

  bool Field(const pb::Message& message, const FieldDescriptor& field) {
    if (!field.is_repeated()) return Value(message, field, -1);
    out_ += '[';
    const int size = message.GetReflection()->FieldSize(message, &field);
    for (int i = 0; i < size; ++i) {
      if (i > 0) out_ += ',';
      if (!Value(message, field, i)) return false;
    }
    out_ += ']';
    return true;
  }

  // The value of `field`, or its element `index` when it is repeated.
  bool Value(const pb::Message& m, const FieldDescriptor& f, int index) {
    const pb::Reflection& r = *m.GetReflection();
    const bool one = index < 0;
    switch (f.cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        AppendInt(out_, one ? r.GetInt32(m, &f) : r.GetRepeatedInt32(m, &f, index), false);
        return true;
      case FieldDescriptor::CPPTYPE_UINT32:
        AppendInt(out_, one ? r.GetUInt32(m, &f) : r.GetRepeatedUInt32(m, &f, index), false);
        return true;
      case FieldDescriptor::CPPTYPE_INT64:
        AppendInt(out_, one ? r.GetInt64(m, &f) : r.GetRepeatedInt64(m, &f, index), true);
        return true;
      case FieldDescriptor::CPPTYPE_UINT64:
        AppendInt(out_, one ? r.GetUInt64(m, &f) : r.GetRepeatedUInt64(m, &f, index), true);
        return true;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ += (one ? r.GetBool(m, &f) : r.GetRepeatedBool(m, &f, index)) ? "true" : "false";
        return true;
      case FieldDescriptor::CPPTYPE_ENUM:
        Enum(*f.enum_type(), one ? r.GetEnumValue(m, &f) : r.GetRepeatedEnumValue(m, &f, index));
        return true;
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        return AppendString(out_,
                            one ? r.GetStringReference(m, &f, &scratch)
                                : r.GetRepeatedStringReference(m, &f, index, &scratch));
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return Message(one ? r.GetMessage(m, &f) : r.GetRepeatedMessage(m, &f, index));
      default:
        return false;
    }
  }

  void Enum(const pb::EnumDescriptor& type, int number) {
    if (const pb::EnumValueDescriptor* value = type.FindValueByNumber(number)) {
      out_ += '"';
      out_ += value->name();
      out_ += '"';
    } else {
      AppendInt(out_, number, false);
    }
  }

  bool Timestamp(const pb::Message& message) {
    const pb::Descriptor& type = *message.GetDescriptor();
    const pb::Reflection& r = *message.GetReflection();
    pb::Timestamp t;
    t.set_seconds(r.GetInt64(message, type.FindFieldByNumber(1)));
    t.set_nanos(r.GetInt32(message, type.FindFieldByNumber(2)));
    if (t.seconds() < kMinSeconds || t.seconds() > kMaxSeconds || t.nanos() < 0 ||
        t.nanos() > 999999999)
      return false;
    out_ += '"';
    out_ += pb::util::TimeUtil::ToString(t);
    out_ += '"';
    return true;
  }

  std::string& out_;
};

}  // namespace

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    char32_t c = 0;
    size_t n = 0;
    if (!DecodeUtf8(text, i, c, n)) return false;
    i += n;
  }
  return true;
}

bool JsonFastShape(const pb::Descriptor& type) {
  std::unordered_set<const pb::Descriptor*> visiting;
  // Generated types live as long as the process: each thread decides each
  // once. Those of other pools may go away, and are decided each time.
  if (type.file()->pool() != pb::DescriptorPool::generated_pool())
    return !IsTimestamp(type) && ShapeOf(type, visiting);
  thread_local std::unordered_map<const pb::Descriptor*, bool> decided;
  if (auto it = decided.find(&type); it != decided.end()) return it->second;
  const bool ok = !IsTimestamp(type) && ShapeOf(type, visiting);
  decided.emplace(&type, ok);
  return ok;
}

bool WriteJsonFast(const pb::Message& message, std::string& out) {
  if (!JsonFastShape(*message.GetDescriptor())) return false;
  out.clear();
  return Writer(out).Message(message);
}

}  // namespace cppsvc::gateway
