// The gateway's JSON writer against protobuf's MessageToJsonString (with
// default values printed): byte for byte the same on random messages of
// every shape it supports and on every code point, and refusing the rest.
#include "cppsvc/gateway/json_writer.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

namespace cppsvc::gateway {
namespace {

namespace pb = google::protobuf;
using FieldDescriptor = pb::FieldDescriptor;

// Declaration order differs from number order on purpose.
constexpr char kShapes[] = R"pb(
  name: "jsontest/shapes.proto"
  package: "jsontest"
  syntax: "proto3"
  dependency: "google/protobuf/timestamp.proto"
  enum_type {
    name: "Color"
    value { name: "COLOR_UNSPECIFIED" number: 0 }
    value { name: "RED" number: 1 }
    value { name: "GREEN" number: 2 }
  }
  message_type {
    name: "Shapes"
    field { name: "i32" number: 5 label: LABEL_OPTIONAL type: TYPE_INT32 json_name: "i32" }
    field { name: "i64" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 json_name: "i64" }
    field { name: "u32" number: 3 label: LABEL_OPTIONAL type: TYPE_UINT32 json_name: "u32" }
    field { name: "u64" number: 4 label: LABEL_OPTIONAL type: TYPE_UINT64 json_name: "u64" }
    field { name: "s32" number: 2 label: LABEL_OPTIONAL type: TYPE_SINT32 json_name: "s32" }
    field { name: "s64" number: 6 label: LABEL_OPTIONAL type: TYPE_SINT64 json_name: "s64" }
    field { name: "f32" number: 7 label: LABEL_OPTIONAL type: TYPE_FIXED32 json_name: "f32" }
    field { name: "f64" number: 8 label: LABEL_OPTIONAL type: TYPE_FIXED64 json_name: "f64" }
    field { name: "sf32" number: 9 label: LABEL_OPTIONAL type: TYPE_SFIXED32 json_name: "sf32" }
    field { name: "sf64" number: 10 label: LABEL_OPTIONAL type: TYPE_SFIXED64 json_name: "sf64" }
    field { name: "flag" number: 11 label: LABEL_OPTIONAL type: TYPE_BOOL json_name: "flag" }
    field {
      name: "snake_text"
      number: 12
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      json_name: "snakeText"
    }
    field { name: "custom" number: 13 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "renamed" }
    field {
      name: "color"
      number: 14
      label: LABEL_OPTIONAL
      type: TYPE_ENUM
      type_name: ".jsontest.Color"
      json_name: "color"
    }
    field {
      name: "child"
      number: 15
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".jsontest.Shapes"
      json_name: "child"
    }
    field {
      name: "children"
      number: 16
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".jsontest.Shapes"
      json_name: "children"
    }
    field { name: "bigs" number: 17 label: LABEL_REPEATED type: TYPE_INT64 json_name: "bigs" }
    field { name: "counts" number: 18 label: LABEL_REPEATED type: TYPE_UINT32 json_name: "counts" }
    field {
      name: "colors"
      number: 19
      label: LABEL_REPEATED
      type: TYPE_ENUM
      type_name: ".jsontest.Color"
      json_name: "colors"
    }
    field { name: "flags" number: 20 label: LABEL_REPEATED type: TYPE_BOOL json_name: "flags" }
    field { name: "texts" number: 21 label: LABEL_REPEATED type: TYPE_STRING json_name: "texts" }
    field {
      name: "at"
      number: 22
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Timestamp"
      json_name: "at"
    }
    field {
      name: "ats"
      number: 23
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Timestamp"
      json_name: "ats"
    }
  }
  message_type {
    name: "WithDouble"
    field { name: "d" number: 1 label: LABEL_OPTIONAL type: TYPE_DOUBLE json_name: "d" }
  }
  message_type {
    name: "WithBytes"
    field { name: "b" number: 1 label: LABEL_OPTIONAL type: TYPE_BYTES json_name: "b" }
  }
  message_type {
    name: "WithOneof"
    field {
      name: "a"
      number: 1
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      oneof_index: 0
      json_name: "a"
    }
    oneof_decl { name: "choice" }
  }
  message_type {
    name: "WithOptional"
    field {
      name: "a"
      number: 1
      label: LABEL_OPTIONAL
      type: TYPE_STRING
      oneof_index: 0
      json_name: "a"
      proto3_optional: true
    }
    oneof_decl { name: "_a" }
  }
  message_type {
    name: "WithMap"
    field {
      name: "m"
      number: 1
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".jsontest.WithMap.MEntry"
      json_name: "m"
    }
    nested_type {
      name: "MEntry"
      field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "key" }
      field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "value" }
      options { map_entry: true }
    }
  }
  message_type {
    name: "HoldsDouble"
    field {
      name: "inner"
      number: 1
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".jsontest.WithDouble"
      json_name: "inner"
    }
  }
)pb";

class JsonWriterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pb::Timestamp::descriptor();  // in the generated pool, for the import
    pool_ = new pb::DescriptorPool(pb::DescriptorPool::generated_pool());
    factory_ = new pb::DynamicMessageFactory(pool_);
    pb::FileDescriptorProto file;
    ASSERT_TRUE(pb::TextFormat::ParseFromString(kShapes, &file));
    ASSERT_NE(pool_->BuildFile(file), nullptr);
  }
  static void TearDownTestSuite() {
    delete factory_;
    delete pool_;
  }

  static const pb::Descriptor& Type(const std::string& name) {
    return *pool_->FindMessageTypeByName("jsontest." + name);
  }
  static std::unique_ptr<pb::Message> New(const std::string& name) {
    return std::unique_ptr<pb::Message>(factory_->GetPrototype(&Type(name))->New());
  }

  static std::string Protobuf(const pb::Message& m) {
    pb::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    std::string out;
    EXPECT_TRUE(pb::util::MessageToJsonString(m, &out, options).ok());
    return out;
  }

  static pb::DescriptorPool* pool_;
  static pb::DynamicMessageFactory* factory_;
};

pb::DescriptorPool* JsonWriterTest::pool_ = nullptr;
pb::DynamicMessageFactory* JsonWriterTest::factory_ = nullptr;

std::string Utf8(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xc0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xe0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (c & 0x3f));
  }
  return s;
}

// Random values of every kind, edge values often.
class Filler {
 public:
  explicit Filler(uint64_t seed) : rng_(seed) {}

  void Fill(pb::Message& m, int depth) {
    const pb::Descriptor& type = *m.GetDescriptor();
    for (int i = 0; i < type.field_count(); ++i) {
      const FieldDescriptor& f = *type.field(i);
      if (Pick(3) == 0) continue;  // left unset
      if (!f.is_repeated()) {
        One(m, f, depth);
        continue;
      }
      for (int n = Pick(4); n > 0; --n) One(m, f, depth);
    }
  }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  template <typename Int>
  Int Integer() {
    const Int edges[] = {0,
                         1,
                         static_cast<Int>(-1),
                         std::numeric_limits<Int>::min(),
                         std::numeric_limits<Int>::max()};
    if (Pick(2) == 0) return edges[Pick(5)];
    return static_cast<Int>(rng_());
  }

  std::string Text() {
    std::string s;
    for (int n = Pick(8); n > 0; --n) {
      switch (Pick(4)) {
        case 0:
          s += static_cast<char>(Pick(128));
          break;
        case 1:
          s += "a\"\\<>&'=/"[Pick(9)];
          break;
        case 2:
          s += Utf8(0x80 + Pick(0x2100));
          break;  // C1, Latin, ..., separators
        default: {
          char32_t c = 0x80 + static_cast<char32_t>(rng_() % 0x10ff80);
          if (c >= 0xd800 && c <= 0xdfff) c = 0xe9;
          s += Utf8(c);
        }
      }
    }
    return s;
  }

  void Timestamp(pb::Message& t) {
    const pb::Descriptor& type = *t.GetDescriptor();
    const int64_t seconds[] = {0, -62135596800, 253402300799, 1700000000, -1};
    const int32_t nanos[] = {0, 1, 1000, 1000000, 10000000, 999999999, 123456789};
    t.GetReflection()->SetInt64(&t, type.FindFieldByNumber(1), seconds[Pick(5)]);
    t.GetReflection()->SetInt32(&t, type.FindFieldByNumber(2), nanos[Pick(7)]);
  }

  void One(pb::Message& m, const FieldDescriptor& f, int depth) {
    const pb::Reflection& r = *m.GetReflection();
    const bool rep = f.is_repeated();
    switch (f.cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: {
        const auto v = Integer<int32_t>();
        return rep ? r.AddInt32(&m, &f, v) : r.SetInt32(&m, &f, v);
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        const auto v = Integer<int64_t>();
        return rep ? r.AddInt64(&m, &f, v) : r.SetInt64(&m, &f, v);
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        const auto v = Integer<uint32_t>();
        return rep ? r.AddUInt32(&m, &f, v) : r.SetUInt32(&m, &f, v);
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        const auto v = Integer<uint64_t>();
        return rep ? r.AddUInt64(&m, &f, v) : r.SetUInt64(&m, &f, v);
      }
      case FieldDescriptor::CPPTYPE_BOOL:
        return rep ? r.AddBool(&m, &f, Pick(2)) : r.SetBool(&m, &f, Pick(2));
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int v = Pick(5) - 1;  // -1 and 3 are not in the enum
        return rep ? r.AddEnumValue(&m, &f, v) : r.SetEnumValue(&m, &f, v);
      }
      case FieldDescriptor::CPPTYPE_STRING:
        return rep ? r.AddString(&m, &f, Text()) : r.SetString(&m, &f, Text());
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        if (depth >= 3) return;
        pb::Message* child = rep ? r.AddMessage(&m, &f) : r.MutableMessage(&m, &f);
        if (f.message_type()->full_name() == "google.protobuf.Timestamp") return Timestamp(*child);
        return Fill(*child, depth + 1);
      }
      default:
        FAIL() << "unexpected field type in the test's proto: " << f.full_name();
    }
  }

  std::mt19937_64 rng_;
};

TEST_F(JsonWriterTest, RandomMessagesAreWrittenAsProtobufWritesThem) {
  std::string ours;
  for (uint64_t seed = 1; seed <= 3000; ++seed) {
    auto m = New("Shapes");
    Filler(seed).Fill(*m, 0);
    ASSERT_TRUE(WriteJsonFast(*m, ours)) << "seed " << seed;
    ASSERT_EQ(ours, Protobuf(*m)) << "seed " << seed;
  }
}

TEST_F(JsonWriterTest, CodePointsAreEscapedAsProtobufEscapesThem) {
  auto m = New("Shapes");
  const FieldDescriptor* text = Type("Shapes").FindFieldByName("snake_text");
  std::string ours;
  // The whole Basic Multilingual Plane; above it, every 61st code point and
  // all of the blocks where protobuf escapes some (every code point takes
  // 16 s, and found nothing more).
  std::vector<char32_t> points;
  for (char32_t c = 1; c <= 0x10ffff; c += c < 0x10000 ? 1 : 61)
    if (c < 0xd800 || c > 0xdfff) points.push_back(c);  // surrogates are not characters
  for (char32_t c = 0x1d100; c < 0x1d200; ++c) points.push_back(c);
  for (char32_t c = 0xe0000; c < 0xe0100; ++c) points.push_back(c);
  for (char32_t c : points) {
    m->GetReflection()->SetString(m.get(), text, Utf8(c) + "x");
    ASSERT_TRUE(WriteJsonFast(*m, ours)) << std::hex << "U+" << static_cast<uint32_t>(c);
    ASSERT_EQ(ours, Protobuf(*m)) << std::hex << "U+" << static_cast<uint32_t>(c);
  }
}

TEST_F(JsonWriterTest, EmptyMessagesPrintEveryPrimitiveAndNoUnsetMessage) {
  auto m = New("Shapes");
  std::string ours;
  ASSERT_TRUE(WriteJsonFast(*m, ours));
  EXPECT_EQ(ours, Protobuf(*m));
  EXPECT_EQ(ours.find("\"child\""), std::string::npos);
  EXPECT_NE(ours.find("\"i64\":\"0\""), std::string::npos);
  EXPECT_NE(ours.find("\"renamed\":\"\""), std::string::npos);
}

TEST_F(JsonWriterTest, ShapesItDoesNotHandleAreLeftToProtobuf) {
  EXPECT_TRUE(JsonFastShape(Type("Shapes")));
  for (const char* name :
       {"WithDouble", "WithBytes", "WithOneof", "WithOptional", "WithMap", "HoldsDouble"}) {
    EXPECT_FALSE(JsonFastShape(Type(name))) << name;
    std::string ours;
    EXPECT_FALSE(WriteJsonFast(*New(name), ours)) << name;
  }
  EXPECT_FALSE(JsonFastShape(*pb::FileDescriptorProto::descriptor())) << "proto2";
  EXPECT_FALSE(JsonFastShape(*pb::Timestamp::descriptor())) << "a well-known type itself";
}

TEST_F(JsonWriterTest, ValuesProtobufRefusesAreLeftToIt) {
  const pb::Descriptor& type = Type("Shapes");
  std::string ours;
  auto bad_text = New("Shapes");
  bad_text->GetReflection()->SetString(bad_text.get(),
                                       type.FindFieldByName("snake_text"),
                                       "ok\xff");
  EXPECT_FALSE(WriteJsonFast(*bad_text, ours));
  for (const std::string overlong :
       {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    bad_text->GetReflection()->SetString(bad_text.get(),
                                         type.FindFieldByName("snake_text"),
                                         overlong);
    EXPECT_FALSE(WriteJsonFast(*bad_text, ours));
  }
  auto late = New("Shapes");
  pb::Message* at = late->GetReflection()->MutableMessage(late.get(), type.FindFieldByName("at"));
  at->GetReflection()->SetInt64(at, at->GetDescriptor()->FindFieldByNumber(1), 253402300800);
  EXPECT_FALSE(WriteJsonFast(*late, ours));
}

}  // namespace
}  // namespace cppsvc::gateway
